"""Security headers on pages and files, sessions, and the production settings."""

import datetime
import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from portfolio.models import EvidenceFile
from portfolio.services import file_check, file_renditions
from tests import samples
from tests.factories import EvidenceFactory, UserFactory, edit_form_data

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent


def policy(response, header: str = "Content-Security-Policy") -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [values]}."""
    directives = {}
    for part in response[header].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: inline scripts, style
    elements and attributes, event handler attributes and javascript: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append(f"an inline <script> ({self.getpos()})")
        if tag == "style":
            self.found.append(f"a <style> element ({self.getpos()})")
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> ({self.getpos()})")
            if name in {"href", "src", "action"} and (value or "").strip().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...> ({self.getpos()})")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def witness_link(client, login, portfolio, django_capture_on_commit_callbacks):
    evidence = EvidenceFactory(portfolio=portfolio, method="witness")
    login(portfolio.learner)
    client.post(
        f"/evidence/{evidence.pk}/witness/",
        {
            "witness_name": "Sam Okafor",
            "witness_job_title": "Duty manager",
            "relationship": "My line manager",
            "not_a_relative": "on",
            "witness_email": "sam.okafor@example.org",
            "statement": "I saw the learner calm an upset customer at the returns desk.",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/evidence/{evidence.pk}/witness/send/")
    client.logout()
    return re.search(r"http://testserver(/witness/[^/]+/)", mail.outbox[-1].body).group(1)


@pytest.fixture
def pages(client, login, portfolio, witness_link):
    """Every kind of page: signed out, the witness's, the learner's (a crispy form, a form with
    its errors, evidence showing a photo and a PDF) and the Django admin's."""
    evidence = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    shown = {"/accounts/login/": client.get("/accounts/login/")}
    shown["/accounts/password_reset/"] = client.get("/accounts/password_reset/")
    shown[witness_link] = client.get(witness_link)
    shown["the witness's statement"] = client.post(witness_link, follow=True)

    login(portfolio.learner)
    client.post(
        f"/evidence/{evidence.pk}/edit/",
        edit_form_data(
            evidence,
            files=[
                samples.upload("photo.jpg", samples.jpeg()),
                samples.upload("letter.pdf", samples.pdf()),
            ],
        ),
    )
    assert evidence.files.count() == 2
    new_evidence = f"/portfolios/{portfolio.pk}/evidence/new/"
    for path in [
        "/learner/",
        f"/portfolios/{portfolio.pk}/",
        new_evidence,
        f"/evidence/{evidence.pk}/",
    ]:
        shown[path] = client.get(path)
    shown["a form with its errors"] = client.post(new_evidence, {"title": ""})

    login(UserFactory(centre_admin=True, is_staff=True))
    for path in [
        "/centre/",
        "/admin/",
        "/admin/portfolio/user/",
        "/admin/portfolio/portfolio/add/",
        f"/admin/portfolio/user/{portfolio.learner.pk}/change/",
        f"/admin/portfolio/portfolio/{portfolio.pk}/change/",
    ]:
        shown[path] = client.get(path)
    for path, response in shown.items():
        assert response.status_code in {200, 400}, path
    return shown


