"""Quality assurance's workflows: IQA sampling and countersignature, action points, EQA reviews,
the certification claim and unlocking signed records. Each one writes the audit trail; what to
sample next is worked out in ``assessments.sampling``."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from assessments.models import (
    ActionPoint,
    CriterionDecision,
    EqaReview,
    IqaSample,
    SampleItem,
    SamplingPlan,
    Signature,
    StandardisationMeeting,
)
from assessments.services import portfolio_sign
from audit.chain import record
from portfolio.models import EvidenceItem, Notification, Portfolio, Role, User
from portfolio.services import notify
from portfolio.signable import batched

COUNTERSIGNATURE = (
    "I have sampled this portfolio and agree with the assessor's decisions: the unit is "
    "assessed to the standard."
)


def _revoke(portfolio: Portfolio, reason: str) -> list[Signature]:
    signatures = list(
        Signature.objects.filter(portfolio=portfolio, revoked_at__isnull=True).exclude(
            kind=Signature.Kind.IQA_SAMPLE
        )
    )
    now = timezone.now()
    for signature in signatures:
        signature.revoked_at = now
        signature.revoked_reason = reason
        signature.save(update_fields=["revoked_at", "revoked_reason"])
    return signatures


def sample_record(
    *,
    portfolio: Portfolio,
    iqa: User,
    stage: str,
    outcome: str,
    comment: str,
    items: list[tuple[EvidenceItem | None, CriterionDecision | None, str]],
    actions: list[tuple[str, datetime.date]],
) -> IqaSample:
    """Record and sign a sample. A summative "agree" countersigns (the portfolio is verified);
    a summative "refer back" returns the portfolio to the assessor with the action points."""
    with transaction.atomic(), batched():
        portfolio = Portfolio.objects.select_related("unit", "workplace").locked(portfolio.pk)
        if not portfolio.may_quality_assure(iqa):
            if portfolio.iqa_id == iqa.pk and iqa.is_iqa:
                raise ValidationError("You assessed this portfolio, so you cannot sample it.")
            raise ValidationError("You are not this portfolio's internal quality assurer.")
        summative = stage == IqaSample.Stage.SUMMATIVE
        if summative and portfolio.status != Portfolio.Status.ASSESSED:
            raise ValidationError(
                "A summative sample is made after the assessor signs the unit off and before "
                "it is verified."
            )
        if not items:
            raise ValidationError("Say which evidence or decisions you looked at.")
        if outcome == IqaSample.Outcome.REFER_BACK and not actions:
            raise ValidationError("Referring back needs at least one action point.")
        label = IqaSample.Stage(stage).label.lower()
        signature = portfolio_sign(
            portfolio=portfolio,
            by=iqa,
            kind=Signature.Kind.IQA_SAMPLE,
            role=Role.IQA,
            statement=f"I have carried out this {label} sample and recorded what I found.",
        )
        sample = IqaSample.objects.create(
            portfolio=portfolio,
            iqa=iqa,
            assessor=portfolio.assessor,
            stage=stage,
            outcome=outcome,
            comment=comment,
            signature=signature,
        )
        SampleItem.objects.bulk_create(
            SampleItem(sample=sample, evidence=evidence, decision=decision, comment=note)
            for evidence, decision, note in items
        )
        ActionPoint.objects.bulk_create(
            ActionPoint(sample=sample, text=text, due_on=due) for text, due in actions
        )
        record(
            "sample.recorded",
            actor=iqa,
            obj=sample,
            portfolio=portfolio,
            summary=f"{iqa} recorded a {label} sample: {IqaSample.Outcome(outcome).label.lower()}",
            data={"stage": stage, "outcome": outcome, "items": len(items), "actions": len(actions)},
        )
        if actions and portfolio.assessor_id is not None:
            count = len(actions)
            notify(
                portfolio.assessor,
                f"{iqa} raised {count} action point{pluralize(count)} for you on "
                f"{portfolio.learner}'s unit {portfolio.unit.code}, the first due "
                f"{min(due for _, due in actions):%d %b %Y}",
                kind=Notification.Kind.ACTION_RAISED,
                link=sample.get_absolute_url(),
            )
        if summative and outcome == IqaSample.Outcome.AGREE:
            portfolio_sign(
                portfolio=portfolio,
                by=iqa,
                kind=Signature.Kind.IQA_COUNTERSIGNATURE,
                role=Role.IQA,
                statement=COUNTERSIGNATURE,
            )
            portfolio.status = Portfolio.Status.VERIFIED
            portfolio.save(update_fields=["status", "updated_at"])
            record(
                "portfolio.verified",
                actor=iqa,
                obj=portfolio,
                portfolio=portfolio,
                summary=f"{iqa} countersigned: the portfolio is verified",
            )
        elif summative:
            revoked = _revoke(portfolio, f"referred back by the IQA {iqa}: {comment}")
            portfolio.status = Portfolio.Status.IN_PROGRESS
            portfolio.save(update_fields=["status", "updated_at"])
            record(
                "portfolio.referred_back",
                actor=iqa,
                obj=portfolio,
                portfolio=portfolio,
                summary=f"{iqa} referred the portfolio back to the assessor",
                data={"reason": comment, "signatures_revoked": [s.pk for s in revoked]},
            )
    return sample


def action_close(*, action: ActionPoint, response: str, by: User) -> None:
    """The assessor answers an action point and closes it; the IQA's request stays on record."""
    if not response.strip():
        raise ValidationError("Say what you did about the action point.")
    with transaction.atomic(), batched():
        action = ActionPoint.objects.select_for_update().get(pk=action.pk)
        if action.closed_at:
            raise ValidationError("This action point is already closed.")
        action.response = response.strip()
        action.closed_at = timezone.now()
        action.closed_by = by
        action.save(update_fields=["response", "closed_at", "closed_by"])
        record(
            "action.closed",
            actor=by,
            obj=action,
            portfolio=action.sample.portfolio,
            summary=f"{by} closed an action point: {action.text[:80]}",
            data={"response": action.response},
        )


