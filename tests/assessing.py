"""Build portfolios at the stages an assessor meets them."""

import datetime

from django.utils import timezone

from assessments.models import CriterionDecision, Mapping
from portfolio.signable import batched
from tests.factories import EvidenceFactory

# Four occasions, one context each, spread over 55 days, with four different customers.
OCCASIONS = [("a", 60), ("b", 40), ("c", 20), ("d", 5)]


@batched()
def sufficient(portfolio, *, decide=True):
    """Accepted, mapped evidence for every criterion and context, and (with ``decide``) every
    criterion marked met: a portfolio the assessor may sign off."""
    unit, assessor = portfolio.unit, portfolio.assessor
    criteria = list(unit.criteria.order_by("position"))
    performance = [c for c in criteria if c.is_performance]
    today = timezone.localdate()
    cited = {}
    for n, (letter, days) in enumerate(OCCASIONS):
        item = EvidenceFactory(
            portfolio=portfolio,
            status="accepted",
            contexts=letter,
            occurred_on=today - datetime.timedelta(days=days),
            customer_reference=f"Customer {n}",
            claims=[c.nos_code for c in performance],
        )
        Mapping.objects.bulk_create(
            Mapping(evidence=item, criterion=c, note=f"Paragraph {n + 1}", assessor=assessor)
            for c in performance
        )
        for criterion in performance:
            cited.setdefault(criterion.pk, item)
    for criterion in criteria:
        if criterion.is_performance:
            continue
        answer = EvidenceFactory(
            portfolio=portfolio,
            status="accepted",
            method="questioning",
            answers_question=criterion,
            setting="",
            customer="",
            customer_reference="",
            claims=[criterion.nos_code],
        )
        Mapping.objects.create(
            evidence=answer, criterion=criterion, note="The whole answer", assessor=assessor
        )
        cited[criterion.pk] = answer
    if decide:
        for criterion in criteria:
            decision = CriterionDecision.objects.create(
                portfolio=portfolio, criterion=criterion, decided_by=assessor
            )
            decision.cited.set([cited[criterion.pk]])
    return portfolio
