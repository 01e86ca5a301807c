"""The production stack on this machine: gunicorn with production settings serving pages and
collected static files, and e-mail delivered over SMTP."""

import email
import http.client
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.factories import EvidenceFactory
from tests.servers import free_port
from tests.test_witness import WITNESS

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str) -> tuple[int, dict, bytes]:
    # As from a reverse proxy that ended TLS (gunicorn trusts it from the loopback address).
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict:
    """A production environment on this machine: SQLite, files in a temporary folder."""
    folder = tmp_path_factory.mktemp("production")
    port = free_port()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "production-test-" + "x" * 40,
        "AUDIT_KEY": "production-test-audit-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STATIC_ROOT": str(folder / "static"),
        "PRIVATE_FILES_ROOT": str(folder / "private"),
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }


@pytest.fixture(scope="module")
def gunicorn(production_env):
    """gunicorn started from the repository as a centre starts it, with production settings."""
    env = production_env
    folder = Path(env["STATIC_ROOT"]).parent
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    log = (folder / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://{env['BIND']}"
    deadline = time.monotonic() + 30
    while True:
        try:
            fetch(f"{base}/health/")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not start:\n{log.read()}")
            time.sleep(0.2)
    yield base, log
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_gunicorn_serves_the_sign_in_page_and_static_files(gunicorn):
    base, log = gunicorn

    status, headers, body = fetch(f"{base}/accounts/login/")

    assert status == 200, body[:2000]
    assert b'name="password"' in body
    assert headers["Set-Cookie"].startswith("__Host-csrftoken=")
    assert "Secure" in headers["Set-Cookie"]
    assert "Path=/" in headers["Set-Cookie"]
    assert "camera=()" in headers["Permissions-Policy"]
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]+\.css)"', body)
    assert stylesheet, "the page links the collected, fingerprinted stylesheet"
    status, headers, css = fetch(base + stylesheet[1].decode())
    assert status == 200
    assert b".skip-link" in css
    assert headers["Content-Type"].startswith("text/css")
    assert "max-age" in headers["Cache-Control"]
    assert fetch(f"{base}/health/")[:3:2] == (200, b"ok")
    log.seek(0)
    assert '"GET /accounts/login/ HTTP/1.1" 200' in log.read()  # the access log


def test_gunicorns_logs_hold_no_secret_of_a_link(gunicorn):
    base, log = gunicorn

    fetch(f"{base}/witness/a-witness-token-0123456789/")
    fetch(f"{base}/accounts/reset/MQ/a-reset-token-0123456789/")
    time.sleep(0.5)  # the access log is written once the response is sent

    log.seek(0)
    written = log.read()
    assert '"GET /witness/[hidden]/ HTTP/1.1" 404' in written
    assert '"GET /accounts/reset/MQ/[hidden]/ HTTP/1.1"' in written
    assert "0123456789" not in written


