"""Progress reviews: what each party's signature on a review binds, whether it still holds, and
when each enrolment's next review falls due (``assessments.schedule``), paused by breaks in
learning."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone

from assessments.models import (
    AssessmentPlan,
    BreakInLearning,
    CriterionDecision,
    PlanActivity,
    ProgressReview,
    Review,
    Signature,
)
from assessments.planning import activity_rows, current_plans, pauses_of
from assessments.schedule import Due, Pause, Timing, review_due, review_weeks
from assessments.signatures import SignatureStatus, content_status
from audit.chain import learner_chain
from portfolio.models import Enrolment, Portfolio, start_of

# The nouns of a review's manifest sections, for the sentences saying why a signature broke.
REVIEW_NOUNS = {"review": "review", "learner": "learner's part", "employer": "employer's part"}

# Each party's signature, and the part of the review that is theirs besides the assessor's.
PARTS = {
    Signature.Kind.REVIEW_ASSESSOR: None,
    Signature.Kind.REVIEW_LEARNER: "learner",
    Signature.Kind.REVIEW_EMPLOYER: "employer",
}


def review_manifest(
    review: ProgressReview, kind: Signature.Kind, signer_name: str = ""
) -> dict[str, Any]:
    """What ``kind`` of signature on the review binds: the assessor's part (the progress
    computed, what went well, the targets and the next review's date) for every party, and the
    signer's own comments (with the typed name of an employer signing through a link). So the
    learner's comments, added after the assessor signed, break nothing of the assessor's, while
    a change to the targets breaks every signature."""
    manifest: dict[str, Any] = {
        "review": {
            "id": review.pk,
            "enrolment": review.enrolment_id,
            "held_on": review.held_on.isoformat(),
            "period_from": review.period_from.isoformat(),
            "progress": review.progress,
            "went_well": review.went_well,
            "targets": review.targets,
            "next_review_on": review.next_review_on.isoformat() if review.next_review_on else None,
            "written_by": review.written_by_id,
        }
    }
    part = PARTS[kind]
    if part == "learner":
        manifest["learner"] = {"comments": review.learner_comments}
    elif part == "employer":
        manifest["employer"] = {"comments": review.employer_comments, "name": signer_name}
    return manifest


def review_signature_rows(review: ProgressReview) -> list[SignatureStatus]:
    """Every signature on the review with whether it still holds, and why not; a review
    loaded with its ``signatures`` prefetched (in order) asks nothing more."""
    cache = getattr(review, "_prefetched_objects_cache", {})
    if "signatures" in cache:
        signatures = list(cache["signatures"])
    else:
        signatures = list(
            Signature.objects.filter(progress_review=review).order_by("signed_at", "pk")
        )
    return content_status(
        signatures,
        lambda signature: review_manifest(review, signature.kind, signature.signer_name),
        REVIEW_NOUNS,
    )


# A review counts as held once the assessor has signed it.
HELD = Q(
    progress_reviews__signatures__kind=Signature.Kind.REVIEW_ASSESSOR,
    progress_reviews__signatures__revoked_at__isnull=True,
)


def with_last_held(enrolments: models.QuerySet) -> models.QuerySet:
    """The enrolments, each with the day of its last review held (``last_held``) and whether a
    unit is still in progress (``learning``: once every unit is signed off, no review falls
    due)."""
    in_progress = Portfolio.objects.filter(
        enrolment=OuterRef("pk"), status=Portfolio.Status.IN_PROGRESS
    )
    return enrolments.annotate(
        last_held=Max("progress_reviews__held_on", filter=HELD), learning=Exists(in_progress)
    )


@dataclass(frozen=True)
class ReviewDue:
    """When an enrolment's next progress review falls due, and its last."""

    enrolment_id: int
    last_held_on: datetime.date | None
    due: Due


