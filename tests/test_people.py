"""The centre administrator's pages for people: the list, a learner registered and invited in one
post, invitations (their own tokens, lifetime and audit), staff and their roles, the superuser
rule, and EQA access granted until the end of a day."""

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.signable import digest_of, manifest_for
from audit.models import AuditEntry
from people import services
from people.models import Invitation
from people.services import NewPerson, UnitStaff
from people.tokens import invitation_tokens
from portfolio.models import EqaGrant, Notification, Portfolio, Role, User
from tests.factories import PortfolioFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


@pytest.fixture
def staff(c4):
    return {
        "admin": UserFactory(centre_admin=True),
        "assessor": UserFactory(assessor=True),
        "assessor2": UserFactory(assessor=True),
        "iqa": UserFactory(iqa=True),
        "both": UserFactory(assessor=True, iqa=True),
    }


@pytest.fixture
def c5_unit(c5):
    return c5


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the transaction to commit (the e-mail worker's task)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def registration(people, c4, **changes):
    values = {
        "learner": NewPerson(first_name="Ada", last_name="Lovelace", email="Ada@Example.org"),
        "qualification": None,
        "units": [c4],
        "staff": UnitStaff(assessor=people["assessor"], iqa=people["iqa"]),
        "organisation": "Riverside Leisure",
        "start_date": datetime.date(2026, 9, 1),
        "by": people["admin"],
        "site_url": SITE,
    }
    return {**values, **changes}


def link_in(message) -> str:
    return re.search(r"http://testserver(/people/invitation/[^\s]+/)", message.body).group(1)


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))


# The list of people


def test_the_list_shows_roles_who_has_not_signed_in_and_when_they_were_invited(
    client, staff, commit
):
    invited = UserFactory(first_name="Nell", learner=True, email="nell@example.org")
    commit(services.invitation_send, user=invited, by=staff["admin"], site_url=SITE)
    signed_in = UserFactory(first_name="Olu", assessor=True, last_login=timezone.now())
    client.force_login(staff["admin"])

    page = client.get(reverse("people"))

    row = re.search(r"<tr>\s*<td[^>]*>Nell.*?</tr>", page.text, re.S).group(0)
    assert "Learner" in row
    assert "Not yet signed in; invited" in row
    assert "Resend invitation" in row
    olu = re.search(r"<tr>\s*<td[^>]*>Olu.*?</tr>", page.text, re.S).group(0)
    assert "Not yet signed in" not in olu
    assert "Assessor" in olu
    assert signed_in.last_login


def test_the_list_finds_people_by_name_or_email_and_role(client, staff):
    UserFactory(first_name="Zebedee", last_name="Quist", email="zq@example.org", learner=True)
    UserFactory(first_name="Yolanda", email="yolanda@elsewhere.org", assessor=True)
    client.force_login(staff["admin"])

    by_name = client.get(reverse("people"), {"q": "quist"})
    by_email = client.get(reverse("people"), {"q": "elsewhere"})
    by_role = client.get(reverse("people"), {"role": "learner"})

    assert [str(u) for u in by_name.context["page"]] == ["Zebedee Quist"]
    assert [u.first_name for u in by_email.context["page"]] == ["Yolanda"]
    assert {u.first_name for u in by_role.context["page"]} == {"Zebedee"}


def test_the_centre_home_links_to_the_people_pages(client, staff):
    client.force_login(staff["admin"])

    page = client.get(reverse("centre_home"))

    assert reverse("people") in page.text
    assert reverse("learner_new") in page.text
    assert reverse("eqa_access") in page.text


# Registering a learner


def test_a_new_learner_is_registered_entered_and_invited(staff, c4, commit):
    enrolment = commit(services.learner_register, **registration(staff, c4))

    learner = enrolment.learner
    assert learner.is_learner
    assert not learner.has_usable_password()
    assert learner.username == "ada@example.org"
    portfolio = enrolment.portfolios.get()
    assert (portfolio.assessor, portfolio.iqa) == (staff["assessor"], staff["iqa"])
    assert portfolio.job_role == ""
    assert portfolio.workplace.sector == ""
    assert [m.to for m in mail.outbox] == [["Ada@Example.org"]]
    assert Invitation.objects.get(user=learner).sent_by == staff["admin"]
    assert actions() == ["person.created", "enrolment.created", "person.invited"]
    assert set(AuditEntry.objects.values_list("chain", flat=True)) == {f"learner-{learner.pk}"}


