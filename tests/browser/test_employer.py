"""The employer's pages on a phone, checked with axe-core, and the witness form filled from the
workplace's contacts by its script, without posting anything."""

import pytest

from tests.browser.conftest import PHONE, has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import (
    ActivityFactory,
    EvidenceFactory,
    PlanFactory,
    PortfolioFactory,
    UserFactory,
    WorkplaceContactFactory,
    WorkplaceFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(c4):
    workplace = WorkplaceFactory(organisation="Harbour Hotels", employer_sees_evidence=True)
    employer = UserFactory(first_name="Morag", last_name="Sutherland", is_employer=True)
    WorkplaceContactFactory(
        workplace=workplace,
        name="Morag Sutherland",
        job_title="Front office manager",
        email="morag@harbour.example",
        user=employer,
    )
    portfolio = PortfolioFactory(workplace=workplace)
    EvidenceFactory(portfolio=portfolio, title="Refund at the bar", status="submitted")
    ActivityFactory(plan=PlanFactory(enrolment=portfolio.enrolment), title="Observation")
    return employer, portfolio


def test_the_employer_pages_read_well_on_a_phone(open_page, scene):
    employer, portfolio = scene

    for path in ("/employer/", f"/employer/enrolments/{portfolio.enrolment_id}/"):
        page = open_page(path, user=employer, viewport=PHONE)
        assert violations(page) == [], path
        assert not has_horizontal_scroll(page), path


def test_a_contact_fills_the_witness_details_in_place(open_page, scene):
    _, portfolio = scene
    item = EvidenceFactory(portfolio=portfolio, method="witness")
    page = open_page(f"/evidence/{item.pk}/witness/", user=portfolio.learner, viewport=PHONE)
    page.get_by_label("What the witness saw").fill("I saw them calm an upset guest.")
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    # The pressed button's colours are checked as they end, not half way through Bootstrap's
    # transition, which it leaves out for those who ask for less motion.
    page.emulate_media(reduced_motion="reduce")

    page.get_by_role("button", name="Use Morag Sutherland (Front office manager)").click()

    assert page.get_by_label("Witness name").input_value() == "Morag Sutherland"
    assert page.get_by_label("Witness's job title").input_value() == "Front office manager"
    assert page.get_by_label("Witness's e-mail address").input_value() == "morag@harbour.example"
    assert page.get_by_label("What the witness saw").input_value() == (
        "I saw them calm an upset guest."
    )
    assert page.get_by_role("status").filter(has_text="filled from Morag").count() == 1
    assert posts == []  # filled by the script, not by the form coming back
    assert violations(page) == []