def test_every_page_has_a_policy_that_runs_only_our_own_scripts(pages):
    for path, response in pages.items():
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], path
        assert directives["script-src"] == ["'self'"], path
        assert directives["style-src"] == ["'self'"], path
        assert directives["object-src"] == ["'none'"], path
        assert directives["base-uri"] == ["'self'"], path
        assert directives["form-action"] == ["'self'"], path
        assert directives["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], path


def test_no_page_has_inline_script_or_style_the_policy_would_block(pages):
    for path, response in pages.items():
        assert inline_code(response.text) == [], path


def test_the_inline_code_check_can_fail():
    assert len(inline_code('<script>alert(1)</script><p style="color:red" onclick="x()">')) == 3
    assert inline_code('<script src="/static/a.js"></script><a href="/x">x</a>') == []


def test_every_page_forbids_framing_sniffing_and_cross_site_referrers(pages):
    for path, response in pages.items():
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path


class TestFiles:
    """An evidence file opened in the browser can run nothing as this site."""

    @pytest.fixture
    def files(self, client, login, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio)
        login(portfolio.learner)
        client.post(
            f"/evidence/{evidence.pk}/edit/",
            edit_form_data(
                evidence,
                files=[
                    samples.upload("photo.jpg", samples.jpeg()),
                    samples.upload("letter.pdf", samples.pdf()),
                    samples.upload("notes.docx", samples.docx()),
                    samples.upload("notes.txt", samples.text()),
                    samples.upload("clip.mp4", samples.mp4()),
                ],
            ),
        )
        # As the background worker does: the video checked, the photo's renditions made.
        file_check(file_id=evidence.files.get(status=EvidenceFile.Status.CHECKING).pk)
        file_renditions(file_id=evidence.files.get(kind=EvidenceFile.Kind.IMAGE).pk)
        return {file.original_name: file for file in evidence.files.all()}

    @pytest.mark.parametrize(
        ("name", "variant", "disposition"),
        [
            ("photo.jpg", "", "inline"),
            ("photo.jpg", "screen/", "inline"),
            ("photo.jpg", "print/", "inline"),
            ("notes.docx", "", "attachment"),
            ("notes.txt", "", "attachment"),
            ("clip.mp4", "", "attachment"),
        ],
    )
    def test_it_is_sandboxed_and_loads_nothing(self, client, files, name, variant, disposition):
        response = client.get(f"/files/{files[name].pk}/{variant}")

        assert response.status_code == 200
        directives = policy(response)
        assert directives["sandbox"] == []  # no exceptions: no scripts, no same origin
        assert directives["default-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'self'"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith(disposition)
        assert response["Cache-Control"] == "private, no-store"

    def test_a_pdf_is_shown_in_the_evidence_page_and_nowhere_else(self, client, files):
        response = client.get(f"/files/{files['letter.pdf'].pk}/")

        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert policy(response) == {"frame-ancestors": ["'self'"]}
        assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_no_signed_in_or_witness_page_is_kept_by_the_browser(pages, witness_link):
    for path, response in pages.items():
        if path == "/accounts/password_reset/":
            continue  # signed out, and nothing on it of anyone's
        assert "no-store" in response["Cache-Control"].split(", "), path
        assert "private" in response["Cache-Control"].split(", "), path
    assert pages["the witness's statement"].redirect_chain[0][0].startswith("/witness/respond/")


def test_every_page_turns_off_the_browser_features_the_site_does_not_use(pages):
    for path, response in pages.items():
        features = dict(
            part.strip().split("=", 1) for part in response["Permissions-Policy"].split(",")
        )
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features[feature] == "()", (path, feature)
        assert features["fullscreen"] == "(self)", path  # a video may go full screen


class TestPrivateDownloads:
    """What a signed-in person downloads is not kept either; static files keep their caching."""

    @pytest.mark.parametrize("kind", ["pdf", "data", "bulk"])
    def test_the_portfolio_pdf_the_person_s_data_and_bulk_zips(
        self, client, login, portfolio, make_user, kind
    ):
        from django.core.files.base import ContentFile

        from records.models import Export

        person = portfolio.learner if kind != "bulk" else make_user(centre_admin=True)
        export = Export.objects.create(
            kind=kind,
            requested_by=person,
            portfolio=portfolio if kind == "pdf" else None,
            portfolio_ids=[portfolio.pk] if kind == "bulk" else [],
            status=Export.Status.DONE,
        )
        export.file.save(f"exports/test-{kind}", ContentFile(b"PK\x05\x06" + b"\0" * 18))
        login(person)

        response = client.get(f"/exports/{export.pk}/download/")

        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        assert "Permissions-Policy" in response

    def test_the_pages_that_make_them(self, client, login, portfolio):
        login(portfolio.learner)

        for path in [f"/portfolios/{portfolio.pk}/export.pdf", "/me/data/"]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response["Cache-Control"] == "private, no-store", path

    def test_static_files_keep_their_caching_for_someone_signed_in(self, client, login, portfolio):
        login(portfolio.learner)

        response = client.get("/static/css/site.css")

        assert response.status_code == 200
        assert "no-store" not in response["Cache-Control"]
        assert "max-age" in response["Cache-Control"]


class TestSessions:
    def test_the_session_cookie_lasts_until_the_browser_closes_and_scripts_cannot_read_it(
        self, client, login, portfolio
    ):
        login(portfolio.learner)

        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["httponly"]
        assert cookie["max-age"] == ""
        assert cookie["expires"] == ""

    def test_each_request_moves_the_expiry_on(self, client, login, portfolio):
        login(portfolio.learner)
        soon = timezone.now() + datetime.timedelta(minutes=1)
        Session.objects.update(expire_date=soon)

        client.get("/learner/")

        expires = Session.objects.get().expire_date
        idle_limit = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
        assert expires > timezone.now() + idle_limit - datetime.timedelta(minutes=1)

    def test_an_expired_session_sends_the_person_to_sign_in(self, client, login, portfolio):
        login(portfolio.learner)
        assert client.get("/learner/").status_code == 200

        Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
        response = client.get("/learner/")

        assert response.status_code == 302
        assert response.url == "/accounts/login/?next=/learner/"


class TestHttps:
    """The production flags at work (the suite itself runs over plain HTTP)."""

    def test_plain_http_is_redirected_to_https(self, client, db, settings):
        settings.SECURE_SSL_REDIRECT = True

        response = client.get("/accounts/login/")

        assert response.status_code == 301
        assert response.url == "https://testserver/accounts/login/"

    def test_the_health_check_answers_plain_http(self, client, db, settings):
        settings.SECURE_SSL_REDIRECT = True

        assert client.get("/health/").status_code == 200

    def test_https_responses_tell_browsers_to_keep_to_https(self, client, db, settings):
        settings.SECURE_HSTS_SECONDS = 31_536_000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

        response = client.get("/accounts/login/", secure=True)

        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

    def test_behind_a_proxy_its_header_says_the_request_was_https(self, client, db, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

        response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})

        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("proxies", "peer", "believed"),
        [
            ([], "127.0.0.1", True),  # none listed: a proxy on this machine
            ([], "::1", True),
            ([], "203.0.113.9", False),  # a visitor reaching gunicorn directly
            (["10.0.0.0/24"], "10.0.0.7", True),
            (["10.0.0.0/24"], "127.0.0.1", False),  # listed proxies replace the loopback default
            (["10.0.0.0/24"], "203.0.113.9", False),
        ],
    )
    def test_the_proxys_https_header_is_believed_only_from_a_trusted_proxy(
        self, client, db, settings, proxies, peer, believed
    ):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.TRUSTED_PROXIES = proxies

        response = client.get(
            "/accounts/login/", headers={"X-Forwarded-Proto": "https"}, REMOTE_ADDR=peer
        )

        if believed:
            assert response.status_code == 200
        else:
            assert response.status_code == 301
            assert response.url == "https://testserver/accounts/login/"

    def test_cookies_are_sent_only_over_https(self, client, portfolio, settings):
        settings.SESSION_COOKIE_SECURE = True
        settings.CSRF_COOKIE_SECURE = True

        sign_in_page = client.get("/accounts/login/", secure=True)
        client.force_login(portfolio.learner)
        page = client.get("/learner/", secure=True)

        assert sign_in_page.cookies[settings.CSRF_COOKIE_NAME]["secure"]
        assert page.cookies[settings.SESSION_COOKIE_NAME]["secure"]
        assert page.cookies[settings.SESSION_COOKIE_NAME]["httponly"]


PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "AUDIT_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "portfolio.example.org",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def run_in_production(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python with the real settings in a production environment: a long random SECRET_KEY,
    a host name and ``env``, and nothing of the test run's own environment (no DEBUG)."""
    environment = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    environment.update(PRODUCTION_ENV, **env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOWN = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "CSRF_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_DOMAIN",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SITE_URL",
]


def production_settings(**env: str) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {SHOWN!r}}}))"
    )
    completed = run_in_production("-c", code, **env)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_deploy_check_finds_nothing_to_warn_about():
    completed = run_in_production("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout
    assert "WARNING" not in completed.stdout + completed.stderr


def test_production_sends_cookies_over_https_only_and_keeps_browsers_to_https():
    assert production_settings() == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        # Taken by browsers only when secure, for the whole site and this host alone.
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "SESSION_COOKIE_PATH": "/",
        "CSRF_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "CSRF_COOKIE_DOMAIN": None,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": None,
        # Links in e-mails sent outside a request: the site's first host name, over HTTPS.
        "SITE_URL": "https://portfolio.example.org",
    }


def test_the_https_settings_come_from_the_environment():
    shown = production_settings(
        SECURE_COOKIES="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )

    assert shown["SESSION_COOKIE_SECURE"] is False
    assert shown["CSRF_COOKIE_SECURE"] is False
    assert shown["SESSION_COOKIE_NAME"] == "sessionid"  # __Host- cookies must be secure
    assert shown["CSRF_COOKIE_NAME"] == "csrftoken"
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 3600
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_developers_machine_keeps_plain_http():
    shown = production_settings(DEBUG="true")

    assert shown["DEBUG"] is True
    assert shown["SESSION_COOKIE_SECURE"] is False
    assert shown["SESSION_COOKIE_NAME"] == "sessionid"
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 0


def test_the_trusted_proxies_are_listed_by_address():
    completed = run_in_production("-c", "import django; django.setup()", TRUSTED_PROXIES="1")

    assert completed.returncode != 0
    assert "TRUSTED_PROXIES lists the reverse proxies' addresses or networks" in completed.stderr
