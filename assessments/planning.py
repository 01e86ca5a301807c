"""Assessment plans: what a signature on a version of a plan binds, whether it still holds, and
where each planned activity stands (due, done once evidence linked to it is accepted, or
overdue), paused by breaks in learning (``assessments.schedule``)."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from assessments.models import AssessmentPlan, BreakInLearning, PlanActivity, Signature
from assessments.schedule import Due, Pause, activity_due
from assessments.signatures import SignatureStatus, content_status
from portfolio.models import EvidenceItem
from units.models import Criterion

# The nouns of a plan's manifest sections, for the sentences saying why a signature broke.
PLAN_NOUNS = {"plan": "plan", "activities": "activity"}


def _prefetched(obj, name: str) -> list | None:
    """What ``prefetch_related`` already loaded of ``obj``'s relation ``name``, or None."""
    cache = getattr(obj, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else None


def plan_prefetches() -> list[Prefetch]:
    """What to prefetch with plans (``AssessmentPlan.objects.prefetch_related(*...)``) for
    ``plan_manifest``, ``plan_signature_rows`` and ``activity_rows`` to ask nothing more of the
    database, however many plans there are (the PDF lists every version)."""
    return [
        Prefetch(
            "activities",
            PlanActivity.objects.order_by("position", "pk").prefetch_related(
                Prefetch("criteria", Criterion.objects.select_related("unit")),
                "contexts",
                Prefetch("evidence", EvidenceItem.objects.order_by("occurred_on", "pk")),
            ),
        ),
        Prefetch("signatures", Signature.objects.order_by("signed_at", "pk")),
    ]


def _activities(plan: AssessmentPlan, *related) -> list[PlanActivity]:
    """The plan's activities in order, as ``plan_prefetches`` loaded them, or else asked for
    with ``related`` prefetched."""
    activities = _prefetched(plan, "activities")
    if activities is not None:
        return activities
    return list(
        PlanActivity.objects.filter(plan=plan).prefetch_related(*related).order_by("position", "pk")
    )


def plan_manifest(plan: AssessmentPlan) -> dict[str, Any]:
    """What a signature on this version of the plan binds: the version and its activities with
    their dates, methods, criteria, contexts and where and when an observation will happen.
    Not the evidence linked to them, nor whether they are done: that is the plan being carried
    out, not what was agreed. A plan loaded with ``plan_prefetches`` asks nothing more."""
    activities = _activities(plan, "criteria__unit", "contexts")
    return {
        "plan": {
            "id": plan.pk,
            "enrolment": plan.enrolment_id,
            "version": plan.version,
            "written_by": plan.written_by_id,
        },
        "activities": [
            {
                "id": activity.pk,
                "title": activity.title,
                "details": activity.details,
                "method": activity.method,
                "target_date": activity.target_date.isoformat(),
                "criteria": sorted(f"{c.unit.code} {c.number}" for c in activity.criteria.all()),
                "contexts": sorted(c.letter for c in activity.contexts.all()),
                "place": activity.place,
                "planned_for": (activity.planned_for.isoformat() if activity.planned_for else None),
            }
            for activity in activities
        ],
    }


def plan_signature_rows(plan: AssessmentPlan) -> list[SignatureStatus]:
    """Every signature on this version of the plan with whether it still holds, and why not."""
    signatures = _prefetched(plan, "signatures")
    if signatures is None:
        signatures = list(Signature.objects.filter(plan=plan).order_by("signed_at", "pk"))
    if not signatures:
        return []
    current = plan_manifest(plan)
    return content_status(signatures, lambda signature: current, PLAN_NOUNS)


@dataclass
class ActivityRow:
    """A planned activity with where it stands today and the accepted evidence fulfilling it."""

    activity: PlanActivity
    due: Due
    accepted: list[EvidenceItem] = field(default_factory=list)
    linked: list[EvidenceItem] = field(default_factory=list)


def pauses_of(enrolment_ids) -> dict[int, list[Pause]]:
    """The breaks in learning of each enrolment, as the schedule sees them (one query)."""
    pauses: dict[int, list[Pause]] = {pk: [] for pk in enrolment_ids}
    for row in BreakInLearning.objects.filter(enrolment_id__in=pauses.keys()):
        pauses[row.enrolment_id].append(Pause(row.starts_on, row.ends_on))
    return pauses


def _issued_on(plan: AssessmentPlan) -> datetime.date:
    moment = plan.issued_at or plan.created_at
    return timezone.localdate(moment) if moment else timezone.localdate()


def activity_rows(
    plan: AssessmentPlan,
    *,
    today: datetime.date | None = None,
    pauses: list[Pause] | None = None,
) -> list[ActivityRow]:
    """Each activity of the plan with where it stands on ``today``: done once evidence linked to
    it is accepted, else due or overdue by its target date moved on by breaks in learning from
    the day the plan was issued. A plan loaded with ``plan_prefetches``, and ``pauses`` given,
    asks nothing more of the database."""
    today = today or timezone.localdate()
    if pauses is None:
        pauses = pauses_of([plan.enrolment_id])[plan.enrolment_id]
    since = _issued_on(plan)
    rows = []
    activities = _activities(
        plan,
        "criteria__unit",
        "contexts",
        Prefetch("evidence", EvidenceItem.objects.order_by("occurred_on", "pk")),
    )
    for activity in activities:
        linked = list(activity.evidence.all())
        accepted = [item for item in linked if item.status == EvidenceItem.Status.ACCEPTED]
        due = activity_due(
            target_date=activity.target_date,
            since=since,
            done=bool(accepted),
            pauses=pauses,
            today=today,
        )
        rows.append(ActivityRow(activity, due, accepted, linked))
    return rows


def current_plans(enrolment_ids) -> dict[int, AssessmentPlan]:
    """The plan in force for each enrolment that has one: its latest issued version (one
    query)."""
    plans = AssessmentPlan.objects.filter(
        enrolment_id__in=list(enrolment_ids), status__in=AssessmentPlan.ISSUED
    ).order_by("enrolment_id", "-version")
    current: dict[int, AssessmentPlan] = {}
    for plan in plans:
        current.setdefault(plan.enrolment_id, plan)
    return current


@dataclass(frozen=True)
class Overdue:
    """An activity of a plan in force that is overdue today."""

    activity: PlanActivity
    due_on: datetime.date
    days: int


def overdue_activities(
    enrolment_ids, *, today: datetime.date | None = None
) -> dict[int, list[Overdue]]:
    """The overdue activities of each enrolment's plan in force, in a fixed number of queries
    whatever the number of enrolments (the learner's home, the caseload, the daily reminders)."""
    today = today or timezone.localdate()
    enrolment_ids = list(enrolment_ids)
    plans = current_plans(enrolment_ids)
    pauses = pauses_of(enrolment_ids)
    accepted = EvidenceItem.objects.filter(status=EvidenceItem.Status.ACCEPTED)
    activities = (
        PlanActivity.objects.filter(plan__in=list(plans.values()))
        .select_related("plan")
        .prefetch_related(Prefetch("evidence", accepted, to_attr="accepted"))
        .order_by("target_date", "position", "pk")
    )
    overdue: dict[int, list[Overdue]] = {pk: [] for pk in enrolment_ids}
    for activity in activities:
        enrolment_id = activity.plan.enrolment_id
        due = activity_due(
            target_date=activity.target_date,
            since=_issued_on(activity.plan),
            done=bool(activity.accepted),
            pauses=pauses[enrolment_id],
            today=today,
        )
        if due.is_overdue:
            overdue[enrolment_id].append(Overdue(activity, due.due_on, due.days_overdue(today)))
    return overdue
