"""The assessor marks several criteria met in one post and signs the unit off from the same page,
with the keyboard alone, on a desktop and on a phone."""

import pytest

from assessments.models import CriterionDecision, Mapping, Signature
from portfolio.models import Portfolio
from tests.assessing import sufficient
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.browser.test_keyboard import sign_in_by_keyboard, tab_to
from tests.factories import PASSWORD, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEFT_TO_DECIDE = ["P1", "P8", "K1"]


@pytest.fixture
def portfolio():
    """Sufficient but for three criteria not yet marked met, though confirmed on evidence."""
    c4_unit()
    portfolio = sufficient(PortfolioFactory(), decide=False)
    for criterion in portfolio.unit.criteria.exclude(nos_code__in=LEFT_TO_DECIDE):
        mapping = Mapping.objects.filter(criterion=criterion).order_by("pk").first()
        CriterionDecision.objects.create(
            portfolio=portfolio, criterion=criterion, decided_by=portfolio.assessor
        ).cited.set([mapping.evidence])
    return portfolio


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_assessor_marks_criteria_met_and_signs_off_with_the_keyboard(
    browser, live_server, portfolio, viewport
):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url.removeprefix(live_server.url))
            if request.method != "GET"
            else None
        ),
    )
    decisions = f"/portfolios/{portfolio.pk}/decisions/"
    sign_in_by_keyboard(page, live_server.url, portfolio.assessor)

    page.goto(f"{live_server.url}/portfolios/{portfolio.pk}/")
    tab_to(page, page.get_by_role("link", name="Decisions and sign-off"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{decisions}")
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    assert page.get_by_label("Your password").count() == 0
    if viewport is PHONE:
        # One box ticks every criterion listed.
        tab_to(page, page.get_by_label("Mark every criterion listed met"))
        page.keyboard.press("Space")
        for label in ("1.1 (P1)", "2.1 (P8)", "3.1 (K1)"):
            assert page.get_by_label(f"Mark {label} met").is_checked()
    else:
        for label in ("1.1 (P1)", "2.1 (P8)", "3.1 (K1)"):
            tab_to(page, page.get_by_label(f"Mark {label} met"))
            page.keyboard.press("Space")
        assert page.get_by_label("Mark every criterion listed met").is_checked()
    tab_to(page, page.get_by_role("button", name="Mark the ticked criteria met"))
    page.keyboard.press("Enter")
    page.get_by_text("are marked met.").wait_for()

    assert CriterionDecision.objects.active().filter(portfolio=portfolio).count() == 27
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    tab_to(page, page.get_by_label("Your password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("The unit is signed off.").wait_for()

    portfolio.refresh_from_db()
    assert portfolio.status == Portfolio.Status.ASSESSED
    assert Signature.objects.filter(portfolio=portfolio).count() == 1
    # Signing in, marking the three criteria met, signing the unit off.
    print(f"posts at {viewport['width']} px: {len(posts)}: {posts}")
    assert posts == ["/accounts/login/", decisions, decisions]
    context.close()
