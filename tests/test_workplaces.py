"""A learner's workplace is a record shared by the learners who work there: made from the text
portfolios held before (migrations 0015-0017), found or made from what a form types, covered by
signatures as the text was, and shown to the staff on its own page."""

import io
import json
import zipfile

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from assessments import services as assessor_services
from assessments.models import SignableRecord
from assessments.signable import digest_of, manifest_for
from assessments.signatures import signature_rows
from audit.models import AuditEntry
from portfolio.models import Portfolio, Sector, Workplace
from records.personal_data import personal_data_zip
from records.retention import REMOVED, purge
from tests.assessing import sufficient
from tests.factories import (
    EqaGrantFactory,
    PortfolioFactory,
    UserFactory,
    WorkplaceContactFactory,
    WorkplaceFactory,
    c4_unit,
)

BEFORE = [("portfolio", "0018_enrolment_qualification")]
TEXT_KEPT = [("portfolio", "0020_workplaces_from_portfolios")]


def old_portfolios(apps, rows):
    """Portfolios as 0018 held them, with their workplace as text: (organisation, sector)."""
    OldPortfolio = apps.get_model("portfolio", "Portfolio")
    OldEnrolment = apps.get_model("portfolio", "Enrolment")
    OldUser = apps.get_model("portfolio", "User")  # the account's columns as they were then
    unit = c4_unit()
    made = []
    for n, (organisation, sector) in enumerate(rows):
        learner = OldUser.objects.create(username=f"old-learner{n}", is_learner=True)
        made.append(
            OldPortfolio.objects.create(
                learner_id=learner.pk,
                enrolment=OldEnrolment.objects.create(learner_id=learner.pk),
                unit_id=unit.pk,
                organisation=organisation,
                sector=sector,
                job_role=f"Job {n}",
            ).pk
        )
    return made


class TestTheMigration:
    def test_identical_text_becomes_one_workplace_and_any_other_text_another(self, migrator):
        apps = migrator(BEFORE)
        hallam, spaced, public_hallam, riverside = old_portfolios(
            apps,
            [
                ("Hallam Rail", "private"),
                ("  Hallam Rail ", "private"),
                ("Hallam Rail", "public"),
                ("Riverside Borough Council", "public"),
            ],
        )

        migrator(MigrationExecutor(connection).loader.graph.leaf_nodes())

        workplace = {p.pk: p.workplace for p in Portfolio.objects.select_related("workplace")}
        assert len(workplace) == 4, "every portfolio is kept"
        # Spaces kept: a signature covers the organisation as it was written.
        assert workplace[hallam] != workplace[spaced]
        assert workplace[public_hallam] != workplace[hallam]
        assert Workplace.objects.count() == 4
        assert (workplace[spaced].organisation, workplace[spaced].sector) == (
            "  Hallam Rail ",
            "private",
        )
        assert workplace[public_hallam].sector == "public"
        assert workplace[riverside].organisation == "Riverside Borough Council"
        assert {p.job_role for p in Portfolio.objects.all()} == {f"Job {n}" for n in range(4)}

    def test_going_back_writes_the_text_onto_each_portfolio_again(self, migrator):
        apps = migrator(BEFORE)
        hallam, riverside = old_portfolios(
            apps, [("Hallam Rail", "private"), ("Riverside Borough Council", "public")]
        )
        migrator(MigrationExecutor(connection).loader.graph.leaf_nodes())
        Workplace.objects.filter(portfolios=riverside).update(site="Civic Centre")

        apps = migrator(BEFORE)

        OldPortfolio = apps.get_model("portfolio", "Portfolio")
        assert dict(OldPortfolio.objects.values_list("pk", "organisation")) == {
            hallam: "Hallam Rail",
            riverside: "Riverside Borough Council, Civic Centre",
        }
        assert dict(OldPortfolio.objects.values_list("pk", "sector")) == {
            hallam: "private",
            riverside: "public",
        }

    def test_going_back_one_step_keeps_both_then_forward_again_makes_each_once(self, migrator):
        apps = migrator(BEFORE)
        old_portfolios(apps, [("Hallam Rail", "private"), ("Hallam Rail", "private")])
        migrator(TEXT_KEPT)
        migrator([("portfolio", "0019_workplace")])

        apps = migrator(TEXT_KEPT)

        assert apps.get_model("portfolio", "Workplace").objects.count() == 1
        OldPortfolio = apps.get_model("portfolio", "Portfolio")
        assert not OldPortfolio.objects.filter(workplace=None).exists()

    def test_signatures_hold_through_the_migration_and_back(self, migrator):
        portfolio = PortfolioFactory(workplace__organisation="Hallam Rail")
        sufficient(portfolio)
        signature = assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        assert signature.manifest["portfolio"]["organisation"] == "Hallam Rail"

        migrator(BEFORE)
        migrator(MigrationExecutor(connection).loader.graph.leaf_nodes())

        portfolio = Portfolio.objects.get(pk=portfolio.pk)
        assert portfolio.workplace.organisation == "Hallam Rail"
        assert digest_of(manifest_for(portfolio)) == signature.digest
        assert SignableRecord.objects.get(portfolio=portfolio).digest == signature.digest
        assert [row.valid for row in signature_rows(portfolio)] == [True]


