"""The people pages in Chromium: a learner registered and invited in one post, the invitation
taken up from the e-mail and the first sign-in, a member of staff added, an EQA given access until
a day; every page checked with axe on a desktop and at 390 px."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from portfolio.models import EqaGrant, User
from tests.browser.conftest import has_horizontal_scroll, sign_in
from tests.browser.test_accessibility import violations
from tests.browser.test_journey import run_worker
from tests.factories import PortfolioFactory, UserFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own, closed with its connections after the test."""
    contexts = []

    def new(viewport):
        contexts.append(browser.new_context(viewport=viewport))
        return contexts[-1].new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def centre():
    c4_unit()
    return {
        "admin": UserFactory(centre_admin=True, username="centreadmin"),
        "assessor": UserFactory(assessor=True, first_name="Ansel", last_name="Bramwell"),
        "iqa": UserFactory(iqa=True, first_name="Imogen", last_name="Delacourt"),
        "eqa": UserFactory(eqa=True, first_name="Esme", last_name="Fairweather"),
        "portfolio": PortfolioFactory(learner__first_name="Orla", learner__last_name="Penhaligon"),
    }


def test_a_learner_is_registered_invited_and_signs_in_for_the_first_time(
    new_page, live_server, centre
):
    base = live_server.url
    admin = new_page(DESKTOP)
    admin.set_default_timeout(15_000)
    sign_in(admin, base, "centreadmin")
    posts = []
    admin.on(
        "request",
        lambda request: request.method != "GET" and posts.append(request.url),
    )
    admin.goto(f"{base}/centre/")
    admin.get_by_role("link", name="Register a learner").click()
    admin.get_by_label("First name").fill("Ada")
    admin.get_by_label("Last name").fill("Lovelace")
    admin.get_by_label("E-mail address").fill("ada@example.org")
    admin.get_by_label(re.compile(r"C4: Deliver customer service")).check()
    admin.get_by_label("Assessor", exact=True).select_option(label="Ansel Bramwell")
    admin.get_by_label("IQA", exact=True).select_option(label="Imogen Delacourt")
    admin.get_by_label("Organisation").fill("Riverside Leisure")
    admin.get_by_role("button", name="Register and invite").click()
    admin.get_by_text("Ada Lovelace is registered for single units and invited").wait_for()

    assert len(posts) == 1, posts
    ada = User.objects.get(email="ada@example.org")
    assert ada.portfolios.get().assessor == centre["assessor"]

    # The invitation, sent by the background worker, is read from the test outbox.
    run_worker()
    [invitation] = [m for m in mail.outbox if m.to == ["ada@example.org"]]
    link = re.search(r"http://\S+/people/invitation/\S+/", invitation.body).group(0)
    learner = new_page(PHONE_390)
    learner.set_default_timeout(15_000)
    learner.goto(link.replace("http://testserver", base))
    learner.get_by_role("heading", name="Choose your password").wait_for()
    assert violations(learner) == []
    learner.get_by_label("New password").first.fill("a-long-new-pass-phrase")
    learner.get_by_label("New password confirmation").fill("a-long-new-pass-phrase")
    learner.get_by_role("button", name="Set my password and sign in").click()
    learner.get_by_text("Your password is set and you are signed in.").wait_for()
    assert learner.url.rstrip("/").endswith("/learner")
    ada.refresh_from_db()
    assert ada.last_login is not None

    # Signed out, the learner signs in with the new password and lands on their home.
    again = new_page(DESKTOP)
    sign_in(again, base, ada.username, "a-long-new-pass-phrase")
    assert again.url.rstrip("/").endswith("/learner")

    # The people list shows Ada signed in, with no invitation to resend.
    admin.goto(f"{base}/people/?q=lovelace")
    row = admin.get_by_role("row", name=re.compile("Ada Lovelace"))
    assert "Not yet signed in" not in row.inner_text()


def test_a_member_of_staff_is_added_and_an_eqa_given_access_until_a_day(
    new_page, live_server, centre
):
    base = live_server.url
    admin = new_page(DESKTOP)
    admin.set_default_timeout(15_000)
    sign_in(admin, base, "centreadmin")
    admin.goto(f"{base}/people/")
    admin.get_by_role("link", name="Add a member of staff").click()
    admin.get_by_label("First name").fill("Grace")
    admin.get_by_label("Last name").fill("Hopper")
    admin.get_by_label("E-mail address").fill("grace@example.org")
    admin.get_by_label("Assessor").check()
    admin.get_by_label("Internal quality assurer").check()
    admin.get_by_role("button", name="Add and invite").click()
    admin.get_by_text("Grace Hopper is added and invited by e-mail.").wait_for()
    row = admin.get_by_role("row", name=re.compile("Grace Hopper"))
    assert "Not yet signed in; invited" in row.inner_text()
    assert row.get_by_role("button", name=re.compile("Resend invitation")).is_visible()

    until = timezone.localdate() + datetime.timedelta(days=7)
    admin.get_by_role("link", name="EQA access").click()
    admin.get_by_role("link", name="Grant an EQA access").click()
    admin.get_by_label("Show the portfolios of a learner, or of a unit").fill("Orla")
    admin.get_by_role("button", name="Show").click()
    admin.get_by_label("External quality assurer").select_option(label="Esme Fairweather")
    admin.get_by_role("group", name="Orla Penhaligon").get_by_label(re.compile("unit C4")).check()
    admin.get_by_label("Until the end of").fill(until.isoformat())
    admin.get_by_label("Reason").fill("Visit")
    admin.get_by_role("button", name="Grant access").click()
    admin.get_by_text("Esme Fairweather has access and is told so.").wait_for()

    grant = EqaGrant.objects.get()
    assert list(grant.portfolios.all()) == [centre["portfolio"]]
    assert timezone.localtime(grant.expires_at).date() == until + datetime.timedelta(days=1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "390px"])
def test_every_people_page_passes_axe(new_page, live_server, centre, viewport):
    base = live_server.url
    grant = EqaGrant.objects.create(
        eqa=centre["eqa"], expires_at=timezone.now() + datetime.timedelta(days=3)
    )
    grant.portfolios.set([centre["portfolio"]])
    invited = UserFactory(learner=True, first_name="Nell")
    page = new_page(viewport)
    page.set_default_timeout(15_000)
    sign_in(page, base, "centreadmin")
    problems = {}
    for path in [
        "/people/",
        "/people/learners/new/",
        "/people/staff/new/",
        f"/people/{invited.pk}/edit/",
        "/people/eqa-access/",
        "/people/eqa-access/new/",
        f"/people/eqa-access/{grant.pk}/edit/",
        "/people/invitation/MQ/not-a-valid-token/",
    ]:
        page.goto(f"{base}{path}")
        if found := violations(page):
            problems[path] = found
        if viewport is PHONE_390 and has_horizontal_scroll(page):
            problems.setdefault(path, []).append("scrolls sideways at 390 px")
    # A form sent back with its errors, too.
    page.goto(f"{base}/people/learners/new/")
    page.get_by_role("button", name="Register and invite").click()
    page.get_by_text("There is a problem").wait_for()
    if found := violations(page):
        problems["/people/learners/new/ (refused)"] = found
    assert problems == {}
