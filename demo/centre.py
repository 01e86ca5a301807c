"""Evidence for the demo centre's three story learners, written as a learner at a customer
services desk would write it. Used by ``seed_demo``."""

import datetime
import io
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from assessments.models import IqaSample, Mapping, Review, StandardisationMeeting
from assessments.quality import sample_record
from assessments.services import decision_mark_met, learner_declaration_sign, unit_sign_off
from assessments.signable import refresh
from audit.chain import record
from portfolio.files import atomic_with_files, make_renditions, prepare_upload, store_renditions
from portfolio.models import (
    CriterionClaim,
    EqaGrant,
    EvidenceItem,
    Portfolio,
    User,
    WitnessTestimony,
)
from portfolio.services import eqa_grant_recorded, file_add

Status = EvidenceItem.Status


@dataclass(frozen=True)
class Scenario:
    title: str
    method: str
    days_ago: int
    contexts: str
    customer: str
    reference: str
    claims: tuple[str, ...]
    account: str
    picture: str = ""  # the caption of a generated photo, if any
    witness: str = ""  # the statement a witness is asked to confirm, if any


SCENARIOS = [
    Scenario(
        title="Refund refused at the returns desk",
        method=EvidenceItem.Method.REFLECTIVE,
        days_ago=70,
        contexts="a",
        customer=EvidenceItem.Customer.EXTERNAL,
        reference="Customer A",
        claims=("P1", "P3", "P8", "P9", "P11", "P12"),
        account=(
            "A customer brought back a kettle without a receipt and raised his voice when I "
            "said I could not refund it in cash. I noticed he was red in the face and tapping "
            "the counter, so I let him finish before saying anything. I asked when he bought "
            "it and what had gone wrong, and told him I could see why it was frustrating "
            "without saying the store was at fault. I explained our policy that refunds "
            "without a receipt are given as store credit, and why."
        ),
        picture="Returns desk: the refund policy notice",
        witness=(
            "I was on the returns desk with the learner. A customer became loud about a refund "
            "without a receipt. The learner stayed calm, listened, asked what had happened and "
            "explained the store credit policy clearly. The customer left satisfied."
        ),
    ),
    Scenario(
        title="Saturday queue: customer shouting about the wait",
        method=EvidenceItem.Method.REFLECTIVE,
        days_ago=52,
        contexts="b",
        customer=EvidenceItem.Customer.EXTERNAL,
        reference="Customer B",
        claims=("P3", "P5", "P8", "P10", "P13", "P17"),
        account=(
            "On a busy Saturday the queue reached the door. A woman at the back began shouting "
            "that she had waited twenty minutes. Other customers looked uneasy, so I asked a "
            "colleague to open the second till and stood between the queue and the shouting "
            "customer while I spoke to her. I repeated back what she needed (to collect an "
            "order before her bus) and we agreed I would fetch it while she waited by the door."
        ),
        picture="Saturday queue at the service desk",
    ),
    Scenario(
        title="Quiet afternoon: repeat complaint about a billing error",
        method=EvidenceItem.Method.WORK_PRODUCT,
        days_ago=31,
        contexts="c",
        customer=EvidenceItem.Customer.EXTERNAL,
        reference="Customer C",
        claims=("P2", "P4", "P6", "P7", "P9", "P15", "P16"),
        account=(
            "A customer rang for the third time about being charged twice. It was quiet, so I "
            "had time to go through the account with him. I knew our two-step card system often "
            "confuses people, and I was careful not to say 'as I said before'. When he swore I "
            "told him calmly what we will and will not accept on calls. I summarised the refund "
            "steps in an e-mail (attached, with his details removed) and told my supervisor he "
            "might ring again."
        ),
        picture="Call log page with customer details removed",
    ),
    Scenario(
        title="Card machines down: customers could not pay",
        method=EvidenceItem.Method.REFLECTIVE,
        days_ago=16,
        contexts="d",
        customer=EvidenceItem.Customer.EXTERNAL,
        reference="Customer D",
        claims=("P2", "P5", "P11", "P12", "P13", "P14", "P15"),
        account=(
            "All the card machines failed at lunchtime. A customer with a full trolley was "
            "furious because she had no cash. I said I understood how annoying it was, explained "
            "that the fault was with the bank's network, and asked my manager whether we could "
            "hold her shopping, which is outside my authority. We agreed to keep it for two "
            "hours and I wrote down what would happen next for her."
        ),
        picture="Notice put up when the card machines failed",
    ),
    Scenario(
        title="Warehouse colleague angry about late orders",
        method=EvidenceItem.Method.REFLECTIVE,
        days_ago=6,
        contexts="a",
        customer=EvidenceItem.Customer.INTERNAL,
        reference="Colleague E (warehouse)",
        claims=("P4", "P10", "P14", "P16", "P17"),
        account=(
            "A colleague from the warehouse came to the desk angry that customer orders were "
            "being promised for the next day. I put myself in his place: his team was short of "
            "staff. I checked I had understood, offered options, and because changing delivery "
            "promises is a manager's decision I took him to the duty manager. When he started "
            "jabbing his finger I asked him to step back and kept the desk between us."
        ),
    ),
]

