"""Playwright driving Debian's Chromium (Playwright cannot download its own browser here)."""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", shutil.which("chromium") or "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real sign-in form and wait to land on the role's page."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# What the Content-Security-Policy blocked on any page of the running test, as Chromium reports
# it in the console.
BLOCKED: list[str] = []


def _note_blocked(message) -> None:
    # A violation by the site names the page it happened on. One with no page is caused by a
    # script the test itself runs in the page: axe-core adds <style> elements of its own while
    # it checks, and the policy rightly blocks them.
    if "Content Security Policy" in message.text and message.location.get("url"):
        BLOCKED.append(f"{message.location.get('url')}: {message.text}")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        new_context, new_page = browser.new_context, browser.new_page

        def watched_context(**options):
            context = new_context(**options)
            context.on("console", _note_blocked)
            return context

        def watched_page(**options):
            page = new_page(**options)
            page.on("console", _note_blocked)
            return page

        browser.new_context, browser.new_page = watched_context, watched_page
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def nothing_is_blocked_by_the_policy():
    """Every page a browser test opens works under the site's Content-Security-Policy."""
    BLOCKED.clear()
    yield
    assert BLOCKED == []


@pytest.fixture
def open_page(browser, live_server):
    """A new page at ``viewport`` size; ``user`` is signed in through the sign-in form."""
    contexts = []

    def open_(path, *, user=None, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if user is not None:
            sign_in(page, live_server.url, user.username)
        page.goto(f"{live_server.url}{path}")
        return page

    yield open_
    for context in contexts:
        context.close()


def has_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
