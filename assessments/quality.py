"""Quality assurance's workflows: IQA sampling and countersignature, action points, EQA reviews,
the certification claim and unlocking signed records. Each one writes the audit trail; what to
sample next is worked out in ``assessments.sampling``."""

import datetime
from collections.abc import Collection
from dataclasses import dataclass

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
from portfolio.enrolments import award_claim
from portfolio.models import (
    Claim,
    Enrolment,
    EvidenceItem,
    Notification,
    Portfolio,
    Role,
    User,
)
from portfolio.services import notify
from portfolio.signable import batched
from units.combination import achievement_gaps
from units.models import Qualification

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


def portfolio_claim(*, portfolio: Portfolio, reference: str, by: User) -> Claim:
    """Record the certification claim for one verified unit (a units claim, ``claim_record``)."""
    return claim_record(
        enrolment=portfolio.enrolment,
        kind=Claim.Kind.UNITS,
        portfolios=[portfolio],
        reference=reference,
        by=by,
    )


NEVER_BOTH = (
    "the awarding body allows a claim for the full award or for single units, never both for "
    "one learner."
)


@dataclass(frozen=True)
class Claimable:
    """What an enrolment may be claimed for now: the full award (when ``award_gaps`` is empty
    and no unit has been claimed on its own) or the verified units not yet claimed, with why
    not where it may not."""

    enrolment: Enrolment
    qualification: Qualification | None  # with its structure
    portfolios: list[Portfolio]  # every unit of the enrolment, with its unit and claim
    award_claim: Claim | None  # the full award's claim, once made
    award_gaps: list[str]  # what the award still lacks: empty when it is achieved

    @property
    def verified(self) -> list[Portfolio]:
        """The units achieved and not yet claimed."""
        return [p for p in self.portfolios if p.status == Portfolio.Status.VERIFIED]

    @property
    def units_claimed(self) -> list[Portfolio]:
        """Units claimed on their own."""
        return [
            p
            for p in self.portfolios
            if p.status == Portfolio.Status.CLAIMED
            and not (self.award_claim and p.claim_id == self.award_claim.pk)
        ]

    @property
    def award_refusal(self) -> str | None:
        """Why the full award cannot be claimed now, or None."""
        learner = self.enrolment.learner
        if self.qualification is None:
            return f"{learner} is entered for single units: there is no full award to claim."
        if self.award_claim is not None:
            return f"{self._claimed_for_the_award()}."
        if claimed := self.units_claimed:
            many = len(claimed) > 1
            codes = ", ".join(p.unit.code for p in claimed)
            return (
                f"{'Units' if many else 'Unit'} {codes} of {learner}'s enrolment "
                f"{'were' if many else 'was'} claimed on {'their' if many else 'its'} own, so the "
                f"full award cannot be claimed as well: {NEVER_BOTH}"
            )
        if self.award_gaps:
            return (
                f"The qualification is not achieved yet: {'; '.join(self.award_gaps)}. Units "
                "count once the IQA has verified them."
            )
        return None

    def _claimed_for_the_award(self) -> str:
        return (
            f"{self.enrolment.learner} was claimed for the full award of "
            f"{self.qualification.label} on "
            f"{timezone.localtime(self.award_claim.claimed_at):%d %b %Y}"
        )

    @property
    def units_refusal(self) -> str | None:
        """Why no unit can be claimed on its own now, or None."""
        if self.award_claim is not None:
            return (
                f"{self._claimed_for_the_award()}, so no unit can be claimed on its own as well: "
                f"{NEVER_BOTH}"
            )
        if not self.verified:
            return (
                "No unit is verified and not yet claimed: a unit is claimed once the IQA has "
                "verified it."
            )
        return None


def claimable(enrolment: Enrolment, portfolios: list[Portfolio] | None = None) -> Claimable:
    """What ``enrolment`` may be claimed for (``portfolios``: its units, if already loaded)."""
    if portfolios is None:
        portfolios = list(
            Portfolio.objects.filter(enrolment=enrolment)
            .select_related("unit", "claim")
            .order_by("unit__code", "pk")
        )
    qualification = None
    gaps: list[str] = []
    if enrolment.qualification_id:
        qualification = Qualification.objects.with_structure().get(pk=enrolment.qualification_id)
        gaps = achievement_gaps(
            qualification, [p.unit for p in portfolios if p.status in Portfolio.ACHIEVED]
        )
    return Claimable(enrolment, qualification, portfolios, award_claim(portfolios), gaps)


