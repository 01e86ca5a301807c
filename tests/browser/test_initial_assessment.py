"""The assessor records the initial assessment in a browser, is told what is missing without
losing what was typed, and the learner reads it on a phone; every page passes the WCAG check."""

import pytest

from assessments.models import InitialAssessment
from portfolio.models import EvidenceItem
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import EvidenceFactory, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def portfolio():
    c4_unit()
    portfolio = PortfolioFactory()
    EvidenceFactory(
        portfolio=portfolio,
        title="Customer service certificate",
        method=EvidenceItem.Method.PRIOR_LEARNING,
        status="submitted",
    )
    return portfolio


def test_the_assessor_records_it_and_the_learner_reads_it_on_a_phone(open_page, portfolio):
    page = open_page(f"/portfolios/{portfolio.pk}/", user=portfolio.assessor)
    page.get_by_role("link", name="Record the initial assessment").click()
    outcomes = list(portfolio.unit.outcomes.order_by("number"))
    assert violations(page) == []

    page.get_by_label("What was learnt before (1)").fill("Level 2 certificate, 2021")
    page.get_by_role("button", name="Save the initial assessment").click()

    summary = page.get_by_role("alert")
    assert "Choose where the learner starts on outcome 1." in summary.inner_text()
    assert page.get_by_label("What was learnt before (1)").input_value() == (
        "Level 2 certificate, 2021"
    )
    assert violations(page) == []
    for outcome in outcomes:
        page.locator(f"#div_id_level_{outcome.pk}").get_by_label("Some experience").check()
    page.get_by_label("Evidence item that shows it (1)").select_option(index=1)
    page.get_by_role("button", name="Save the initial assessment").click()

    page.wait_for_url(f"**/portfolios/{portfolio.pk}/")
    assert "1 piece of prior learning claimed." in page.inner_text("#initial-heading + p")
    assert InitialAssessment.objects.get(portfolio=portfolio).prior_learning.count() == 1

    learner = open_page(
        f"/portfolios/{portfolio.pk}/initial-assessment/", user=portfolio.learner, viewport=PHONE
    )
    assert learner.get_by_role("cell", name="Some experience").count() == len(outcomes)
    assert learner.get_by_role("link", name="Customer service certificate").count() == 1
    assert not has_horizontal_scroll(learner)
    assert violations(learner) == []
