"""What a plan's and a review's signatures bind, and where activities and reviews stand."""

import datetime
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import BreakInLearning, PlanActivity, ProgressReview, Signature
from assessments.planning import (
    activity_rows,
    overdue_activities,
    plan_manifest,
    plan_signature_rows,
)
from assessments.reviews import review_dues, review_manifest, review_signature_rows
from assessments.schedule import Timing
from assessments.services import content_sign
from audit.chain import record
from portfolio.models import Portfolio
from records.backup import integrity
from records.personal_data import personal_data_zip
from tests.factories import (
    ActivityFactory,
    EvidenceFactory,
    PlanFactory,
    PortfolioFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_changed_activity_breaks_the_plan_signatures_with_the_cause():
    activity = ActivityFactory(title="Calm a customer at the till")
    plan = activity.plan
    learner = plan.enrolment.learner
    content_sign(
        target=plan, kind=Signature.Kind.PLAN_LEARNER, manifest=plan_manifest(plan), by=learner,
        role="learner", statement="I accept this plan.",
    )  # fmt: skip
    assert [row.valid for row in plan_signature_rows(plan)] == [True]

    PlanActivity.objects.filter(pk=activity.pk).update(
        target_date=activity.target_date + datetime.timedelta(days=1)
    )

    (row,) = plan_signature_rows(plan)
    assert not row.valid
    assert row.reasons == ["The activity 'Calm a customer at the till' has changed (target date)."]


def test_an_activity_is_done_once_its_linked_evidence_is_accepted():
    activity = ActivityFactory(target_date=timezone.localdate() - datetime.timedelta(days=3))
    portfolio = activity.plan.enrolment.portfolios.get()
    item = EvidenceFactory(portfolio=portfolio, status="submitted")
    activity.evidence.add(item)

    (row,) = activity_rows(activity.plan)
    assert row.due.timing == Timing.OVERDUE
    assert overdue_activities([portfolio.enrolment_id])[portfolio.enrolment_id][0].days == 3

    item.status = "accepted"
    item.save()

    (row,) = activity_rows(activity.plan)
    assert row.due.timing == Timing.DONE
    assert overdue_activities([portfolio.enrolment_id]) == {portfolio.enrolment_id: []}


def test_a_break_in_learning_pauses_an_activity():
    activity = ActivityFactory(target_date=timezone.localdate() - datetime.timedelta(days=3))
    BreakInLearning.objects.create(
        enrolment=activity.plan.enrolment,
        starts_on=timezone.localdate() - datetime.timedelta(days=5),
        reason="Illness",
        recorded_by=activity.plan.written_by,
    )

    (row,) = activity_rows(activity.plan)

    assert row.due.timing == Timing.PAUSED


def test_the_learner_comments_break_nothing_of_the_assessor_but_the_targets_break_all():
    portfolio = PortfolioFactory()
    review = ProgressReview.objects.create(
        enrolment=portfolio.enrolment,
        held_on=timezone.localdate(),
        period_from=portfolio.enrolment.start_date,
        went_well="Handled a hard call",
        targets="An observation at a busy time",
        written_by=portfolio.assessor,
    )
    for kind, by in (
        (Signature.Kind.REVIEW_ASSESSOR, portfolio.assessor),
        (Signature.Kind.REVIEW_LEARNER, portfolio.learner),
    ):
        content_sign(
            target=review, kind=kind, manifest=review_manifest(review, kind), by=by,
            role="x", statement="Signed.",
        )  # fmt: skip
    assert review_dues([portfolio.enrolment])[portfolio.enrolment_id].last_held_on == (
        review.held_on
    )

    ProgressReview.objects.filter(pk=review.pk).update(employer_comments="Doing well")
    assert [row.valid for row in review_signature_rows(review)] == [True, True]
    ProgressReview.objects.filter(pk=review.pk).update(targets="Nothing")
    review.refresh_from_db()

    rows = review_signature_rows(review)
    assert [row.valid for row in rows] == [False, False]
    assert rows[0].reasons == ["The review has changed (targets)."]


def _planned_and_reviewed():
    """A learner with a signed plan and a review signed by the assessor and, through a link,
    by an employer without an account."""
    activity = ActivityFactory(title="Deal with a complaint by phone")
    plan = activity.plan
    enrolment = plan.enrolment
    portfolio = enrolment.portfolios.get()
    content_sign(
        target=plan, kind=Signature.Kind.PLAN_LEARNER, manifest=plan_manifest(plan),
        by=enrolment.learner, role="learner", statement="I accept this plan.",
    )  # fmt: skip
    review = ProgressReview.objects.create(
        enrolment=enrolment,
        held_on=timezone.localdate(),
        period_from=enrolment.start_date,
        went_well="Calm on the phone",
        targets="A busy-time observation",
        employer_comments="Much more confident",
        employer_email="manager@example.org",
        written_by=portfolio.assessor,
    )
    kind = Signature.Kind.REVIEW_EMPLOYER
    content_sign(
        target=review, kind=kind, manifest=review_manifest(review, kind, "Mo Manager"), by=None,
        signer_name="Mo Manager", role="employer", statement="I confirm.", ip="192.0.2.7",
    )  # fmt: skip
    return portfolio, plan, review


def test_the_backup_counts_plan_and_review_signatures_and_whether_they_hold():
    _portfolio, _plan, review = _planned_and_reviewed()
    assert (integrity()["signatures"], integrity()["valid_signatures"]) == (2, 2)

    ProgressReview.objects.filter(pk=review.pk).update(employer_comments="Changed")

    assert (integrity()["signatures"], integrity()["valid_signatures"]) == (2, 1)


def test_a_learners_own_data_holds_their_plans_reviews_and_those_signatures():
    portfolio, plan, _review = _planned_and_reviewed()
    out = io.BytesIO()

    personal_data_zip(portfolio.learner, out)

    records = json.loads(zipfile.ZipFile(out).read("records.json"))
    assert [p["id"] for p in records["assessment_plans"]] == [plan.pk]
    assert [a["title"] for a in records["plan_activities"]] == ["Deal with a complaint by phone"]
    assert [r["went_well"] for r in records["progress_reviews"]] == ["Calm on the phone"]
    assert "token_hash" not in records["progress_reviews"][0]
    assert sorted(s["kind"] for s in records["signatures"]) == ["plan_learner", "review_employer"]


def test_no_review_falls_due_once_every_unit_is_signed_off():
    portfolio = PortfolioFactory(start_date=timezone.localdate() - datetime.timedelta(weeks=20))
    enrolment = portfolio.enrolment
    enrolment.start_date = portfolio.start_date
    enrolment.save()
    assert review_dues([enrolment])[enrolment.pk].due.timing == Timing.OVERDUE

    Portfolio.objects.filter(pk=portfolio.pk).update(status=Portfolio.Status.ASSESSED)

    assert review_dues([enrolment])[enrolment.pk].due.timing == Timing.DONE


def test_the_portfolios_audit_trail_shows_its_enrolments_plans_and_reviews(client, login):
    portfolio, plan, _review = _planned_and_reviewed()
    other = PortfolioFactory(learner=UserFactory(is_learner=True))
    record(
        "plan.issued", actor=portfolio.assessor, obj=plan, learner=portfolio.learner,
        summary="The plan was issued",
    )  # fmt: skip
    record(
        "plan.issued", actor=other.assessor, obj=PlanFactory(enrolment=other.enrolment),
        learner=other.learner, summary="Another learner's plan was issued",
    )  # fmt: skip
    login(portfolio.learner)

    page = client.get(reverse("audit_trail", args=[portfolio.pk])).text

    assert "The plan was issued" in page
    assert "acceptance of the assessment plan" in page  # the learner's signature of it
    assert "Mo Manager" not in page  # the review's, not held yet: only its assessors see it
    assert "Another learner" not in page