def action_points_due_notify(*, today: datetime.date | None = None) -> int:
    """Tell the assessor of each open action point falling due today (or since, if a day's run
    was missed), once. Returns how many were told."""
    today = today or timezone.localdate()
    told = 0
    due = (
        ActionPoint.objects.filter(closed_at__isnull=True, due_on__lte=today)
        .select_related("sample__portfolio__assessor", "sample__portfolio__learner")
        .select_related("sample__portfolio__unit", "sample__assessor")
        .order_by("due_on", "pk")
    )
    for action in due:
        portfolio = action.sample.portfolio
        assessor = portfolio.assessor or action.sample.assessor
        with transaction.atomic():
            notification = notify(
                assessor,
                f"An action point on {portfolio.learner}'s unit {portfolio.unit.code} is due "
                f"{'today' if action.due_on == today else f'since {action.due_on:%d %b %Y}'}: "
                f"{action.text}",
                kind=Notification.Kind.ACTION_DUE,
                link=action.sample.get_absolute_url(),
                once_key=f"action_due:{action.pk}",
            )
            told += notification is not None
    return told


def portfolio_claim(*, portfolio: Portfolio, reference: str, by: User) -> None:
    """Record the certification claim for a verified portfolio and set its retention date."""
    with transaction.atomic(), batched():
        portfolio = Portfolio.objects.locked(portfolio.pk)
        if portfolio.status != Portfolio.Status.VERIFIED:
            raise ValidationError("Only a verified portfolio can be claimed.")
        now = timezone.now()
        portfolio.status = Portfolio.Status.CLAIMED
        portfolio.claimed_at = now
        portfolio.claim_reference = reference.strip()
        portfolio.retain_until = _years_after(timezone.localdate(now), settings.RETENTION_YEARS)
        portfolio.save(
            update_fields=["status", "claimed_at", "claim_reference", "retain_until", "updated_at"]
        )
        record(
            "portfolio.claimed",
            actor=by,
            obj=portfolio,
            portfolio=portfolio,
            summary=f"{by} recorded the certification claim {portfolio.claim_reference}",
            data={"reference": portfolio.claim_reference, "retain_until": portfolio.retain_until},
        )


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def portfolio_unlock(*, portfolio: Portfolio, reason: str, by: User) -> list[Signature]:
    """Reopen a signed portfolio for correction; its signatures are broken by the unlock."""
    if not reason.strip():
        raise ValidationError("Write the reason for unlocking.")
    with transaction.atomic(), batched():
        portfolio = Portfolio.objects.locked(portfolio.pk)
        if portfolio.status not in {Portfolio.Status.ASSESSED, Portfolio.Status.VERIFIED}:
            raise ValidationError("Only an assessed or verified portfolio can be unlocked.")
        revoked = _revoke(portfolio, f"unlocked by {by}: {reason.strip()}")
        portfolio.status = Portfolio.Status.IN_PROGRESS
        portfolio.save(update_fields=["status", "updated_at"])
        record(
            "portfolio.unlocked",
            actor=by,
            obj=portfolio,
            portfolio=portfolio,
            summary=f"{by} unlocked the portfolio: {reason.strip()}",
            data={"reason": reason.strip(), "signatures_revoked": [s.pk for s in revoked]},
        )
    return revoked


def sampling_plan_save(*, iqa: User, assessor: User, rating: str) -> SamplingPlan:
    """How closely ``iqa`` samples ``assessor``'s work, by the assessor's risk rating."""
    with transaction.atomic(), batched():
        plan, created = SamplingPlan.objects.update_or_create(
            iqa=iqa, assessor=assessor, defaults={"rating": rating}
        )
        record(
            "sampling_plan.saved",
            actor=iqa,
            obj=plan,
            summary=f"{iqa} rated {assessor} {plan.get_rating_display().lower()} for sampling",
            data={"assessor": assessor.pk, "rating": rating, "created": created},
        )
    return plan


def meeting_record(*, form, by: User) -> StandardisationMeeting:
    """Record a standardisation meeting from its bound, valid form."""
    with transaction.atomic(), batched():
        meeting = form.save(commit=False)
        meeting.recorded_by = by
        meeting.save()
        form.save_m2m()
        record(
            "standardisation.recorded",
            actor=by,
            obj=meeting,
            summary=f"{by} recorded the standardisation meeting '{meeting.title}'",
        )
    return meeting


def eqa_review_record(*, portfolio: Portfolio, eqa: User, outcome: str, report: str) -> EqaReview:
    with transaction.atomic(), batched():
        review = EqaReview.objects.create(
            portfolio=portfolio, eqa=eqa, outcome=outcome, report=report
        )
        record(
            "eqa.reviewed",
            actor=eqa,
            obj=review,
            portfolio=portfolio,
            summary=f"{eqa} recorded an external review: {review.get_outcome_display().lower()}",
            data={"outcome": outcome},
        )
    return review
