"""Browser test: a person chooses the daily digest on their messages settings page, and their
home lists what waits for them, oldest first; axe finds nothing on either, on a desktop and at
390 px."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import ObservationRecord, Review
from portfolio.models import EvidenceItem, Notification, User
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import EvidenceFactory, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def learner_with_work(db):
    c4_unit()
    portfolio = PortfolioFactory()
    referred = EvidenceFactory(
        portfolio=portfolio, status=EvidenceItem.Status.REFERRED_BACK, title="Refund queue"
    )
    assessor = portfolio.assessor
    review = Review.objects.create(
        evidence=referred, outcome="referred_back", feedback="Say more.", assessor=assessor
    )
    Review.objects.filter(pk=review.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    observed = EvidenceFactory(
        portfolio=portfolio,
        status=EvidenceItem.Status.ACCEPTED,
        method=EvidenceItem.Method.OBSERVATION,
        title="Returns desk visit",
        recorded_by=portfolio.assessor,
    )
    ObservationRecord.objects.create(evidence=observed, place="Returns desk", duration_minutes=30)
    Notification.objects.create(
        recipient=portfolio.learner,
        kind=Notification.Kind.RECORD_TO_CONFIRM,
        evidence=observed,
        link=observed.get_absolute_url(),
        message="Your assessor recorded an observation: read it and confirm it",
    )
    return portfolio.learner


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_learner_sees_what_waits_and_chooses_the_daily_digest(
    open_page, learner_with_work, viewport
):
    page = open_page("/learner/", user=learner_with_work, viewport=viewport)

    waiting = page.get_by_role("region", name="Waiting for you")
    items = waiting.get_by_role("listitem")
    assert items.count() == 2
    assert "Change and resubmit 'Refund queue'" in items.nth(0).inner_text()  # the older first
    assert "Confirm the observation record 'Returns desk visit'" in items.nth(1).inner_text()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    if viewport is PHONE:
        page.get_by_role("button", name="Show navigation").click()
    page.get_by_role("link", name="Messages 1 new").click()
    page.get_by_role("link", name="Choose how you are e-mailed").click()
    assert page.get_by_role("heading", level=1).inner_text() == "How you are told of messages"
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    page.get_by_label("One daily digest of the day's messages").check()
    page.get_by_role("button", name="Save").click()

    assert page.get_by_text("Your choice is saved.").is_visible()
    assert page.get_by_label("One daily digest of the day's messages").is_checked()
    assert violations(page) == []
    learner_with_work.refresh_from_db()
    assert learner_with_work.notification_email == User.NotificationEmail.DIGEST
