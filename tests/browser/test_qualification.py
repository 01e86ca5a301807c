"""The demo centre's qualification as its people see it: learner2's progress across both units
on their home and on the assessor's caseload, and the EQA's PDF of the whole qualification with
each unit's matrix and each shared item once."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from demo.management.commands.seed_demo import DEMO_PASSWORD
from people.services import eqa_grant_save
from portfolio.models import Portfolio, User
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.test_pdf import outline_titles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHARED = "Swimming lesson booking lost: a parent's complaint resolved and recorded"


@pytest.fixture
def demo():
    out = StringIO()
    call_command("import_unit", "units/specs/ocr-c4.yaml", stdout=out)
    call_command("seed_demo", stdout=out)
    return User.objects.get(username="learner2").enrolments.get()


def test_learner2_and_their_assessor_see_the_progress_across_the_qualification(
    browser, live_server, demo
):
    learner = browser.new_context()
    try:
        page = learner.new_page()
        sign_in(page, live_server.url, "learner2", DEMO_PASSWORD)
        page.goto(f"{live_server.url}/learner/")
        main = page.get_by_role("main")
        assert "Example Level 2 Certificate in Customer Service" in main.inner_text()
        assert "of 11 credits" in main.inner_text()
        assert main.get_by_text("Group A: 0 of 1 mandatory unit").is_visible()
        assert main.get_by_text("Group B: 0 of at least 5 credits").is_visible()
        assert main.get_by_text("criteria still to be met").first.is_visible()
        assert violations(page) == []
    finally:
        learner.close()

    assessor = browser.new_context()
    try:
        page = assessor.new_page()
        sign_in(page, live_server.url, "assessor1", DEMO_PASSWORD)
        page.goto(f"{live_server.url}/assessor/")
        rows = page.get_by_role("row").filter(has_text=demo.learner.get_full_name())
        assert rows.count() == 2  # C4 and EX1, each with the qualification's line
        for row in rows.all():
            assert "Example EX-CS2: 0 of 11 credits" in row.inner_text()
        rows.first.get_by_role("link", name="Example EX-CS2", exact=False).first.click()
        page.get_by_role("heading", name=demo.learner.get_full_name(), exact=False).first.wait_for()
        assert page.url.endswith(f"/enrolments/{demo.pk}/")
    finally:
        assessor.close()


def test_the_eqa_exports_the_qualification_pdf_with_both_matrices_and_each_shared_item_once(
    browser, live_server, demo
):
    eqa = User.objects.get(username="eqa1")
    eqa_grant_save(
        grant=None,
        eqa=eqa,
        whole_centre=False,
        portfolios=list(Portfolio.objects.filter(enrolment=demo)),
        until=timezone.localdate() + datetime.timedelta(days=30),
        reason="Visit",
        by=User.objects.get(username="admin"),
        site_url=live_server.url,
    )
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, "eqa1", DEMO_PASSWORD)
        page.goto(f"{live_server.url}/enrolments/{demo.pk}/")
        page.get_by_role("button", name="Export PDF of the qualification").click()
        page.get_by_text("Waiting to start: 0 of 1 done.").wait_for()
        call_command(
            "db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO()
        )
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download the PDF").click()
        reader = PdfReader(downloading.value.path())
    finally:
        context.close()

    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Tracking matrix: C4" in text
    assert "Tracking matrix: EX1" in text
    # Each item's record is one section of the document, bookmarked by its number and title;
    # elsewhere (the criteria it meets, the audit trail) it is only named.
    sections = [title for title in outline_titles(reader.outline) if title.endswith(SHARED)]
    assert len(sections) == 1
    record = text[text.rindex(sections[0]) :]  # after the criteria that cite it
    assert record.index("Counts in C4, EX1") < 400
    assert text.count("Counts in C4, EX1") == 2  # the demo's two shared items
