"""How far a portfolio has come and what it still lacks: computed here, never typed in.

Everything that shows coverage (the learner's home, the portfolio page, and later the caseload,
the matrix, the sign-off and the PDF) asks ``coverage_for``; it runs a fixed number of queries for
any number of portfolios.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.utils.text import get_text_list

from assessments.models import CriterionDecision, Mapping
from portfolio.models import CriterionClaim, EvidenceItem, Portfolio
from units.models import Criterion, EvidenceContext

Status = EvidenceItem.Status
# Evidence the learner has put forward and the assessor has not sent back.
PUT_FORWARD = {Status.SUBMITTED, Status.RESUBMITTED, Status.ACCEPTED}


@dataclass(frozen=True)
class Threshold:
    """How far evidence reaches one of the unit's thresholds, in words: "4, at least 3 needed:
    met", or "12 days, at least 28 needed"."""

    label: str
    have: int
    need: int
    unit: str = ""  # a noun said with the number, such as "day"

    @property
    def met(self) -> bool:
        return self.have >= self.need

    @property
    def requirement(self) -> str:
        """What the unit asks, and whether it is met: "at least 28 needed: met"."""
        return f"at least {self.need} needed{': met' if self.met else ''}"

    def __str__(self) -> str:
        have = _count(self.have, self.unit) if self.unit else str(self.have)
        return f"{have}, {self.requirement}"


@dataclass
class Coverage:
    criteria: list[Criterion]
    contexts: list[EvidenceContext]
    min_occasions: int
    min_customers: int
    min_period_days: int
    claimed: set[int] = field(default_factory=set)
    confirmed: set[int] = field(default_factory=set)
    contexts_covered: set[str] = field(default_factory=set)
    occasions: set[date] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    answers: dict[int, str] = field(default_factory=dict)  # K criterion id -> answer status
    drafts: int = 0
    referred_back: int = 0
    awaiting_review: int = 0
    # What the assessor has judged: criteria marked met, and those whose decision cites accepted
    # evidence from real work (not simulation) that is mapped to the criterion.
    met: set[int] = field(default_factory=set)
    met_from_real_work: set[int] = field(default_factory=set)
    accepted_contexts: set[str] = field(default_factory=set)
    accepted_occasions: set[date] = field(default_factory=set)
    accepted_customers: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.criteria)

    @property
    def period_days(self) -> int:
        return (max(self.occasions) - min(self.occasions)).days if self.occasions else 0

    def context_rows(self) -> list[tuple[EvidenceContext, bool]]:
        return [(context, context.letter in self.contexts_covered) for context in self.contexts]

    @property
    def accepted_period_days(self) -> int:
        occasions = self.accepted_occasions
        return (max(occasions) - min(occasions)).days if occasions else 0

    @property
    def thresholds(self) -> list[Threshold]:
        """The unit's thresholds against the evidence put forward (submitted or accepted)."""
        return [
            Threshold("Different occasions", len(self.occasions), self.min_occasions),
            Threshold("Different customers", len(self.customers), self.min_customers),
            Threshold("First occasion to last", self.period_days, self.min_period_days, "day"),
        ]

    @property
    def accepted_thresholds(self) -> list[Threshold]:
        """The unit's thresholds against accepted evidence only, as the sign-off counts them."""
        return [
            Threshold("Different occasions", len(self.accepted_occasions), self.min_occasions),
            Threshold("Different customers", len(self.accepted_customers), self.min_customers),
            Threshold(
                "First occasion to last", self.accepted_period_days, self.min_period_days, "day"
            ),
        ]

    @property
    def unmet(self) -> list[str]:
        """Why the unit cannot be signed off yet, each in a sentence as the assessor, the IQA
        and a verifier read it (of the learner, not to them).

        Empty when the portfolio is sufficient: every criterion met, performance criteria on
        accepted real-work evidence, every context and the thresholds shown by accepted
        performance evidence."""
        return self._unmet(to_learner=False)

    @property
    def unmet_for_learner(self) -> list[str]:
        """The same, addressed to the learner, in the unit's own words."""
        return self._unmet(to_learner=True)

    @property
    def unmet_besides_decisions(self) -> list[str]:
        """``unmet`` without the criteria not yet marked met: what marking criteria met does
        not settle (evidence from real work, contexts, thresholds)."""
        return self._unmet(to_learner=False, undecided=False)

    def _unmet(self, *, to_learner: bool, undecided: bool = True) -> list[str]:
        lines = []
        not_met = [c for c in self.criteria if c.pk not in self.met]
        if not_met and undecided:
            whose = "your" if to_learner else "the"
            lines.append(f"Not yet marked met by {whose} assessor: {_join(not_met)}.")
        simulated = [
            c
            for c in self.criteria
            if c.is_performance and c.pk in self.met and c.pk not in self.met_from_real_work
        ]
        if simulated:
            lines.append(
                f"{_join(simulated)} must be shown by accepted evidence from real work, "
                "not simulation."
            )
        for context in self.contexts:
            if context.letter not in self.accepted_contexts:
                lines.append(
                    f"No accepted performance evidence yet {context.description} "
                    f"(context {context.letter})."
                    if to_learner
                    else f"No accepted performance evidence yet for context {context.letter} "
                    f"({context.staff_description})."
                )
        for threshold in self.accepted_thresholds:
            if not threshold.met:
                lines.append(f"{threshold.label} in accepted evidence: {threshold}.")
        return lines

    @property
    def is_sufficient(self) -> bool:
        return not self.unmet

    @property
    def missing(self) -> list[str]:
        """What the evidence the learner has put forward still lacks, each in a sentence
        addressed to the learner."""
        return self._missing(to_learner=True)

    @property
    def missing_for_staff(self) -> list[str]:
        """The same, as the assessor, the IQA or a verifier read it: of the learner, not to
        them."""
        return self._missing(to_learner=False)

    def _missing(self, *, to_learner: bool) -> list[str]:
        lines = []
        for context in self.contexts:
            if context.letter not in self.contexts_covered:
                lines.append(
                    f"No evidence yet {context.description} (context {context.letter})."
                    if to_learner
                    else f"No evidence yet for context {context.letter} "
                    f"({context.staff_description})."
                )
        unclaimed = [c for c in self.criteria if c.is_performance and c.pk not in self.claimed]
        if unclaimed:
            lines.append(f"No evidence put forward yet for {_join(unclaimed)}.")
        whose = "Your" if to_learner else "The"
        for criterion in self.criteria:
            if criterion.is_performance:
                continue
            state = self.answers.get(criterion.pk)
            if state is None:
                lines.append(f"{criterion.label} has no answer yet.")
            elif state == Status.DRAFT:
                lines.append(
                    f"{whose} answer for {criterion.label} is a draft"
                    + (": submit it." if to_learner else ", not yet submitted.")
                )
            elif state == Status.REFERRED_BACK:
                lines.append(
                    f"{whose} answer for {criterion.label} was referred back"
                    + (": read the feedback and resubmit it." if to_learner else " to the learner.")
                )
        evidence = "your evidence" if to_learner else "the evidence put forward"
        for threshold in self.thresholds:
            if not threshold.met:
                lines.append(f"{threshold.label} in {evidence}: {threshold}.")
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _join(criteria: list[Criterion]) -> str:
    """Criteria named as every page names them: "1.1 (P1), 1.2 (P2) and 1.3 (P3)"."""
    return get_text_list([criterion.label for criterion in criteria], "and")


