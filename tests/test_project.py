"""The project as a whole: settings from the environment, migrations, static files."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from config.settings import env_bool


def settings_environment() -> dict[str, str]:
    """The test run's environment without its keys or DEBUG."""
    return {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "AUDIT_KEY", "DEBUG"}}


def settings_import(**env):
    """Import the real settings in a fresh interpreter with exactly ``env`` set."""
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"],
        env={**settings_environment(), **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


def test_there_is_no_usable_secret_key_outside_debug():
    result = settings_import(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_has_a_development_key_and_local_hosts():
    result = settings_import(DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['127.0.0.1', 'localhost']"


def test_there_is_no_usable_audit_key_outside_debug():
    result = settings_import(DEBUG="false", SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "AUDIT_KEY is not set" in result.stderr


def test_debug_has_a_development_audit_key_not_for_production():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.AUDIT_KEY)"],
        env={**settings_environment(), "DEBUG": "true"},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=True,
    )

    assert result.stdout.strip() == "development-only-audit-key-never-used-outside-debug"


def test_production_reads_hosts_from_the_environment():
    result = settings_import(
        SECRET_KEY="x" * 50, AUDIT_KEY="y" * 50, ALLOWED_HOSTS="portfolio.example.org, b.org"
    )

    assert result.stdout.strip() == "False ['portfolio.example.org', 'b.org']"


def test_a_bad_boolean_is_named(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false, not 'maybe'"):
        env_bool("DEBUG")


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert "No changes detected" in out.getvalue()


def test_evidence_files_are_stored_outside_anything_served():
    evidence = settings.STORAGES["evidence"]["OPTIONS"]

    assert evidence["base_url"] is None
    assert not str(evidence["location"]).startswith(str(settings.STATIC_ROOT))


@pytest.mark.django_db
def test_bootstrap_is_served_from_our_own_static_files(client, login, make_user):
    login(make_user(learner=True))

    page = client.get("/learner/").text

    assert 'href="/static/bootstrap/css/bootstrap.min.css"' in page
    assert "cdn" not in page.lower()
    assert "https://" not in page
    css = client.get("/static/bootstrap/css/bootstrap.min.css")
    assert css.status_code == 200
    assert b"Bootstrap  v5.3" in b"".join(css.streaming_content)
