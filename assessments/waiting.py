"""What waits for a learner, an assessor and an IQA on their home page, oldest first, from the
records (``portfolio.waiting`` holds the EQA's and the centre administrator's, and the rules
every list keeps: a fixed number of queries, at most ``SHOWN`` things)."""

from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from assessments.models import (
    ActionPoint,
    AssessmentPlan,
    ObservationRecord,
    ProgressReview,
    Signature,
)
from portfolio.models import EvidenceItem, Portfolio, Role, User, start_of
from portfolio.waiting import SHOWN, Waiting, oldest_first


def for_learner(user: User) -> list[Waiting]:
    """Evidence referred back, the assessor's observation records to confirm, an assessment
    plan to accept, and progress reviews waiting for the learner's signature."""
    mine = Portfolio.objects.in_role(user, Role.LEARNER)
    plans = (
        AssessmentPlan.objects.filter(
            enrolment__in=mine.values("enrolment_id"),
            status=AssessmentPlan.Status.AWAITING_LEARNER,
        )
        .select_related("written_by")
        .order_by("issued_at", "pk")[:SHOWN]
    )
    referred = (
        EvidenceItem.objects.filter(portfolio__in=mine, status=EvidenceItem.Status.REFERRED_BACK)
        .annotate(referred_at=Max("reviews__created_at"))
        .order_by("referred_at", "pk")[:SHOWN]
    )
    to_confirm = (
        ObservationRecord.objects.filter(
            evidence__portfolio__in=mine, learner_confirmed_at__isnull=True
        )
        .select_related("evidence")
        .order_by("evidence__submitted_at", "pk")[:SHOWN]
    )
    return oldest_first(
        [
            Waiting(
                since=item.referred_at or item.updated_at,
                text=f"Change and resubmit '{item.title}'",
                url=item.get_absolute_url(),
                detail="referred back",
            )
            for item in referred
        ],
        [
            Waiting(
                since=record.evidence.submitted_at or record.evidence.created_at,
                text=f"Confirm the observation record '{record.evidence.title}'",
                url=record.evidence.get_absolute_url(),
                detail="recorded by your assessor",
            )
            for record in to_confirm
        ],
        [
            Waiting(
                since=plan.issued_at or plan.created_at,
                text=f"Accept your assessment plan (version {plan.version}) or ask for a change",
                url=reverse("plan_accept", args=[plan.pk]),
                detail=f"issued by {plan.written_by}",
            )
            for plan in plans
        ],
        [
            Waiting(
                since=review.assessor_signed_at,
                text=f"Add your comments to your progress review of {review.held_on:%d %b %Y} "
                "and sign it",
                url=review.get_absolute_url(),
                detail="signed by your assessor",
            )
            for review in reviews_to_sign(user)
        ],
    )


def reviews_to_sign(learner: User) -> list[ProgressReview]:
    """The learner's progress reviews the assessor has signed and they have not (one query)."""
    assessor = Signature.objects.filter(
        progress_review=OuterRef("pk"), kind=Signature.Kind.REVIEW_ASSESSOR, revoked_at__isnull=True
    )
    return list(
        ProgressReview.objects.filter(enrolment__learner=learner)
        .waiting_for(Signature.Kind.REVIEW_LEARNER)
        .annotate(assessor_signed_at=Subquery(assessor.values("signed_at")[:1]))
        .order_by("assessor_signed_at", "pk")[:SHOWN]
    )


def for_assessor(user: User) -> list[Waiting]:
    """Evidence waiting for review, the IQA's action points still open, and assessment plans
    whose learner asked for a change."""
    mine = Portfolio.objects.in_role(user, Role.ASSESSOR)
    to_revise = (
        AssessmentPlan.objects.filter(
            enrolment__in=mine.filter(status=Portfolio.Status.IN_PROGRESS).values("enrolment_id"),
            status=AssessmentPlan.Status.CHANGE_ASKED,
        )
        .select_related("enrolment__learner")
        .order_by("change_asked_at", "pk")[:SHOWN]
    )
    to_review = (
        EvidenceItem.objects.filter(portfolio__in=mine, status__in=EvidenceItem.AWAITING_REVIEW)
        .select_related("portfolio__learner")
        .order_by("submitted_at", "pk")[:SHOWN]
    )
    actions = (
        ActionPoint.objects.filter(sample__portfolio__in=mine, closed_at__isnull=True)
        .select_related("sample__portfolio__learner")
        .order_by("sample__created_at", "pk")[:SHOWN]
    )
    return oldest_first(
        [
            Waiting(
                since=item.submitted_at or item.updated_at,
                text=f"Review '{item.title}' from {item.portfolio.learner}",
                url=item.get_absolute_url(),
                detail=item.get_status_display().lower(),
            )
            for item in to_review
        ],
        [
            Waiting(
                since=action.sample.created_at,
                text=f"Action point on {action.sample.portfolio.learner}'s portfolio: "
                f"{action.text[:80]}",
                url=action.sample.get_absolute_url(),
                detail=f"due {action.due_on:%d %b %Y}",
            )
            for action in actions
        ],
        [
            Waiting(
                since=plan.change_asked_at or plan.issued_at,
                text=f"Revise {plan.enrolment.learner}'s assessment plan",
                url=reverse("enrolment_plan", args=[plan.enrolment_id]),
                detail=f"a change to version {plan.version} asked for",
            )
            for plan in to_revise
        ],
    )


def for_iqa(user: User) -> list[Waiting]:
    """Portfolios signed off and waiting for a summative sample, and the action points the IQA
    raised that are past due."""
    mine = Portfolio.objects.in_role(user, Role.IQA)
    to_sample = (
        mine.filter(status=Portfolio.Status.ASSESSED)
        .select_related("learner", "unit")
        .order_by("updated_at", "pk")[:SHOWN]
    )
    overdue = (
        ActionPoint.objects.filter(
            sample__iqa=user, closed_at__isnull=True, due_on__lt=timezone.localdate()
        )
        .select_related("sample__portfolio__learner", "sample__assessor")
        .order_by("due_on", "pk")[:SHOWN]
    )
    return oldest_first(
        [
            Waiting(
                since=portfolio.updated_at,
                text=f"Sample {portfolio.learner}'s unit {portfolio.unit.code}",
                url=reverse("sample_new", args=[portfolio.pk]),
                detail="signed off by the assessor",
            )
            for portfolio in to_sample
        ],
        [
            Waiting(
                since=start_of(action.due_on),
                text=f"{action.sample.assessor}'s action point on "
                f"{action.sample.portfolio.learner}'s portfolio is past due",
                url=action.sample.get_absolute_url(),
                detail=f"due {action.due_on:%d %b %Y}",
            )
            for action in overdue
        ],
    )
