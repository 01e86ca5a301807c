"""The Django admin is the centre administrator's tool for people and assignments."""

import pytest
from django.core.exceptions import PermissionDenied

from portfolio import services
from portfolio.models import Portfolio, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre_admin(make_user):
    return make_user(centre_admin=True)


def test_a_centre_administrator_can_use_the_admin_without_being_a_superuser(
    client, login, centre_admin
):
    assert not centre_admin.is_superuser
    login(centre_admin)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/portfolio/user/").status_code == 200
    assert client.get("/admin/portfolio/portfolio/add/").status_code == 200


def test_other_roles_cannot_use_the_admin(client, login, make_user):
    login(make_user(assessor=True, iqa=True, eqa=True, learner=True))

    response = client.get("/admin/portfolio/user/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_an_assignment_to_someone_without_the_role_is_refused(
    client, login, centre_admin, make_user, c4
):
    learner = make_user(learner=True)
    not_an_assessor = make_user(learner=True)
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/portfolio/add/",
        {
            "learner": learner.pk,
            "unit": c4.pk,
            "start_date": "2026-09-01",
            "assessor": not_an_assessor.pk,
            "organisation": "Hallam Rail",
            "sector": "private",
            "job_role": "Ticket office assistant",
        },
    )

    assert response.status_code == 200
    assert (
        "Choose someone from the list: only active people holding the assessor role are offered."
        in response.text
    )
    assert not Portfolio.objects.exists()


def test_the_add_portfolio_form_offers_the_active_people_holding_each_role(
    client, login, centre_admin, make_user, c4
):
    learner, assessor, iqa = (
        make_user(learner=True),
        make_user(assessor=True),
        make_user(iqa=True),
    )
    left = make_user(assessor=True, is_active=False)
    login(centre_admin)

    form = client.get("/admin/portfolio/portfolio/add/").context["adminform"].form

    offered = {name: set(form.fields[name].queryset) for name in ["learner", "assessor", "iqa"]}
    assert offered == {"learner": {learner}, "assessor": {assessor}, "iqa": {iqa}}
    assert left not in offered["assessor"]


def test_a_portfolio_changed_in_the_admin_keeps_its_inactive_assessor_on_offer(
    client, login, centre_admin, portfolio
):
    portfolio.assessor.is_active = False
    portfolio.assessor.save()
    login(centre_admin)

    response = client.get(f"/admin/portfolio/portfolio/{portfolio.pk}/change/")

    assert portfolio.assessor in response.context["adminform"].form.fields["assessor"].queryset


def test_a_centre_administrator_registers_a_learner_on_the_unit(
    client, login, centre_admin, make_user, c4
):
    learner, assessor, iqa = (
        make_user(learner=True),
        make_user(assessor=True),
        make_user(iqa=True),
    )
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/portfolio/add/",
        {
            "learner": learner.pk,
            "unit": c4.pk,
            "start_date": "2026-09-01",
            "assessor": assessor.pk,
            "iqa": iqa.pk,
            "organisation": "Hallam Rail",
            "sector": "private",
            "job_role": "Ticket office assistant",
        },
    )

    assert response.status_code == 302
    portfolio = Portfolio.objects.get()
    assert (portfolio.learner, portfolio.assessor, portfolio.iqa) == (learner, assessor, iqa)
    assert portfolio.status == Portfolio.Status.IN_PROGRESS


def test_the_sector_and_job_role_may_be_left_empty_in_the_admin(
    client, login, centre_admin, make_user, c4
):
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/portfolio/add/",
        {
            "learner": make_user(learner=True).pk,
            "unit": c4.pk,
            "start_date": "2026-09-01",
            "organisation": "Hallam Rail",
            "sector": "",
            "job_role": "",
        },
    )

    assert response.status_code == 302
    portfolio = Portfolio.objects.get()
    assert (portfolio.workplace.organisation, portfolio.workplace.sector) == ("Hallam Rail", "")
    assert portfolio.job_role == ""


def test_units_are_read_only_in_the_admin(client, login, centre_admin, c4):
    login(centre_admin)

    assert client.get(f"/admin/units/unit/{c4.pk}/change/").status_code == 200
    assert client.get("/admin/units/unit/add/").status_code == 403
    response = client.post(f"/admin/units/unit/{c4.pk}/change/", {"title": "Changed"})
    assert response.status_code == 403


def test_a_centre_administrator_grants_an_eqa_access_and_it_is_audited(
    client, login, centre_admin, make_user, portfolio
):
    from audit.models import AuditEntry
    from portfolio.models import EqaGrant

    eqa = make_user(eqa=True)
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/eqagrant/add/",
        {
            "eqa": eqa.pk,
            "portfolios": [portfolio.pk],
            "expires_at": "2099-01-31T17:00",
            "reason": "Visit",
        },
    )

    assert response.status_code == 302
    grant = EqaGrant.objects.get()
    assert grant.granted_by == centre_admin
    assert list(grant.portfolios.all()) == [portfolio]
    entry = AuditEntry.objects.get(action="eqa.granted")
    assert entry.data["portfolios"] == [portfolio.pk]