ANSWERS = {
    "K1": "Customers who shout or swear at me, and customers who refuse to listen and repeat "
    "the same demand. I find it hard not to take it personally.",
    "K2": "Our no-receipt refund policy and the two-step card payment often cause problems, "
    "because customers expect cash back or do not understand why they were charged twice.",
    "K3": "When customers lose a receipt or miss a collection date they are often embarrassed "
    "and angry with themselves, and that comes out as anger at us.",
    "K4": "Empathy means understanding how the customer feels and showing it, for example 'I "
    "can see why that is frustrating', without agreeing that we did something wrong.",
    "K5": "My supervisor, the duty manager, and security if anyone's safety is at risk.",
    "K6": "Assertive is calm, clear and respectful ('I can offer store credit'). Aggressive "
    "attacks the other person ('That's your problem'). Passive gives in or avoids ('I suppose "
    "I could...').",
    "K7": "Quoting rules makes customers feel they are not being listened to and often makes "
    "them angrier. Explaining the reason and offering options works better.",
    "K8": "We do not accept swearing at staff, threats or violence. After a warning, the "
    "manager can end the conversation and ask the customer to leave.",
    "K9": "So that whoever deals with the customer next knows the history and can stay "
    "consistent. I write a note on the account and tell my supervisor.",
    "K10": "When a customer becomes threatening, moves into my space, or other customers look "
    "frightened. Then I keep a barrier between us, call the manager or security and move other "
    "customers away.",
}


REFERRAL_FEEDBACK = {
    "Card machines down: customers could not pay": (
        "Good start. Please add what you said to the customer when you explained the bank's "
        "fault, and what you wrote down for her, so I can see 2.5 and 2.8."
    ),
    "answer": (
        "Please give an example from your own job: what did the customer do, and how did it "
        "affect the way they behaved towards you?"
    ),
}