def test_each_unit_may_have_its_own_assessor_and_iqa(staff, c4, c5_unit, commit):
    per_unit = {c5_unit.pk: UnitStaff(assessor=staff["both"], iqa=staff["iqa"])}

    enrolment = commit(
        services.learner_register,
        **registration(staff, c4, units=[c4, c5_unit], per_unit=per_unit),
    )

    by_unit = {p.unit.code: (p.assessor, p.iqa) for p in enrolment.portfolios.all()}
    assert by_unit == {
        "C4": (staff["assessor"], staff["iqa"]),
        "C5": (staff["both"], staff["iqa"]),
    }


def test_a_registration_is_refused_whole_with_a_message_for_each_field(staff, c4, c5_unit):
    UserFactory(email="ada@example.org")
    per_unit = {c5_unit.pk: UnitStaff(assessor=staff["both"], iqa=staff["both"])}

    with pytest.raises(ValidationError) as refused:
        services.learner_register(
            **registration(
                staff,
                c4,
                units=[c4, c5_unit],
                per_unit=per_unit,
                staff=UnitStaff(assessor=staff["iqa"], iqa=staff["assessor"]),
                organisation=" ",
            )
        )

    errors = refused.value.message_dict
    assert "a person is added once" in errors["email"][0]
    assert "does not hold the assessor role" in errors["assessor"][0]
    assert "does not hold the internal quality assurer role" in errors["iqa"][0]
    assert errors[f"iqa_{c5_unit.pk}"] == ["The IQA must not be the assessor for unit C5."]
    assert "organisation" in errors
    assert User.objects.filter(is_learner=True).count() == 0
    assert not Portfolio.objects.exists()
    assert not mail.outbox
    assert not actions()


def test_an_existing_learner_is_entered_without_an_invitation(staff, c4, commit):
    learner = UserFactory(learner=True)

    enrolment = commit(services.learner_register, **registration(staff, c4, learner=learner))

    assert enrolment.learner == learner
    assert not mail.outbox
    assert not Invitation.objects.exists()


def test_the_page_registers_and_invites_in_one_post(client, staff, c4, commit):
    client.force_login(staff["admin"])

    answer = commit(
        client.post,
        reverse("learner_new"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.org",
            "start_date": "2026-09-01",
            "units": [c4.pk],
            "assessor": staff["assessor"].pk,
            "iqa": staff["iqa"].pk,
            "organisation": "Riverside Leisure",
        },
    )

    learner = User.objects.get(email="ada@example.org")
    assert answer.status_code == 302
    assert answer.url == learner.enrolments.get().get_absolute_url()
    assert len(mail.outbox) == 1


def test_the_page_refuses_a_unit_iqa_who_assesses_it_keeping_what_was_typed(client, staff, c4):
    client.force_login(staff["admin"])

    answer = client.post(
        reverse("learner_new"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.org",
            "start_date": "2026-09-01",
            "units": [c4.pk],
            "assessor": staff["assessor"].pk,
            "iqa": staff["iqa"].pk,
            f"assessor_{c4.pk}": staff["both"].pk,
            f"iqa_{c4.pk}": staff["both"].pk,
            "organisation": "Riverside Leisure",
        },
    )

    assert answer.status_code == 400
    assert "The IQA must not be the assessor for unit C4." in answer.text
    assert 'value="Riverside Leisure"' in answer.text
    assert not User.objects.filter(email="ada@example.org").exists()


def test_the_page_asks_for_a_new_learner_or_one_chosen(client, staff, c4):
    client.force_login(staff["admin"])

    answer = client.post(reverse("learner_new"), {"units": [c4.pk], "organisation": "X"})

    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert "first_name" in errors
    assert "last_name" in errors
    assert "email" in errors


@pytest.mark.django_db(transaction=True)  # SQLite writes no schema inside a transaction
def test_making_job_role_and_sector_optional_changes_no_row_and_so_no_digest(c4):
    portfolio = PortfolioFactory(job_role="Receptionist")
    before = digest_of(manifest_for(portfolio))
    sql = StringIO()

    call_command("sqlmigrate", "portfolio", "0023", stdout=sql)

    statements = [line for line in sql.getvalue().splitlines() if not line.startswith("--")]
    assert not [line for line in statements if line.strip() not in ("", "BEGIN;", "COMMIT;")]
    assert digest_of(manifest_for(Portfolio.objects.get(pk=portfolio.pk))) == before
    assert PortfolioFactory(job_role="", workplace__sector="").full_clean() is None


