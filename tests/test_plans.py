"""Assessment plans: the assessor writes a version, issues it signed, the learner accepts it or
asks for a change, a revision keeps the earlier versions readable with their signatures, and
evidence linked to an activity makes it done once accepted."""

import datetime
import threading
import time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import AssessmentPlan, PlanActivity, Signature
from assessments.planning import (
    ISSUE_STATEMENT,
    plan_accept,
    plan_draft,
    plan_evidence_link,
    plan_issue,
    plan_manifest,
)
from assessments.services import content_sign
from audit.models import AuditEntry
from portfolio.models import Notification, Workplace, WorkplaceContact
from tests.factories import (
    PASSWORD,
    ActivityFactory,
    EvidenceFactory,
    PlanFactory,
    PortfolioFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def portfolio(c4):
    return PortfolioFactory()


@pytest.fixture
def enrolment(portfolio):
    return portfolio.enrolment


def as_user(client, user):
    client.force_login(user)
    return client


def actions(enrolment) -> list[str]:
    return list(
        AuditEntry.objects.filter(chain=f"learner-{enrolment.learner_id}")
        .exclude(action__startswith="portfolio.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def activity_data(portfolio, **changes) -> dict:
    unit = portfolio.unit
    return {
        "title": "Observation at a busy time",
        "method": "observation",
        "target_date": (TODAY + datetime.timedelta(days=21)).isoformat(),
        "details": "At the returns desk on a Saturday.",
        "criteria": [c.pk for c in unit.criteria.filter(nos_code__in=["P1", "P2"])],
        "contexts": [unit.contexts.get(letter="b").pk],
        "place": "Returns desk",
        "planned_for": f"{TODAY + datetime.timedelta(days=20)}T10:30",
        **changes,
    }


def draft_with_activity(portfolio, **activity) -> AssessmentPlan:
    plan = PlanFactory(
        enrolment=portfolio.enrolment,
        version=AssessmentPlan.objects.filter(enrolment=portfolio.enrolment).count() + 1,
        status="draft",
        issued_at=None,
        written_by=portfolio.assessor,
    )
    ActivityFactory(plan=plan, **activity)
    return plan


def issued(portfolio, **activity) -> AssessmentPlan:
    plan = draft_with_activity(portfolio, **activity)
    plan_issue(plan=plan, by=portfolio.assessor)
    plan.refresh_from_db()
    return plan


class TestWriting:
    def test_the_assessor_starts_a_plan_and_plans_an_activity(self, client, portfolio, enrolment):
        as_user(client, portfolio.assessor)

        response = client.post(reverse("enrolment_plan", args=[enrolment.pk]))

        plan = AssessmentPlan.objects.get(enrolment=enrolment)
        assert (plan.version, plan.status, plan.written_by) == (1, "draft", portfolio.assessor)
        assert response.url.endswith("#draft")
        response = client.post(
            reverse("plan_activity_new", args=[plan.pk]), activity_data(portfolio)
        )
        assert response.status_code == 302
        activity = PlanActivity.objects.get(plan=plan)
        assert activity.title == "Observation at a busy time"
        assert activity.place == "Returns desk"
        assert sorted(c.nos_code for c in activity.criteria.all()) == ["P1", "P2"]
        assert [c.letter for c in activity.contexts.all()] == ["b"]
        assert actions(enrolment) == ["plan.drafted", "plan.activity_added"]
        page = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        assert "Being written: version 1" in page
        assert "Observation at a busy time" in page
        assert "C4 1.1" in page or "C4 " in page

    def test_an_activity_is_changed_and_removed_on_a_draft(self, client, portfolio, enrolment):
        plan = draft_with_activity(
            portfolio, title="Discussion of a complaint", method="discussion"
        )
        activity = plan.activities.get()
        as_user(client, portfolio.assessor)

        client.post(
            reverse("plan_activity_edit", args=[activity.pk]),
            activity_data(portfolio, title="Discussion of two complaints", method="discussion"),
        )
        activity.refresh_from_db()
        assert activity.title == "Discussion of two complaints"
        client.post(reverse("plan_activity_remove", args=[activity.pk]))

        assert not PlanActivity.objects.filter(plan=plan).exists()
        assert actions(enrolment) == ["plan.activity_changed", "plan.activity_removed"]
        changed = AuditEntry.objects.get(action="plan.activity_changed")
        assert "title" in changed.data["changed"]

    def test_an_activity_form_refuses_with_clear_messages_keeping_what_was_typed(
        self, client, portfolio, enrolment, c5
    ):
        enrolment.start_date = TODAY - datetime.timedelta(days=30)
        enrolment.save()
        plan = PlanFactory(enrolment=enrolment, status="draft", issued_at=None)
        other_unit = c5.criteria.get(nos_code="P1")
        as_user(client, portfolio.assessor)

        response = client.post(
            reverse("plan_activity_new", args=[plan.pk]),
            activity_data(
                portfolio,
                title="Watched on the shop floor",
                target_date=(TODAY - datetime.timedelta(days=31)).isoformat(),
                place="",
                planned_for="",
                criteria=[other_unit.pk],
            ),
        )

        assert response.status_code == 400
        page = response.text
        started = enrolment.start_date.strftime("%d %B %Y").lstrip("0")
        assert f"The target date cannot be before the learner started, on {started}." in page
        assert "An observation needs a place: say where it will happen." in page
        assert "Choose criteria of the units this learner is entered for only" in page
        assert 'value="Watched on the shop floor"' in page
        assert not PlanActivity.objects.exists()

    def test_an_observation_planned_after_its_target_date_is_refused(self, client, portfolio):
        plan = PlanFactory(enrolment=portfolio.enrolment, status="draft", issued_at=None)
        as_user(client, portfolio.assessor)

        response = client.post(
            reverse("plan_activity_new", args=[plan.pk]),
            activity_data(
                portfolio,
                target_date=(TODAY + datetime.timedelta(days=5)).isoformat(),
                planned_for=f"{TODAY + datetime.timedelta(days=6)}T09:00",
            ),
        )

        assert response.status_code == 400
        assert "The observation is planned after the target date" in response.text

    def test_only_one_draft_is_written_at_a_time(self, client, portfolio, enrolment):
        as_user(client, portfolio.assessor)
        client.post(reverse("enrolment_plan", args=[enrolment.pk]))

        response = client.post(reverse("enrolment_plan", args=[enrolment.pk]), follow=True)

        assert AssessmentPlan.objects.filter(enrolment=enrolment).count() == 1
        assert "Version 1 of the plan is already being written" in response.text

    def test_an_issued_version_no_longer_changes(self, client, portfolio):
        plan = issued(portfolio)
        activity = plan.activities.get()
        as_user(client, portfolio.assessor)

        response = client.post(
            reverse("plan_activity_edit", args=[activity.pk]),
            activity_data(portfolio, title="Changed after issue"),
            follow=True,
        )

        activity.refresh_from_db()
        assert activity.title != "Changed after issue"
        assert "Version 1 of the plan has been issued, so it no longer changes" in response.text

    def test_the_assessor_of_a_unit_signed_off_no_longer_plans(self, client, portfolio):
        portfolio.status = "assessed"
        portfolio.save()
        as_user(client, portfolio.assessor)

        response = client.post(reverse("enrolment_plan", args=[portfolio.enrolment_id]))

        assert response.status_code == 403
        assert not AssessmentPlan.objects.exists()


class TestIssuing:
    def test_a_draft_with_no_activity_cannot_be_issued(self, client, portfolio):
        plan = PlanFactory(enrolment=portfolio.enrolment, status="draft", issued_at=None)
        as_user(client, portfolio.assessor)

        response = client.post(
            reverse("plan_issue", args=[plan.pk]), {"password": PASSWORD}, follow=True
        )

        plan.refresh_from_db()
        assert plan.status == "draft"
        assert "A plan with no activity cannot be issued" in response.text
        assert not Signature.objects.exists()

    def test_a_wrong_password_issues_nothing(self, client, portfolio):
        plan = draft_with_activity(portfolio)
        as_user(client, portfolio.assessor)

        response = client.post(reverse("plan_issue", args=[plan.pk]), {"password": "wrong"})

        assert response.status_code == 400
        assert "That is not your password. Nothing was signed." in response.text
        plan.refresh_from_db()
        assert plan.status == "draft"

    def test_issuing_signs_the_plan_and_asks_the_learner_to_accept_it(
        self, client, portfolio, enrolment
    ):
        plan = draft_with_activity(portfolio)
        as_user(client, portfolio.assessor)

        response = client.post(reverse("plan_issue", args=[plan.pk]), {"password": PASSWORD})

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.status == "awaiting_learner"
        assert plan.issued_at is not None
        signature = Signature.objects.get(plan=plan)
        assert signature.kind == Signature.Kind.PLAN_ASSESSOR
        assert signature.manifest == plan_manifest(plan)
        (told,) = Notification.objects.filter(recipient=enrolment.learner)
        assert told.kind == Notification.Kind.PLAN_TO_ACCEPT
        assert told.link == reverse("plan_accept", args=[plan.pk])
        assert actions(enrolment) == ["signature.plan_assessor", "plan.issued"]

    def test_the_learners_home_shows_the_plan_waiting_for_acceptance(self, client, portfolio):
        plan = issued(portfolio)

        page = as_user(client, portfolio.learner).get(reverse("learner_home")).text

        assert "Accept your assessment plan (version 1) or ask for a change" in page
        assert reverse("plan_accept", args=[plan.pk]) in page


class TestAcceptance:
    def test_the_learner_accepts_with_their_password(self, client, portfolio, enrolment):
        plan = issued(portfolio)
        as_user(client, portfolio.learner)
        page = client.get(reverse("plan_accept", args=[plan.pk]))
        assert page.status_code == 200
        assert "I have agreed this assessment plan with my assessor and I accept it." in page.text

        wrong = client.post(reverse("plan_accept", args=[plan.pk]), {"password": "wrong"})
        assert wrong.status_code == 400
        assert "That is not your password" in wrong.text
        client.post(reverse("plan_accept", args=[plan.pk]), {"password": PASSWORD})

        plan.refresh_from_db()
        assert plan.status == "accepted"
        kinds = sorted(Signature.objects.filter(plan=plan).values_list("kind", flat=True))
        assert kinds == ["plan_assessor", "plan_learner"]
        assert actions(enrolment)[-2:] == ["signature.plan_learner", "plan.accepted"]
        page = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        assert page.count("signature-valid") == 2

    def test_an_accepted_plan_is_not_accepted_twice(self, client, portfolio):
        plan = issued(portfolio)
        as_user(client, portfolio.learner)
        client.post(reverse("plan_accept", args=[plan.pk]), {"password": PASSWORD})

        response = client.post(
            reverse("plan_accept", args=[plan.pk]), {"password": PASSWORD}, follow=True
        )

        assert "Version 1 of the plan is not waiting for you: it is accepted." in response.text
        assert Signature.objects.filter(plan=plan, kind="plan_learner").count() == 1

    def test_a_change_needs_a_reason(self, client, portfolio):
        plan = issued(portfolio)

        response = as_user(client, portfolio.learner).post(
            reverse("plan_change", args=[plan.pk]), {"reason": "  "}
        )

        assert response.status_code == 400
        assert "Say what you would like changed" in response.text
        plan.refresh_from_db()
        assert plan.status == "awaiting_learner"

    def test_the_learner_asks_for_a_change_and_the_assessor_is_told(
        self, client, portfolio, enrolment
    ):
        plan = issued(portfolio)
        as_user(client, portfolio.learner)

        client.post(reverse("plan_change", args=[plan.pk]), {"reason": "I work nights in May."})

        plan.refresh_from_db()
        assert plan.status == "change_asked"
        assert plan.change_asked == "I work nights in May."
        (told,) = Notification.objects.filter(recipient=portfolio.assessor)
        assert told.kind == Notification.Kind.PLAN_CHANGE_ASKED
        assert "I work nights in May." in told.message
        assert actions(enrolment)[-1] == "plan.change_asked"
        home = as_user(client, portfolio.assessor).get(reverse("assessor_home")).text
        assert f"Revise {enrolment.learner}&#x27;s assessment plan" in home
        assert (
            "I work nights in May."
            in client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        )


class TestRevision:
    def test_a_revision_copies_the_latest_version_and_keeps_the_earlier_readable(
        self, client, portfolio, enrolment
    ):
        first = issued(portfolio, title="Calm a customer at the till")
        old = first.activities.get()
        old.criteria.set(portfolio.unit.criteria.filter(nos_code="P1"))
        old.contexts.set(portfolio.unit.contexts.filter(letter="a"))
        # Signed after the criteria were set, as a plan is issued once complete.
        Signature.objects.filter(plan=first).delete()
        content_sign(
            target=first, kind=Signature.Kind.PLAN_ASSESSOR, manifest=plan_manifest(first),
            by=portfolio.assessor, role="assessor", statement=ISSUE_STATEMENT,
        )  # fmt: skip
        item = EvidenceFactory(portfolio=portfolio, status="submitted")
        old.evidence.add(item)
        as_user(client, portfolio.learner).post(
            reverse("plan_accept", args=[first.pk]), {"password": PASSWORD}
        )
        as_user(client, portfolio.assessor)

        client.post(reverse("enrolment_plan", args=[enrolment.pk]))
        second = AssessmentPlan.objects.get(enrolment=enrolment, version=2)
        new = second.activities.get()
        assert new.carried_from == old
        assert (new.title, new.target_date) == (old.title, old.target_date)
        assert list(new.criteria.all()) == list(old.criteria.all())
        assert list(new.contexts.all()) == list(old.contexts.all())
        assert list(new.evidence.all()) == [item]
        later = EvidenceFactory(portfolio=portfolio, status="submitted")
        old.evidence.add(later)  # linked on the plan in force while the revision is written
        client.post(reverse("plan_issue", args=[second.pk]), {"password": PASSWORD})

        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, second.status) == ("superseded", "awaiting_learner")
        assert set(new.evidence.all()) == {item, later}
        assert actions(enrolment).count("plan.revised") == 1
        page = client.get(reverse("plan_detail", args=[first.pk]))
        assert page.status_code == 200
        assert "Replaced by a later version" in page.text
        assert page.text.count("signature-valid") == 2
        assert "signature-broken" not in page.text
        plan_page = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        assert "The plan in force: version 2" in plan_page
        assert reverse("plan_detail", args=[first.pk]) in plan_page

    def test_a_changed_plan_breaks_its_signatures_with_the_cause_on_the_plan_page(
        self, client, portfolio, enrolment
    ):
        plan = issued(portfolio, title="Calm a customer at the till")
        as_user(client, portfolio.learner).post(
            reverse("plan_accept", args=[plan.pk]), {"password": PASSWORD}
        )

        PlanActivity.objects.filter(plan=plan).update(place="Somewhere else")

        page = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        assert page.count("signature-broken") == 2
        assert "The activity &#x27;Calm a customer at the till&#x27; has changed (place)." in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are real on PostgreSQL")
def test_an_acceptance_racing_a_revision_waits_for_it_and_is_refused(c4):
    portfolio = PortfolioFactory()
    first = issued(portfolio)
    second = draft_with_activity(portfolio)
    locked, outcome = threading.Event(), {}

    def issuing():
        try:
            with transaction.atomic():
                plan_issue(plan=second, by=portfolio.assessor)
                locked.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    def accepting():
        locked.wait()
        try:
            plan_accept(plan=first, by=portfolio.learner)
        except ValidationError as error:
            outcome["refused"] = error.messages
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issuing), threading.Thread(target=accepting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcome["refused"] == [
        "Version 1 of the plan is not waiting for you: it is replaced by a later version."
    ]
    assert not Signature.objects.filter(kind=Signature.Kind.PLAN_LEARNER).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are real on PostgreSQL")
def test_evidence_linked_while_a_revision_is_issued_is_carried_into_it(c4):
    portfolio = PortfolioFactory()
    first = issued(portfolio)
    second = plan_draft(enrolment=portfolio.enrolment, by=portfolio.assessor)
    item = EvidenceFactory(portfolio=portfolio, title="Saturday rush", status="submitted")
    linked = threading.Event()

    def linking():
        try:
            with transaction.atomic():
                plan_evidence_link(
                    activity=first.activities.get(), evidence=item, by=portfolio.learner
                )
                linked.set()
                time.sleep(0.5)  # the issue starts meanwhile, and waits for the link
        finally:
            connections.close_all()

    def issuing():
        linked.wait()
        try:
            plan_issue(plan=second, by=portfolio.assessor)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=linking), threading.Thread(target=issuing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert list(second.activities.get().evidence.all()) == [item]


def test_a_replaced_version_shows_no_activity_overdue(client, portfolio, enrolment):
    past = TODAY - datetime.timedelta(days=3)
    enrolment.start_date = TODAY - datetime.timedelta(days=30)
    enrolment.save(update_fields=["start_date"])
    first = issued(portfolio, target_date=past, title="Calm a customer at the till")
    issued(portfolio, target_date=past, title="Calm a customer at the till")
    as_user(client, portfolio.learner)

    replaced = client.get(reverse("plan_detail", args=[first.pk])).text
    in_force = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text

    assert "activity-overdue" not in replaced
    assert "Not done while this version was in force" in replaced
    assert "activity-overdue" in in_force


class TestEvidence:
    def test_linked_evidence_makes_an_activity_done_once_accepted(
        self, client, portfolio, enrolment
    ):
        plan = issued(portfolio, target_date=TODAY + datetime.timedelta(days=7))
        activity = plan.activities.get()
        item = EvidenceFactory(portfolio=portfolio, title="Saturday rush", status="submitted")
        as_user(client, portfolio.learner)

        response = client.post(
            reverse("plan_evidence_link", args=[activity.pk]), {"evidence": item.pk}, follow=True
        )

        assert list(activity.evidence.all()) == [item]
        assert "It is done once the evidence is accepted." in response.text
        assert "Due on" in response.text
        evidence_page = client.get(item.get_absolute_url()).text
        assert "Planned activities it fulfils" in evidence_page
        assert activity.title in evidence_page
        item.status = "accepted"
        item.save()
        page = client.get(reverse("enrolment_plan", args=[enrolment.pk])).text
        assert "activity-done" in page
        assert "1 of 1 activity done" in page
        client.post(reverse("plan_evidence_unlink", args=[activity.pk]), {"evidence": item.pk})
        assert not activity.evidence.exists()
        assert actions(enrolment)[-2:] == ["plan.evidence_linked", "plan.evidence_unlinked"]

    def test_the_assessor_links_the_learners_evidence_but_never_a_draft(self, client, portfolio):
        plan = issued(portfolio)
        activity = plan.activities.get()
        draft = EvidenceFactory(portfolio=portfolio, title="Still writing this", status="draft")
        submitted = EvidenceFactory(portfolio=portfolio, status="submitted")
        as_user(client, portfolio.assessor)

        page = client.get(reverse("enrolment_plan", args=[portfolio.enrolment_id])).text
        assert "Still writing this" not in page
        refused = client.post(
            reverse("plan_evidence_link", args=[activity.pk]), {"evidence": draft.pk}, follow=True
        )
        client.post(reverse("plan_evidence_link", args=[activity.pk]), {"evidence": submitted.pk})

        assert "That evidence is not one you may link to this plan." in refused.text
        assert list(activity.evidence.all()) == [submitted]

    def test_a_learner_never_links_another_learners_evidence(self, client, portfolio):
        plan = issued(portfolio)
        activity = plan.activities.get()
        elsewhere = EvidenceFactory(status="submitted")

        response = as_user(client, portfolio.learner).post(
            reverse("plan_evidence_link", args=[activity.pk]),
            {"evidence": elsewhere.pk},
            follow=True,
        )

        assert "That evidence is not one you may link to this plan." in response.text
        assert not activity.evidence.exists()

    def test_evidence_is_not_linked_to_a_version_replaced(self, client, portfolio):
        first = issued(portfolio)
        activity = first.activities.get()
        issued(portfolio)  # version 2 replaces it
        item = EvidenceFactory(portfolio=portfolio, status="submitted")

        response = as_user(client, portfolio.learner).post(
            reverse("plan_evidence_link", args=[activity.pk]), {"evidence": item.pk}, follow=True
        )

        assert "evidence is linked to the activities of the plan in force" in response.text
        assert not activity.evidence.exists()


class TestEmployer:
    @pytest.fixture
    def employer(self, portfolio):
        person = UserFactory(is_employer=True)
        WorkplaceContact.objects.create(
            workplace=portfolio.workplace, name=str(person), user=person
        )
        return person

    def test_the_employer_sees_an_activity_done_but_not_the_evidence(
        self, client, portfolio, employer
    ):
        plan = issued(portfolio)
        item = EvidenceFactory(portfolio=portfolio, title="Refund at the till", status="accepted")
        plan.activities.get().evidence.add(item)
        as_user(client, employer)

        page = client.get(reverse("plan_detail", args=[plan.pk]))

        assert page.status_code == 200
        assert client.get(reverse("enrolment_plan", args=[portfolio.enrolment_id])).status_code == (
            404
        )  # the enrolment's pages are not theirs
        assert "activity-done" in page.text
        assert "Refund at the till" not in page.text
        assert "An item of evidence" in page.text
        assert client.post(reverse("plan_accept", args=[plan.pk])).status_code == 403

    def test_the_employer_reads_the_titles_where_the_workplace_allows_it(
        self, client, portfolio, employer
    ):
        plan = issued(portfolio)
        item = EvidenceFactory(portfolio=portfolio, title="Refund at the till", status="accepted")
        plan.activities.get().evidence.add(item)
        Workplace.objects.filter(pk=portfolio.workplace_id).update(employer_sees_evidence=True)

        page = as_user(client, employer).get(reverse("plan_detail", args=[plan.pk])).text

        assert "Refund at the till" in page
        assert item.get_absolute_url() not in page  # the evidence page is not theirs


def overdue_plan(portfolio, days=3) -> AssessmentPlan:
    """A plan in force whose one activity is ``days`` overdue."""
    plan = PlanFactory(enrolment=portfolio.enrolment, written_by=portfolio.assessor)
    ActivityFactory(
        plan=plan, title="Observation at a busy time",
        target_date=TODAY - datetime.timedelta(days=days),
    )  # fmt: skip
    return plan


class TestOverdue:
    def test_the_learners_home_lists_their_overdue_activities(self, client, portfolio):
        overdue_plan(portfolio)

        page = as_user(client, portfolio.learner).get(reverse("learner_home")).text

        assert "Observation at a busy time: overdue since" in page
        assert "1 overdue" in page

    def test_the_caseload_shows_how_many_activities_are_overdue(self, client, portfolio):
        overdue_plan(portfolio)

        response = as_user(client, portfolio.assessor).get(reverse("assessor_home"))

        (row,) = response.context["rows"]
        assert row["overdue"] == 1
        assert "1 activity" in response.text

    def test_the_enrolment_and_portfolio_pages_summarise_the_plan(self, client, portfolio):
        overdue_plan(portfolio)
        as_user(client, portfolio.assessor)

        for url in (
            reverse("enrolment_detail", args=[portfolio.enrolment_id]),
            reverse("portfolio_detail", args=[portfolio.pk]),
        ):
            page = client.get(url).text
            assert "Version 1:" in page
            assert "0 of 1 activity done" in page
            assert "1 overdue" in page
            assert reverse("enrolment_plan", args=[portfolio.enrolment_id]) in page

    def test_the_daily_reminders_tell_the_learner_and_the_assessor_once(
        self, portfolio, django_capture_on_commit_callbacks
    ):
        overdue_plan(portfolio)
        out = StringIO()

        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_daily_notifications", stdout=out)
            call_command("send_daily_notifications", stdout=StringIO())

        assert "planned activities overdue: 2" in out.getvalue()
        for person in (portfolio.learner, portfolio.assessor):
            (told,) = Notification.objects.filter(recipient=person, kind="activity_overdue")
            assert "'Observation at a busy time'" in told.message
            assert told.link == reverse("enrolment_plan", args=[portfolio.enrolment_id])


class TestQueries:
    def test_the_plan_page_runs_the_same_queries_for_more_activities_and_versions(
        self, client, portfolio, django_assert_num_queries
    ):
        def page():
            return client.get(reverse("enrolment_plan", args=[portfolio.enrolment_id]))

        plan = issued(portfolio)
        draft = PlanFactory(enrolment=portfolio.enrolment, version=2, status="draft")
        ActivityFactory(plan=draft)
        as_user(client, portfolio.assessor)
        page()

        # Expect 25 queries: the session, its user, the enrolment, the versions, the breaks in
        # learning, the enrolment's evidence the reader sees, whether they write its plan;
        # for each of the version in force and the draft: its activities with their criteria,
        # contexts and evidence, and its signatures; for the version in force, signed, what
        # they bind now (the activities, criteria, contexts); whether the reader sees the
        # enrolment's own page, counting unread messages for the menu, and saving the session
        # (a savepoint, the update, the release)
        with django_assert_num_queries(25):
            page()

        for _ in range(3):
            ActivityFactory(plan=plan).evidence.add(EvidenceFactory(portfolio=portfolio))
            ActivityFactory(plan=draft)
        PlanFactory(enrolment=portfolio.enrolment, version=0, status="superseded")
        with django_assert_num_queries(25):
            page()

    @pytest.mark.parametrize("learners", [1, 5])
    def test_the_caseload_with_overdue_activities_runs_a_fixed_number_of_queries(
        self, client, portfolio, django_assert_num_queries, learners
    ):
        for other in [portfolio] + [
            PortfolioFactory(assessor=portfolio.assessor) for _ in range(learners - 1)
        ]:
            overdue_plan(other)
        as_user(client, portfolio.assessor)
        client.get(reverse("assessor_home"))  # the chosen role is saved in the session once

        # Expect 25 queries: the 22 tests/test_role_homes.py pins for the caseload without a
        # plan, then with plans in force the breaks in learning, their activities and their
        # accepted evidence
        with django_assert_num_queries(25):
            response = client.get(reverse("assessor_home"))
        assert [row["overdue"] for row in response.context["rows"]] == [1] * learners