class TestMatching:
    def test_it_finds_the_workplace_whatever_the_case_and_spaces(self, db):
        workplace = WorkplaceFactory(organisation="Hallam Rail", site="Sheffield", sector="private")

        found = Workplace.objects.matching(
            organisation="  hallam RAIL ", site="SHEFFIELD ", sector="private"
        )

        assert found == workplace
        assert Workplace.objects.count() == 1

    def test_another_site_or_sector_is_another_workplace(self, db):
        workplace = WorkplaceFactory(organisation="Hallam Rail", site="", sector="private")

        elsewhere = Workplace.objects.matching(
            organisation="Hallam Rail", site="Doncaster", sector="private"
        )
        public = Workplace.objects.matching(organisation="Hallam Rail", sector="public")

        assert len({workplace.pk, elsewhere.pk, public.pk}) == 3

    def test_a_new_one_is_made_with_its_text_stripped(self, db):
        made = Workplace.objects.matching(
            organisation=" Hallam Rail ", site=" Doncaster ", sector=Sector.PRIVATE
        )

        made.refresh_from_db()
        assert (made.organisation, made.site, str(made)) == (
            "Hallam Rail",
            "Doncaster",
            "Hallam Rail, Doncaster",
        )

    def test_portfolios_are_searched_by_their_workplaces_organisation_and_site(self, db):
        hallam = PortfolioFactory(
            workplace__organisation="Hallam Rail", workplace__site="Sheffield station"
        )
        PortfolioFactory()

        assert list(Portfolio.objects.search("hallam")) == [hallam]
        assert list(Portfolio.objects.search("sheffield")) == [hallam]

    def test_the_old_name_of_the_sectors_still_works(self):
        assert Portfolio.Sector is Sector
        assert Portfolio.Sector.PUBLIC == "public"


