"""The tracking matrix: each unit's criteria against the evidence counting in it, confirmed or
claimed, with the contexts each item shows there and the other units it counts in.

One unit's matrix and the whole enrolment's are made by ``matrices_for`` in a fixed number of
queries however many units and items there are; ``unit_rows`` builds one unit's rows."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch

from assessments.sufficiency import Coverage, coverage_for
from portfolio.models import EvidenceItem, Portfolio, User
from units.models import Criterion, EvidenceContext


@dataclass(frozen=True)
class Column:
    """An item of evidence as one unit's matrix shows it: the contexts it shows in that unit,
    and the other units (the reader may see) it also counts in."""

    item: EvidenceItem
    contexts: list[str]
    shared_with: list[str]

    @property
    def prior_learning(self) -> bool:
        """Recognition of prior learning: marked "RPL" on its column."""
        return self.item.is_prior_learning


@dataclass(frozen=True)
class UnitMatrix:
    portfolio: Portfolio
    columns: list[Column]
    rows: list[dict]
    coverage: Coverage


def unit_rows(criteria: list[Criterion], items: list[EvidenceItem], coverage: Coverage):
    """One row per criterion of the unit: whether it is met and confirmed, and for each item
    (in order) "confirmed", "claimed" or nothing. ``items`` come with their claimed criteria and
    mappings prefetched (of any unit: only ``criteria`` are looked at)."""
    cells = {}
    for item in items:
        claimed = {c.pk for c in item.claimed_criteria.all()}
        confirmed = {m.criterion_id for m in item.mappings.all()}
        for criterion in criteria:
            if criterion.pk in confirmed:
                cells[criterion.pk, item.pk] = "confirmed"
            elif criterion.pk in claimed:
                cells[criterion.pk, item.pk] = "claimed"
    return [
        {
            "criterion": criterion,
            "marks": [cells.get((criterion.pk, item.pk), "") for item in items],
            "met": criterion.pk in coverage.met,
            "confirmed": criterion.pk in coverage.confirmed,
        }
        for criterion in criteria
    ]


def matrices_for(
    portfolios: list[Portfolio], *, viewer: User, shown: Portfolio | None = None
) -> list[UnitMatrix]:
    """The matrix of each of ``portfolios`` (units of one enrolment that ``viewer`` may see, each
    with its unit), or of ``shown`` alone; every item ``viewer`` may see, drafts left out, counts
    in each unit it counts in, and is said to be shared with the others of ``portfolios``."""
    counting = (
        EvidenceItem.objects.visible_to(viewer)
        .exclude(status=EvidenceItem.Status.DRAFT)
        .counting_in_each(portfolios)
    )
    units_of = defaultdict(list)  # evidence id -> codes of the units it counts in
    for portfolio in portfolios:
        for evidence_id in counting[portfolio.pk]:
            units_of[evidence_id].append(portfolio.unit.code)
    items = list(
        EvidenceItem.objects.filter(pk__in=list(units_of))
        .select_related("portfolio__unit")
        .prefetch_related(
            Prefetch("contexts", EvidenceContext.objects.order_by("letter")),
            "claimed_criteria",
            "mappings",
        )
        .order_by("occurred_on", "pk")
    )
    matrices = [shown] if shown is not None else portfolios
    criteria = defaultdict(list)
    for criterion in (
        Criterion.objects.filter(unit_id__in={p.unit_id for p in matrices})
        .select_related("outcome")
        .order_by("position")
    ):
        criteria[criterion.unit_id].append(criterion)
    coverage = coverage_for(matrices)
    result = []
    for portfolio in matrices:
        code = portfolio.unit.code
        in_unit = [item for item in items if item.pk in counting[portfolio.pk]]
        columns = [
            Column(
                item,
                [c.letter for c in item.contexts.all() if c.unit_id == portfolio.unit_id],
                sorted(other for other in units_of[item.pk] if other != code),
            )
            for item in in_unit
        ]
        rows = unit_rows(criteria[portfolio.unit_id], in_unit, coverage[portfolio.pk])
        result.append(UnitMatrix(portfolio, columns, rows, coverage[portfolio.pk]))
    return result
