"""Pictures of each role's main page, desktop and phone, for the README; and the learner's pages
on a 390 x 844 phone without sideways scrolling.

The pictures go to a temporary folder, or to ``SCREENSHOTS_DIR`` (``make screenshots`` sets it to
docs/screenshots, to renew the README's)."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from assessments.models import ObservationRecord
from assessments.quality import portfolio_unlock
from demo.management.commands.seed_demo import DEMO_PASSWORD
from portfolio.models import EvidenceItem, Portfolio, User
from tests.browser.conftest import has_horizontal_scroll, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MAIN_PAGES = {
    "learner": ("learner2", "/portfolios/{l2}/"),
    "assessor": ("assessor1", "/assessor/"),
    "matrix": ("assessor1", "/portfolios/{l1}/matrix/"),
    "iqa": ("iqa1", "/iqa/"),
    "eqa": ("eqa1", "/portfolios/{l1}/"),
    "centre": ("admin", "/centre/"),
}


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("SCREENSHOTS_DIR")
    return Path(settings.BASE_DIR, folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def demo(db):
    call_command("import_unit", "units/specs/ocr-c4.yaml", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    ids = dict(Portfolio.objects.filter(unit__code="C4").values_list("learner__username", "pk"))
    example = Portfolio.objects.get(learner__username="learner2", unit__code="EX1")
    return {"l1": ids["learner1"], "l2": ids["learner2"], "ex1": example.pk}


def signed_in(browser, base, username, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    sign_in(page, base, username, DEMO_PASSWORD)
    return context, page


@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_each_roles_main_page_is_pictured(browser, live_server, demo, screenshots, name):
    username, path = MAIN_PAGES[name]
    screenshots.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page = signed_in(browser, live_server.url, username, viewport)
        response = page.goto(live_server.url + path.format(**demo))
        assert response.status == 200
        target = screenshots / f"{name}-{size}.png"
        page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 10_000
        context.close()


def test_the_learners_pages_fit_a_390_pixel_phone(browser, live_server, demo):
    context, page = signed_in(browser, live_server.url, "learner2", PHONE)
    paths = [
        "/learner/",
        "/portfolios/{l2}/",
        "/portfolios/{l2}/evidence/new/",
        "/portfolios/{l2}/knowledge/",
        "/notifications/",
        "/portfolios/{l2}/matrix/",
        "/portfolios/{ex1}/",
        "/portfolios/{ex1}/matrix/",
    ]
    for path in paths:
        page.goto(live_server.url + path.format(**demo))
        assert not has_horizontal_scroll(page), path
        small = page.evaluate(
            """() => [...document.querySelectorAll('main a, main button, main input, main select')]
                .filter(e => e.offsetParent !== null && e.type !== 'hidden')
                .filter(e => { const r = e.getBoundingClientRect();
                               return r.width < 24 || r.height < 24; })
                .filter(e => !(e.tagName === 'A' && e.closest('p, li, td, dd, figcaption, th')))
                .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert small == [], (path, small)
    context.close()


def _observation_of(portfolio: Portfolio) -> EvidenceItem:
    """An observation the assessor recorded, waiting for the learner's confirmation."""
    record = EvidenceItem.objects.create(
        portfolio=portfolio,
        title="Observed at the returns desk",
        method=EvidenceItem.Method.OBSERVATION,
        occurred_on=portfolio.start_date,
        account="Handled three upset customers in a long queue.",
        recorded_by=portfolio.assessor,
        status=EvidenceItem.Status.ACCEPTED,
    )
    ObservationRecord.objects.create(evidence=record, place="Returns desk", duration_minutes=30)
    return record


def test_the_pages_people_read_are_pictured_and_the_form_errors_sit_by_their_fields(
    browser, live_server, demo, screenshots
):
    """The portfolio page's two counts, the knowledge list, the evidence form sent back with
    errors, the assessor's observation form and record, and signatures after an unlock."""
    screenshots.mkdir(parents=True, exist_ok=True)
    learner2 = Portfolio.objects.get(pk=demo["l2"])
    record = _observation_of(learner2)
    learner1 = Portfolio.objects.get(pk=demo["l1"])
    portfolio_unlock(
        portfolio=learner1,
        reason="The wrong photo was attached",
        by=User.objects.get(username="admin"),
    )
    learner3 = Portfolio.objects.get(learner__username="learner3").pk
    pages = [
        ("progress", "learner3", f"/portfolios/{learner3}/", "#progress-heading"),
        ("knowledge", "learner2", f"/portfolios/{demo['l2']}/knowledge/", None),
        ("observation-form", "assessor1", f"/portfolios/{demo['l2']}/observations/new/", None),
        ("observation-record", "learner2", f"/evidence/{record.pk}/", None),
        ("unlocked-signatures", "admin", f"/portfolios/{demo['l1']}/", "#signatures-heading"),
    ]
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for name, username, path, anchor in pages:
            context, page = signed_in(browser, live_server.url, username, viewport)
            assert page.goto(live_server.url + path).status == 200
            if anchor:
                page.locator(anchor).scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / f"{name}-{size}.png"))
            context.close()

        context, page = signed_in(browser, live_server.url, "learner2", viewport)
        page.goto(f"{live_server.url}/portfolios/{demo['l2']}/evidence/new/")
        page.get_by_label("Simulation").check()
        first_outcome = page.locator("details[data-criteria-group]").first
        if not first_outcome.evaluate("group => group.open"):
            first_outcome.locator("summary").click()  # folded on a phone
        page.get_by_label("1.1 (P1)", exact=False).first.check()
        page.get_by_role("button", name="Save draft").click()
        summary = page.locator("#form-errors")
        assert summary.is_visible()
        assert summary.get_by_role("link").count() >= 2
        form = page.locator("form[enctype]").bounding_box()
        contexts_error = page.locator("#id_contexts_error").bounding_box()
        first_context = page.locator("#id_contexts_0").bounding_box()
        # The error spans the form under its question, above the first option.
        assert contexts_error["width"] > 0.8 * form["width"], (size, contexts_error, form)
        assert contexts_error["y"] < first_context["y"]
        criteria_error = page.locator("#id_claimed_criteria_error").bounding_box()
        first_criterion = page.locator("input[name=claimed_criteria]").first.bounding_box()
        assert criteria_error["y"] < first_criterion["y"]
        assert not has_horizontal_scroll(page)
        page.screenshot(path=str(screenshots / f"evidence-errors-{size}.png"))
        page.locator("#div_id_contexts").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"evidence-errors-contexts-{size}.png"))
        context.close()