# Invitations


def test_an_invitation_link_sets_the_password_signs_in_and_lands_home(client, staff, commit):
    learner = commit(
        services.person_create,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.org",
        roles=[Role.LEARNER],
        by=staff["admin"],
    )
    commit(services.invitation_send, user=learner, by=staff["admin"], site_url=SITE)

    opened = client.get(link_in(mail.outbox[0]), follow=True)
    answer = client.post(
        opened.redirect_chain[-1][0],
        {"new_password1": "a-long-new-pass-phrase", "new_password2": "a-long-new-pass-phrase"},
        follow=True,
    )

    learner.refresh_from_db()
    assert answer.redirect_chain[-1][0] == reverse("learner_home")
    assert answer.context["user"] == learner
    assert learner.check_password("a-long-new-pass-phrase")
    assert learner.last_login
    assert Invitation.objects.get(user=learner).accepted_at
    assert actions()[-1] == "person.invitation_accepted"
    again = client.get(link_in(mail.outbox[0]))
    assert "This invitation has been used or has expired" in again.text


def test_an_invitation_token_is_no_password_reset_token_and_the_reverse(staff):
    person = UserFactory(learner=True)

    invitation = invitation_tokens.make_token(person)
    reset = default_token_generator.make_token(person)

    assert invitation_tokens.check_token(person, invitation)
    assert not default_token_generator.check_token(person, invitation)
    assert not invitation_tokens.check_token(person, reset)


def test_an_invitation_lives_invitation_days_not_the_reset_timeout(staff, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 60 * 60
    settings.INVITATION_DAYS = 14
    person = UserFactory(learner=True)
    token = invitation_tokens.make_token(person)
    sent = datetime.datetime.now()

    def later(days):
        monkeypatch.setattr(invitation_tokens, "_now", lambda: sent + datetime.timedelta(days))

    later(13.9)
    assert invitation_tokens.check_token(person, token)
    later(14.1)
    assert not invitation_tokens.check_token(person, token)


def test_a_resent_invitation_is_a_new_link_and_both_end_once_a_password_is_set(
    client, staff, commit
):
    person = UserFactory(learner=True, password=None)
    person.set_unusable_password()
    person.save()
    commit(services.invitation_send, user=person, by=staff["admin"], site_url=SITE)
    client.force_login(staff["admin"])
    commit(client.post, reverse("person_invite", args=[person.pk]))
    first, second = link_in(mail.outbox[0]), link_in(mail.outbox[1])
    invitation = Invitation.objects.get(user=person)

    person.set_password("a-password-set-somehow")
    person.save()

    assert invitation.times_sent == 2
    assert actions() == ["person.invited", "person.invitation_resent"]
    for link in (first, second):
        _uid, token = link.strip("/").split("/")[-2:]
        assert not invitation_tokens.check_token(person, token)


def test_nobody_may_invite_a_superuser_but_a_superuser(client, staff):
    root = UserFactory(is_superuser=True)
    client.force_login(staff["admin"])

    answer = client.post(reverse("person_invite", args=[root.pk]))

    assert answer.status_code == 403
    with pytest.raises(PermissionDenied):
        services.invitation_send(user=root, by=staff["admin"], site_url=SITE)
    assert not Invitation.objects.exists()


def test_an_inactive_person_is_not_invited(staff):
    person = UserFactory(learner=True, is_active=False)

    with pytest.raises(ValidationError, match="not active"):
        services.invitation_send(user=person, by=staff["admin"], site_url=SITE)


# Staff


def test_a_member_of_staff_is_added_with_roles_and_invited(client, staff, commit):
    client.force_login(staff["admin"])

    answer = commit(
        client.post,
        reverse("staff_new"),
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.org",
            "roles": ["assessor", "iqa"],
            "is_active": "on",
        },
    )

    grace = User.objects.get(email="grace@example.org")
    assert answer.status_code == 302
    assert grace.roles == [Role.ASSESSOR, Role.IQA]
    assert not grace.has_usable_password()
    assert [m.to for m in mail.outbox] == [["grace@example.org"]]
    assert actions() == ["person.created", "person.invited"]
    assert AuditEntry.objects.filter(chain="centre").count() == 2


