"""The demo centre's example qualification: OCR's unit C4 with EX1, an example unit written for
the demonstration (both files in ``demo/specs/``), and learner2 entered for it, with evidence
that counts in both units. Everything here goes through the product's own services, as the
centre administrator, the learner and the assessor would do it. Used by ``seed_demo``."""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from assessments.services import decisions_mark_met, evidence_assess
from portfolio.enrolments import NewUnitDetails, enrolment_qualification_change
from portfolio.forms import EvidenceForm
from portfolio.models import EvidenceItem, Portfolio, User
from portfolio.services import evidence_save, evidence_submit, knowledge_answer_submit
from units.importer import import_unit_file
from units.models import Criterion, Qualification, Unit
from units.qualification_importer import import_qualification_file

SPECS = Path(__file__).resolve().parent / "specs"
UNIT_FILE = SPECS / "example-ex1.yaml"
QUALIFICATION_FILE = SPECS / "example-qualification.yaml"
LEARNER = "learner2"


@dataclass(frozen=True)
class Claim:
    """What the learner claims of one unit on an item, and the assessor's note on each criterion
    it confirms."""

    contexts: str
    notes: dict[str, str]  # NOS code -> where the item shows it


@dataclass(frozen=True)
class SharedItem:
    title: str
    kept_in: str  # the code of the unit whose portfolio keeps it
    days_ago: int
    reference: str
    account: str
    claims: dict[str, Claim]  # unit code -> what is claimed there
    feedback: str


SHARED_ITEMS = [
    SharedItem(
        title="Swimming lesson booking lost: a parent's complaint resolved and recorded",
        kept_in="C4",
        days_ago=20,
        reference="Parent F",
        account=(
            "A parent came to reception furious that her son's place on the Saturday swimming "
            "course had disappeared from the booking system, although she had paid for it. She "
            "said it was the second time we had lost one of her bookings and raised her voice in "
            "front of the queue. I let her tell me the whole story, said I could see why she was "
            "upset, and looked up her payment, which was there although the booking was not. I "
            "cannot add a child to a full course myself, so I rang the bookings team, who agreed "
            "to add him as an extra place. I told her what would happen and by when, and wrote it "
            "all on her account in the booking system, with a note for the bookings team that "
            "her booking had gone missing twice, so that nobody would ask her to explain it again."
        ),
        claims={
            "C4": Claim(
                contexts="d",
                notes={
                    "P3": "Noticed the raised voice in front of the queue.",
                    "P8": "Let her tell the whole story before answering.",
                    "P11": "Said she could see why the parent was upset, without blaming anyone.",
                    "P14": "Rang the bookings team: a full course is outside her authority.",
                    "P15": "Told the parent what would happen next and by when.",
                    "P16": "Noted for the bookings team that the booking had gone missing twice.",
                },
            ),
            "EX1": Claim(
                contexts="bc",
                notes={
                    "P1": "Found the payment on the account although the booking was missing.",
                    "P3": "Passed the extra place to the bookings team, who could agree it.",
                    "P6": "Recorded the problem, the agreement and the actions on the account.",
                    "P8": "Left a note so the bookings team need not ask the parent again.",
                },
            ),
        },
        feedback="A clear account of a problem resolved with the bookings team's help.",
    ),
    SharedItem(
        title="Membership taken twice: refund made and the member kept informed",
        kept_in="EX1",
        days_ago=9,
        reference="Member G",
        account=(
            "A member rang, angry that her monthly membership had been taken twice, and said she "
            "would cancel if it happened again. I checked the payments on her account, found the "
            "second one, and explained that I could refund it myself but that her bank would take "
            "three to five working days to show it. She agreed to that. I made the refund and "
            "recorded the call and the refund on her account, leaving out her card details. When "
            "the refund had not reached her after five days I rang her before she rang us, "
            "apologised, checked with our finance team and told her the day it would arrive. She "
            "rang back the following week to say it had, and that she was staying."
        ),
        claims={
            "EX1": Claim(
                contexts="a",
                notes={
                    "P1": "Checked the payments on the account and found the second one.",
                    "P2": "Explained the refund and the bank's three to five days; she agreed.",
                    "P3": "Made the refund herself, within her authority.",
                    "P4": "Rang the member when the refund was late, before she rang us.",
                    "P5": "The member confirmed the refund had arrived.",
                    "P6": "Recorded the call and the refund on the account.",
                    "P7": "Left the card details out of the record.",
                },
            ),
            "C4": Claim(
                contexts="a",
                notes={
                    "P1": "Recognised the threat to cancel as the member's anger.",
                    "P12": "Explained clearly what she could do and what the bank would take.",
                    "P13": "The refund with a realistic date kept the member.",
                },
            ),
        },
        feedback="Good follow-up: you told the member before she had to chase you.",
    ),
]

KNOWLEDGE_ANSWER = (
    "K5",
    "When the bookings team read our notes on bookings that had gone missing, they saw that every "
    "one had been made by telephone on a Saturday morning, when the booking system was being "
    "backed up. The back-up was moved to the night, and since then no booking has gone missing. "
    "Without the notes each lost booking would have looked like a one-off.",
)
# The criteria of EX1 the assessor decides met, citing the items confirming them.
DECIDED = ["P1", "P3", "P6", "K5"]


