"""Everyone told what waits for them: each change that gives someone work reaches that person
once, in the app and by e-mail (or in their daily digest, as they chose), and nothing is sent
for a change rolled back; the daily command tells of what falls due, once."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from assessments import quality
from assessments.models import ActionPoint
from assessments.services import unit_sign_off
from audit.models import AuditEntry
from portfolio import services
from portfolio.models import EvidenceItem, Notification, User
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory, WitnessFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
TODAY = timezone.localdate()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change as a request does: in a transaction, with what waits for its commit."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            return change()

    return run


def told(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


def mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


@pytest.fixture
def daily(django_capture_on_commit_callbacks):
    """The daily command, its e-mails sent as its transactions commit."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_daily_notifications", stdout=StringIO())

    return run


def sample_with_actions(portfolio, *, due):
    return quality.sample_record(
        portfolio=portfolio,
        iqa=portfolio.iqa,
        stage="interim",
        outcome="refer_back",
        comment="",
        items=[(portfolio.evidence.first(), None, "")],
        actions=[("Map P3 more precisely", due), ("Check the dates", due)],
    )


class TestEachEvent:
    def test_an_action_point_raised_reaches_the_assessor_once(self, portfolio, commit):
        EvidenceFactory(portfolio=portfolio, status="accepted")

        sample = commit(lambda: sample_with_actions(portfolio, due=TODAY + datetime.timedelta(7)))

        [notification] = told(portfolio.assessor, Kind.ACTION_RAISED)
        assert "2 action points" in notification.message
        assert notification.link == f"/samples/{sample.pk}/"
        [message] = mails_to(portfolio.assessor)
        assert f"/samples/{sample.pk}/" in message.body
        assert not Notification.objects.exclude(recipient=portfolio.assessor).exists()

    def test_an_action_point_due_is_told_on_the_day_once(self, portfolio, commit, daily):
        EvidenceFactory(portfolio=portfolio, status="accepted")
        commit(lambda: sample_with_actions(portfolio, due=TODAY + datetime.timedelta(1)))
        [later, _] = ActionPoint.objects.order_by("pk")
        mail.outbox.clear()

        daily()
        assert told(portfolio.assessor, Kind.ACTION_DUE) == []

        ActionPoint.objects.update(due_on=TODAY)
        later.closed_at = timezone.now()
        later.save(update_fields=["closed_at"])
        daily()
        daily()

        [notification] = told(portfolio.assessor, Kind.ACTION_DUE)
        assert "due today: Check the dates" in notification.message
        assert len(mails_to(portfolio.assessor)) == 1

    def test_an_observation_recorded_asks_the_learner_to_confirm_it(
        self, client, login, portfolio, commit
    ):
        login(portfolio.assessor)
        unit = portfolio.unit
        posting = lambda: client.post(  # noqa: E731
            f"/portfolios/{portfolio.pk}/observations/new/",
            {
                "title": "Observed at the returns desk",
                "occurred_on": str(TODAY - datetime.timedelta(days=1)),
                "place": "Returns desk",
                "duration_minutes": "45",
                "contexts": [unit.contexts.get(letter="b").pk],
                "setting": "real_paid",
                "customer": "external",
                "customer_reference": "Customer 9",
                "account": "Handled three upset customers in a long queue.",
                "criteria": [c.pk for c in unit.criteria.filter(nos_code__in=["P8"])],
                "note": "Seen directly",
            },
        )
        commit(posting)

        evidence = EvidenceItem.objects.get()
        [notification] = told(portfolio.learner, Kind.RECORD_TO_CONFIRM)
        assert notification.evidence == evidence
        assert "confirm" in notification.message
        assert len(mails_to(portfolio.learner)) == 1
        login(portfolio.learner)
        home = client.get("/learner/").text
        assert "Confirm the observation record &#x27;Observed at the returns desk&#x27;" in home

    def test_a_unit_signed_off_waits_for_its_iqa(self, portfolio, commit):
        sufficient(portfolio)
        mail.outbox.clear()

        commit(lambda: unit_sign_off(portfolio=portfolio, by=portfolio.assessor))

        [notification] = told(portfolio.iqa, Kind.AWAITING_SAMPLE)
        assert notification.link == f"/portfolios/{portfolio.pk}/samples/new/"
        assert len(mails_to(portfolio.iqa)) == 1
        assert len(told(portfolio.learner, Kind.UNIT_SIGNED_OFF)) == 1

    def test_an_eqa_grant_given_reaches_the_eqa_once(self, make_user, make_grant, commit):
        admin = make_user(centre_admin=True)
        grant = make_grant(whole_centre=True)

        commit(lambda: services.eqa_grant_recorded(grant=grant, by=admin, created=True))

        [notification] = told(grant.eqa, Kind.EQA_GRANTED)
        assert notification.message.startswith("You have read-only access to the whole centre")
        assert len(mails_to(grant.eqa)) == 1

    def test_an_eqa_grant_changed_or_ended_tells_the_eqa_once_each(
        self, make_user, make_grant, commit
    ):
        admin = make_user(centre_admin=True)
        grant = make_grant(whole_centre=True)

        commit(lambda: services.eqa_grant_recorded(grant=grant, by=admin, created=False))
        grant.expires_at = timezone.now() - datetime.timedelta(minutes=1)
        grant.save()
        commit(lambda: services.eqa_grant_recorded(grant=grant, by=admin, created=False))

        changed, ended = told(grant.eqa, Kind.EQA_GRANTED)[::-1]
        assert changed.message.startswith("Your access is now to the whole centre until")
        assert ended.message == f"Your access to the whole centre was ended by {admin}"
        assert len(mails_to(grant.eqa)) == 2

    def test_an_eqa_grant_about_to_expire_is_told_once_per_expiry(
        self, settings, make_grant, daily
    ):
        settings.EQA_EXPIRY_NOTICE_DAYS = 7
        grant = make_grant(expires_at=timezone.now() + datetime.timedelta(days=10))

        daily()
        assert told(grant.eqa, Kind.EQA_EXPIRING) == []

        grant.expires_at = timezone.now() + datetime.timedelta(days=6)
        grant.save()
        daily()
        daily()
        assert len(told(grant.eqa, Kind.EQA_EXPIRING)) == 1

        grant.expires_at += datetime.timedelta(days=1)  # extended, and ending soon again
        grant.save()
        daily()
        assert len(told(grant.eqa, Kind.EQA_EXPIRING)) == 2
        assert len(mails_to(grant.eqa)) == 2

    def test_a_witness_answer_reaches_the_learner_and_the_assessor(self, portfolio, commit):
        evidence = EvidenceFactory(portfolio=portfolio, method="witness")
        testimony = WitnessFactory(evidence=evidence, status="sent", sent_at=timezone.now())

        commit(
            lambda: services.witness_respond(
                testimony=testimony, confirmed=True, typed_name="Sam Okafor", ip=None
            )
        )

        for person in (portfolio.learner, portfolio.assessor):
            [notification] = told(person, Kind.WITNESS_ANSWERED)
            assert "Sam Okafor confirmed" in notification.message
            assert len(mails_to(person)) == 1

    def test_evidence_referred_back_has_its_kind(self, client, login, portfolio, commit):
        evidence = EvidenceFactory(portfolio=portfolio, status="submitted")
        login(portfolio.assessor)

        commit(
            lambda: client.post(
                f"/evidence/{evidence.pk}/review/",
                {"decision": "refer_back", "feedback": "Say what the customer wanted."},
            )
        )

        [notification] = told(portfolio.learner, Kind.EVIDENCE_REFERRED_BACK)
        assert notification.link == f"/evidence/{evidence.pk}/"
        assert len(mails_to(portfolio.learner)) == 1

    def test_nothing_is_made_or_sent_for_a_change_rolled_back(
        self, portfolio, django_capture_on_commit_callbacks
    ):
        sufficient(portfolio)
        mail.outbox.clear()
        Notification.objects.all().delete()

        def sign_off_then_fail():
            with transaction.atomic():
                unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
                raise RuntimeError

        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            sign_off_then_fail()

        assert not Notification.objects.exists()
        assert mail.outbox == []


