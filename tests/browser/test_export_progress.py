"""An export's progress page follows the background worker on its own, and stops when asked;
an EQA follows the PDF of an enrolment's units there and downloads it."""

from io import StringIO

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from records.models import Export
from records.services import export_request
from tests.browser.test_accessibility import violations
from tests.factories import EvidenceFactory, PortfolioFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued():
    c4_unit()
    portfolio = PortfolioFactory()
    return export_request(kind=Export.Kind.PDF, by=portfolio.assessor, portfolio=portfolio)


def test_the_page_shows_the_pdf_once_the_worker_has_made_it(open_page, queued):
    page = open_page(f"/exports/{queued.pk}/", user=queued.requested_by)
    page.get_by_text("Waiting to start: 0 of 1 done.").wait_for()
    assert violations(page) == []

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())

    page.get_by_role("link", name="Download the PDF").wait_for()  # no reload by the reader
    assert page.get_by_role("button", name="Stop refreshing").count() == 0


def test_the_reader_stops_the_refreshing(open_page, queued):
    page = open_page(f"/exports/{queued.pk}/", user=queued.requested_by)
    page.clock.install()  # the page's timers run when the test says
    page.reload()
    reloaded = []
    page.on("load", lambda _: reloaded.append(True))

    page.get_by_role("button", name="Stop refreshing").click()
    page.get_by_text("This page no longer refreshes itself").wait_for()
    page.clock.run_for(60_000)
    # A reload asked for by then has begun before a round trip to the server ends.
    assert page.evaluate("() => fetch(location.href).then(answer => answer.ok)")
    page.wait_for_load_state()

    assert reloaded == []
    assert page.get_by_text("This page no longer refreshes itself").is_visible()


def test_without_stopping_it_refreshes(open_page, queued):
    page = open_page(f"/exports/{queued.pk}/", user=queued.requested_by)
    page.clock.install()
    page.reload()

    with page.expect_event("load"):
        page.clock.run_for(60_000)


def test_the_pages_that_start_an_export_meet_wcag(open_page, queued):
    portfolio = queued.portfolio
    for path in (f"/portfolios/{portfolio.pk}/export.pdf", "/me/data/"):
        page = open_page(path, user=portfolio.learner)
        assert violations(page) == [], path


def test_an_eqa_exports_the_pdf_of_the_units_granted_with_each_shared_item_once(
    open_page, c5, make_grant
):
    a = PortfolioFactory()
    b = PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)
    shared = EvidenceFactory(
        portfolio=a, title="The refund queue", status="accepted", contexts="a", claims=["P1"]
    )
    shared.claimed_criteria.add(b.unit.criteria.get(nos_code="P2"))
    EvidenceFactory(portfolio=b, title="The lost parcel", status="accepted", claims=["P3"])
    eqa = make_grant(portfolios=[a, b]).eqa

    page = open_page(f"/enrolments/{a.enrolment_id}/", user=eqa)
    assert violations(page) == []
    page.get_by_role("button", name="Export PDF of these units").click()
    page.get_by_text("Waiting to start: 0 of 1 done.").wait_for()
    assert page.get_by_role("heading", name="PDF of single units").is_visible()
    assert violations(page) == []
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the PDF").click()

    reader = PdfReader(downloading.value.path())
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Tracking matrix: C4" in text
    assert "Tracking matrix: C5" in text
    assert text.count("The refund queue") == 1
    assert "Counts in C4, C5" in text
    assert text.count("The lost parcel") == 1
