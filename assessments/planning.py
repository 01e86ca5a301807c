"""Assessment plans: what a signature on a version of a plan binds, whether it still holds, and
where each planned activity stands (due, done once evidence linked to it is accepted, or
overdue), paused by breaks in learning (``assessments.schedule``); and the workflows that write,
issue, accept and revise a plan and link evidence to its activities."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from assessments.models import AssessmentPlan, BreakInLearning, PlanActivity, Signature
from assessments.schedule import Due, Pause, Timing, activity_due
from assessments.services import content_sign
from assessments.signatures import SignatureStatus, content_status
from audit.chain import record
from portfolio.models import Enrolment, EvidenceItem, Notification, Portfolio, User
from portfolio.services import notify
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
    summaries = plan_summaries(enrolment_ids, today=today)
    return {pk: summary.overdue for pk, summary in summaries.items()}


@dataclass
class PlanSummary:
    """Where an enrolment's plan in force stands, for the panels and homes that link to it."""

    plan: AssessmentPlan | None = None
    total: int = 0
    done: int = 0
    overdue: list[Overdue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.plan is not None and self.plan.status == AssessmentPlan.Status.ACCEPTED


def plan_summaries(enrolment_ids, *, today: datetime.date | None = None) -> dict[int, PlanSummary]:
    """Each enrolment's plan in force with how many of its activities are done and which are
    overdue, in a fixed number of queries whatever the number of enrolments: the plans, the
    breaks in learning, the activities and their accepted evidence (none of the last two
    without a plan)."""
    today = today or timezone.localdate()
    enrolment_ids = list(dict.fromkeys(enrolment_ids))
    plans = current_plans(enrolment_ids)
    summaries = {pk: PlanSummary(plans.get(pk)) for pk in enrolment_ids}
    if not plans:
        return summaries
    pauses = pauses_of(plans.keys())
    accepted = EvidenceItem.objects.filter(status=EvidenceItem.Status.ACCEPTED)
    activities = (
        PlanActivity.objects.filter(plan__in=[plan.pk for plan in plans.values()])
        .prefetch_related(Prefetch("evidence", accepted, to_attr="accepted"))
        .order_by("target_date", "position", "pk")
    )
    by_plan = {plan.pk: plan for plan in plans.values()}
    for activity in activities:
        plan = by_plan[activity.plan_id]
        activity.plan = plan
        summary = summaries[plan.enrolment_id]
        due = activity_due(
            target_date=activity.target_date,
            since=_issued_on(plan),
            done=bool(activity.accepted),
            pauses=pauses[plan.enrolment_id],
            today=today,
        )
        summary.total += 1
        summary.done += due.timing == Timing.DONE
        if due.is_overdue:
            summary.overdue.append(Overdue(activity, due.due_on, due.days_overdue(today)))
    return summaries


# Writing, issuing and accepting the plan ---------------------------------------------------
#
# Each workflow locks the plan's row (drafting and issuing lock the enrolment's first, as they
# number and replace its versions) and checks again, under the lock, that the change may
# still be made; each writes the audit trail on the learner's chain in its transaction.

ISSUE_STATEMENT = (
    "I have agreed this assessment plan with the learner and issue it for their acceptance."
)
ACCEPT_STATEMENT = "I have agreed this assessment plan with my assessor and I accept it."


def _locked_enrolment(enrolment_id: int) -> Enrolment:
    return (
        Enrolment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("learner")
        .get(pk=enrolment_id)
    )


def _locked_plan(plan_id: int) -> AssessmentPlan:
    return (
        AssessmentPlan.objects.select_for_update(no_key=True, of=("self",))
        .select_related("enrolment__learner")
        .get(pk=plan_id)
    )


def _refuse_unless_writer(plan_or_enrolment_id: int, by: User) -> None:
    if not AssessmentPlan.may_plan(by, plan_or_enrolment_id):
        raise ValidationError(
            "Only the assessor of a unit of this enrolment still in progress writes its plan."
        )


def _refuse_unless_draft(plan: AssessmentPlan) -> None:
    if problem := plan.change_problem():
        raise ValidationError(problem)


def plan_draft(*, enrolment: Enrolment, by: User) -> AssessmentPlan:
    """Start the enrolment's plan (version 1) or revise it: a draft copying the latest version
    with its activities, their criteria, contexts and linked evidence, each carried from the
    one it copies. One draft at a time."""
    with transaction.atomic():
        enrolment = _locked_enrolment(enrolment.pk)
        _refuse_unless_writer(enrolment.pk, by)
        latest = (
            AssessmentPlan.objects.select_for_update(no_key=True, of=("self",))
            .filter(enrolment=enrolment)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.is_draft:
            raise ValidationError(
                f"Version {latest.version} of the plan is already being written: change it, "
                "or issue it, before starting another."
            )
        plan = AssessmentPlan.objects.create(
            enrolment=enrolment,
            version=latest.version + 1 if latest else 1,
            written_by=by,
        )
        copied = []
        if latest is not None:
            for old in (
                PlanActivity.objects.filter(plan=latest)
                .prefetch_related("criteria", "contexts", "evidence")
                .order_by("position", "pk")
            ):
                new = PlanActivity.objects.create(
                    plan=plan,
                    position=old.position,
                    title=old.title,
                    details=old.details,
                    method=old.method,
                    target_date=old.target_date,
                    place=old.place,
                    planned_for=old.planned_for,
                    carried_from=old,
                )
                new.criteria.set(old.criteria.all())
                new.contexts.set(old.contexts.all())
                new.evidence.set(old.evidence.all())
                copied.append(new.pk)
        if latest is None:
            action, summary = "plan.drafted", f"{by} started the assessment plan"
        else:
            action = "plan.revised"
            summary = f"{by} began version {plan.version} of the assessment plan"
        record(
            action,
            actor=by,
            obj=plan,
            learner=enrolment.learner,
            summary=summary,
            data={
                "enrolment": enrolment.pk,
                "version": plan.version,
                "from_version": latest.version if latest else None,
                "activities": copied,
            },
        )
    return plan


# The fields of an activity the assessor writes, as the audit trail names them.
ACTIVITY_FIELDS = ("title", "details", "method", "target_date", "place", "planned_for")


def _activity_values(activity: PlanActivity) -> dict[str, Any]:
    values = {name: getattr(activity, name) for name in ACTIVITY_FIELDS}
    values["target_date"] = activity.target_date.isoformat()
    values["planned_for"] = activity.planned_for.isoformat() if activity.planned_for else None
    values["criteria"] = sorted(c.pk for c in activity.criteria.all())
    values["contexts"] = sorted(c.pk for c in activity.contexts.all())
    return values


def plan_activity_save(
    *,
    plan: AssessmentPlan,
    by: User,
    values: dict[str, Any],
    criteria,
    contexts,
    activity: PlanActivity | None = None,
) -> PlanActivity:
    """Add an activity to a draft (``activity`` None) or change one of it: ``values`` holds
    the ``ACTIVITY_FIELDS``."""
    with transaction.atomic():
        plan = _locked_plan(plan.pk)
        _refuse_unless_writer(plan.enrolment_id, by)
        _refuse_unless_draft(plan)
        if activity is None:
            last = PlanActivity.objects.filter(plan=plan).order_by("-position").first()
            activity = PlanActivity(plan=plan, position=last.position + 1 if last else 1)
            before = None
        else:
            activity = PlanActivity.objects.get(pk=activity.pk, plan=plan)
            before = _activity_values(activity)
        for name in ACTIVITY_FIELDS:
            setattr(activity, name, values[name])
        activity.save()
        activity.criteria.set(criteria)
        activity.contexts.set(contexts)
        after = _activity_values(PlanActivity.objects.get(pk=activity.pk))
        if before is None:
            action, summary = "plan.activity_added", f"{by} planned '{activity.title}'"
            data = {"plan": plan.pk, **after}
        else:
            changed = sorted(k for k in after if after[k] != before[k])
            if not changed:
                return activity
            action, summary = "plan.activity_changed", f"{by} changed '{activity.title}'"
            data = {
                "plan": plan.pk,
                "changed": changed,
                "before": {k: before[k] for k in changed},
                "after": {k: after[k] for k in changed},
            }
        record(
            action,
            actor=by,
            obj=activity,
            learner=plan.enrolment.learner,
            summary=f"{summary} in version {plan.version} of the assessment plan",
            data=data,
        )
    return activity


def plan_activity_remove(*, activity: PlanActivity, by: User) -> None:
    """Take an activity out of a draft."""
    with transaction.atomic():
        plan = _locked_plan(activity.plan_id)
        _refuse_unless_writer(plan.enrolment_id, by)
        _refuse_unless_draft(plan)
        activity = PlanActivity.objects.get(pk=activity.pk, plan=plan)
        values = _activity_values(activity)
        pk = activity.pk
        activity.delete()
        record(
            "plan.activity_removed",
            actor=by,
            obj=plan,
            learner=plan.enrolment.learner,
            summary=f"{by} took '{values['title']}' out of version {plan.version} of the "
            "assessment plan",
            data={"plan": plan.pk, "activity": pk, **values},
        )


def plan_issue(*, plan: AssessmentPlan, by: User) -> Signature:
    """The assessor signs the draft (``ISSUE_STATEMENT``) and it waits for the learner; every
    earlier version in force is replaced by it, and evidence linked to their activities since
    the draft was made is carried over. The learner is asked to accept it."""
    with transaction.atomic():
        enrolment = _locked_enrolment(plan.enrolment_id)
        plan = _locked_plan(plan.pk)
        _refuse_unless_writer(enrolment.pk, by)
        _refuse_unless_draft(plan)
        activities = list(PlanActivity.objects.filter(plan=plan).select_related("carried_from"))
        if not activities:
            raise ValidationError(
                "A plan with no activity cannot be issued: add at least one activity first."
            )
        # The versions replaced are locked before their evidence is read, so a link being made
        # to one of them (``_evidence_change`` holds its plan) is waited for and carried over.
        replaced = list(
            AssessmentPlan.objects.select_for_update(no_key=True, of=("self",))
            .filter(enrolment=enrolment, status__in=AssessmentPlan.ISSUED)
            .order_by("version")
        )
        for activity in activities:
            if activity.carried_from is not None:
                activity.evidence.set(activity.carried_from.evidence.all())
        now = timezone.now()
        AssessmentPlan.objects.filter(pk__in=[old.pk for old in replaced]).update(
            status=AssessmentPlan.Status.SUPERSEDED, superseded_at=now
        )
        plan.status = AssessmentPlan.Status.AWAITING_LEARNER
        plan.issued_at = now
        plan.save(update_fields=["status", "issued_at"])
        signature = content_sign(
            target=plan,
            kind=Signature.Kind.PLAN_ASSESSOR,
            manifest=plan_manifest(plan),
            by=by,
            role="assessor",
            statement=ISSUE_STATEMENT,
        )
        record(
            "plan.issued",
            actor=by,
            obj=plan,
            learner=enrolment.learner,
            summary=f"{by} issued version {plan.version} of the assessment plan",
            data={
                "version": plan.version,
                "activities": len(activities),
                "superseded": [old.version for old in replaced],
                "signature": signature.pk,
            },
        )
        notify(
            enrolment.learner,
            f"{by} has issued version {plan.version} of your assessment plan: read it, then "
            "accept it or ask for a change",
            kind=Notification.Kind.PLAN_TO_ACCEPT,
            link=reverse("plan_accept", args=[plan.pk]),
        )
    return signature


def _refuse_unless_awaiting(plan: AssessmentPlan, by: User) -> None:
    if not plan.may_respond(by):
        raise ValidationError("Only the learner accepts their assessment plan.")
    if plan.status != AssessmentPlan.Status.AWAITING_LEARNER:
        raise ValidationError(
            f"Version {plan.version} of the plan is not waiting for you: it is "
            f"{plan.get_status_display().lower()}."
        )


def plan_accept(*, plan: AssessmentPlan, by: User) -> Signature:
    """The learner signs their acceptance of the version waiting for them."""
    with transaction.atomic():
        plan = _locked_plan(plan.pk)
        _refuse_unless_awaiting(plan, by)
        plan.status = AssessmentPlan.Status.ACCEPTED
        plan.accepted_at = timezone.now()
        plan.save(update_fields=["status", "accepted_at"])
        signature = content_sign(
            target=plan,
            kind=Signature.Kind.PLAN_LEARNER,
            manifest=plan_manifest(plan),
            by=by,
            role="learner",
            statement=ACCEPT_STATEMENT,
        )
        record(
            "plan.accepted",
            actor=by,
            obj=plan,
            learner=plan.enrolment.learner,
            summary=f"{by} accepted version {plan.version} of the assessment plan",
            data={"version": plan.version, "signature": signature.pk},
        )
    return signature


def _assessors_of(enrolment_id: int) -> list[User]:
    """The assessors of the enrolment's units in progress, each once: any of them revises."""
    return list(
        User.objects.filter(
            pk__in=Portfolio.objects.filter(
                enrolment_id=enrolment_id, status=Portfolio.Status.IN_PROGRESS
            ).values("assessor")
        ).order_by("pk")
    )


def plan_change_ask(*, plan: AssessmentPlan, by: User, reason: str) -> None:
    """The learner asks for a change to the version waiting for them, saying what; the
    assessors are told, and revise it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("Say what you would like changed, so your assessor can revise it.")
    with transaction.atomic():
        plan = _locked_plan(plan.pk)
        _refuse_unless_awaiting(plan, by)
        plan.status = AssessmentPlan.Status.CHANGE_ASKED
        plan.change_asked = reason
        plan.change_asked_at = timezone.now()
        plan.save(update_fields=["status", "change_asked", "change_asked_at"])
        record(
            "plan.change_asked",
            actor=by,
            obj=plan,
            learner=plan.enrolment.learner,
            summary=f"{by} asked for a change to version {plan.version} of the assessment plan",
            data={"version": plan.version, "reason": reason},
        )
        for assessor in _assessors_of(plan.enrolment_id):
            notify(
                assessor,
                f"{by} asked for a change to version {plan.version} of their assessment plan: "
                f"{reason}",
                kind=Notification.Kind.PLAN_CHANGE_ASKED,
                link=reverse("enrolment_plan", args=[plan.enrolment_id]),
            )


def linkable_evidence(plan: AssessmentPlan, user: User):
    """The enrolment's evidence ``user`` may link to the plan's activities: what they see of it
    (the learner their own, drafts too; the assessor what counts in their units, never a
    learner's draft)."""
    return EvidenceItem.objects.visible_to(user).filter(portfolio__enrolment_id=plan.enrolment_id)


def _evidence_change(activity: PlanActivity, evidence: EvidenceItem, by: User, *, link: bool):
    with transaction.atomic():
        plan = _locked_plan(activity.plan_id)
        if not plan.may_link(by):
            raise ValidationError(
                "Only the learner and the assessor link evidence to the plan's activities."
            )
        if not plan.in_force:
            raise ValidationError(
                f"Version {plan.version} of the plan is {plan.get_status_display().lower()}: "
                "evidence is linked to the activities of the plan in force."
            )
        if not linkable_evidence(plan, by).filter(pk=evidence.pk).exists():
            raise ValidationError("That evidence is not one you may link to this plan.")
        activity = PlanActivity.objects.get(pk=activity.pk, plan=plan)
        linked = activity.evidence.filter(pk=evidence.pk).exists()
        if link and linked:
            raise ValidationError(f"'{evidence.title}' is already linked to '{activity.title}'.")
        if not link and not linked:
            raise ValidationError(f"'{evidence.title}' is not linked to '{activity.title}'.")
        if link:
            activity.evidence.add(evidence)
        else:
            activity.evidence.remove(evidence)
        verb = "linked" if link else "unlinked"
        record(
            f"plan.evidence_{verb}",
            actor=by,
            obj=activity,
            learner=plan.enrolment.learner,
            summary=f"{by} {verb} '{evidence.title}' {'to' if link else 'from'} '{activity.title}'",
            data={"plan": plan.pk, "activity": activity.pk, "evidence": evidence.pk},
        )


def plan_evidence_link(*, activity: PlanActivity, evidence: EvidenceItem, by: User) -> None:
    """Link an item of evidence to the activity it fulfils: done once the item is accepted."""
    _evidence_change(activity, evidence, by, link=True)


def plan_evidence_unlink(*, activity: PlanActivity, evidence: EvidenceItem, by: User) -> None:
    """Undo a link made by mistake."""
    _evidence_change(activity, evidence, by, link=False)


def activities_overdue_notify(*, today: datetime.date | None = None) -> int:
    """Tell the learner and the assessors of each activity of a plan in force that is overdue,
    once per activity (a revised plan's activity is a new one). Returns how many were told."""
    today = today or timezone.localdate()
    enrolments = (
        AssessmentPlan.objects.filter(status__in=AssessmentPlan.ISSUED)
        .values_list("enrolment_id", flat=True)
        .distinct()
    )
    overdue = overdue_activities(list(enrolments), today=today)
    learners = {
        enrolment.pk: enrolment.learner
        for enrolment in Enrolment.objects.filter(
            pk__in=[pk for pk, rows in overdue.items() if rows]
        ).select_related("learner")
    }
    told = 0
    for enrolment_id, rows in overdue.items():
        if not rows:
            continue
        assessors = _assessors_of(enrolment_id)
        learner = learners[enrolment_id]
        for row in rows:
            activity = row.activity
            since = f"since {row.due_on:%d %b %Y}"
            with transaction.atomic():
                for person in (learner, *assessors):
                    whose = "your" if person == learner else f"{learner}'s"
                    told += (
                        notify(
                            person,
                            f"The activity '{activity.title}' of {whose} assessment plan is "
                            f"overdue {since}",
                            kind=Notification.Kind.ACTIVITY_OVERDUE,
                            link=reverse("enrolment_plan", args=[enrolment_id]),
                            once_key=f"activity_overdue:{activity.pk}",
                        )
                        is not None
                    )
    return told