def review_dues(
    enrolments: list[Enrolment],
    *,
    today: datetime.date | None = None,
    pauses: dict[int, list[Pause]] | None = None,
) -> dict[int, ReviewDue]:
    """Each enrolment's next review: ``review_weeks`` after the last one held (or the start of
    the enrolment), moved on by breaks in learning (``pauses``, when the caller has them).
    Two queries whatever the number of enrolments (one with ``pauses``; none for enrolments
    annotated ``with_last_held`` and ``pauses``); their qualifications are to be loaded already
    (``select_related``)."""
    today = today or timezone.localdate()
    ids = [enrolment.pk for enrolment in enrolments]
    if enrolments and all(hasattr(enrolment, "last_held") for enrolment in enrolments):
        held = {enrolment.pk: (enrolment.last_held, enrolment.learning) for enrolment in enrolments}
    else:
        rows = with_last_held(Enrolment.objects.filter(pk__in=ids))
        held = {pk: (last, learning) for pk, last, learning in rows.values_list(
            "pk", "last_held", "learning"
        )}  # fmt: skip
    pauses = pauses_of(ids) if pauses is None else pauses
    dues = {}
    for enrolment in enrolments:
        last, learning = held.get(enrolment.pk, (None, True))
        if not learning:  # every unit signed off: nothing more to review
            dues[enrolment.pk] = ReviewDue(enrolment.pk, last, Due(Timing.DONE, None))
            continue
        due = review_due(
            last=last or enrolment.start_date,
            weeks=review_weeks(enrolment.qualification),
            pauses=pauses[enrolment.pk],
            today=today,
        )
        dues[enrolment.pk] = ReviewDue(enrolment.pk, last, due)
    return dues


def period_start(enrolment: Enrolment, *, before: ProgressReview | None = None) -> datetime.date:
    """Where the next review's period begins: the day of the last review held (signed by the
    assessor), other than ``before``, or the start of the enrolment."""
    held = ProgressReview.objects.filter(
        enrolment=enrolment,
        signatures__kind=Signature.Kind.REVIEW_ASSESSOR,
        signatures__revoked_at__isnull=True,
    )
    if before is not None and before.pk:
        held = held.exclude(pk=before.pk)
    last = held.aggregate(last=Max("held_on"))["last"]
    return last or enrolment.start_date


def review_progress(
    enrolment: Enrolment, *, period_from: datetime.date, held_on: datetime.date
) -> dict[str, Any]:
    """The progress a review records, computed from the records, never typed: per unit, the
    criteria decided met in the period (after the day of the last review, or from the start of
    the enrolment, up to the end of the day it is held) and so far; the evidence accepted in
    the period and so far; the activities of the plan in force done in the period and so far
    (an activity is done when the first evidence linked to it was accepted)."""
    first = period_from <= enrolment.start_date
    since = start_of(period_from if first else period_from + datetime.timedelta(days=1))
    until = start_of(held_on + datetime.timedelta(days=1))

    def in_period(moment) -> bool:
        return since <= moment < until

    units = []
    portfolios = enrolment.portfolios.select_related("unit").annotate(
        criteria_total=Count("unit__criteria", distinct=True)
    )
    decisions = (
        CriterionDecision.objects.active()
        .filter(portfolio__enrolment=enrolment, decided_at__lt=until)
        .values_list("portfolio_id", "decided_at")
    )
    decided: dict[int, list] = {}
    for portfolio_id, decided_at in decisions:
        decided.setdefault(portfolio_id, []).append(decided_at)
    for portfolio in portfolios.order_by("unit__code", "pk"):
        moments = decided.get(portfolio.pk, [])
        units.append(
            {
                "unit": f"{portfolio.unit.awarding_body} {portfolio.unit.code}",
                "title": portfolio.unit.title,
                "criteria_met": sum(in_period(moment) for moment in moments),
                "criteria_met_so_far": len(moments),
                "criteria": portfolio.criteria_total,
            }
        )
    accepted_at: dict[int, datetime.datetime] = {}
    for evidence_id, moment in (
        Review.objects.filter(
            evidence__portfolio__enrolment=enrolment,
            outcome=Review.Outcome.ACCEPTED,
            created_at__lt=until,
        )
        .order_by("created_at", "pk")
        .values_list("evidence_id", "created_at")
    ):
        accepted_at.setdefault(evidence_id, moment)
    plan = current_plans([enrolment.pk]).get(enrolment.pk)
    done = []
    if plan is not None:
        for row in activity_rows(plan, today=held_on):
            moments = [accepted_at[item.pk] for item in row.accepted if item.pk in accepted_at]
            if moments:
                done.append({"title": row.activity.title, "done_at": min(moments)})
    return {
        "units": units,
        "evidence_accepted": sum(in_period(moment) for moment in accepted_at.values()),
        "evidence_accepted_so_far": len(accepted_at),
        "activities_done": [
            {"title": row["title"], "done_on": timezone.localdate(row["done_at"]).isoformat()}
            for row in done
            if in_period(row["done_at"])
        ],
        "activities_done_so_far": len(done),
        "plan_version": plan.version if plan is not None else None,
    }


