"""The learner's steps in a real browser on a 390 x 844 phone: the evidence form within two
screens with its criteria folded, the counts kept as boxes are ticked, a knowledge answer
submitted in one post and several drafts submitted together, by keyboard."""

import pytest

from portfolio.models import EvidenceItem
from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.factories import EvidenceFactory, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TWO_SCREENS = 2 * PHONE["height"]


@pytest.fixture
def portfolio():
    c4_unit()
    return PortfolioFactory()


def posts_of(page) -> list[str]:
    """Every request the page makes from now on that is not a GET, as the browser logs it."""
    posts = []
    page.on("request", lambda request: request.method != "GET" and posts.append(request.url))
    return posts


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_the_evidence_form_fits_two_phone_screens_with_its_groups_folded(open_page, portfolio):
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=PHONE
    )

    groups = page.locator("details[data-criteria-group]")
    assert groups.count() == 3
    assert groups.evaluate_all("groups => groups.filter(g => g.open).length") == 0
    height = page_height(page)
    print(f"\nNew evidence form at 390 x 844, every group folded: {height} px")
    assert height <= TWO_SCREENS
    assert not has_horizontal_scroll(page)
    assert violations(page) == []

    groups.first.locator("summary").click()
    print(f"with its first group opened: {page_height(page)} px")
    assert not has_horizontal_scroll(page)
    assert violations(page) == []


def test_an_item_being_edited_fits_too_when_nothing_is_claimed(open_page, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, contexts="a")
    page = open_page(f"/evidence/{evidence.pk}/edit/", user=portfolio.learner, viewport=PHONE)

    height = page_height(page)
    print(f"\nEvidence being edited at 390 x 844, every group folded: {height} px")
    assert height <= TWO_SCREENS
    assert not has_horizontal_scroll(page)


def test_a_group_counts_its_claims_as_they_are_ticked_by_keyboard(open_page, portfolio):
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=PHONE
    )
    group = page.locator("details[data-criteria-group]").nth(1)  # outcome 2: P8 to P17
    summary = group.locator("summary")
    assert "0 claimed" in summary.inner_text()

    summary.focus()
    page.keyboard.press("Enter")  # opens the group
    assert group.evaluate("g => g.open")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.labels[0].textContent")
    assert "2.1 (P8)" in focused
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")

    assert "2 claimed" in summary.inner_text()
    page.keyboard.press("Space")  # untick the second again
    assert "1 claimed" in summary.inner_text()
    assert page.get_by_label("2.1 (P8)").is_checked()


def test_on_a_wide_screen_every_group_opens(open_page, portfolio):
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=DESKTOP
    )

    groups = page.locator("details[data-criteria-group]")
    assert groups.evaluate_all("groups => groups.every(g => g.open)")
    page.get_by_label("1.1 (P1)").check()
    assert "1 claimed" in groups.first.locator("summary").inner_text()
    assert violations(page) == []


def test_evidence_is_saved_and_submitted_in_one_post_on_a_phone(open_page, portfolio):
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=PHONE
    )
    posts = posts_of(page)
    page.get_by_label("Title").fill("Refund at the desk")
    page.get_by_label("Reflective account").check()
    page.get_by_label("Date it happened").fill("2026-11-01")
    page.get_by_label("b during a busy time in your job").check()
    page.get_by_label("Real job (paid)").check()
    page.get_by_label("External customer").check()
    page.get_by_label("Customer reference").fill("Customer 4")
    page.get_by_label("What happened").fill("I listened, then explained the refund.")
    page.locator("summary", has_text="Deal with difficult customers").click()
    page.get_by_label("2.1 (P8)").check()

    # Without the declaration the form comes back as typed.
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("Tick the declaration to submit this evidence").first.wait_for()
    assert page.get_by_label("What happened").input_value() == (
        "I listened, then explained the refund."
    )
    assert page.get_by_label("2.1 (P8)").is_checked()
    assert not EvidenceItem.objects.exists()

    page.get_by_label("I declare that this evidence is my own work").check()
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("is saved and submitted to your assessor").wait_for()

    evidence = EvidenceItem.objects.get()
    assert evidence.status == "submitted"
    assert evidence.declared_at is not None
    assert len(posts) == 2  # the refused one and the one that submitted


