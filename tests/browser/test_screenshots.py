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

from demo.management.commands.seed_demo import DEMO_PASSWORD
from portfolio.models import Portfolio
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
    ids = dict(Portfolio.objects.values_list("learner__username", "pk"))
    return {"l1": ids["learner1"], "l2": ids["learner2"]}


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