class TestTheLearnersForm:
    def test_typing_a_colleagues_workplace_joins_it(self, client, login, portfolio):
        colleague = PortfolioFactory(
            workplace__organisation="Hallam Rail",
            workplace__site="Sheffield station",
            workplace__sector="private",
        )
        login(portfolio.learner)

        client.post(
            f"/portfolios/{portfolio.pk}/workplace/",
            {
                "organisation": "hallam rail",
                "site": "Sheffield Station",
                "sector": "private",
                "job_role": "Ticket office assistant",
            },
        )

        portfolio.refresh_from_db()
        assert portfolio.workplace == colleague.workplace
        colleague.workplace.refresh_from_db()
        assert colleague.workplace.organisation == "Hallam Rail", "the shared record is unchanged"

    def test_leaving_a_shared_workplace_changes_nothing_for_the_others(
        self, client, login, portfolio
    ):
        colleague = PortfolioFactory(workplace=portfolio.workplace)
        login(portfolio.learner)

        client.post(
            f"/portfolios/{portfolio.pk}/workplace/",
            {"organisation": "Hallam Rail", "sector": "private", "job_role": "Guard"},
        )

        portfolio.refresh_from_db()
        colleague.refresh_from_db()
        assert portfolio.workplace != colleague.workplace
        assert colleague.workplace.organisation == "Riverside Borough Council"

    def test_the_form_shows_the_workplace_as_it_is(self, client, login, portfolio):
        Workplace.objects.filter(pk=portfolio.workplace_id).update(site="Civic Centre")
        login(portfolio.learner)

        response = client.get(f"/portfolios/{portfolio.pk}/workplace/")

        assert 'value="Riverside Borough Council"' in response.text
        assert 'value="Civic Centre"' in response.text

    def test_saving_it_unchanged_records_nothing(self, client, login, portfolio):
        login(portfolio.learner)

        client.post(
            f"/portfolios/{portfolio.pk}/workplace/",
            {
                "organisation": "Riverside Borough Council",
                "sector": "public",
                "job_role": portfolio.job_role,
            },
        )

        assert not AuditEntry.objects.filter(action="portfolio.workplace_changed").exists()
        assert Workplace.objects.count() == 1


class TestSignatures:
    @pytest.fixture
    def signed(self, portfolio):
        sufficient(portfolio)
        assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        return portfolio

    def test_the_manifest_names_the_workplace_as_the_text_was(self, portfolio):
        assert manifest_for(portfolio)["portfolio"] | {"id": 0, "learner": 0} == {
            "id": 0,
            "learner": 0,
            "unit": "OCR C4",
            "unit_version": portfolio.unit.version,
            "organisation": "Riverside Borough Council",
            "sector": "public",
            "job_role": "Contact centre adviser",
        }

    def test_a_change_to_the_workplace_breaks_the_signature_of_every_portfolio_there(self, signed):
        colleague = PortfolioFactory(workplace=signed.workplace)
        sufficient(colleague)
        assessor_services.unit_sign_off(portfolio=colleague, by=colleague.assessor)
        workplace = signed.workplace

        workplace.organisation = "Riverside City Council"
        workplace.save()

        for portfolio in (signed, colleague):
            (row,) = signature_rows(Portfolio.objects.get(pk=portfolio.pk))
            assert not row.valid
            record = SignableRecord.objects.get(portfolio=portfolio)
            assert record.manifest["portfolio"]["organisation"] == "Riverside City Council"
            assert record.digest == digest_of(manifest_for(portfolio))

    def test_a_change_the_signature_does_not_cover_leaves_it_holding(self, signed):
        workplace = signed.workplace
        workplace.site = "Civic Centre"
        workplace.address = "1 Town Hall Square"
        workplace.save()
        WorkplaceContactFactory(workplace=workplace)

        assert [row.valid for row in signature_rows(signed)] == [True]

    def test_another_workplace_changing_leaves_it_holding(self, signed):
        other = WorkplaceFactory()
        other.organisation = "Hallam Rail"
        other.save()

        assert [row.valid for row in signature_rows(signed)] == [True]