def picture(caption: str, seed: int) -> bytes:
    """A small photo-like JPEG with a caption, standing in for a learner's phone photo."""
    image = Image.new("RGB", (640, 480), (235 - seed * 9, 230, 215 + seed * 6))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 60, 600, 380), fill=(250, 250, 245), outline=(60, 60, 60), width=4)
    for line in range(5):
        y = 110 + line * 45
        draw.rectangle((80, y, 560 - (line * 37) % 120, y + 14), fill=(120, 120, 130))
    draw.text((40, 410), caption, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# Which scenarios and answers each story learner has, and how far each has got.
STORIES = {
    "learner1": {
        "scenarios": dict.fromkeys(range(5), Status.ACCEPTED),
        "answers": dict.fromkeys(ANSWERS, Status.ACCEPTED),
        "witness": WitnessTestimony.Status.CONFIRMED,
        "signed": True,
    },
    "learner2": {
        "scenarios": {
            0: Status.ACCEPTED,
            1: Status.ACCEPTED,
            2: Status.SUBMITTED,
            3: Status.REFERRED_BACK,
        },
        "answers": {
            "K1": Status.ACCEPTED,
            "K2": Status.SUBMITTED,
            "K3": Status.REFERRED_BACK,
            "K4": Status.DRAFT,
        },
        "witness": WitnessTestimony.Status.SENT,
    },
    "learner3": {
        "scenarios": {0: Status.DRAFT},
        "answers": {},
        "witness": None,
    },
}


def seed_story(portfolio: Portfolio) -> int:
    """Give a story learner's portfolio its evidence, once; returns the items created."""
    story = STORIES.get(portfolio.learner.username)
    if story is None or portfolio.evidence.exists():
        return 0
    learner, assessor = portfolio.learner, portfolio.assessor
    criteria = {c.nos_code: c for c in portfolio.unit.criteria.all()}
    contexts = {c.letter: c for c in portfolio.unit.contexts.all()}
    today = timezone.localdate()
    created = 0
    with atomic_with_files() as written:
        for index, status in story["scenarios"].items():
            scenario = SCENARIOS[index]
            evidence = EvidenceItem.objects.create(
                portfolio=portfolio,
                title=scenario.title,
                method=scenario.method,
                occurred_on=today - datetime.timedelta(days=scenario.days_ago),
                setting=EvidenceItem.Setting.REAL_PAID,
                customer=scenario.customer,
                customer_reference=scenario.reference,
                account=scenario.account,
            )
            evidence.contexts.set([contexts[letter] for letter in scenario.contexts])
            _claim(evidence, [criteria[code] for code in scenario.claims])
            _audit_created(evidence, learner)
            if scenario.picture:
                upload = SimpleUploadedFile(
                    f"IMG_{4000 + index}.jpg", picture(scenario.picture, index), "image/jpeg"
                )
                photo = file_add(evidence, prepare_upload(upload), by=learner, written=written)
                # Made here rather than by the worker, so the demo shows its photos at once.
                store_renditions(photo, make_renditions(photo), written=written)
            if scenario.witness and story["witness"]:
                _witness(evidence, scenario.witness, story["witness"])
            _advance(evidence, status, learner, assessor, scenario.days_ago)
            created += 1
        for code, status in story["answers"].items():
            criterion = criteria[code]
            evidence = EvidenceItem.objects.create(
                portfolio=portfolio,
                title=f"Answer to the question for {criterion.label}",
                method=EvidenceItem.Method.QUESTIONING,
                occurred_on=today - datetime.timedelta(days=3),
                account=ANSWERS[code],
                answers_question=criterion,
            )
            _claim(evidence, [criterion])
            _audit_created(evidence, learner)
            _advance(evidence, status, learner, assessor, 3)
            created += 1
        if story.get("signed"):
            _sign(portfolio, criteria)
    return created


def _sign(portfolio: Portfolio, criteria) -> None:
    """Every criterion marked met on the evidence confirming it, then both signatures."""
    refresh(portfolio.pk)  # the story's claims and mappings were inserted in bulk
    confirmed: dict[int, list[EvidenceItem]] = {}
    for mapping in Mapping.objects.filter(evidence__portfolio=portfolio).select_related("evidence"):
        confirmed.setdefault(mapping.criterion_id, []).append(mapping.evidence)
    for criterion in criteria.values():
        decision_mark_met(
            portfolio=portfolio,
            criterion=criterion,
            cited=confirmed[criterion.pk][:2],
            by=portfolio.assessor,
        )
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor, tell=False)
    learner_declaration_sign(portfolio=portfolio, by=portfolio.learner)
    _countersign(portfolio)


def _countersign(portfolio: Portfolio) -> None:
    """The IQA's summative sample that agrees: the portfolio is verified."""
    items = list(portfolio.evidence.filter(answers_question__isnull=True).order_by("pk")[:3])
    decisions = list(portfolio.decisions.select_related("criterion").order_by("pk")[:2])
    sample_record(
        portfolio=portfolio,
        iqa=portfolio.iqa,
        stage=IqaSample.Stage.SUMMATIVE,
        outcome=IqaSample.Outcome.AGREE,
        comment="Mapping is precise and every context is evidenced from real work.",
        items=[(item, None, "Authentic, current and clearly mapped.") for item in items]
        + [(None, decision, "Well supported.") for decision in decisions],
        actions=[],
    )


def seed_centre_records(unit) -> bool:
    """The demo centre's own quality records: eqa1's grant to learner1, and a standardisation
    meeting. Returns False if they exist already."""
    if StandardisationMeeting.objects.exists():
        return False
    people = {u.username: u for u in User.objects.filter(
        username__in=["admin", "assessor1", "iqa1", "eqa1"]
    )}  # fmt: skip
    learner1 = Portfolio.objects.filter(unit=unit, learner__username="learner1").first()
    if learner1 is not None and "eqa1" in people:
        grant = EqaGrant.objects.create(
            eqa=people["eqa1"],
            expires_at=timezone.now() + datetime.timedelta(days=30),
            reason="External verification visit",
            granted_by=people.get("admin"),
        )
        grant.portfolios.set([learner1])
        eqa_grant_recorded(grant=grant, by=people.get("admin"), created=True)
    meeting = StandardisationMeeting.objects.create(
        held_on=timezone.localdate() - datetime.timedelta(days=21),
        title="Evidencing context d: when systems let the learner down",
        other_attendees="Customer services team leader",
        discussed=(
            "What counts as people, systems or resources letting the learner down, and how to "
            "map P14 (enlisting help) when the learner's authority is limited."
        ),
        actions="Assessors cite the failure and the help enlisted in each mapping note.",
        recorded_by=people["iqa1"],
    )
    meeting.attendees.set([people[name] for name in ("assessor1", "iqa1") if name in people])
    meeting.evidence.set(
        EvidenceItem.objects.filter(portfolio__learner__username="learner1", contexts__letter="d")[
            :1
        ]
    )
    record(
        "standardisation.recorded",
        actor=people["iqa1"],
        obj=meeting,
        summary=f"{people['iqa1']} recorded the standardisation meeting '{meeting.title}'",
    )
    return True