def test_a_duplicate_email_is_refused_regardless_of_case(client, staff):
    UserFactory(email="grace@example.org")
    client.force_login(staff["admin"])

    answer = client.post(
        reverse("staff_new"),
        {"first_name": "G", "last_name": "H", "email": "Grace@Example.ORG", "roles": ["iqa"]},
    )

    assert answer.status_code == 400
    assert "a person is added once" in answer.text
    assert User.objects.filter(email__iexact="grace@example.org").count() == 1


def test_roles_and_activity_are_changed_and_audited(client, staff):
    person = UserFactory(assessor=True)
    client.force_login(staff["admin"])

    answer = client.post(
        reverse("person_edit", args=[person.pk]),
        {
            "first_name": person.first_name,
            "last_name": "Changed",
            "email": person.email,
            "roles": ["iqa", "eqa"],
        },
    )

    person.refresh_from_db()
    assert answer.status_code == 302
    assert person.roles == [Role.IQA, Role.EQA]
    assert not person.is_active
    entry = AuditEntry.objects.get(action="person.changed")
    assert entry.data["changed"] == ["is_active", "is_assessor", "is_eqa", "is_iqa", "last_name"]


def test_a_role_held_on_a_portfolio_in_progress_is_not_taken_away(client, staff, c4):
    portfolio = PortfolioFactory(assessor=staff["both"], iqa=staff["iqa"])
    client.force_login(staff["admin"])

    answer = client.post(
        reverse("person_edit", args=[staff["both"].pk]),
        {
            "first_name": "X",
            "last_name": "Y",
            "email": staff["both"].email,
            "roles": ["iqa"],
            "is_active": "on",
        },
    )

    assert answer.status_code == 400
    assert "still assesses 1 portfolio in progress" in answer.text
    assert "move their caseload first" in answer.text
    assert "/people/caseload/" in answer.text
    staff["both"].refresh_from_db()
    assert staff["both"].is_assessor
    assert staff["both"].first_name != "X"
    assert portfolio.assessor == staff["both"]


def test_an_iqa_keeps_the_role_while_a_unit_waits_for_their_sample(staff, c4):
    PortfolioFactory(iqa=staff["iqa"], status=Portfolio.Status.ASSESSED)
    PortfolioFactory(iqa=staff["iqa"], status=Portfolio.Status.VERIFIED)  # theirs for good

    with pytest.raises(ValidationError) as refused:
        services.staff_save(
            user=staff["iqa"],
            first_name=staff["iqa"].first_name,
            last_name=staff["iqa"].last_name,
            email=staff["iqa"].email,
            roles=[Role.ASSESSOR],
            by=staff["admin"],
            site_url=SITE,
        )

    assert refused.value.message_dict["roles"] == [
        f"{staff['iqa']} still quality-assures 1 portfolio in progress or waiting for a sample, "
        "so cannot lose the internal quality assurer role: move their caseload first."
    ]


def test_someone_with_a_caseload_is_not_deactivated(staff, c4):
    PortfolioFactory(iqa=staff["iqa"])

    with pytest.raises(ValidationError) as refused:
        services.staff_save(
            user=staff["iqa"],
            first_name="A",
            last_name="B",
            email=staff["iqa"].email,
            roles=[Role.IQA],
            is_active=False,
            by=staff["admin"],
            site_url=SITE,
        )

    assert "cannot be deactivated" in refused.value.message_dict["is_active"][0]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_centre_administrator_cannot_touch_a_superuser(client, staff, method):
    root = UserFactory(is_superuser=True, first_name="Root")
    client.force_login(staff["admin"])

    answer = getattr(client, method)(
        reverse("person_edit", args=[root.pk]),
        {"first_name": "Taken", "last_name": "Over", "email": "x@example.org", "roles": ["eqa"]},
    )

    root.refresh_from_db()
    assert answer.status_code == 403
    assert root.first_name == "Root"
    assert root.is_active


def test_the_staff_service_refuses_a_superuser_too(staff):
    root = UserFactory(is_superuser=True, first_name="Root")

    with pytest.raises(PermissionDenied):
        services.staff_save(
            user=root,
            first_name="Taken",
            last_name="Over",
            email=root.email,
            roles=[],
            is_active=False,
            by=staff["admin"],
            site_url=SITE,
        )

    root.refresh_from_db()
    assert root.first_name == "Root"
    assert root.is_active


