"""Every role's main pages checked with axe-core against WCAG 2.2 A and AA."""

import re
from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.management import call_command

from assessments.models import IqaSample
from demo.management.commands.seed_demo import DEMO_PASSWORD
from portfolio import services
from portfolio.models import EvidenceItem, Portfolio, WitnessTestimony
from tests.browser.conftest import PHONE, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.fixture
def demo(db):
    out = StringIO()
    call_command("import_unit", "units/specs/ocr-c4.yaml", stdout=out)
    call_command("seed_demo", stdout=out)
    portfolios = {
        p.learner.username: p
        for p in Portfolio.objects.filter(unit__code="C4").select_related("learner")
    }
    example = Portfolio.objects.get(learner__username="learner2", unit__code="EX1")
    submitted = EvidenceItem.objects.filter(
        portfolio=portfolios["learner2"], status="submitted", answers_question=None
    ).first()
    photo = EvidenceItem.objects.filter(portfolio=portfolios["learner1"], files__isnull=False)[0]
    k1 = portfolios["learner1"].unit.criteria.get(nos_code="K1")
    draft = EvidenceItem.objects.filter(portfolio=portfolios["learner2"], status="draft").first()
    testimony = WitnessTestimony.objects.create(
        evidence=draft,
        witness_name="Sam Okafor",
        witness_job_title="Duty manager",
        relationship="Line manager",
        not_a_relative=True,
        witness_email="sam@example.org",
        statement="I saw it.",
    )
    services.witness_invite(testimony=testimony, by=draft.portfolio.learner, site_url="")
    token = re.search(r"/witness/([^/]+)/", mail.outbox[-1].body).group(1)
    return {
        "draft": draft.pk,
        "token": token,
        "sample": IqaSample.objects.get().pk,
        "l1": portfolios["learner1"].pk,
        "l2": portfolios["learner2"].pk,
        "e1": portfolios["learner1"].enrolment_id,
        "submitted": submitted.pk,
        "photo": photo.pk,
        "k1": k1.pk,
        "unit": portfolios["learner1"].unit_id,
        "e2": portfolios["learner2"].enrolment_id,
        "k4": portfolios["learner2"].unit.criteria.get(nos_code="K4").pk,
        "ex1": example.pk,
        "qualification": example.enrolment.qualification_id,
        "example_unit": example.unit_id,
    }


@pytest.fixture
def signed_in(browser, live_server):
    contexts = []

    def open_as(username, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if username:
            sign_in(page, live_server.url, username, DEMO_PASSWORD)
        else:
            page.goto(f"{live_server.url}/accounts/login/")
        return page

    yield open_as
    for context in contexts:
        context.close()


PAGES = {
    None: ["/accounts/login/", "/accounts/password_reset/", "/witness/{token}/"],
    "learner2": [
        "/learner/",
        "/portfolios/{l2}/",
        "/portfolios/{l2}/evidence/new/",
        "/portfolios/{l2}/knowledge/",
        "/notifications/",
        "/notifications/settings/",
        "/units/{unit}/",
        "/evidence/{draft}/",
        "/evidence/{draft}/submit/",
        "/evidence/{draft}/witness/",
        "/portfolios/{l2}/knowledge/{k4}/",
        "/enrolments/{e2}/",
        "/enrolments/{e2}/matrix/",
        "/portfolios/{ex1}/",
        "/units/qualifications/{qualification}/",
        "/units/{example_unit}/",
    ],
    "learner1": ["/evidence/{photo}/", "/portfolios/{l1}/matrix/", "/enrolments/{e1}/matrix/"],
    "assessor1": [
        "/assessor/",
        "/notifications/",
        "/evidence/{submitted}/",
        "/portfolios/{l2}/",
        "/portfolios/{ex1}/matrix/",
        "/portfolios/{ex1}/decisions/",
        "/portfolios/{l2}/sign-off/",
        "/portfolios/{l2}/decisions/",
        "/portfolios/{l2}/observations/new/",
        "/portfolios/{l2}/discussions/new/",
        "/portfolios/{l1}/criteria/{k1}/",
    ],
    "iqa1": ["/iqa/", "/portfolios/{l2}/samples/new/", "/samples/{sample}/", "/standardisation/"],
    "eqa1": ["/eqa/", "/portfolios/{l1}/", "/portfolios/{l1}/audit/", "/exports/"],
    "admin": [
        "/centre/",
        "/centre/eqa-visits/",
        "/portfolios/{l1}/unlock/",
        "/enrolments/{e1}/claim/",
        "/centre/claims/",
        "/centre/qualifications/",
        "/enrolments/{e1}/",
    ],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_the_pages_of_each_role_have_no_wcag_violations(signed_in, live_server, demo, username):
    page = signed_in(username)
    found = {}
    for path in PAGES[username]:
        response = page.goto(live_server.url + path.format(**demo))
        assert response.status == 200, path
        if problems := violations(page):
            found[path] = problems

    assert found == {}


def test_the_learners_pages_have_no_violations_on_a_phone(signed_in, live_server, demo):
    page = signed_in("learner2", viewport=PHONE)
    found = {}
    for path in PAGES["learner2"]:
        response = page.goto(live_server.url + path.format(**demo))
        assert response.status == 200, path
        if problems := violations(page):
            found[path] = problems

    assert found == {}


def test_the_check_fails_on_a_control_without_a_label(browser):
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><head><title>Broken</title></head><body><main><h1>Form</h1>'
        '<input type="text" name="title"></main></body></html>'
    )

    assert any(problem.startswith("label:") for problem in violations(page))
    page.close()


def test_a_forms_errors_are_announced_and_pass_the_check(signed_in, live_server, demo):
    page = signed_in("learner2")
    page.goto(f"{live_server.url}/portfolios/{demo['l2']}/evidence/new/")
    page.get_by_role("button", name="Save draft").click()

    title = page.get_by_label("Title")
    assert title.get_attribute("aria-invalid") == "true"
    described = title.get_attribute("aria-describedby").split()
    messages = [page.locator(f"#{ident}").inner_text() for ident in described]
    assert any("This field is required." in message for message in messages)
    assert page.get_by_role("alert").count() == 1  # the summary at the top of the form
    assert violations(page) == []