class TestThePage:
    @pytest.fixture
    def at_workplace(self, portfolio):
        """The portfolio, another learner's portfolio at its workplace (another assessor's),
        and a contact there."""
        other = PortfolioFactory(workplace=portfolio.workplace)
        WorkplaceContactFactory(
            workplace=portfolio.workplace, name="Dawn Hargreaves", email="dawn@example.org"
        )
        return portfolio, other

    def url(self, portfolio):
        return f"/workplaces/{portfolio.workplace_id}/"

    @pytest.mark.parametrize("role", ["assessor", "iqa"])
    def test_the_portfolios_staff_see_it_with_only_their_own_portfolios(
        self, client, login, at_workplace, role
    ):
        portfolio, other = at_workplace
        login(getattr(portfolio, role))

        response = client.get(self.url(portfolio))

        assert response.status_code == 200
        assert "Riverside Borough Council" in response.text
        assert "Dawn Hargreaves" in response.text
        assert "dawn@example.org" in response.text
        assert str(portfolio.learner) in response.text
        assert str(other.learner) not in response.text
        assert f"/portfolios/{other.pk}/" not in response.text

    def test_the_centre_administrator_sees_every_portfolio_there(
        self, client, login, at_workplace, make_user
    ):
        portfolio, other = at_workplace
        login(make_user(centre_admin=True))

        response = client.get(self.url(portfolio))

        assert response.status_code == 200
        assert str(portfolio.learner) in response.text
        assert str(other.learner) in response.text

    def test_an_eqa_sees_it_while_a_grant_covers_a_portfolio_there(
        self, client, login, at_workplace, make_user
    ):
        portfolio, other = at_workplace
        grant = EqaGrantFactory(portfolios=[portfolio])
        login(grant.eqa)

        response = client.get(self.url(portfolio))

        assert response.status_code == 200
        assert str(other.learner) not in response.text
        login(make_user(eqa=True))
        assert client.get(self.url(portfolio)).status_code == 404

    def test_a_learner_gets_404_even_for_their_own_workplace(self, client, login, at_workplace):
        portfolio, other = at_workplace
        for learner in (portfolio.learner, other.learner, UserFactory(learner=True)):
            login(learner)
            assert client.get(self.url(portfolio)).status_code == 404

    def test_staff_of_no_portfolio_there_get_404(self, client, login, at_workplace, make_user):
        portfolio, _ = at_workplace
        login(make_user(assessor=True, iqa=True))

        assert client.get(self.url(portfolio)).status_code == 404

    def test_a_visitor_is_asked_to_sign_in(self, client, at_workplace):
        portfolio, _ = at_workplace

        response = client.get(self.url(portfolio))

        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")

    def test_the_portfolio_page_links_to_it_for_the_staff_not_the_learner(
        self, client, login, portfolio
    ):
        link = f'href="/workplaces/{portfolio.workplace_id}/"'
        login(portfolio.assessor)
        assert link in client.get(f"/portfolios/{portfolio.pk}/").text

        login(portfolio.learner)
        page = client.get(f"/portfolios/{portfolio.pk}/").text
        assert link not in page
        assert "Riverside Borough Council" in page

    def test_it_runs_the_same_queries_however_many_portfolios_are_there(
        self, client, at_workplace, django_assert_num_queries, make_user
    ):
        portfolio, _ = at_workplace
        admin = make_user(centre_admin=True)
        client.force_login(admin)
        client.get(self.url(portfolio))
        for _ in range(3):
            PortfolioFactory(workplace=portfolio.workplace)
            WorkplaceContactFactory(workplace=portfolio.workplace)

        # Expect 9 queries: the session, the session user, saving the session (a savepoint,
        # the update, its release), the workplace, its contacts, its portfolios, counting unread
        # messages for the menu
        with django_assert_num_queries(9):
            response = client.get(self.url(portfolio))
        assert response.text.count("/portfolios/") == 5