class TestDigest:
    def test_a_digest_person_gets_one_email_of_the_day_and_none_for_each(
        self, portfolio, commit, daily
    ):
        assessor = portfolio.assessor
        assessor.notification_email = User.NotificationEmail.DIGEST
        assessor.save()
        EvidenceFactory(portfolio=portfolio, status="accepted")
        commit(lambda: sample_with_actions(portfolio, due=TODAY + datetime.timedelta(3)))
        evidence = EvidenceFactory(portfolio=portfolio, method="witness")
        testimony = WitnessFactory(evidence=evidence, status="sent", sent_at=timezone.now())
        commit(
            lambda: services.witness_respond(
                testimony=testimony, confirmed=True, typed_name="Sam Okafor", ip=None
            )
        )
        assert len(told(assessor, Kind.ACTION_RAISED) + told(assessor, Kind.WITNESS_ANSWERED)) == 2
        assert mails_to(assessor) == []

        daily()
        daily()

        [digest] = mails_to(assessor)
        assert digest.subject == "Your daily digest: 2 messages"
        assert "raised 2 action points" in digest.body
        assert "Sam Okafor confirmed" in digest.body
        assert "/notifications/settings/" in digest.body

    def test_the_next_digest_holds_only_what_arrived_since(self, portfolio, commit, daily):
        learner = portfolio.learner
        learner.notification_email = User.NotificationEmail.DIGEST
        learner.save()
        first = EvidenceFactory(portfolio=portfolio, method="witness", title="First")
        second = EvidenceFactory(portfolio=portfolio, method="witness", title="Second")
        for evidence in (first, second):
            WitnessFactory(evidence=evidence, status="sent", sent_at=timezone.now())
        answer = lambda evidence: commit(  # noqa: E731
            lambda: services.witness_respond(
                testimony=evidence.testimony, confirmed=True, typed_name="Sam", ip=None
            )
        )

        answer(first)
        daily()
        answer(second)
        daily()

        one, two = mails_to(learner)
        assert "'First'" in one.body
        assert "'Second'" not in one.body
        assert "'Second'" in two.body
        assert "'First'" not in two.body

    def test_evidence_submitted_together_goes_in_the_digest_not_in_its_own_email(
        self, portfolio, commit, daily
    ):
        assessor = portfolio.assessor
        assessor.notification_email = User.NotificationEmail.DIGEST
        assessor.save()
        items = EvidenceFactory.create_batch(2, portfolio=portfolio, contexts="a", claims=["P1"])

        commit(
            lambda: services.evidence_submit_many(evidence=items, by=portfolio.learner, site_url="")
        )
        assert len(told(assessor, Kind.EVIDENCE_SUBMITTED)) == 2
        assert mails_to(assessor) == []
        daily()

        [digest] = mails_to(assessor)
        assert digest.subject == "Your daily digest: 2 messages"
        for item in items:
            assert f"/evidence/{item.pk}/" in digest.body

    def test_no_email_keeps_the_message_in_the_app_only(self, portfolio, commit, daily):
        learner = portfolio.learner
        learner.notification_email = User.NotificationEmail.NONE
        learner.save()
        sufficient(portfolio)
        mail.outbox.clear()

        commit(lambda: unit_sign_off(portfolio=portfolio, by=portfolio.assessor))
        daily()

        assert len(told(learner, Kind.UNIT_SIGNED_OFF)) == 1
        assert mails_to(learner) == []