def load_example_specs() -> Qualification:
    """Load the example unit and qualification (importing them again changes nothing)."""
    import_unit_file(UNIT_FILE)
    return import_qualification_file(QUALIFICATION_FILE).qualification


def seed_example_qualification(qualification: Qualification) -> int:
    """Enter learner2 for the example qualification, keeping their C4 portfolio as its unit C4,
    with a portfolio for EX1, and give the two units their shared evidence, once. Returns the
    evidence items created."""
    c4 = (
        Portfolio.objects.filter(learner__username=LEARNER, unit__awarding_body="OCR")
        .filter(unit__code="C4")
        .select_related("enrolment", "learner", "assessor", "iqa", "workplace", "unit")
        .first()
    )
    if c4 is None:
        return 0
    example = Unit.objects.get(awarding_body="Example", code="EX1")
    enrolment = c4.enrolment
    if enrolment.qualification_id is None:
        enrolment_qualification_change(
            enrolment=enrolment,
            qualification=qualification,
            units=[c4.unit, example],
            details=NewUnitDetails(
                assessor=c4.assessor, iqa=c4.iqa, workplace=c4.workplace, job_role=c4.job_role
            ),
            by=User.objects.get(username="admin"),
        )
    elif enrolment.qualification_id != qualification.pk:
        return 0  # entered for something else since: left as it is
    ex1 = enrolment.portfolios.filter(unit=example).select_related("unit").first()
    if ex1 is None or EvidenceItem.objects.counting_in(ex1).exists():
        return 0
    portfolios = {"C4": c4, "EX1": ex1}
    items = [_shared_item(spec, portfolios) for spec in SHARED_ITEMS]
    answer = _knowledge_answer(ex1)
    _decide(ex1, [*items, answer])
    return len(items) + 1


def _criteria(portfolio: Portfolio, codes) -> list[Criterion]:
    found = {c.nos_code: c for c in portfolio.unit.criteria.filter(nos_code__in=codes)}
    return [found[code] for code in codes]


def _shared_item(spec: SharedItem, portfolios: dict[str, Portfolio]) -> EvidenceItem:
    """The learner adds the item, claiming criteria of both units, and submits it; the assessor
    accepts it and confirms each criterion claimed, in its own unit."""
    portfolio = portfolios[spec.kept_in]
    learner = portfolio.learner
    contexts, claimed = [], []
    for code, claim in spec.claims.items():
        unit = portfolios[code].unit
        contexts += unit.contexts.filter(letter__in=list(claim.contexts))
        claimed += _criteria(portfolios[code], claim.notes)
    form = EvidenceForm(
        {
            "title": spec.title,
            "method": EvidenceItem.Method.REFLECTIVE,
            "occurred_on": (timezone.localdate() - datetime.timedelta(days=spec.days_ago)),
            "contexts": [context.pk for context in contexts],
            "setting": EvidenceItem.Setting.REAL_PAID,
            "customer": EvidenceItem.Customer.EXTERNAL,
            "customer_reference": spec.reference,
            "account": spec.account,
            "claimed_criteria": [criterion.pk for criterion in claimed],
        },
        {},
        portfolio=portfolio,
    )
    form.instance.portfolio = portfolio
    if not form.is_valid():
        raise ValueError(f"The demo's evidence '{spec.title}' is refused: {form.errors}")
    item = evidence_save(form=form, by=learner, files=[], created=True)
    evidence_submit(evidence=item, by=learner, site_url="")
    notes = {
        criterion: note
        for code, claim in spec.claims.items()
        for criterion, note in zip(
            _criteria(portfolios[code], claim.notes), claim.notes.values(), strict=True
        )
    }
    evidence_assess(
        evidence=item,
        by=portfolio.assessor,
        accept=True,
        feedback=spec.feedback,
        mappings=notes,
        removed=[],
        site_url="",
    )
    return item


def _knowledge_answer(portfolio: Portfolio) -> EvidenceItem:
    code, answer = KNOWLEDGE_ANSWER
    [criterion] = _criteria(portfolio, [code])
    item = knowledge_answer_submit(
        portfolio=portfolio, criterion=criterion, answer=answer, by=portfolio.learner, site_url=""
    )
    evidence_assess(
        evidence=item,
        by=portfolio.assessor,
        accept=True,
        feedback="A good example from your own job.",
        mappings={criterion: "The notes on missing bookings showed the cause, which was fixed."},
        removed=[],
        site_url="",
    )
    return item


def _decide(portfolio: Portfolio, items: list[EvidenceItem]) -> None:
    """The assessor marks some of EX1's criteria met, each citing the items confirming it."""
    criteria = _criteria(portfolio, DECIDED)
    chosen = [
        (criterion, [item for item in items if item.mappings.filter(criterion=criterion).exists()])
        for criterion in criteria
    ]
    decisions_mark_met(portfolio=portfolio, chosen=chosen, by=portfolio.assessor)
