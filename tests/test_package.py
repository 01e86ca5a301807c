"""The built package, as a centre installs it: the wheel holds the product and nothing of the
development tooling, and, installed into a clean virtual environment away from the source tree,
it migrates, collects its static files, loads a unit and serves pages under gunicorn with
production settings."""

import html
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ["config", "units", "audit", "portfolio", "assessments", "records", "people"]

# Left out of the copy the wheel is built from: what a build, a virtual environment or a tool
# leaves in the working tree (a stale build/lib would otherwise slip into the wheel).
TOP_LEVEL_JUNK = {".git", ".venv", "venv", "build", "dist", "var", "node_modules"}
JUNK = {"__pycache__", ".pytest_cache", ".ruff_cache", ".import_linter_cache", ".mypy_cache"}


def ignore_junk(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {
        name
        for name in names
        if name in JUNK or name.endswith((".egg-info", ".pyc")) or (top and name in TOP_LEVEL_JUNK)
    }


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output if it fails."""
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def timed(label: str, started: float) -> None:
    print(f"\n[package] {label}: {time.monotonic() - started:.1f} s", end="")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the working tree as it is now (the demo and the tests included, so that the
    wheel is shown to leave them out), without build leftovers."""
    copy = tmp_path_factory.mktemp("source") / "evidence-portfolio"
    shutil.copytree(ROOT, copy, ignore=ignore_junk)
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    # With build isolation: the project venv's setuptools may be older than the build-system
    # asks for (>=77); pip's cache makes fetching a newer one quick.
    out = tmp_path_factory.mktemp("wheel")
    started = time.monotonic()
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source],
        env=without_python_path(os.environ),
    )
    timed("wheel built", started)
    (built,) = out.glob("evidence_portfolio-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def without_python_path(env) -> dict[str, str]:
    return {
        name: value
        for name, value in env.items()
        if name not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    }


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A clean virtual environment (no system or project site-packages) with the wheel installed,
    its dependencies from the package index (or pip's cache)."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", folder])
    timed("venv created", started)
    started = time.monotonic()
    run(
        [folder / "bin" / "python", "-m", "pip", "install", "--quiet", wheel],
        cwd=folder.parent,
        env=without_python_path(os.environ),
    )
    timed("wheel and dependencies installed", started)
    return folder


def test_the_wheel_holds_the_templates_static_files_unit_specs_and_migrations(source, wheel_names):
    for name in [
        "config/settings.py",
        "config/wsgi.py",
        "config/templates/base.html",
        "config/templates/registration/login.html",
        "assessments/templates/assessments/portfolio_detail.html",
        "records/templates/records/pdf/portfolio.html",
        "config/static/css/site.css",
        "records/static/pdf/portfolio.css",
        "units/specs/ocr-c4.yaml",
        "units/specs/schema.json",
        "units/management/commands/import_unit.py",
        "portfolio/migrations/0001_initial.py",
    ]:
        assert name in wheel_names, name

    # Every template, static file, unit specification and migration of the source tree, so
    # that one added to a new folder or a new app is not left behind.
    wanted = {
        path.relative_to(source).as_posix()
        for package in PRODUCT_PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file()
        and (
            {"templates", "static", "migrations"} & set(path.relative_to(source).parts)
            or (path.parent == source / "units" / "specs" and path.suffix in {".yaml", ".json"})
        )
    }
    assert any(name.startswith("audit/migrations/") for name in wanted)
    assert wanted - wheel_names == set()


def test_the_wheel_holds_no_demo_benchmarks_seeding_or_tests(wheel_names):
    package_files = {name for name in wheel_names if ".dist-info/" not in name}
    top_level = {name.split("/", 1)[0] for name in package_files}
    assert top_level == set(PRODUCT_PACKAGES)

    unwanted = [
        name
        for name in package_files
        if name.startswith(("demo/", "tests/"))
        or "/tests/" in name
        or "benchmark" in name
        or re.search(r"/management/commands/bench(_\w+)?\.py$", name)
        or "seed_demo" in name
    ]
    assert unwanted == []

    (top_level_txt,) = [name for name in wheel_names if name.endswith(".dist-info/top_level.txt")]
    assert "demo" not in top_level_txt


class Browser:
    """Plain HTTP with a cookie jar, as a browser signs in; redirects are shown, not followed,
    unless asked for."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())

    def request(self, path: str, data: dict | None = None, follow: bool = False):
        handlers = [self.cookies] if follow else [self.cookies, self.NoRedirect()]
        opener = urllib.request.build_opener(*handlers)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with opener.open(request, timeout=20) as response:
                return response.status, response.headers, response.read().decode(), response.url
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode(), error.url


def test_the_installed_package_serves_pages_with_production_settings_and_holds_no_demo(
    venv, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("deployment")  # nothing of the source tree is here
    assert ROOT not in outside.parents
    python = venv / "bin" / "python"
    bin_dir = venv / "bin"
    # Only what a production environment sets: nothing of the test run's settings, nor a
    # PYTHONPATH that could reach the source tree.
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(outside)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "package-test-" + "k" * 50,
        "AUDIT_KEY": "package-test-audit-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{outside / 'db.sqlite3'}",
        "STATIC_ROOT": str(outside / "static"),
        "PRIVATE_FILES_ROOT": str(outside / "private"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "DJANGO_SUPERUSER_PASSWORD": "a long package-test password",
    }

    def django_admin(*args: str) -> subprocess.CompletedProcess:
        return run([bin_dir / "django-admin", *args], cwd=outside, env=env)

    # The product is imported from the virtual environment's site-packages, the demo not at all.
    where = run(
        [
            python,
            "-c",
            "import sysconfig, importlib.util, config, units;"
            "print(sysconfig.get_paths()['purelib']);"
            "print(config.__file__); print(units.__file__);"
            "print(importlib.util.find_spec('demo'))",
        ],
        cwd=outside,
        env=env,
    ).stdout.splitlines()
    site_packages, config_file, units_file, demo_spec = where
    assert Path(site_packages).is_relative_to(venv)
    for module_file in (config_file, units_file):
        assert Path(module_file).is_relative_to(site_packages), module_file
        assert not Path(module_file).is_relative_to(ROOT), module_file
    assert demo_spec == "None"

    started = time.monotonic()
    django_admin("check")
    django_admin("migrate", "--no-input", "-v0")
    django_admin("collectstatic", "--no-input", "-v0")
    spec = Path(site_packages) / "units" / "specs" / "ocr-c4.yaml"
    loaded = django_admin("import_unit", str(spec)).stdout
    assert "loaded" in loaded
    django_admin("createsuperuser", "--no-input", "--username", "admin", "--email", "a@b.test")
    timed("migrate, collectstatic, import_unit, createsuperuser", started)

    commands = django_admin("help", "--commands").stdout.split()
    assert "import_unit" in commands
    assert [name for name in commands if name == "seed_demo" or name.startswith("bench")] == []
    seeding = subprocess.run(
        [bin_dir / "django-admin", "seed_demo"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
    )
    assert seeding.returncode != 0
    assert "Unknown command: 'seed_demo'" in seeding.stderr

    port = free_port()
    log = (outside / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [
            bin_dir / "gunicorn",
            "--config",
            "python:config.gunicorn",
        ],
        cwd=outside,
        env={**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        started = time.monotonic()
        deadline = started + 30
        while True:
            try:
                status, _, body, _ = browser.request("/health/")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not answer /health/:\n{log.read()}")
            time.sleep(0.2)
        timed("gunicorn answered /health/", started)
        assert body == "ok"

        status, _, page, _ = browser.request("/accounts/login/")
        assert status == 200
        assert "<h1>Sign in</h1>" in page
        assert 'name="username"' in page
        assert 'name="password"' in page
        assert 'name="csrfmiddlewaretoken"' in page

        # The stylesheets the page links to, by their hashed names from collectstatic.
        stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page)
        assert any(re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", s) for s in stylesheets)
        for stylesheet in stylesheets:
            status, headers, css, _ = browser.request(stylesheet)
            assert status == 200, stylesheet
            assert headers["Content-Type"].startswith("text/css")
            assert css.strip()

        # No unit page is public: it asks for signing in, then shows the unit just imported.
        status, headers, _, _ = browser.request("/units/")
        assert status == 302
        assert headers["Location"].startswith("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _, units_page, url = browser.request(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": token,
                "username": "admin",
                "password": env["DJANGO_SUPERUSER_PASSWORD"],
                "next": "/units/",
            },
            follow=True,
        )
        assert status == 200
        assert url.endswith("/units/")
        assert "Deliver customer service to difficult customers" in html.unescape(units_page)
        (unit_link,) = re.findall(r'href="(/units/\d+/)"', units_page)
        status, _, unit_page, _ = browser.request(unit_link)
        assert status == 200
        assert "Deliver customer service to difficult customers" in html.unescape(unit_page)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.seek(0)
        server_log = log.read()
        log.close()
    assert server.returncode == 0, server_log
    assert "Traceback" not in server_log, server_log