def _claim(evidence, criteria) -> None:
    CriterionClaim.objects.bulk_create(
        [CriterionClaim(evidence=evidence, criterion=criterion) for criterion in criteria]
    )


def _audit_created(evidence, learner) -> None:
    record(
        "evidence.created",
        actor=learner,
        obj=evidence,
        portfolio=evidence.portfolio,
        summary=f"{learner} added evidence '{evidence.title}'",
        data={"title": evidence.title, "status": evidence.status},
    )


def _advance(evidence, status, learner, assessor, days_ago) -> None:
    """Move the evidence on to ``status`` as the learner and assessor would have."""
    if status == Status.DRAFT:
        return
    submitted = timezone.now() - datetime.timedelta(days=max(days_ago - 1, 0))
    evidence.status = Status.SUBMITTED
    evidence.declared_at = evidence.submitted_at = submitted
    evidence.save(update_fields=["status", "declared_at", "submitted_at"])
    record(
        "evidence.submitted",
        actor=learner,
        obj=evidence,
        portfolio=evidence.portfolio,
        summary=f"{learner} declared '{evidence.title}' their own work and submitted it",
        data={"title": evidence.title, "declared_at": submitted.isoformat()},
    )
    if status == Status.REFERRED_BACK:
        feedback = REFERRAL_FEEDBACK.get(evidence.title, REFERRAL_FEEDBACK["answer"])
        evidence.status = Status.REFERRED_BACK
        evidence.save(update_fields=["status"])
        Review.objects.create(
            evidence=evidence, outcome=Status.REFERRED_BACK, feedback=feedback, assessor=assessor
        )
        record(
            "evidence.referred_back",
            actor=assessor,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{assessor} referred back '{evidence.title}'",
            data={"feedback": feedback},
        )
        return
    if status != Status.ACCEPTED:
        return
    with transaction.atomic():
        evidence.status = Status.ACCEPTED
        evidence.save(update_fields=["status"])
        Review.objects.create(
            evidence=evidence,
            outcome=Status.ACCEPTED,
            feedback="Clear account of what you did and why.",
            assessor=assessor,
        )
        record(
            "evidence.accepted",
            actor=assessor,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{assessor} accepted '{evidence.title}'",
            data={"title": evidence.title},
        )
        Mapping.objects.bulk_create(
            [
                Mapping(
                    evidence=evidence,
                    criterion=criterion,
                    note=f"Shown in the account: {criterion.nos_wording}.",
                    assessor=assessor,
                )
                for criterion in evidence.claimed_criteria.all()
            ]
        )


def _witness(evidence, statement: str, status: str) -> None:
    now = timezone.now()
    answered = status == WitnessTestimony.Status.CONFIRMED
    testimony = WitnessTestimony.objects.create(
        evidence=evidence,
        witness_name="Sam Okafor",
        witness_job_title="Duty manager",
        relationship="My line manager",
        not_a_relative=True,
        witness_email="sam.okafor@example.org",
        statement=statement,
        status=status,
        sent_at=now - datetime.timedelta(days=5),
        expires_at=now + datetime.timedelta(days=9),
        responded_at=now - datetime.timedelta(days=4) if answered else None,
        confirmed_name="Sam Okafor" if answered else "",
        response_ip="192.0.2.10" if answered else None,
    )
    if answered:
        record(
            "witness.confirmed",
            actor=None,
            actor_label="Witness Sam Okafor",
            obj=testimony,
            portfolio=evidence.portfolio,
            summary=f"Witness Sam Okafor confirmed the statement on '{evidence.title}'",
            data={"evidence": evidence.pk},
        )
