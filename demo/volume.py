"""A large centre's volumes for benchmarks: every generated learner (all but the three story
learners) gets a portfolio's worth of evidence, reviews, mappings, criterion decisions, IQA
samples, notifications and audit entries, as far on as their start date suggests. Everything
is written with bulk inserts, a hundred portfolios to a transaction, so that
``seed_demo --learners 2000`` (some 100,000 evidence items) takes minutes."""

import datetime
from collections.abc import Callable, Iterator
from itertools import islice

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from assessments.models import (
    CriterionDecision,
    IqaSample,
    Mapping,
    Review,
    SignableRecord,
)
from assessments.quality import sample_record
from audit.chain import record_many
from audit.models import AuditEntry
from demo.centre import ANSWERS, SCENARIOS, STORIES
from portfolio.models import CriterionClaim, EvidenceItem, Notification, Portfolio
from units.models import Criterion

Status = EvidenceItem.Status
BATCH = 100
# A learner is complete after about eight months; each has 30 to 70 evidence items.
MONTHS_TO_COMPLETE_DAYS = 240
METHODS = [
    EvidenceItem.Method.REFLECTIVE,
    EvidenceItem.Method.WORK_PRODUCT,
    EvidenceItem.Method.REFLECTIVE,
    EvidenceItem.Method.OBSERVATION,
    EvidenceItem.Method.DISCUSSION,
]
RECORDED_BY_ASSESSOR = {EvidenceItem.Method.OBSERVATION, EvidenceItem.Method.DISCUSSION}
SAMPLE_EVERY = 4  # every fourth portfolio well under way has an IQA's interim sample


