"""Quality assurance: IQA sampling and countersignature, sampling plans, action points, EQA
reviews, the certification claim and unlocking signed records. Each workflow is audited."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessments.audit import record
from assessments.models import (
    ActionPoint,
    CriterionDecision,
    EqaGrant,
    EqaReview,
    IqaSample,
    Mapping,
    SampleItem,
    SampleRate,
    SamplingPlan,
    Signature,
)
from assessments.services import _sign
from portfolio.models import EvidenceItem, Portfolio, Role, User, assessed_by

COUNTERSIGNATURE = (
    "I have sampled this portfolio and agree with the assessor's decisions: the unit is "
    "assessed to the standard."
)


def may_quality_assure(portfolio: Portfolio, user: User) -> bool:
    """The portfolio's IQA samples it, unless they assessed it themselves (now, or before it
    was given to another assessor)."""
    return (
        user.is_iqa
        and portfolio.iqa_id == user.pk
        and portfolio.assessor_id != user.pk
        and not Portfolio.objects.filter(assessed_by(user), pk=portfolio.pk).exists()
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
    with transaction.atomic():
        portfolio = Portfolio.objects.select_related("unit").locked(portfolio.pk)
        if not may_quality_assure(portfolio, iqa):
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
        signature = _sign(
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
        if summative and outcome == IqaSample.Outcome.AGREE:
            _sign(
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
    with transaction.atomic():
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


def portfolio_claim(*, portfolio: Portfolio, reference: str, by: User) -> None:
    """Record the certification claim for a verified portfolio and set its retention date."""
    with transaction.atomic():
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
    with transaction.atomic():
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


def eqa_may_review(portfolio: Portfolio, user: User) -> bool:
    grants = EqaGrant.objects.active().filter(eqa=user)
    return user.is_eqa and grants.filter(Q(whole_centre=True) | Q(portfolios=portfolio)).exists()


def eqa_review_record(*, portfolio: Portfolio, eqa: User, outcome: str, report: str) -> EqaReview:
    with transaction.atomic():
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


@dataclass
class PlanRow:
    assessor: User
    rating: str
    percent: int
    portfolios: int
    sampled: int

    @property
    def target(self) -> int:
        return math.ceil(self.portfolios * self.percent / 100)

    @property
    def on_track(self) -> bool:
        return self.sampled >= self.target

    @property
    def rating_label(self) -> str:
        return SampleRate.Rating(self.rating).label


def sampling_plans(iqa: User) -> list[PlanRow]:
    """Each assessor this IQA quality-assures, with the plan and how far it is met."""
    rates = dict(SampleRate.objects.values_list("rating", "percent"))
    ratings = dict(SamplingPlan.objects.filter(iqa=iqa).values_list("assessor_id", "rating"))
    portfolios = (
        Portfolio.objects.in_role(iqa, Role.IQA)
        .exclude(assessor=None)
        .values_list("pk", "assessor_id")
    )
    by_assessor = defaultdict(set)
    for pk, assessor_id in portfolios:
        by_assessor[assessor_id].add(pk)
    sampled = set(IqaSample.objects.filter(iqa=iqa).values_list("portfolio_id", flat=True))
    assessors = User.objects.filter(pk__in=by_assessor).order_by("last_name", "first_name")
    rows = []
    for assessor in assessors:
        rating = ratings.get(assessor.pk, SampleRate.Rating.NEW)
        rows.append(
            PlanRow(
                assessor=assessor,
                rating=rating,
                percent=rates.get(rating, 100),
                portfolios=len(by_assessor[assessor.pk]),
                sampled=len(by_assessor[assessor.pk] & sampled),
            )
        )
    return rows


@dataclass
class Suggestions:
    assessors: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    items: list[EvidenceItem] = field(default_factory=list)


# The suggestions are chosen among this many accepted items that show something not yet
# sampled, so that the page costs the same however many portfolios the IQA has.
SUGGESTION_CANDIDATES = 300


def _features_of(evidence) -> set[tuple[str, str]]:
    """Every assessor, method, context and criterion the given evidence shows."""
    evidence = evidence.order_by()  # DISTINCT over the values alone
    return (
        {
            ("assessor", str(pk))
            for pk in evidence.values_list("portfolio__assessor_id", flat=True).distinct()
        }
        | {("method", method) for method in evidence.values_list("method", flat=True).distinct()}
        | {
            ("context", letter)
            for letter in EvidenceItem.contexts.through.objects.filter(evidenceitem__in=evidence)
            .values_list("evidencecontext__letter", flat=True)
            .distinct()
        }
        | {
            ("criterion", code)
            for code in Mapping.objects.filter(evidence__in=evidence)
            .values_list("criterion__nos_code", flat=True)
            .distinct()
        }
    )


def interim_suggestions(iqa: User, *, limit: int = 6) -> Suggestions:
    """What this IQA has not sampled yet (assessors, methods, contexts, criteria), and accepted
    evidence that would cover most of it, in a fixed number of queries."""
    portfolios = Portfolio.objects.in_role(iqa, Role.IQA)
    accepted = EvidenceItem.objects.filter(
        portfolio__in=portfolios, status=EvidenceItem.Status.ACCEPTED
    )
    looked_at = SampleItem.objects.filter(sample__iqa=iqa, evidence__isnull=False).values(
        "evidence_id"
    )
    wanted = _features_of(accepted) - _features_of(accepted.filter(pk__in=looked_at))
    chosen = _covering(accepted.exclude(pk__in=looked_at), wanted, limit) if wanted else []
    names = {
        str(user.pk): str(user)
        for user in User.objects.filter(pk__in=[int(v) for k, v in wanted if k == "assessor"])
    }
    items = {
        item.pk: item
        for item in EvidenceItem.objects.filter(pk__in=chosen).select_related("portfolio__learner")
    }
    methods = dict(EvidenceItem.Method.choices)
    return Suggestions(
        assessors=sorted(names[v] for k, v in wanted if k == "assessor"),
        methods=sorted(methods[v] for k, v in wanted if k == "method"),
        contexts=sorted(v for k, v in wanted if k == "context"),
        criteria=sorted((v for k, v in wanted if k == "criterion"), key=_code_order),
        items=[items[pk] for pk in chosen],
    )


def _covering(candidates, wanted: set[tuple[str, str]], limit: int) -> list[int]:
    """Up to ``limit`` items that between them show as much of ``wanted`` as they can, picked
    greedily (the item showing most of what is left first, the oldest on a tie)."""
    by_kind = defaultdict(list)
    for kind, value in wanted:
        by_kind[kind].append(value)
    showing = (
        Q(portfolio__assessor_id__in=[int(v) for v in by_kind["assessor"]])
        | Q(method__in=by_kind["method"])
        | Q(contexts__letter__in=by_kind["context"])
        | Q(mappings__criterion__nos_code__in=by_kind["criterion"])
    )
    pks = list(
        candidates.filter(showing)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:SUGGESTION_CANDIDATES]
    )
    features = {
        row["pk"]: {("assessor", str(row["portfolio__assessor_id"])), ("method", row["method"])}
        for row in EvidenceItem.objects.filter(pk__in=pks).values(
            "pk", "method", "portfolio__assessor_id"
        )
    }
    for pk, letter in EvidenceItem.contexts.through.objects.filter(
        evidenceitem_id__in=pks
    ).values_list("evidenceitem_id", "evidencecontext__letter"):
        features[pk].add(("context", letter))
    for pk, code in Mapping.objects.filter(evidence_id__in=pks).values_list(
        "evidence_id", "criterion__nos_code"
    ):
        features[pk].add(("criterion", code))
    remaining, chosen = set(wanted), []
    while remaining and features and len(chosen) < limit:
        best = max(features, key=lambda pk: (len(features[pk] & remaining), -pk))
        gain = features.pop(best) & remaining
        if not gain:
            break
        chosen.append(best)
        remaining -= gain
    return chosen


def _code_order(code: str) -> tuple[str, int]:
    return code[0], int(code[1:])
