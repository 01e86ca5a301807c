"""The centre administrator moves a caseload in one post, on a desktop and on a phone, with axe
finding nothing on the page; and the Django admin's form adding a portfolio passes axe."""

import pytest

from audit.models import AuditEntry
from portfolio.models import Notification, Portfolio
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def people():
    c4_unit()
    people = {
        "admin": UserFactory(centre_admin=True, first_name="Cora", last_name="Hartigan"),
        "ann": UserFactory(assessor=True, first_name="Ann", last_name="Bramwell"),
        "bob": UserFactory(assessor=True, first_name="Bob", last_name="Crofton"),
    }
    people["portfolios"] = [
        PortfolioFactory(
            assessor=people["ann"],
            learner=UserFactory(learner=True, first_name=first, last_name="Learner"),
        )
        for first in ["Amy", "Ben", "Cal"]
    ]
    return people


def posts_of(page, base: str) -> list[str]:
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url.removeprefix(base)) if request.method != "GET" else None
        ),
    )
    return posts


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_administrator_moves_a_caseload_in_one_post(open_page, live_server, people, viewport):
    page = open_page("/centre/", user=people["admin"], viewport=viewport)
    posts = posts_of(page, live_server.url)

    page.get_by_role("link", name="Move a caseload").click()
    page.get_by_role("heading", name="Move a caseload").wait_for()
    assert violations(page) == []
    page.get_by_label("Assessor").check()
    page.get_by_label("From").select_option(label="Ann Bramwell")
    page.get_by_role("button", name="Show their portfolios").click()
    button = page.get_by_role("button", name="Move 3 portfolios")
    button.wait_for()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    # Ben stays with Ann: the count follows the ticks before anything is posted.
    page.get_by_label("Ben Learner").uncheck()
    page.get_by_role("button", name="Move 2 portfolios").wait_for()
    page.get_by_label("Move to").select_option(label="Bob Crofton (holds 0 now)")
    page.get_by_label("Reason").fill("Ann leaves at the end of the month")
    page.get_by_role("button", name="Move 2 portfolios").click()
    page.get_by_text("2 portfolios moved from Ann Bramwell to Bob Crofton").wait_for()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    assert posts == [f"/people/caseload/?role=assessor&from_person={people['ann'].pk}"]
    amy, ben, cal = people["portfolios"]
    assert [Portfolio.objects.get(pk=p.pk).assessor for p in (amy, ben, cal)] == [
        people["bob"],
        people["ann"],
        people["bob"],
    ]
    assert AuditEntry.objects.filter(action="portfolio.assessor_moved").count() == 2
    assert Notification.objects.filter(recipient=people["bob"]).count() == 1


def test_a_refused_move_keeps_what_was_typed_and_passes_axe(open_page, live_server, people):
    path = f"/people/caseload/?role=assessor&from_person={people['ann'].pk}"
    page = open_page(path, user=people["admin"], viewport=PHONE)

    page.get_by_label("Move to").select_option(label="Bob Crofton (holds 0 now)")
    page.get_by_role("button", name="Move 3 portfolios").click()
    page.get_by_role("heading", name="There is a problem").wait_for()

    assert violations(page) == []
    assert page.get_by_label("Move to").input_value() == str(people["bob"].pk)
    assert Portfolio.objects.filter(assessor=people["ann"]).count() == 3


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("who", ["centre administrator", "superuser"])
def test_the_admins_add_portfolio_form_passes_axe(open_page, people, viewport, who):
    user = people["admin"] if who == "centre administrator" else UserFactory(is_superuser=True)
    page = open_page("/admin/portfolio/portfolio/add/", user=user, viewport=viewport)
    page.get_by_role("heading", name="Add portfolio").wait_for()

    assert violations(page) == []
