"""What an IQA should sample: each assessor's sampling plan and how far it is met, and accepted
evidence that would cover what has not been sampled yet. Read only; recording a sample is
``assessments.quality.sample_record``."""

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from assessments.models import IqaSample, Mapping, SampleItem, SampleRate, SamplingPlan
from portfolio.models import EvidenceItem, Portfolio, Role, User
from units.models import Criterion


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
            ("criterion", str(pk))
            for pk in Mapping.objects.filter(evidence__in=evidence)
            .values_list("criterion_id", flat=True)
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
        criteria=[
            criterion.label
            for criterion in Criterion.objects.filter(
                pk__in=[int(v) for k, v in wanted if k == "criterion"]
            ).order_by("unit_id", "position")
        ],
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
        | Q(mappings__criterion_id__in=[int(v) for v in by_kind["criterion"]])
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
    for pk, criterion_id in Mapping.objects.filter(evidence_id__in=pks).values_list(
        "evidence_id", "criterion_id"
    ):
        features[pk].add(("criterion", str(criterion_id)))
    remaining, chosen = set(wanted), []
    while remaining and features and len(chosen) < limit:
        best = max(features, key=lambda pk: (len(features[pk] & remaining), -pk))
        gain = features.pop(best) & remaining
        if not gain:
            break
        chosen.append(best)
        remaining -= gain
    return chosen