class TestTheAdmin:
    def test_a_workplace_is_added_with_its_contacts_and_audited(self, client, login, make_user):
        admin = make_user(centre_admin=True)
        login(admin)

        response = client.post(
            "/admin/portfolio/workplace/add/",
            {
                "organisation": "Hallam Rail",
                "site": "Sheffield station",
                "sector": "private",
                "address": "",
                "contacts-TOTAL_FORMS": "1",
                "contacts-INITIAL_FORMS": "0",
                "contacts-0-name": "Dawn Hargreaves",
                "contacts-0-job_title": "Station manager",
                "contacts-0-email": "dawn@example.org",
                "contacts-0-phone": "",
            },
        )

        assert response.status_code == 302, response.text
        workplace = Workplace.objects.get()
        assert workplace.contacts.get().name == "Dawn Hargreaves"
        entry = AuditEntry.objects.get(action="admin.added")
        assert entry.actor == admin
        assert entry.data["model"] == "portfolio.workplace"
        contact = workplace.contacts.get()
        assert entry.data["changes"]["contacts"] == {
            "added": [{"id": contact.pk, "name": "Dawn Hargreaves (Station manager)"}]
        }
        assert "contacts changed" in entry.summary

    def test_a_contact_changed_or_removed_is_audited(self, client, login, make_user):
        contact = WorkplaceContactFactory(name="Dawn Hargreaves", job_title="Manager")
        workplace = contact.workplace
        login(make_user(centre_admin=True))
        form = {
            "organisation": workplace.organisation,
            "site": "",
            "sector": workplace.sector,
            "address": "",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-id": contact.pk,
            "contacts-0-workplace": workplace.pk,
            "contacts-0-name": "Dawn Hargreaves",
            "contacts-0-job_title": "Manager",
            "contacts-0-email": "new@example.org",
            "contacts-0-phone": contact.phone,
        }

        client.post(f"/admin/portfolio/workplace/{workplace.pk}/change/", form)
        client.post(
            f"/admin/portfolio/workplace/{workplace.pk}/change/", form | {"contacts-0-DELETE": "on"}
        )

        changed, deleted = AuditEntry.objects.filter(action="admin.changed").order_by("pk")
        shown = {"id": contact.pk, "name": "Dawn Hargreaves (Manager)"}
        assert changed.data["changes"] == {"contacts": {"changed": [shown | {"fields": ["email"]}]}}
        assert deleted.data["changes"] == {"contacts": {"deleted": [{"name": shown["name"]}]}}
        assert not workplace.contacts.exists()

    def test_workplaces_are_searched_by_organisation_site_and_contact(
        self, client, login, make_user
    ):
        WorkplaceFactory(organisation="Hallam Rail", site="Sheffield station")
        WorkplaceContactFactory(workplace__organisation="Riverside Borough Council", name="Dawn")
        login(make_user(centre_admin=True))

        for text, found, not_found in [
            ("sheffield", "Hallam Rail", "Riverside"),
            ("dawn", "Riverside", "Hallam Rail"),
        ]:
            page = client.get("/admin/portfolio/workplace/", {"q": text}).text
            assert found in page
            assert not_found not in page

    def test_a_portfolio_typed_with_a_known_workplace_joins_it(self, client, login, make_user, c4):
        known = WorkplaceFactory(organisation="Hallam Rail", sector="private")
        login(make_user(centre_admin=True))

        response = client.post(
            "/admin/portfolio/portfolio/add/",
            {
                "learner": make_user(learner=True).pk,
                "unit": c4.pk,
                "start_date": "2026-09-01",
                "organisation": "HALLAM RAIL",
                "site": "",
                "sector": "private",
                "job_role": "Guard",
            },
        )

        assert response.status_code == 302
        assert Portfolio.objects.get().workplace == known

    def test_a_workplace_with_portfolios_cannot_be_deleted(self, portfolio):
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError):
            portfolio.workplace.delete()


class TestRecords:
    def test_the_purge_keeps_the_workplace_and_removes_the_job_role(self, portfolio):
        portfolio.status = Portfolio.Status.CLAIMED
        portfolio.save()
        workplace = portfolio.workplace

        purge(portfolio)

        portfolio.refresh_from_db()
        assert portfolio.job_role == REMOVED
        assert portfolio.workplace == workplace
        workplace.refresh_from_db()
        assert workplace.organisation == "Riverside Borough Council"

    def test_the_learners_data_holds_their_workplaces_not_the_contacts(self, portfolio):
        WorkplaceContactFactory(
            workplace=portfolio.workplace, name="Dawn Hargreaves", email="dawn@example.org"
        )
        WorkplaceFactory(organisation="Someone else's employer")
        out = io.BytesIO()

        personal_data_zip(portfolio.learner, out)

        with zipfile.ZipFile(out) as archive:
            records = json.loads(archive.read("records.json"))
        (workplace,) = records["workplaces"]
        assert (workplace["id"], workplace["organisation"], workplace["sector"]) == (
            portfolio.workplace_id,
            "Riverside Borough Council",
            "public",
        )
        assert records["portfolios"][0]["workplace"] == portfolio.workplace_id
        text = json.dumps(records)
        assert "Dawn Hargreaves" not in text
        assert "dawn@example.org" not in text