def test_a_knowledge_answer_is_submitted_in_one_post_by_keyboard(open_page, portfolio):
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    page = open_page(
        f"/portfolios/{portfolio.pk}/knowledge/{k1.pk}/", user=portfolio.learner, viewport=PHONE
    )
    assert not has_horizontal_scroll(page)
    assert violations(page) == []
    posts = posts_of(page)

    page.get_by_label("Answer").fill("Customers who shout, and those who go silent.")
    page.keyboard.press("Tab")  # to the declaration
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # to "Submit for assessment"
    assert page.evaluate("document.activeElement.textContent") == "Submit for assessment"
    page.keyboard.press("Enter")

    page.get_by_text("Your answer for 3.1 (K1) is submitted to your assessor.").wait_for()
    assert page.locator("main h1").inner_text().startswith("3.2 (K2)")
    assert len(posts) == 1
    answer = EvidenceItem.objects.get()
    assert (answer.status, answer.answers_question) == ("submitted", k1)
    assert answer.declared_at is not None
    assert violations(page) == []


def test_several_drafts_are_submitted_together_by_keyboard(open_page, portfolio):
    drafts = [EvidenceFactory(portfolio=portfolio, title=f"Draft {n}") for n in range(3)]
    referred = EvidenceFactory(portfolio=portfolio, title="Referred", status="referred_back")
    page = open_page(f"/portfolios/{portfolio.pk}/", user=portfolio.learner, viewport=PHONE)
    page.get_by_role("link", name="Submit 4 items").click()
    page.get_by_role("heading", name="Submit evidence together").wait_for()
    assert not has_horizontal_scroll(page)
    assert violations(page) == []
    posts = posts_of(page)

    # Every item starts ticked: leave one out, declare once, submit.
    page.get_by_label("Draft 0").focus()
    page.keyboard.press("Space")
    page.get_by_label("I declare that this evidence is my own work").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.get_by_text("3 items submitted to your assessor").wait_for()
    assert len(posts) == 1
    statuses = dict(
        EvidenceItem.objects.filter(pk__in=[d.pk for d in [*drafts, referred]]).values_list(
            "title", "status"
        )
    )
    assert statuses == {
        "Draft 0": "draft",
        "Draft 1": "submitted",
        "Draft 2": "submitted",
        "Referred": "resubmitted",
    }
    assert not EvidenceItem.objects.filter(status="submitted", declared_at=None).exists()


def test_the_submit_together_page_keeps_the_ticks_when_the_declaration_is_missing(
    open_page, portfolio
):
    EvidenceFactory(portfolio=portfolio, title="Draft A")
    EvidenceFactory(portfolio=portfolio, title="Draft B")
    page = open_page(f"/portfolios/{portfolio.pk}/submit/", user=portfolio.learner, viewport=PHONE)

    page.get_by_label("Draft A").uncheck()
    page.get_by_role("button", name="Submit the ticked evidence").click()

    page.get_by_text("Tick the declaration to submit the evidence").first.wait_for()
    assert not page.get_by_label("Draft A").is_checked()
    assert page.get_by_label("Draft B").is_checked()
    assert violations(page) == []
    assert not EvidenceItem.objects.exclude(status="draft").exists()


def test_the_witness_is_saved_and_e_mailed_in_one_post(open_page, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, method="witness")
    page = open_page(f"/evidence/{evidence.pk}/witness/", user=portfolio.learner, viewport=PHONE)
    assert not has_horizontal_scroll(page)
    assert violations(page) == []
    posts = posts_of(page)

    page.get_by_label("Witness name").fill("Sam Okafor")
    page.get_by_label("Witness's job title").fill("Duty manager")
    page.get_by_label("Relationship to you").fill("Line manager")
    page.get_by_label("The witness is not a relative of mine").check()
    page.get_by_label("Witness's e-mail address").fill("sam@example.org")
    page.get_by_label("What the witness saw").fill("I saw it.")
    page.get_by_role("button", name="Save and e-mail it to the witness").click()

    page.get_by_text("e-mailed to Sam Okafor at sam@example.org").wait_for()
    assert len(posts) == 1
    assert EvidenceItem.objects.get(pk=evidence.pk).testimony.status == "sent"
