"""Each sufficiency rule: the passing case, and one failing case with its sentence."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import CriterionDecision, Mapping
from assessments.sufficiency import coverage_for
from portfolio.models import EvidenceItem
from tests.assessing import sufficient
from tests.factories import EvidenceFactory

pytestmark = pytest.mark.django_db


def unmet(portfolio):
    return coverage_for([portfolio])[portfolio.pk].unmet


def test_a_complete_portfolio_is_sufficient(portfolio):
    sufficient(portfolio)

    coverage = coverage_for([portfolio])[portfolio.pk]
    assert coverage.unmet == []
    assert coverage.is_sufficient
    assert len(coverage.met) == 27


def test_every_criterion_must_be_met(portfolio):
    sufficient(portfolio)
    CriterionDecision.objects.filter(criterion__nos_code__in=["P9", "K6"]).update(
        withdrawn_at=timezone.now()
    )

    assert unmet(portfolio) == ["Not yet marked met by the assessor: 2.2 (P9) and 3.6 (K6)."]


def test_performance_must_rest_on_real_work_not_simulation(portfolio):
    sufficient(portfolio)
    p1 = portfolio.unit.criteria.get(nos_code="P1")
    simulated = EvidenceFactory(
        portfolio=portfolio, status="accepted", setting="simulation", claims=["P1"]
    )
    Mapping.objects.create(
        evidence=simulated, criterion=p1, note="role play", assessor=portfolio.assessor
    )
    CriterionDecision.objects.get(criterion=p1).cited.set([simulated])

    assert unmet(portfolio) == [
        "1.1 (P1) must be shown by accepted evidence from real work, not simulation."
    ]


def test_each_context_needs_accepted_performance_evidence(portfolio):
    sufficient(portfolio)
    let_down = EvidenceItem.objects.get(contexts__letter="d")
    let_down.contexts.clear()

    assert (
        "No accepted performance evidence yet for context d (when people, systems or resources "
        "have let the learner down)." in unmet(portfolio)
    )


def test_a_context_on_evidence_not_yet_accepted_does_not_count(portfolio):
    sufficient(portfolio)
    EvidenceItem.objects.filter(contexts__letter="b").update(status="submitted")

    assert (
        "No accepted performance evidence yet for context b (during a busy time in the "
        "learner's job)." in unmet(portfolio)
    )


def test_the_occasions_must_reach_the_threshold(portfolio):
    sufficient(portfolio)
    first = EvidenceItem.objects.filter(contexts__letter="a").get()
    EvidenceItem.objects.filter(contexts__letter="b").update(occurred_on=first.occurred_on)

    assert "Different occasions in accepted evidence: 3, at least 4 needed." in unmet(portfolio)


def test_the_customers_must_reach_the_threshold(portfolio):
    sufficient(portfolio)
    EvidenceItem.objects.filter(customer_reference__startswith="Customer").update(
        customer_reference="Customer 0"
    )

    assert "Different customers in accepted evidence: 1, at least 3 needed." in unmet(portfolio)


def test_the_period_must_reach_the_threshold(portfolio):
    sufficient(portfolio)
    today = timezone.localdate()
    for n, item in enumerate(EvidenceItem.objects.filter(answers_question__isnull=True)):
        item.occurred_on = today - datetime.timedelta(days=n)
        item.save()

    assert "First occasion to last in accepted evidence: 3 days, at least 28 needed." in unmet(
        portfolio
    )


def test_claims_alone_never_count_towards_sufficiency(portfolio):
    EvidenceFactory(portfolio=portfolio, status="submitted", contexts="abcd", claims=["P1"])

    coverage = coverage_for([portfolio])[portfolio.pk]

    assert coverage.contexts_covered == {"a", "b", "c", "d"}
    assert coverage.accepted_contexts == set()
    assert not coverage.is_sufficient