def next_review_on(enrolment: Enrolment, held_on: datetime.date) -> datetime.date | None:
    """The review after one held on ``held_on``, by the schedule (None while a break that has
    begun by then goes on)."""
    due = review_due(
        last=held_on,
        weeks=review_weeks(enrolment.qualification),
        pauses=pauses_of([enrolment.pk])[enrolment.pk],
        today=held_on,
    )
    return due.due_on


def reviews_panel(enrolment: Enrolment) -> dict[str, Any]:
    """What the enrolment's and the portfolio's pages show of reviews: the next one due and the
    breaks in learning, the latest first (``breaks_panel.html``)."""
    breaks = list(BreakInLearning.objects.filter(enrolment=enrolment).order_by("-starts_on"))
    pauses = {enrolment.pk: Pause.of(breaks)}
    return {
        "enrolment": enrolment,
        "next": review_dues([enrolment], pauses=pauses)[enrolment.pk],
        "breaks": breaks,
    }


def enrolments_in_progress() -> models.QuerySet:
    """The enrolments with a unit in progress, whose reviews fall due, with their learners and
    qualifications."""
    in_progress = Portfolio.objects.filter(
        enrolment=OuterRef("pk"), status=Portfolio.Status.IN_PROGRESS
    )
    return (
        Enrolment.objects.filter(Exists(in_progress))
        .select_related("learner", "qualification")
        .order_by("pk")
    )


# How many of the reviews due soon and overdue the centre administrator's home lists.
CENTRE_SHOWN = 20


def centre_reviews_due(*, today: datetime.date | None = None) -> dict[str, Any]:
    """The reviews due soon and overdue of every enrolment in progress, for the centre
    administrator's home: how many of each, and the first ``CENTRE_SHOWN`` (overdue the
    longest first). Two queries whatever the number of learners (none held back when there
    are none)."""
    in_progress = enrolments_in_progress()
    enrolments = list(with_last_held(in_progress))
    pauses: dict[int, list[Pause]] = {enrolment.pk: [] for enrolment in enrolments}
    for row in BreakInLearning.objects.filter(enrolment__in=in_progress.values("pk")):
        pauses.setdefault(row.enrolment_id, []).append(Pause(row.starts_on, row.ends_on))
    dues = review_dues(enrolments, today=today, pauses=pauses)
    rows = sorted(
        (
            (enrolment, dues[enrolment.pk].due)
            for enrolment in enrolments
            if dues[enrolment.pk].due.timing in (Timing.OVERDUE, Timing.DUE_SOON)
        ),
        key=lambda row: (row[1].due_on, row[0].pk),
    )
    return {
        "overdue": sum(due.is_overdue for _, due in rows),
        "due_soon": sum(not due.is_overdue for _, due in rows),
        "rows": rows[:CENTRE_SHOWN],
        "shown": CENTRE_SHOWN,
    }


def _ids_as_text(queryset: models.QuerySet) -> models.QuerySet:
    """The primary keys of ``queryset`` as text, to match an audit entry's ``object_id``."""
    return queryset.annotate(text_id=Cast("pk", models.CharField())).values("text_id")


def planning_audit(enrolment: Enrolment) -> Q:
    """The learner's audit entries about no one unit but the enrolment and its planning: the
    enrolment itself, its plans and their activities, its reviews held, its breaks in learning
    and the signatures on those plans and reviews. With a portfolio's own entries, they are
    that portfolio's audit trail, on its page and in its PDF."""
    plans = AssessmentPlan.objects.filter(enrolment=enrolment)
    reviews = ProgressReview.objects.held().filter(enrolment=enrolment)
    signatures = Signature.objects.filter(Q(plan__in=plans) | Q(progress_review__in=reviews))
    about = Q(object_type="portfolio.enrolment", object_id=str(enrolment.pk))
    for label, rows in (
        ("assessments.assessmentplan", plans),
        ("assessments.planactivity", PlanActivity.objects.filter(plan__in=plans)),
        ("assessments.progressreview", reviews),
        ("assessments.breakinlearning", BreakInLearning.objects.filter(enrolment=enrolment)),
        ("assessments.signature", signatures),
    ):
        about |= Q(object_type=label, object_id__in=_ids_as_text(rows))
    return Q(chain=learner_chain(enrolment.learner_id), portfolio=None) & about
