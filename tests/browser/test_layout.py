"""The base layout on a phone and a desktop, in a real browser."""

import pytest

from tests.browser.conftest import PHONE, has_horizontal_scroll
from tests.factories import PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio():
    c4_unit()
    return PortfolioFactory(
        workplace__organisation="Parkside Housing Association and Community Trust"
    )


@pytest.mark.parametrize(
    "path", ["/learner/", "/units/", "/portfolios/{pk}/", "/units/{unit}/", "/accounts/login/"]
)
def test_pages_fit_a_360_pixel_phone(open_page, portfolio, path):
    page = open_page(
        path.format(pk=portfolio.pk, unit=portfolio.unit_id),
        user=portfolio.learner,
        viewport=PHONE,
    )

    assert page.locator("main h1").is_visible()
    assert not has_horizontal_scroll(page)


def test_the_phone_menu_opens_to_show_the_navigation(open_page, portfolio):
    page = open_page("/learner/", user=portfolio.learner, viewport=PHONE)
    units = page.get_by_role("link", name="Units")
    assert not units.is_visible()

    page.get_by_role("button", name="Show navigation").click()

    units.wait_for(state="visible")
    assert page.get_by_role("link", name="My portfolios").is_visible()


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(open_page, portfolio):
    page = open_page("/learner/", user=portfolio.learner)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")

    assert page.evaluate("document.activeElement.id") == "main"


def test_the_page_has_its_landmarks(open_page, portfolio):
    page = open_page("/learner/", user=portfolio.learner)

    assert page.locator("header").count() == 1
    assert page.get_by_role("navigation", name="Main").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.locator("footer").count() == 1


def test_the_assessor_switches_role_from_the_menu(open_page, make_user_with_two_roles):
    page = open_page("/", user=make_user_with_two_roles)
    assert page.url.endswith("/assessor/")

    page.get_by_role("button", name="Acting as Assessor").click()
    page.get_by_role("link", name="Internal quality assurer").click()

    page.wait_for_url("**/iqa/")
    assert page.get_by_role("heading", name="Quality assurance").is_visible()


@pytest.fixture
def make_user_with_two_roles():
    from tests.factories import UserFactory

    return UserFactory(assessor=True, iqa=True)