def test_a_grant_to_someone_who_is_not_an_eqa_is_refused(
    client, login, centre_admin, make_user, portfolio
):
    from portfolio.models import EqaGrant

    login(centre_admin)

    response = client.post(
        "/admin/portfolio/eqagrant/add/",
        {
            "eqa": make_user(learner=True).pk,
            "whole_centre": "on",
            "expires_at": "2099-01-31T17:00",
        },
    )

    assert response.status_code == 200
    assert "does not hold the external quality assurer role" in response.text
    assert not EqaGrant.objects.exists()


def test_the_admins_old_addresses_of_eqa_grants_lead_to_their_new_ones(client, login, centre_admin):
    login(centre_admin)

    assert client.get("/admin/assessments/eqagrant/").url == "/admin/portfolio/eqagrant/"
    response = client.get("/admin/assessments/eqagrant/add/?eqa=3")
    assert (response.status_code, response.url) == (301, "/admin/portfolio/eqagrant/add/?eqa=3")


def test_every_model_in_the_admin_is_audited():
    from django.contrib import admin

    from audit.admin import AuditedAdminMixin

    assert admin.site._registry
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AuditedAdminMixin), model._meta.label


def test_reassigning_a_portfolios_assessor_and_iqa_is_audited_with_who_from_and_to(
    client, login, centre_admin, make_user, portfolio
):
    from audit.chain import verify_chains
    from audit.models import AuditEntry

    before_assessor, before_iqa = portfolio.assessor, portfolio.iqa
    assessor, iqa = make_user(assessor=True), make_user(iqa=True)
    login(centre_admin)

    response = client.post(
        f"/admin/portfolio/portfolio/{portfolio.pk}/change/",
        {
            "learner": portfolio.learner.pk,
            "unit": portfolio.unit.pk,
            "start_date": portfolio.start_date.isoformat(),
            "initial-start_date": portfolio.start_date.isoformat(),  # as the page sends it
            "assessor": assessor.pk,
            "iqa": iqa.pk,
            "organisation": portfolio.workplace.organisation,
            "sector": portfolio.workplace.sector,
            "job_role": portfolio.job_role,
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.changed")
    assert entry.actor == centre_admin
    assert entry.portfolio == portfolio
    assert entry.chain == f"learner-{portfolio.learner_id}"
    assert entry.data["changes"] == {
        "assessor": {
            "from": {"id": before_assessor.pk, "name": str(before_assessor)},
            "to": {"id": assessor.pk, "name": str(assessor)},
        },
        "iqa": {
            "from": {"id": before_iqa.pk, "name": str(before_iqa)},
            "to": {"id": iqa.pk, "name": str(iqa)},
        },
    }
    assert f"assessor from {before_assessor} to {assessor}" in entry.summary
    assert verify_chains().broken is None


def test_changing_a_persons_roles_is_audited(client, login, centre_admin, make_user):
    from audit.models import AuditEntry

    person = make_user(learner=True)
    login(centre_admin)

    response = client.post(
        f"/admin/portfolio/user/{person.pk}/change/",
        {
            "username": person.username,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "is_learner": "on",
            "is_assessor": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.changed")
    assert entry.object_id == str(person.pk)
    assert entry.chain == "centre"
    assert entry.data["changes"] == {"is_assessor": {"from": False, "to": True}}


def test_deleting_an_eqa_grant_is_audited(client, login, centre_admin, make_grant):
    from audit.models import AuditEntry

    grant = make_grant(whole_centre=True)
    login(centre_admin)

    response = client.post(f"/admin/portfolio/eqagrant/{grant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.deleted")
    assert entry.object_type == "portfolio.eqagrant"
    assert entry.object_id == str(grant.pk)
    assert entry.actor == centre_admin
    assert str(grant) in entry.summary


def test_adding_a_person_is_audited_without_their_password(client, login, centre_admin):
    from audit.models import AuditEntry

    login(centre_admin)

    response = client.post(
        "/admin/portfolio/user/add/",
        {
            "username": "newlearner",
            "first_name": "Nia",
            "last_name": "Okafor",
            "password1": "a-long-Secret-9",
            "password2": "a-long-Secret-9",
            "is_learner": "on",
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.added")
    assert entry.data["changes"]["username"] == {"from": None, "to": "newlearner"}
    assert "a-long-Secret-9" not in str(entry.data) + entry.summary


class TestSuperusersAccounts:
    """Only a superuser manages a superuser's account, or makes anyone a superuser: below the
    admin too, so the rule holds wherever people are managed."""

    @pytest.fixture
    def superuser(self, make_user):
        user = make_user(username="root", email="root@example.org")
        User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
        return User.objects.get(pk=user.pk)

    @staticmethod
    def change_data(user, **changes):
        data = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_active": "on",
        }
        data.update(changes)
        return {name: value for name, value in data.items() if value is not None}

    def test_a_centre_administrator_sees_a_superuser_read_only(
        self, client, login, centre_admin, superuser
    ):
        login(centre_admin)

        page = client.get(f"/admin/portfolio/user/{superuser.pk}/change/")

        assert page.status_code == 200
        assert 'name="_save"' not in page.text
        assert 'name="username"' not in page.text

    @pytest.mark.parametrize(
        "changes",
        [{"email": "someone.else@example.org"}, {"is_active": None}],
        ids=["change", "deactivate"],
    )
    def test_a_centre_administrator_cannot_change_or_deactivate_a_superuser(
        self, client, login, centre_admin, superuser, changes
    ):
        login(centre_admin)

        response = client.post(
            f"/admin/portfolio/user/{superuser.pk}/change/",
            self.change_data(superuser, **changes),
        )

        assert response.status_code == 403
        superuser.refresh_from_db()
        assert superuser.email == "root@example.org"
        assert superuser.is_active

    def test_a_centre_administrator_cannot_set_a_superuser_s_password(
        self, client, login, centre_admin, superuser
    ):
        login(centre_admin)
        url = f"/admin/portfolio/user/{superuser.pk}/password/"
        password = "a-new-password-9"

        page = client.get(url)
        posted = client.post(url, {"password1": password, "password2": password})

        assert page.status_code == posted.status_code == 403
        superuser.refresh_from_db()
        assert not superuser.check_password(password)

    def test_a_centre_administrator_cannot_delete_a_superuser(
        self, client, login, centre_admin, superuser, make_user
    ):
        learner = make_user(learner=True)
        login(centre_admin)

        one = client.post(f"/admin/portfolio/user/{superuser.pk}/delete/", {"post": "yes"})
        selected = client.post(
            "/admin/portfolio/user/",
            {"action": "delete_selected", "_selected_action": [superuser.pk, learner.pk],
             "post": "yes"},
        )  # fmt: skip

        assert one.status_code == selected.status_code == 403
        assert User.objects.filter(pk__in=[superuser.pk, learner.pk]).count() == 2

    def test_a_centre_administrator_cannot_make_anyone_a_superuser(
        self, client, login, centre_admin, make_user
    ):
        learner = make_user(learner=True)
        login(centre_admin)

        client.post(
            f"/admin/portfolio/user/{learner.pk}/change/",
            self.change_data(learner, is_learner="on", is_superuser="on"),
        )
        learner.refresh_from_db()
        learner.is_superuser = True

        assert not User.objects.get(pk=learner.pk).is_superuser  # the box is read-only
        with pytest.raises(PermissionDenied, match="Only a superuser may make someone"):
            services.user_save(user=learner, by=centre_admin)
        assert not User.objects.get(pk=learner.pk).is_superuser

    def test_the_rule_holds_below_the_admin(self, centre_admin, superuser, make_user):
        learner = make_user(learner=True)

        assert not centre_admin.has_perm("portfolio.change_user", superuser)
        assert not centre_admin.has_perm("portfolio.delete_user", superuser)
        assert centre_admin.has_perm("portfolio.change_user", learner)
        assert centre_admin.has_perm("portfolio.change_user")
        superuser.is_active = False
        with pytest.raises(PermissionDenied, match="Only a superuser may change a superuser"):
            services.user_save(user=superuser, by=centre_admin)
        assert User.objects.get(pk=superuser.pk).is_active

    def test_a_centre_administrator_still_manages_everyone_else(
        self, client, login, centre_admin, make_user
    ):
        learner = make_user(learner=True)
        login(centre_admin)

        changed = client.post(
            f"/admin/portfolio/user/{learner.pk}/change/",
            self.change_data(learner, is_learner="on", email="new@example.org"),
        )
        password = client.post(
            f"/admin/portfolio/user/{learner.pk}/password/",
            {"password1": "a-new-password-9", "password2": "a-new-password-9"},
        )

        assert changed.status_code == password.status_code == 302
        learner.refresh_from_db()
        assert learner.email == "new@example.org"
        assert learner.check_password("a-new-password-9")

    def test_a_superuser_manages_a_superuser(self, client, login, superuser, make_user):
        other = make_user(username="root2")
        login(superuser)

        granted = client.post(
            f"/admin/portfolio/user/{other.pk}/change/",
            self.change_data(other, is_superuser="on"),
        )
        deactivated = client.post(
            f"/admin/portfolio/user/{other.pk}/change/",
            self.change_data(other, is_superuser="on", is_active=None),
        )
        password = client.post(
            f"/admin/portfolio/user/{other.pk}/password/",
            {"password1": "a-new-password-9", "password2": "a-new-password-9"},
        )

        assert granted.status_code == deactivated.status_code == password.status_code == 302
        other.refresh_from_db()
        assert other.is_superuser
        assert not other.is_active
        assert other.check_password("a-new-password-9")
