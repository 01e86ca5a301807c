"""Planning and reviews from start to end, through the pages in Chromium: the assessor plans
three activities and issues the plan; the learner accepts it on a phone 390 pixels wide;
evidence linked to an activity turns it done once the assessor accepts it; a progress review is
written with its progress computed, signed by the assessor, then the learner, then an employer
without an account through the single-use link read from their e-mail; and the enrolment's PDF
holds the plan, the review and where each signature stands."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from tests.browser.conftest import has_horizontal_scroll
from tests.browser.test_accessibility import violations
from tests.browser.test_journey import AccessibilityLog
from tests.browser.test_plans import plan_activity
from tests.factories import PASSWORD, EvidenceFactory, PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ACTIVITIES = [
    ("Observation at a busy time", "Direct observation", 14, "Returns desk"),
    ("Discussion of a complaint", "Professional discussion", 21, ""),
    ("Reflective account of a quiet day", "Reflective account", 28, ""),
]
TARGETS = "A witness statement from the duty manager by the end of next month."
EMPLOYER = "Priya Natarajan"


@pytest.fixture
def portfolio():
    c4_unit()
    return PortfolioFactory(
        learner=UserFactory(learner=True, first_name="Amy", last_name="Learner"),
        assessor=UserFactory(assessor=True, first_name="Ann", last_name="Bramwell"),
        workplace__organisation="Harbour Hotels",
    )


def test_a_plan_and_a_review_signed_by_all_three_end_in_the_pdf(
    browser, open_page, live_server, portfolio
):
    base, enrolment = live_server.url, portfolio.enrolment
    log = AccessibilityLog()  # every other page on the way, checked with axe-core

    # 1. The assessor plans three activities and issues the plan, signing it.
    assessor = open_page(f"/enrolments/{enrolment.pk}/plan/", user=portfolio.assessor,
                         viewport=DESKTOP)  # fmt: skip
    assessor.get_by_role("button", name="Start a plan").click()
    assessor.get_by_role("heading", name="Being written: version 1").wait_for()
    for activity in ACTIVITIES:
        plan_activity(assessor, *activity)
    log.check(assessor)
    assessor.get_by_role("link", name="Issue version 1").click()
    log.check(assessor)
    assessor.get_by_label("Your password").fill(PASSWORD)
    assessor.get_by_role("button", name="Sign and issue").click()
    assessor.get_by_role("heading", name="The plan in force: version 1").wait_for()

    # 2. The learner accepts it on their phone, with their password.
    item = EvidenceFactory(portfolio=portfolio, title="Saturday rush", status="submitted")
    item.claimed_criteria.set(portfolio.unit.criteria.filter(nos_code__in=["P1", "P2"]))
    learner = open_page("/learner/", user=portfolio.learner, viewport=PHONE)
    learner.get_by_role("link", name="Accept your assessment plan (version 1)").click()
    learner.get_by_role("heading", name="Accept the plan").wait_for()
    assert violations(learner) == []
    assert not has_horizontal_scroll(learner)
    learner.get_by_label("Your password").fill(PASSWORD)
    learner.get_by_role("button", name="Sign and accept").click()
    learner.get_by_text("You have accepted version 1 of your plan.").wait_for()

    # 3. The learner links their evidence to an activity on the plan page; the assessor accepts
    # the evidence on its page, and the activity is done.
    learner.goto(f"{base}/enrolments/{enrolment.pk}/plan/")
    learner.get_by_label("Evidence to link to Discussion of a complaint").select_option(
        label="Saturday rush (submitted)"
    )
    learner.get_by_role("button", name="Link to Discussion of a complaint").click()
    learner.get_by_text("'Saturday rush' is linked to 'Discussion of a complaint'.").wait_for()

    assessor.goto(f"{base}{item.get_absolute_url()}")
    for tick in assessor.locator("#review .criteria-first input.map-tick").all():
        tick.check()  # the two criteria the learner claimed
    assessor.get_by_label("Accept").check()
    assessor.get_by_label("Where it is shown", exact=True).fill("Second paragraph")
    log.check(assessor)
    assessor.get_by_role("button", name="Save the review").click()
    assessor.get_by_text("is accepted, with").wait_for()
    assessor.goto(f"{base}/enrolments/{enrolment.pk}/plan/")
    assessor.get_by_text("1 of 3 activities done").wait_for()
    row = assessor.locator("tr", has_text="Discussion of a complaint")
    assert row.locator(".activity-done").is_visible()

    # 4. The assessor writes a progress review, its progress computed from the records, and
    # signs it.
    assessor.goto(f"{base}/enrolments/{enrolment.pk}/reviews/")
    log.check(assessor)
    assessor.get_by_role("link", name="Write a review").click()
    assessor.get_by_role("heading", name="Write a progress review").wait_for()
    log.check(assessor)
    progress = assessor.get_by_role("main").inner_text()
    assert "1 in the period, 1 so far" in progress  # the evidence accepted
    assert f"Discussion of a complaint ({timezone.localdate():%-d %B %Y})" in progress  # done
    assessor.get_by_label("What went well").fill("Calm and clear with an upset guest.")
    assessor.get_by_label("Targets until the next review").fill(TARGETS)
    assessor.get_by_role("button", name="Save the review").click()
    assessor.get_by_text("The review is saved.").wait_for()
    log.check(assessor)
    assessor.get_by_label("Your password").fill(PASSWORD)
    assessor.get_by_role("button", name="Sign", exact=True).click()
    assessor.get_by_text("You have signed the review.").wait_for()
    review_url = assessor.url

    # The learner adds their comments and signs, from their home.
    learner.goto(f"{base}/learner/")
    learner.get_by_role(
        "link", name=re.compile("^Add your comments to your progress review")
    ).click()
    learner.get_by_role("textbox", name="Your comments").fill("I feel more confident at the desk.")
    learner.get_by_label("Your password").fill(PASSWORD)
    learner.get_by_role("button", name="Sign", exact=True).click()
    learner.get_by_text("You have signed the review.").wait_for()
    assert violations(learner) == []
    assert not has_horizontal_scroll(learner)

    # The assessor sends the single-use link to the employer, who has no account.
    assessor.goto(review_url)
    log.check(assessor)
    assessor.get_by_label("Their name").fill(EMPLOYER)
    assessor.get_by_label("Their e-mail address").fill("priya@harbour.example")
    assessor.get_by_role("button", name="Send the link").click()
    assessor.get_by_text(f"The review is e-mailed to {EMPLOYER}").wait_for()

    # The employer opens the link from their e-mail in a browser with no session, and signs.
    [invitation] = [m for m in mail.outbox if m.to == ["priya@harbour.example"]]
    link = re.search(r"https?://\S+/review-link/\S+/", invitation.body).group(0)
    employer = browser.new_context(viewport=PHONE)
    try:
        page = employer.new_page()
        page.set_default_timeout(10_000)
        assert link.startswith(base)
        page.goto(link)
        log.check(page)
        page.get_by_role("button", name="Open the review").click()
        page.get_by_role("heading", name="Your comments and signature").wait_for()
        assert TARGETS in page.get_by_role("main").inner_text()
        assert violations(page) == []
        assert not has_horizontal_scroll(page)
        page.get_by_role("textbox", name="Your comments").fill("Doing well on the front desk.")
        page.get_by_label("Type your full name").fill(EMPLOYER)
        # Sent without the declaration ticked, it is refused, and nothing typed is lost.
        page.get_by_role("button", name="Sign the review").click()
        page.get_by_text("Tick the declaration to sign the review.").first.wait_for()
        assert page.get_by_role("textbox", name="Your comments").input_value() == (
            "Doing well on the front desk."
        )
        assert page.get_by_label("Type your full name").input_value() == EMPLOYER
        # On the phone the declaration's error sits below it, not squeezed beside it.
        declaration = page.locator("label[for=id_declaration]").bounding_box()
        error = page.locator("#id_declaration_error").bounding_box()
        assert error["y"] >= declaration["y"] + declaration["height"] - 1
        assert violations(page) == []
        page.get_by_label("I am the learner's employer").check()
        page.get_by_role("button", name="Sign the review").click()
        page.get_by_role("heading", name="Thank you").wait_for()
        log.check(page)
    finally:
        employer.close()

    # The review now holds all three signatures, each valid.
    assessor.goto(review_url)
    assert "Signed by all" in assessor.get_by_role("main").inner_text()
    signatures = assessor.get_by_role("region", name="Signatures").get_by_role("listitem")
    assert signatures.count() == 3
    for who in ("Assessor", "Learner", "Employer"):
        kind = f"{who}'s signature on the progress review"
        signature = signatures.filter(has=assessor.get_by_text(kind, exact=True))
        assert signature.locator(".signature-valid").is_visible(), kind
    employer_signature = signatures.filter(has_text="Employer's signature").inner_text()
    assert f"{EMPLOYER} (employer)" in employer_signature
    assert "through the e-mailed link" in employer_signature

    # 5. The enrolment's PDF, asked for on its page and built by the background worker, holds
    # the plan's activities, the review and where each signature stands.
    assessor.goto(f"{base}/enrolments/{enrolment.pk}/")
    log.check(assessor)
    assessor.get_by_role("button", name=re.compile("^Export PDF of")).click()
    assessor.get_by_text("Waiting to start: 0 of 1 done.").wait_for()
    log.check(assessor)
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    # The progress page reloads itself; a reload of our own would race with it.
    download_link = assessor.get_by_role("link", name=re.compile("^Download the PDF"))
    download_link.wait_for()
    with assessor.expect_download() as downloading:
        download_link.click()
    reader = PdfReader(downloading.value.path())
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    assert "Version 1, in force" in text
    assert "Discussion of a complaint: DONE" in text
    assert "Observation at a busy time: DUE" in text
    assert "Reflective account of a quiet day: DUE" in text
    assert "Returns desk" in text
    assert "Assessor's agreement to the assessment plan: VALID" in text
    assert "Learner's acceptance of the assessment plan: VALID" in text
    assert f"Review of {timezone.localdate():%-d %B %Y}" in text
    assert TARGETS in text
    assert "Progress since the last review Criteria met, OCR C4 0 in the period, 0 of 27" in text
    assert "Evidence accepted 1 in the period, 1 so far" in text
    assert (
        "Plan activities done 1 in the period, 1 so far (plan version 1): "
        f"Discussion of a complaint ({timezone.localdate():%-d %B %Y})"
    ) in text
    assert "I feel more confident at the desk." in text
    assert "Doing well on the front desk." in text
    assert "Assessor's signature on the progress review: VALID" in text
    assert "Learner's signature on the progress review: VALID" in text
    assert "Employer's signature on the progress review: VALID" in text
    assert f"{EMPLOYER} (employer), a typed name through a single-use link" in text
    assert log.problems == {}
