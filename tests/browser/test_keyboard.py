"""The learner's upload and submit, and the assessor's review and mapping, with a keyboard only
and a focus that can always be seen."""

import pytest

from assessments.models import Mapping
from portfolio.models import EvidenceItem
from tests import samples
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import PASSWORD, EvidenceFactory, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUS_VISIBLE = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""


def tab_to(page, locator, limit=250):
    """Press Tab until ``locator`` has the focus, checking that the focus can be seen there."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", target):
            assert page.evaluate(FOCUS_VISIBLE), f"no visible focus on {locator}"
            return
    raise AssertionError(f"Tab never reached {locator}")


def sign_in_by_keyboard(page, base, user):
    page.goto(f"{base}/accounts/login/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_learner_adds_and_submits_evidence_without_a_mouse(page, live_server, tmp_path):
    c4_unit()
    portfolio = PortfolioFactory()
    photo = tmp_path / "IMG_0100.jpg"
    photo.write_bytes(samples.jpeg())
    # Playwright starts intercepting file choosers when the first listener is added; added at
    # the key press, it may come too late for the chooser that press opens.
    page.on("filechooser", lambda chooser: None)
    sign_in_by_keyboard(page, live_server.url, portfolio.learner)

    tab_to(page, page.get_by_role("link", name="Add evidence"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Title"))
    page.keyboard.type("Refund row at the counter")
    tab_to(page, page.get_by_label("Direct observation"))
    while not page.get_by_label("Reflective account").is_checked():
        page.keyboard.press("ArrowDown")
    tab_to(page, page.get_by_label("Date it happened"))
    page.keyboard.type("11012026")
    tab_to(page, page.get_by_label("b during a busy time in your job"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Real job (paid)"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("External customer"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Customer reference"))
    page.keyboard.type("Customer 4")
    tab_to(page, page.get_by_label("What happened"))
    page.keyboard.type("He was shouting; I let him finish, then explained the refund rules.")
    tab_to(page, page.get_by_label("2.1 (P8) Listen patiently"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Add files"))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(photo))
    tab_to(page, page.get_by_role("button", name="Save draft"))
    page.keyboard.press("Enter")

    tab_to(page, page.get_by_role("link", name="Submit for assessment"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("I declare that this evidence is my own work"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Submit for assessment"))
    page.keyboard.press("Enter")
    page.get_by_text("is submitted to your assessor").wait_for()

    evidence = EvidenceItem.objects.get()
    assert evidence.status == "submitted"
    assert evidence.occurred_on.isoformat() == "2026-11-01"
    assert list(evidence.claimed_criteria.values_list("nos_code", flat=True)) == ["P8"]
    assert evidence.files.count() == 1


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_an_assessor_reviews_and_maps_in_one_post_without_a_mouse(browser, live_server, viewport):
    c4_unit()
    evidence = EvidenceFactory(
        portfolio=PortfolioFactory(), status="submitted", contexts="b", claims=["P8", "P17"]
    )
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, live_server.url, evidence.portfolio.assessor)
    posts = []
    page.on("request", lambda request: request.method != "GET" and posts.append(request.url))
    page.goto(f"{live_server.url}/evidence/{evidence.pk}/")
    assert violations(page) == []
    assert not has_horizontal_scroll(page)

    tab_to(page, page.get_by_label("Accept"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("2.1 (P8) Listen patiently"))
    page.keyboard.press("Space")
    # Where it is shown is asked once the criterion is ticked, right after it.
    page.keyboard.press("Tab")
    page.keyboard.type("Second paragraph: lets him finish")
    tab_to(page, page.locator("summary", has_text="Other criteria of OCR unit C4"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("checkbox", name="1.2 (P2) "))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Where it is shown", exact=True))
    page.keyboard.type("Throughout the account")
    tab_to(page, page.get_by_label("Feedback"))
    page.keyboard.type("Clear and calm.")
    tab_to(page, page.get_by_role("button", name="Save the review"))
    page.keyboard.press("Enter")
    page.get_by_text("is accepted, with 2 criteria confirmed").wait_for()

    assert len(posts) == 1
    assert dict(Mapping.objects.values_list("criterion__nos_code", "note")) == {
        "P8": "Second paragraph: lets him finish",
        "P2": "Throughout the account",
    }
    evidence.refresh_from_db()
    assert evidence.status == "accepted"
    # Accepted, the same form confirms more or changes a note, and passes axe too.
    assert violations(page) == []
    assert page.get_by_role("button", name="Save the criteria").is_visible()
    page.context.close()