def test_an_administrator_keeps_their_own_role(staff):
    admin = staff["admin"]

    with pytest.raises(ValidationError, match="from yourself"):
        services.staff_save(
            user=admin,
            first_name=admin.first_name,
            last_name=admin.last_name,
            email=admin.email,
            roles=[Role.ASSESSOR],
            by=admin,
            site_url=SITE,
        )


# EQA access


def test_an_eqa_is_given_chosen_portfolios_until_the_end_of_a_day_and_told(
    client, staff, c4, commit
):
    eqa = UserFactory(eqa=True)
    chosen, other = PortfolioFactory(), PortfolioFactory()
    client.force_login(staff["admin"])
    until = timezone.localdate() + datetime.timedelta(days=10)

    answer = commit(
        client.post,
        reverse("eqa_access_new"),
        {
            "eqa": eqa.pk,
            "portfolios": [chosen.pk],
            "until": until.isoformat(),
            "reason": "Visit",
        },
    )

    grant = EqaGrant.objects.get()
    assert answer.status_code == 302
    assert list(grant.portfolios.all()) == [chosen]
    end = timezone.localtime(grant.expires_at)
    assert (end.date(), end.time()) == (until + datetime.timedelta(days=1), datetime.time())
    assert list(Portfolio.objects.visible_to(eqa)) == [chosen]
    assert other not in Portfolio.objects.visible_to(eqa)
    assert Notification.objects.get(recipient=eqa).message.startswith("You have read-only")
    assert [m.to for m in mail.outbox] == [[eqa.email]]
    assert actions() == ["eqa.granted"]


def test_a_grant_needs_portfolios_or_the_whole_centre_and_a_day_to_come(client, staff):
    eqa = UserFactory(eqa=True)
    client.force_login(staff["admin"])

    answer = client.post(
        reverse("eqa_access_new"),
        {"eqa": eqa.pk, "until": "2020-01-01", "reason": "Kept"},
    )

    assert answer.status_code == 400
    assert "Choose the portfolios, or the whole centre." in answer.text
    assert "until today or a later day" in answer.text
    assert 'value="Kept"' in answer.text
    assert not EqaGrant.objects.exists()


def test_a_grant_is_changed_ended_and_listed_as_ended(client, staff, c4, commit):
    eqa = UserFactory(eqa=True)
    portfolio = PortfolioFactory()
    grant = services.eqa_grant_save(
        grant=None,
        eqa=eqa,
        whole_centre=False,
        portfolios=[portfolio],
        until=timezone.localdate(),
        by=staff["admin"],
        site_url=SITE,
    )
    client.force_login(staff["admin"])

    edit = client.get(reverse("eqa_access_edit", args=[grant.pk]))
    changed = client.post(
        reverse("eqa_access_edit", args=[grant.pk]),
        {"eqa": eqa.pk, "whole_centre": "on", "until": timezone.localdate().isoformat()},
    )
    ended = client.post(reverse("eqa_access_end", args=[grant.pk]))
    listing = client.get(reverse("eqa_access"))
    ended_edit = client.get(reverse("eqa_access_edit", args=[grant.pk]))

    grant.refresh_from_db()
    assert edit.context["form"]["until"].value() == timezone.localdate()
    assert ended_edit.context["form"]["until"].value() == timezone.localdate()  # ended today
    assert changed.status_code == 302
    assert ended.status_code == 302
    assert grant.whole_centre
    assert not grant.is_active
    assert listing.context["ended"] == [grant]
    assert listing.context["current"] == []
    assert actions() == ["eqa.granted", "eqa.grant_changed", "eqa.grant_changed"]


def test_the_grant_form_shows_portfolios_grouped_by_learner_and_filters_them(client, staff, c4):
    first = PortfolioFactory(learner__first_name="Primrose")
    PortfolioFactory(learner__first_name="Quentin")
    client.force_login(staff["admin"])

    every = client.get(reverse("eqa_access_new"))
    found = client.get(reverse("eqa_access_new"), {"q": "primrose"})

    assert "<legend" in every.text
    assert "Quentin" in every.text
    assert [p.pk for p in found.context["portfolios"]] == [first.pk]