def coverage_for(portfolios: list[Portfolio]) -> dict[int, Coverage]:
    """Coverage and sufficiency of each portfolio, keyed by its id, in eight queries whatever
    their number and size."""
    if not portfolios:
        return {}
    unit_ids = {p.unit_id for p in portfolios}
    ids = [p.pk for p in portfolios]
    criteria_by_unit: dict[int, list[Criterion]] = defaultdict(list)
    for criterion in Criterion.objects.filter(unit_id__in=unit_ids).order_by("position"):
        criteria_by_unit[criterion.unit_id].append(criterion)
    contexts_by_unit: dict[int, list[EvidenceContext]] = defaultdict(list)
    for context in EvidenceContext.objects.filter(unit_id__in=unit_ids).order_by("letter"):
        contexts_by_unit[context.unit_id].append(context)

    result = {
        p.pk: Coverage(
            criteria=criteria_by_unit[p.unit_id],
            contexts=contexts_by_unit[p.unit_id],
            min_occasions=p.unit.min_distinct_occasions,
            min_customers=p.unit.min_distinct_customers,
            min_period_days=p.unit.min_period_days,
        )
        for p in portfolios
    }
    unit_of = {p.pk: p.unit for p in portfolios}
    unit_criteria = {unit: {c.pk for c in cs} for unit, cs in criteria_by_unit.items()}
    performance = {
        unit: {c.pk for c in cs if c.is_performance} for unit, cs in criteria_by_unit.items()
    }
    # An item counts in the portfolio it is kept in and in each other unit of its enrolment it is
    # claimed or mapped in, with that unit's criteria and by that unit's rules.
    enrolments = {p.enrolment_id for p in portfolios}
    portfolio_of = {(p.enrolment_id, p.unit_id): p.pk for p in portfolios}

    items = {
        row["pk"]: row
        for row in EvidenceItem.objects.filter(portfolio__enrolment_id__in=enrolments).values(
            "pk", "portfolio_id", "portfolio__enrolment_id", "status", "setting", "occurred_on",
            "customer_reference", "answers_question_id",
        )
    }  # fmt: skip
    linked_units = defaultdict(set)  # evidence id -> units it is claimed or mapped in
    claims = defaultdict(set)
    for evidence_id, criterion_id, unit_id in CriterionClaim.objects.filter(
        evidence__portfolio__enrolment_id__in=enrolments
    ).values_list("evidence_id", "criterion_id", "criterion__unit_id"):
        claims[evidence_id].add(criterion_id)
        linked_units[evidence_id].add(unit_id)
    contexts = defaultdict(lambda: defaultdict(set))  # evidence id -> unit id -> letters
    through = EvidenceItem.contexts.through
    for evidence_id, unit_id, letter in through.objects.filter(
        evidenceitem__portfolio__enrolment_id__in=enrolments
    ).values_list("evidenceitem_id", "evidencecontext__unit_id", "evidencecontext__letter"):
        contexts[evidence_id][unit_id].add(letter)

    mapped = defaultdict(set)  # evidence id -> criteria the assessor confirmed on it (if accepted)
    for evidence_id, criterion_id, unit_id, status in Mapping.objects.filter(
        evidence__portfolio__enrolment_id__in=enrolments
    ).values_list("evidence_id", "criterion_id", "criterion__unit_id", "evidence__status"):
        linked_units[evidence_id].add(unit_id)
        if status == Status.ACCEPTED:
            mapped[evidence_id].add(criterion_id)

    def counted_in(pk: int, item) -> set[int]:
        """The listed portfolios the item counts in."""
        found = {item["portfolio_id"]} & result.keys()
        for unit_id in linked_units[pk]:
            portfolio_id = portfolio_of.get((item["portfolio__enrolment_id"], unit_id))
            if portfolio_id is not None:
                found.add(portfolio_id)
        return found

    def counts_as_work(item, portfolio_id: int) -> bool:
        return EvidenceItem.setting_counts_as_work(item["setting"], unit_of[portfolio_id])

    counted = {}  # (portfolio id, evidence id) for each item counted in a listed portfolio
    for pk, item in items.items():
        for portfolio_id in counted_in(pk, item):
            counted[portfolio_id, pk] = item
            unit_id = unit_of[portfolio_id].pk
            _count_item(
                result[portfolio_id],
                item,
                criteria=unit_criteria.get(unit_id, set()),
                claimed=claims[pk],
                mapped=mapped[pk],
                contexts=contexts[pk][unit_id],
                performance=performance.get(unit_id, set()),
                as_work=counts_as_work(item, portfolio_id),
            )

    decided = CriterionDecision.objects.active().filter(portfolio_id__in=ids)
    for portfolio_id, criterion_id in decided.values_list("portfolio_id", "criterion_id"):
        result[portfolio_id].met.add(criterion_id)
    cited = CriterionDecision.cited.through.objects.filter(criteriondecision__in=decided)
    for portfolio_id, criterion_id, evidence_id in cited.values_list(
        "criteriondecision__portfolio_id", "criteriondecision__criterion_id", "evidenceitem_id"
    ):
        item = counted.get((portfolio_id, evidence_id))
        if (
            item is not None
            and criterion_id in mapped[evidence_id]
            and not item["answers_question_id"]
            and counts_as_work(item, portfolio_id)
        ):
            result[portfolio_id].met_from_real_work.add(criterion_id)
    return result


