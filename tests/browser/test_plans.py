"""The assessor plans three activities and issues the plan; the learner, on a phone 390 pixels
wide, accepts it and links evidence to an activity, which turns done once the evidence is
accepted. axe finds nothing on the pages, and none scrolls sideways on the phone."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import AssessmentPlan, Signature
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import PASSWORD, EvidenceFactory, PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def portfolio():
    c4_unit()
    return PortfolioFactory(
        learner=UserFactory(learner=True, first_name="Amy", last_name="Learner"),
        assessor=UserFactory(assessor=True, first_name="Ann", last_name="Bramwell"),
    )


def plan_activity(page, title: str, method: str, days: int, place: str = "") -> None:
    page.get_by_role("link", name="Add an activity").click()
    page.get_by_role("heading", name="Plan an activity").wait_for()
    page.get_by_label("Activity").fill(title)
    page.get_by_label("Method").select_option(label=method)
    day = timezone.localdate() + datetime.timedelta(days=days)
    page.get_by_label("Target date").fill(day.isoformat())
    if place:
        page.get_by_label("Where the observation will happen").fill(place)
    page.get_by_role("button", name="Add to the plan").click()
    page.get_by_text(f"'{title}' is planned.").wait_for()


def test_a_plan_is_issued_accepted_on_a_phone_and_fulfilled(open_page, portfolio):
    enrolment = portfolio.enrolment
    page = open_page(f"/enrolments/{enrolment.pk}/plan/", user=portfolio.assessor, viewport=DESKTOP)
    page.get_by_role("button", name="Start a plan").click()
    page.get_by_role("heading", name="Being written: version 1").wait_for()
    plan_activity(page, "Observation at a busy time", "Direct observation", 14, "Returns desk")
    plan_activity(page, "Discussion of a complaint", "Professional discussion", 21)
    plan_activity(page, "Reflective account of a quiet day", "Reflective account", 28)
    assert violations(page) == []
    page.get_by_role("link", name="Issue version 1").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and issue").click()
    page.get_by_role("heading", name="The plan in force: version 1").wait_for()

    item = EvidenceFactory(portfolio=portfolio, title="Saturday rush", status="submitted")
    phone = open_page("/learner/", user=portfolio.learner, viewport=PHONE)
    phone.get_by_role("link", name="Accept your assessment plan (version 1)").click()
    phone.get_by_role("heading", name="Accept the plan").wait_for()
    assert violations(phone) == []
    assert not has_horizontal_scroll(phone)
    phone.get_by_label("Your password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign and accept").click()
    phone.get_by_text("You have accepted version 1 of your plan.").wait_for()

    phone.goto(phone.url.split("/plans/")[0] + f"/enrolments/{enrolment.pk}/plan/")
    phone.get_by_label("Evidence to link to Discussion of a complaint").select_option(
        label="Saturday rush (submitted)"
    )
    phone.get_by_role("button", name="Link to Discussion of a complaint").click()
    phone.get_by_text("'Saturday rush' is linked to 'Discussion of a complaint'.").wait_for()
    assert violations(phone) == []
    assert not has_horizontal_scroll(phone)

    item.status = "accepted"
    item.save()
    phone.reload()
    phone.get_by_text("1 of 3 activities done").wait_for()
    row = phone.locator("tr", has_text="Discussion of a complaint")
    assert row.locator(".activity-done").is_visible()
    plan = AssessmentPlan.objects.get(enrolment=enrolment)
    assert plan.status == AssessmentPlan.Status.ACCEPTED
    assert sorted(Signature.objects.filter(plan=plan).values_list("kind", flat=True)) == [
        "plan_assessor",
        "plan_learner",
    ]