def test_the_list_and_the_grant_form_run_the_same_queries_for_any_number_of_people(
    client, staff, c4
):
    def counted(n):
        for _ in range(n):
            person = PortfolioFactory().learner
            Invitation.objects.create(user=person, sent_at=timezone.now())
        grant = EqaGrant.objects.create(eqa=UserFactory(eqa=True), expires_at=timezone.now())
        grant.portfolios.set(Portfolio.objects.all())
        counts = []
        for url in (reverse("people"), reverse("eqa_access"), reverse("eqa_access_new")):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    client.force_login(staff["admin"])

    assert counted(2) == counted(12)


def test_an_invitation_stops_working_once_the_account_is_deactivated(client, staff, commit):
    person = UserFactory(learner=True)
    commit(services.invitation_send, user=person, by=staff["admin"], site_url=SITE)
    person.is_active = False
    person.save()

    opened = client.get(link_in(mail.outbox[0]), follow=True)

    assert "This invitation has been used or has expired" in opened.text
    assert "new_password1" not in opened.text


def test_the_list_offers_no_edit_or_invitation_for_a_superuser(client, staff):
    root = UserFactory(is_superuser=True, first_name="Root")
    client.force_login(staff["admin"])

    page = client.get(reverse("people"))

    row = re.search(r"<tr>\s*<td[^>]*>Root.*?</tr>", page.text, re.S).group(0)
    assert "Managed by a superuser" in row
    assert reverse("person_edit", args=[root.pk]) not in row
    assert reverse("person_invite", args=[root.pk]) not in row


class TestInvitationsNotYetUsed:
    @pytest.fixture
    def invited(self, staff, commit):
        person = services.person_create(
            first_name="Pat",
            last_name="Quinn",
            email="pat@example.org",
            roles=[Role.LEARNER],
            by=staff["admin"],
        )
        commit(services.invitation_send, user=person, by=staff["admin"], site_url=SITE)
        return person

    def days_later(self, days):
        return timezone.now() + datetime.timedelta(days=days)

    def unused_notices(self):
        return list(
            Notification.objects.filter(kind=Notification.Kind.INVITATION_UNUSED).values_list(
                "recipient__username", "message", "link"
            )
        )

    def test_whoever_sent_it_is_told_once_when_it_has_gone_unused(self, staff, invited, commit):
        mail.outbox.clear()
        assert commit(services.invitations_unused_notify, now=self.days_later(2)) == 0

        assert commit(services.invitations_unused_notify, now=self.days_later(3.1)) == 1
        assert commit(services.invitations_unused_notify, now=self.days_later(4)) == 0

        sent = timezone.localtime(invited.invitation.sent_at)
        assert self.unused_notices() == [
            (
                staff["admin"].username,
                f"Pat Quinn has not used the invitation sent on {sent:%-d %B %Y}: send it again, "
                "or check their e-mail address (pat@example.org)",
                reverse("person_edit", args=[invited.pk]),
            )
        ]
        assert [message.to for message in mail.outbox] == [[staff["admin"].email]]

    def test_an_invitation_taken_up_or_an_account_closed_is_not_chased(
        self, staff, invited, commit
    ):
        Invitation.objects.filter(user=invited).update(accepted_at=timezone.now())
        assert commit(services.invitations_unused_notify, now=self.days_later(5)) == 0
        Invitation.objects.filter(user=invited).update(accepted_at=None)
        User.objects.filter(pk=invited.pk).update(is_active=False)
        assert commit(services.invitations_unused_notify, now=self.days_later(5)) == 0

    def test_one_sent_again_is_chased_again_and_one_whose_sender_left_goes_to_every_admin(
        self, staff, invited, commit, settings
    ):
        commit(services.invitations_unused_notify, now=self.days_later(4))
        other_admin = UserFactory(centre_admin=True)
        Invitation.objects.filter(user=invited).update(
            sent_at=timezone.now() + datetime.timedelta(days=4)  # sent again then
        )
        User.objects.filter(pk=staff["admin"].pk).update(is_active=False)

        assert commit(services.invitations_unused_notify, now=self.days_later(8)) == 1

        assert sorted(row[0] for row in self.unused_notices()) == sorted(
            [staff["admin"].username, other_admin.username]
        )

    def test_the_daily_command_chases_them(self, staff, invited, commit):
        Invitation.objects.filter(user=invited).update(
            sent_at=timezone.now() - datetime.timedelta(days=3, minutes=1)
        )
        out = StringIO()

        commit(call_command, "send_daily_notifications", stdout=out)

        assert "invitations not yet used: 1" in out.getvalue()
        assert len(self.unused_notices()) == 1