class TestSettingsPage:
    def test_each_person_chooses_how_they_are_emailed_audited(self, client, login, make_user):
        person = make_user(iqa=True)
        login(person)
        page = client.get("/notifications/settings/")
        assert page.status_code == 200
        assert "checked" in page.text
        assert "An e-mail for each message" in page.text

        response = client.post("/notifications/settings/", {"notification_email": "digest"})

        assert response.status_code == 302
        person.refresh_from_db()
        assert person.notification_email == "digest"
        entry = AuditEntry.objects.get(action="notifications.email_chosen")
        assert entry.data == {"before": "each", "after": "digest"}

    def test_a_bad_choice_is_explained_and_changes_nothing(self, client, login, make_user):
        person = make_user(learner=True)
        login(person)

        response = client.post("/notifications/settings/", {"notification_email": "hourly"})

        assert response.status_code == 400
        assert "There is a problem" in response.text
        person.refresh_from_db()
        assert person.notification_email == "each"

    def test_the_messages_page_and_navigation_link_to_it_in_every_role(
        self, client, login, make_user
    ):
        person = make_user(eqa=True)
        Notification.objects.create(recipient=person, message="Hello", kind=Kind.EQA_GRANTED)
        login(person)

        page = client.get("/notifications/").text

        assert 'href="/notifications/settings/"' in page
        assert 'Messages <span class="badge text-bg-light">1<span' in page


