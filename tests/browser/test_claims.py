"""The centre administrator claims a learner's verified unit and exports the claims list, on a
desktop and on a 390 px phone, with axe finding nothing on either page."""

import pytest

from portfolio.models import Claim, Portfolio
from records.models import Export
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_administrator_claims_a_unit_and_exports_the_list(open_page, viewport):
    c4_unit()
    admin = UserFactory(centre_admin=True, first_name="Cora", last_name="Hartigan")
    portfolio = PortfolioFactory(
        status=Portfolio.Status.VERIFIED,
        learner=UserFactory(learner=True, first_name="Pat", last_name="Lee"),
    )

    page = open_page(f"/enrolments/{portfolio.enrolment_id}/claim/", user=admin, viewport=viewport)
    page.get_by_role("heading", name="The awarding body will lack").wait_for()
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    page.get_by_label("Units", exact=True).check()
    page.get_by_label("Unit C4").check()
    page.get_by_role("button", name="Record the claim").click()
    page.get_by_role("button", name="Record the reference").wait_for()
    assert Claim.objects.get().portfolios.get() == portfolio
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    page.get_by_role("link", name="All claims of the centre").click()
    page.get_by_role("heading", name="Claims for the awarding body").wait_for()
    assert page.get_by_role("link", name="Pat Lee").count() == 1
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
    page.get_by_role("button", name="Export for the awarding body").click()
    page.get_by_role("status").wait_for()

    assert Export.objects.get().kind == Export.Kind.CLAIMS
    assert violations(page) == []
    assert not has_horizontal_scroll(page)