def test_a_page_that_needs_signing_in_redirects_to_the_sign_in_page(gunicorn):
    base, _ = gunicorn
    request = urllib.request.Request(f"{base}/learner/", headers={"X-Forwarded-Proto": "https"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)

    assert answer.value.code == 302
    assert answer.value.headers["Location"] == "/accounts/login/?next=/learner/"


class Inbox:
    """An SMTP server's handler that keeps every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "portfolio@centre.example.org"
    yield inbox
    controller.stop()


@pytest.mark.django_db
def test_a_witness_invitation_is_delivered_by_smtp(
    smtp_server, client, login, portfolio, django_capture_on_commit_callbacks
):
    evidence = EvidenceFactory(portfolio=portfolio, method="witness")
    login(portfolio.learner)
    client.post(f"/evidence/{evidence.pk}/witness/", WITNESS)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/evidence/{evidence.pk}/witness/send/")

    [message] = smtp_server.messages
    assert message.mail_from == "portfolio@centre.example.org"
    assert message.rcpt_tos == ["sam.okafor@example.org"]
    text = email.message_from_bytes(message.content).get_payload(decode=True).decode()
    assert "Sam Okafor" in text
    assert re.search(r"http://testserver/witness/[^/\s]+/", text)


def gunicorn_settings(monkeypatch, **env: str):
    """config/gunicorn.py read afresh in an environment holding only ``env`` of its variables."""
    import importlib

    for name in ("BIND", "PORT", "TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import config.gunicorn

    return importlib.reload(config.gunicorn)


def test_gunicorn_listens_on_the_loopback_address_unless_told_otherwise(monkeypatch):
    assert gunicorn_settings(monkeypatch).bind == ["127.0.0.1:8000"]
    assert gunicorn_settings(monkeypatch, PORT="8080").bind == ["127.0.0.1:8080"]
    assert gunicorn_settings(monkeypatch, BIND="0.0.0.0:8000").bind == ["0.0.0.0:8000"]


def test_gunicorn_believes_forwarded_headers_from_the_trusted_proxies_only(monkeypatch):
    assert gunicorn_settings(monkeypatch).forwarded_allow_ips == "127.0.0.1,::1"
    assert (
        gunicorn_settings(monkeypatch, TRUSTED_PROXIES="10.0.0.2, 10.0.1.0/24").forwarded_allow_ips
        == "10.0.0.2"
    )
    assert (
        gunicorn_settings(
            monkeypatch, TRUSTED_PROXIES="10.0.0.2", FORWARDED_ALLOW_IPS="10.0.0.9"
        ).forwarded_allow_ips
        == "10.0.0.9"
    )


def test_a_witness_answering_in_several_tabs_at_once_gets_no_database_error(
    gunicorn, production_env
):
    """SQLite, as the demo runs it, with two web processes: answers to one link sent at the
    same moment wait for each other; one is recorded and the others told it was."""
    _, log = gunicorn
    setup = (
        "import datetime, hashlib; from django.utils import timezone; "
        "from tests.factories import EvidenceFactory, PortfolioFactory, WitnessFactory, c4_unit; "
        "c4_unit(); "
        "WitnessFactory(evidence=EvidenceFactory(portfolio=PortfolioFactory(), method='witness'), "
        "status='sent', token_hash=hashlib.sha256(b'several-tabs').hexdigest(), "
        "sent_at=timezone.now(), expires_at=timezone.now() + datetime.timedelta(days=7))"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", setup],
        cwd=ROOT,
        env=production_env,
        check=True,
    )
    host = production_env["BIND"]
    count = 4
    ready = threading.Barrier(count)
    answers = []

    def sender():
        connection = http.client.HTTPConnection(host, timeout=60)

        def send(method, path, cookies, body=None):
            headers = {"X-Forwarded-Proto": "https", "Cookie": "; ".join(cookies.values())}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Origin"] = f"https://{host}"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    cookies[pair.split("=", 1)[0]] = pair
            return response.status, response.getheader("Location"), response.read().decode()

        return send

    def form_token(page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    # The witness opens the link once; the browser's tabs then share its cookies.
    send, cookies = sender(), {}
    status, _, opening = send("GET", "/witness/several-tabs/", cookies)
    assert status == 200
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": form_token(opening)})
    status, page, _ = send("POST", "/witness/several-tabs/", cookies, body)
    assert status == 302

    def answer():
        send, tab = sender(), dict(cookies)
        status, _, form = send("GET", page, tab)
        assert status == 200
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": form_token(form),
                "confirm": "1",
                "confirm-typed_name": "Sam Okafor",
                "confirm-declaration": "on",
            }
        )
        ready.wait()
        answers.append(send("POST", page, tab, body)[::2])

    threads = [threading.Thread(target=answer) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    log.seek(0)
    served = log.read()
    assert "database is locked" not in served
    assert sorted(status for status, _ in answers) == [200] + [410] * (count - 1), served[-3000:]
    assert sum("Thank you" in text for _, text in answers) == 1
    assert sum("This link has been used" in text for _, text in answers) == count - 1