class TestWaitingForYou:
    def test_the_assessor_sees_evidence_to_review_and_action_points_oldest_first(
        self, client, login, portfolio, commit
    ):
        EvidenceFactory(portfolio=portfolio, status="accepted")
        commit(lambda: sample_with_actions(portfolio, due=TODAY + datetime.timedelta(3)))
        old = EvidenceFactory(portfolio=portfolio, status="submitted", title="Old one")
        EvidenceItem.objects.filter(pk=old.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=5)
        )
        EvidenceFactory(portfolio=portfolio, status="submitted", title="New one")
        login(portfolio.assessor)

        page = client.get("/assessor/").text

        section = page[page.index("Waiting for you") :]
        assert section.index("Old one") < section.index("Map P3") < section.index("New one")

    def test_the_iqa_sees_portfolios_to_sample_and_overdue_action_points(
        self, client, login, portfolio, commit
    ):
        sufficient(portfolio)
        commit(lambda: unit_sign_off(portfolio=portfolio, by=portfolio.assessor))
        other = PortfolioFactory(iqa=portfolio.iqa)
        EvidenceFactory(portfolio=other, status="accepted")
        commit(lambda: sample_with_actions(other, due=TODAY - datetime.timedelta(2)))
        login(portfolio.iqa)

        page = client.get("/iqa/").text

        section = page[page.index("Waiting for you") :]
        assert f"Sample {portfolio.learner}&#x27;s unit C4" in section
        assert f"/portfolios/{portfolio.pk}/samples/new/" in section
        assert "action point on" in section
        assert "is past due" in section

    def test_the_centre_administrator_sees_people_not_signed_in(self, client, login, make_user):
        admin = make_user(centre_admin=True)
        never = make_user(learner=True, first_name="Nia", last_name="Never")
        login(admin)

        page = client.get("/centre/").text

        section = page[page.index("Waiting for you") :]
        assert "Nia Never has not signed in yet" in section
        assert f"/people/{never.pk}/edit/" in section
        assert f"{admin} has not signed in" not in section

    def test_the_eqa_sees_their_grants(self, client, login, make_grant):
        grant = make_grant(whole_centre=True, reason="Visit in March")
        login(grant.eqa)

        page = client.get("/eqa/").text

        assert "Review the whole centre" in page
        assert "Visit in March" in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_message_and_gives_it_the_kind_it_says(make_user, migrator):
    person = make_user()
    before = ("portfolio", "0023_job_role_and_sector_optional")
    after = ("portfolio", "0024_notification_kinds")
    old = migrator([before]).get_model("portfolio", "Notification")
    messages = {
        "Pat Lee submitted 'Refund'": "evidence_submitted",
        "Pat Lee resubmitted 'Refund'": "evidence_submitted",
        "Sam Roy referred back 'Refund'": "evidence_referred_back",
        "Sam Roy accepted 'Refund'": "evidence_accepted",
        "Sam Roy signed off your unit C4": "unit_signed_off",
        "Something else": "other",
    }
    for message in messages:
        old.objects.create(recipient_id=person.pk, message=message)
    old.objects.create(recipient_id=person.pk, message="A file was not added", file_check=True)

    after_apps = migrator([after])

    kinds = dict(
        after_apps.get_model("portfolio", "Notification").objects.values_list("message", "kind")
    )
    assert kinds == {**messages, "A file was not added": "file_check"}
