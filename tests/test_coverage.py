"""Coverage: what the learner has put forward, and what is missing, in plain words."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import Mapping
from assessments.sufficiency import coverage_for
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def coverage(portfolio):
    return coverage_for([portfolio])[portfolio.pk]


def test_a_new_portfolio_lacks_everything(portfolio):
    result = coverage(portfolio)

    assert (len(result.claimed), len(result.confirmed), result.total) == (0, 0, 27)
    assert result.missing[:4] == [
        "No evidence yet during routine delivery of customer service (context a).",
        "No evidence yet during a busy time in your job (context b).",
        "No evidence yet during a quiet time in your job (context c).",
        "No evidence yet when people, systems or resources have let you down (context d).",
    ]
    assert (
        "No evidence put forward yet for 1.1 (P1), 1.2 (P2), 1.3 (P3), 1.4 (P4), 1.5 (P5), "
        "1.6 (P6), 1.7 (P7), 2.1 (P8), 2.2 (P9), 2.3 (P10), 2.4 (P11), 2.5 (P12), 2.6 (P13), "
        "2.7 (P14), 2.8 (P15), 2.9 (P16) and 2.10 (P17)." in result.missing
    )
    assert "3.6 (K6) has no answer yet." in result.missing
    assert "Different occasions in your evidence: 0, at least 4 needed." in result.missing
    assert "Different customers in your evidence: 0, at least 3 needed." in result.missing


def test_submitted_performance_evidence_covers_its_contexts(portfolio):
    EvidenceFactory(portfolio=portfolio, status="submitted", contexts="ab", claims=["P1"])

    result = coverage(portfolio)

    assert result.contexts_covered == {"a", "b"}
    assert not any("(context a)" in line for line in result.missing)
    assert "No evidence yet during a quiet time in your job (context c)." in result.missing


@pytest.mark.parametrize("status", ["draft", "referred_back"])
def test_drafts_and_referred_back_evidence_do_not_count(portfolio, status):
    EvidenceFactory(portfolio=portfolio, status=status, contexts="a", claims=["P1"])

    result = coverage(portfolio)

    assert result.contexts_covered == set()
    assert result.claimed == set()


def test_simulated_evidence_shows_no_context(portfolio):
    EvidenceFactory(
        portfolio=portfolio, status="submitted", setting="simulation", contexts="a", claims=["K1"]
    )

    assert coverage(portfolio).contexts_covered == set()


def test_knowledge_only_evidence_shows_no_context_or_occasion(portfolio):
    EvidenceFactory(portfolio=portfolio, status="submitted", contexts="a", claims=["K1"])

    result = coverage(portfolio)

    assert result.contexts_covered == set()
    assert result.occasions == set()


def test_occasions_are_days_and_customers_are_their_references(portfolio):
    for days, customer in [(40, "Cust 1"), (40, "cust  1 "), (20, "Cust 2"), (5, "Cust 3")]:
        EvidenceFactory(
            portfolio=portfolio,
            status="accepted",
            occurred_on=days_ago(days),
            customer_reference=customer,
            contexts="a",
            claims=["P8"],
        )

    result = coverage(portfolio)

    assert len(result.occasions) == 3
    assert result.customers == {"cust 1", "cust 2", "cust 3"}
    assert result.period_days == 35
    assert "Different occasions in your evidence: 3, at least 4 needed." in result.missing
    # Three customers over 35 days: both thresholds are met, so neither is listed.
    assert not any(line.startswith("Different customers") for line in result.missing)
    assert not any(line.startswith("First occasion to last") for line in result.missing)


def test_a_short_period_is_explained(portfolio):
    EvidenceFactory(
        portfolio=portfolio, status="submitted", occurred_on=days_ago(10), claims=["P1"]
    )
    EvidenceFactory(portfolio=portfolio, status="submitted", occurred_on=days_ago(3), claims=["P1"])

    assert (
        "First occasion to last in your evidence: 7 days, at least 28 needed."
        in coverage(portfolio).missing
    )


def test_knowledge_answers_are_tracked_by_state(portfolio):
    unit = portfolio.unit
    for code, status in [("K1", "submitted"), ("K2", "draft"), ("K3", "referred_back")]:
        EvidenceFactory(
            portfolio=portfolio,
            status=status,
            method="questioning",
            answers_question=unit.criteria.get(nos_code=code),
            claims=[code],
        )

    missing = coverage(portfolio).missing

    assert not any("(K1)" in line for line in missing)
    assert "Your answer for 3.2 (K2) is a draft: submit it." in missing
    assert (
        "Your answer for 3.3 (K3) was referred back: read the feedback and resubmit it." in missing
    )
    assert "3.4 (K4) has no answer yet." in missing


def test_confirmed_counts_only_the_assessors_mappings_on_accepted_evidence(portfolio):
    accepted = EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1", "P2"])
    Mapping.objects.create(
        evidence=accepted,
        criterion=portfolio.unit.criteria.get(nos_code="P1"),
        note="paragraph 2",
        assessor=portfolio.assessor,
    )

    result = coverage(portfolio)

    assert len(result.claimed) == 2
    assert [c.nos_code for c in result.criteria if c.pk in result.confirmed] == ["P1"]


@pytest.mark.parametrize("portfolios", [1, 8])
def test_it_runs_eight_queries_for_any_number_of_portfolios(
    c4, django_assert_num_queries, portfolios
):
    batch = PortfolioFactory.create_batch(portfolios)
    for portfolio in batch:
        EvidenceFactory.create_batch(3, portfolio=portfolio, status="submitted", contexts="ab")
    batch = list(type(batch[0]).objects.select_related("unit"))

    # Expect 8 queries: the units' criteria, their contexts, the evidence, its claims, its
    # contexts, the assessors' mappings, the criterion decisions, the evidence they cite
    with django_assert_num_queries(8):
        coverage_for(batch)
