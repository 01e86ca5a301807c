"""Progress across a qualification in Chromium: each page that shows it passes axe-core's WCAG
checks and fits a 390-pixel phone without scrolling sideways."""

import pytest

from assessments.models import Mapping
from portfolio.models import Portfolio
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import EvidenceFactory
from tests.test_enrolments import centre_people, enrol
from tests.test_progress import CERTIFICATE, qualification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def enrolment(tmp_path):
    people = centre_people()
    enrolment = enrol(qualification(tmp_path, CERTIFICATE), people)
    m1, m2, *_ = enrolment.portfolios.order_by("unit__code")
    item = EvidenceFactory(portfolio=m1, status="accepted", claims=["P1"])
    item.claimed_criteria.add(m2.unit.criteria.get())
    Mapping.objects.create(
        evidence=item, criterion=m2.unit.criteria.get(), note="", assessor=m2.assessor
    )
    enrolment.portfolios.filter(unit__code__in=["M2", "O2"]).update(
        status=Portfolio.Status.VERIFIED
    )
    return enrolment, people


def pages(enrolment, people):
    pk = enrolment.pk
    return [
        (people["learner"], "/learner/"),
        (people["learner"], f"/enrolments/{pk}/"),
        (people["learner"], f"/enrolments/{pk}/matrix/"),
        (people["assessor"], "/assessor/"),
        (people["iqa"], "/iqa/"),
        (people["admin"], f"/enrolments/{pk}/"),
        (people["admin"], "/centre/qualifications/"),
        (people["admin"], "/centre/qualifications/?achievement=not_yet"),
        (people["admin"], "/centre/"),
    ]


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_progress_pages_pass_the_checks_and_fit_a_phone(open_page, enrolment, viewport):
    found = {}
    for user, path in pages(*enrolment):
        page = open_page(path, user=user, viewport=viewport)
        assert page.get_by_text("Page not found").count() == 0, path
        problems = violations(page)
        if viewport and has_horizontal_scroll(page):
            problems.append("scrolls sideways")
        if problems:
            found[path, user.username] = problems
        page.context.close()

    assert found == {}
    learner_home = open_page("/learner/", user=enrolment[1]["learner"])
    bar = learner_home.get_by_role("progressbar", name="Credits achieved: 9 of 28 credits")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("9", "28")