def _chunks(iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def seed_volume(unit, progress: Callable[[int, int], None] | None = None) -> int:
    """Fill every generated learner's portfolio that has no evidence yet; returns the evidence
    items created. ``progress(done, total)`` is called after each batch."""
    portfolios = (
        Portfolio.objects.filter(unit=unit)
        .exclude(learner__username__in=STORIES)
        .exclude(Exists(EvidenceItem.objects.filter(portfolio=OuterRef("pk"))))
        .select_related("learner", "assessor", "iqa")
        .order_by("pk")
    )
    total = portfolios.count()
    if not total:
        return 0
    criteria = list(unit.criteria.order_by("pk"))
    performance = [c for c in criteria if c.kind == Criterion.Kind.PERFORMANCE]
    knowledge = [c for c in criteria if c.kind == Criterion.Kind.KNOWLEDGE]
    contexts = list(unit.contexts.order_by("letter"))
    created = done = 0
    for batch in _chunks(portfolios.iterator(chunk_size=BATCH), BATCH):
        with transaction.atomic():
            created += _Batch(batch, criteria, performance, knowledge, contexts).write()
        done += len(batch)
        if progress:
            progress(done, total)
    return created


class _Batch:
    """The records of up to a hundred portfolios, built in memory and inserted together."""

    def __init__(self, portfolios, criteria, performance, knowledge, contexts):
        self.portfolios = portfolios
        self.criteria, self.performance, self.knowledge = criteria, performance, knowledge
        self.contexts = contexts
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.audit: list[AuditEntry] = []

    def write(self) -> int:
        plans = [(portfolio, self._plan(portfolio)) for portfolio in self.portfolios]
        items = [item for _, plan in plans for item, _ in plan]
        EvidenceItem.objects.bulk_create(items, batch_size=500)
        claims, contexts, reviews, mappings, notifications = [], [], [], [], []
        through = EvidenceItem.contexts.through
        for portfolio, plan in plans:
            for item, (claimed, letters) in plan:
                claims += [CriterionClaim(evidence=item, criterion=c) for c in claimed]
                contexts += [
                    through(evidenceitem_id=item.pk, evidencecontext_id=self.contexts[i].pk)
                    for i in letters
                ]
                self._audit(item, portfolio.learner, "evidence.created", "added evidence")
                if item.status == Status.DRAFT:
                    continue
                self._audit(item, portfolio.learner, "evidence.submitted", "submitted")
                if item.status in EvidenceItem.AWAITING_REVIEW:
                    notifications.append(
                        Notification(
                            recipient=portfolio.assessor,
                            evidence=item,
                            message=f"{portfolio.learner} submitted '{item.title}' for review.",
                        )
                    )
                    continue
                reviews.append(self._review(item, portfolio.assessor))
                self._audit(
                    item,
                    portfolio.assessor,
                    f"evidence.{item.status}",
                    Status(item.status).label.lower(),
                )
                if item.status == Status.ACCEPTED:
                    mappings += [
                        Mapping(
                            evidence=item,
                            criterion=criterion,
                            note=f"Shown in the account: {criterion.nos_wording}.",
                            assessor=portfolio.assessor,
                        )
                        for criterion in claimed
                    ]
        CriterionClaim.objects.bulk_create(claims, batch_size=2000)
        through.objects.bulk_create(contexts, batch_size=2000)
        Review.objects.bulk_create(reviews, batch_size=1000)
        Mapping.objects.bulk_create(mappings, batch_size=1000)
        Notification.objects.bulk_create(notifications, batch_size=1000)
        self._decide(plans, mappings)
        record_many(self.audit)
        # Inserted in bulk, past the receivers: a record stored before (a page showed the empty
        # portfolio) is made afresh, so the IQA signs the portfolio as it is now.
        SignableRecord.objects.filter(portfolio__in=self.portfolios).delete()
        self._sample(plans)
        return len(items)

    def _plan(self, portfolio: Portfolio) -> list[tuple[EvidenceItem, tuple[list, list[int]]]]:
        """The portfolio's evidence, oldest first, with its claimed criteria and contexts."""
        number = int(portfolio.learner.username.removeprefix("learner") or 0)
        days = max((self.today - portfolio.start_date).days, 1)
        share = min(days / MONTHS_TO_COMPLETE_DAYS, 1.0)  # how far on the learner is
        count = 30 + (number * 13) % 41
        plan = []
        for i in range(count):
            scenario = SCENARIOS[(number + i) % len(SCENARIOS)]
            method = METHODS[(number + i) % len(METHODS)]
            occurred = portfolio.start_date + datetime.timedelta(days=days * (i + 1) // (count + 1))
            position = i / count
            if position < share * 0.8:
                status = Status.ACCEPTED
            elif position < share * 0.85:
                status = Status.REFERRED_BACK
            elif position < share:
                status = Status.SUBMITTED
            else:
                status = Status.DRAFT
            submitted = self._at(occurred, 1) if status != Status.DRAFT else None
            item = EvidenceItem(
                portfolio=portfolio,
                title=f"{scenario.title} ({occurred:%d %b})",
                method=method,
                occurred_on=occurred,
                setting=EvidenceItem.Setting.REAL_PAID,
                customer=(EvidenceItem.Customer.EXTERNAL, EvidenceItem.Customer.INTERNAL)[i % 2],
                customer_reference=f"Customer {i + 1}",
                account=scenario.account,
                recorded_by=portfolio.assessor if method in RECORDED_BY_ASSESSOR else None,
                status=status,
                declared_at=submitted,
                submitted_at=submitted,
            )
            claimed = [self.performance[(3 * (number + i) + k) % len(self.performance)]
                       for k in range(3)]  # fmt: skip
            letters = [i % len(self.contexts)] + ([(i + 1) % len(self.contexts)] if i % 3 else [])
            plan.append((item, (claimed, letters)))
        answered = round(len(self.knowledge) * share) if share > 0.5 else 0
        for criterion in self.knowledge[:answered]:
            occurred = self.today - datetime.timedelta(days=max(days // 4, 1))
            item = EvidenceItem(
                portfolio=portfolio,
                title=f"Answer to the question for {criterion.label}",
                method=EvidenceItem.Method.QUESTIONING,
                occurred_on=occurred,
                account=ANSWERS.get(criterion.nos_code, ANSWERS[next(iter(ANSWERS))]),
                answers_question=criterion,
                status=Status.ACCEPTED,
                declared_at=self._at(occurred, 0),
                submitted_at=self._at(occurred, 0),
            )
            plan.append((item, ([criterion], [])))
        return plan

    def _at(self, day: datetime.date, later: int) -> datetime.datetime:
        moment = datetime.datetime.combine(
            min(day + datetime.timedelta(days=later), self.today), datetime.time(16, 30)
        )
        return min(timezone.make_aware(moment), self.now)

    def _review(self, item: EvidenceItem, assessor) -> Review:
        if item.status == Status.ACCEPTED:
            return Review(
                evidence=item,
                outcome=Status.ACCEPTED,
                feedback="Clear account of what you did and why.",
                assessor=assessor,
            )
        return Review(
            evidence=item,
            outcome=Status.REFERRED_BACK,
            feedback="Say what the customer did that showed you how they felt, and what you "
            "said back. Then resubmit.",
            assessor=assessor,
        )

    def _audit(self, obj, actor, action: str, verb: str, portfolio=None) -> None:
        portfolio = portfolio or obj.portfolio
        self.audit.append(
            AuditEntry(
                created_at=self.now,
                actor=actor,
                actor_label=str(actor),
                action=action,
                portfolio_id=portfolio.pk,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                summary=f"{actor} {verb} '{obj}'"[:300],
            )
        )

    def _decide(self, plans, mappings: list[Mapping]) -> None:
        """Each portfolio's criteria met so far, each citing up to two confirming items."""
        confirming: dict[tuple[int, int], list[int]] = {}
        for mapping in mappings:
            key = (mapping.evidence.portfolio_id, mapping.criterion_id)
            confirming.setdefault(key, []).append(mapping.evidence_id)
        decisions, cited = [], []
        for portfolio, plan in plans:
            share = sum(item.status == Status.ACCEPTED for item, _ in plan) / len(plan)
            met = [c for c in self.criteria if (portfolio.pk, c.pk) in confirming]
            for criterion in met[: round(len(met) * share)]:
                decision = CriterionDecision(
                    portfolio=portfolio, criterion=criterion, decided_by=portfolio.assessor
                )
                decisions.append(decision)
                cited.append(confirming[(portfolio.pk, criterion.pk)][:2])
        CriterionDecision.objects.bulk_create(decisions, batch_size=1000)
        through = CriterionDecision.cited.through
        through.objects.bulk_create(
            [
                through(criteriondecision_id=decision.pk, evidenceitem_id=evidence)
                for decision, evidence_ids in zip(decisions, cited, strict=True)
                for evidence in evidence_ids
            ],
            batch_size=2000,
        )
        for decision in decisions:
            self._audit(
                decision,
                decision.decided_by,
                "decision.met",
                "marked met",
                portfolio=decision.portfolio,
            )

    def _sample(self, plans) -> None:
        """An interim sample, signed by the IQA, of every fourth portfolio well under way, made
        as the IQA makes one."""
        for index, (portfolio, plan) in enumerate(plans):
            accepted = [item for item, _ in plan if item.status == Status.ACCEPTED]
            if index % SAMPLE_EVERY or len(accepted) < 3 or portfolio.iqa is None:
                continue
            sample_record(
                portfolio=portfolio,
                iqa=portfolio.iqa,
                stage=IqaSample.Stage.INTERIM,
                outcome=IqaSample.Outcome.AGREE,
                comment="Assessment decisions are consistent and the mapping is precise.",
                items=[(item, None, "Authentic and current.") for item in accepted[:3]],
                actions=[],
            )