def _count_item(
    coverage: Coverage,
    item: dict,
    *,
    criteria: set[int],
    claimed: set[int],
    mapped: set[int],
    contexts: set[str],
    performance: set[int],
    as_work: bool,
) -> None:
    """Add one item to a unit's coverage (whose ``criteria`` these are), with its claims and
    mappings in that unit."""
    claimed, mapped = claimed & criteria, mapped & criteria
    status = item["status"]
    if item["answers_question_id"] in criteria:
        coverage.answers[item["answers_question_id"]] = status
    if status == Status.DRAFT:
        coverage.drafts += 1
    elif status == Status.REFERRED_BACK:
        coverage.referred_back += 1
    elif status in EvidenceItem.AWAITING_REVIEW:
        coverage.awaiting_review += 1
    if status not in PUT_FORWARD:
        return
    coverage.claimed |= claimed
    coverage.confirmed |= mapped
    if item["answers_question_id"] or not as_work:
        return
    if claimed & performance:
        coverage.contexts_covered |= contexts
        coverage.occasions.add(item["occurred_on"])
        if item["customer_reference"]:
            coverage.customers.add(normalise_customer(item["customer_reference"]))
    if mapped & performance:  # accepted, and the assessor confirmed performance on it
        coverage.accepted_contexts |= contexts
        coverage.accepted_occasions.add(item["occurred_on"])
        if item["customer_reference"]:
            coverage.accepted_customers.add(normalise_customer(item["customer_reference"]))


def normalise_customer(reference: str) -> str:
    """ "Cust 7" and "cust  7 " are one customer."""
    return " ".join(reference.lower().split())