def claim_record(
    *,
    enrolment: Enrolment,
    kind: str,
    portfolios: Collection[Portfolio] = (),
    reference: str = "",
    by: User,
) -> Claim:
    """Record the certification claim for ``enrolment``: the full award (once its verified units
    satisfy the qualification's rule; it claims every unit achieved) or the verified units
    ``portfolios`` not yet claimed. Never both for one learner: the full award is refused once
    a unit has been claimed on its own, and units once the full award has been claimed. Each
    unit claimed is kept for ``RETENTION_YEARS`` from today. Refused with the reason, saving
    nothing."""
    if not (by.is_active and by.is_centre_admin):
        raise ValidationError("Only the centre administrator records a claim.")
    wanted = {p.pk for p in portfolios}
    with transaction.atomic(), batched():
        # Every unit of the enrolment locked, in one order: two claims for one learner are made
        # one after the other, the second seeing the first.
        # Then read in a query of its own: rows locked after waiting for another claim are read
        # as it left them, but a claim it made, joined in the same query, would not be seen.
        list(
            Portfolio.objects.filter(enrolment=enrolment)
            .select_for_update(no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        units = {
            p.pk: p
            for p in Portfolio.objects.filter(enrolment=enrolment)
            .select_related("unit", "claim")
            .order_by("pk")
        }
        enrolment = Enrolment.objects.select_related("learner", "qualification").get(
            pk=enrolment.pk
        )
        now_claimable = claimable(
            enrolment, sorted(units.values(), key=lambda p: (p.unit.code, p.pk))
        )
        if kind == Claim.Kind.FULL_AWARD:
            if refusal := now_claimable.award_refusal:
                raise ValidationError(refusal)
            claimed = now_claimable.verified
        elif kind == Claim.Kind.UNITS:
            if now_claimable.award_claim is not None:
                raise ValidationError(now_claimable.units_refusal)
            if not wanted:
                raise ValidationError("Choose at least one verified unit to claim.")
            if wanted - units.keys():
                raise ValidationError("Only units of this enrolment can be claimed with it.")
            claimed = [p for p in now_claimable.portfolios if p.pk in wanted]
            for portfolio in claimed:
                if portfolio.status == Portfolio.Status.CLAIMED:
                    raise ValidationError(f"Unit {portfolio.unit.code} is already claimed.")
                if portfolio.status != Portfolio.Status.VERIFIED:
                    raise ValidationError(
                        "Only a verified portfolio can be claimed: unit "
                        f"{portfolio.unit.code} is {portfolio.get_status_display().lower()}."
                    )
        else:
            raise ValidationError(f"'{kind}' is not a kind of claim.")
        now = timezone.now()
        reference = reference.strip()
        claim = Claim.objects.create(
            enrolment=enrolment, kind=kind, reference=reference, claimed_at=now, claimed_by=by
        )
        retain_until = _years_after(timezone.localdate(now), settings.RETENTION_YEARS)
        for portfolio in claimed:
            portfolio.status = Portfolio.Status.CLAIMED
            portfolio.claim = claim
            portfolio.claimed_at = now
            portfolio.claim_reference = reference
            portfolio.retain_until = retain_until
            portfolio.save(
                update_fields=[
                    "status",
                    "claim",
                    "claimed_at",
                    "claim_reference",
                    "retain_until",
                    "updated_at",
                ]
            )
        codes = [p.unit.code for p in claimed]
        what = (
            f"the full award of {enrolment.qualification.label}"
            if kind == Claim.Kind.FULL_AWARD
            else f"unit{pluralize(len(codes))} {', '.join(codes)}"
        )
        record(
            "claim.recorded",
            actor=by,
            obj=claim,
            learner=enrolment.learner,
            summary=f"{by} recorded the claim for {what}"
            + (f", reference {reference}" if reference else ""),
            data={
                "kind": kind,
                "enrolment": enrolment.pk,
                "portfolios": [p.pk for p in claimed],
                "units": codes,
                "reference": reference,
                "retain_until": retain_until,
            },
        )
        for portfolio in claimed:
            record(
                "portfolio.claimed",
                actor=by,
                obj=portfolio,
                portfolio=portfolio,
                summary=f"{by} recorded the certification claim"
                + (f" {reference}" if reference else f" for {what}"),
                data={
                    "claim": claim.pk,
                    "kind": kind,
                    "reference": reference,
                    "retain_until": retain_until,
                },
            )
    return claim


def claim_reference_record(*, claim: Claim, reference: str, by: User) -> Claim:
    """Record the awarding body's reference for a claim made without one (or correct it), on
    the claim and on each unit it claimed."""
    reference = reference.strip()
    if not (by.is_active and by.is_centre_admin):
        raise ValidationError("Only the centre administrator records a claim's reference.")
    if not reference:
        raise ValidationError("Give the claim reference from the awarding body.")
    with transaction.atomic(), batched():
        claim = (
            Claim.objects.select_for_update().select_related("enrolment__learner").get(pk=claim.pk)
        )
        before = claim.reference
        if before == reference:
            return claim
        claim.reference = reference
        claim.save(update_fields=["reference"])
        portfolios = list(claim.portfolios.order_by("pk"))
        for portfolio in portfolios:
            portfolio.claim_reference = reference
            portfolio.save(update_fields=["claim_reference", "updated_at"])
        record(
            "claim.reference_recorded",
            actor=by,
            obj=claim,
            learner=claim.enrolment.learner,
            summary=f"{by} recorded the awarding body's reference {reference} for a claim"
            + (f" (was {before})" if before else ""),
            data={
                "reference": reference,
                "before": before,
                "portfolios": [p.pk for p in portfolios],
            },
        )
    return claim


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
