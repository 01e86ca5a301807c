"""Settings for the evidence portfolio, read from the environment.

Every value a deployment changes comes from an environment variable; the defaults suit a
developer's machine (SQLite and files under ``var/`` in the repository). Outside debug there is
no usable default for ``SECRET_KEY``.
"""

import importlib.util
import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

CONFIG_DIR = Path(__file__).resolve().parent
BASE_DIR = CONFIG_DIR.parent
VAR_DIR = BASE_DIR / "var"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment "
            "(with DEBUG=true a development key is used)."
        )
    SECRET_KEY = "development-only-key-never-used-outside-debug"

# The key that seals the audit trail (HMAC-SHA256 over every entry and every chain's head). It
# lives in the environment, never in the database, so whoever can write to the database cannot
# rebuild the trail unnoticed. Losing it means the trail can no longer be verified: see
# docs/deployment.md.
AUDIT_KEY = env_str("AUDIT_KEY")
if not AUDIT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_KEY is not set. Set it in the environment and keep it with the backups' keys "
            "(with DEBUG=true a development key is used)."
        )
    AUDIT_KEY = "development-only-audit-key-never-used-outside-debug"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "units",
    "audit",
    "portfolio",
    "assessments",
    "records",
    "people",
    "audit.apps.AuditedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "pgtrigger",
]

# The demo centre, its volume data and the benchmarks (``seed_demo``, ``bench``): a development
# tool, in the source tree but not in the built package, so production runs without it. On by
# default in debug; DEMO=true asks for it with production settings (``make load`` seeds so).
DEMO = env_bool("DEMO", default=DEBUG and importlib.util.find_spec("demo") is not None)
if DEMO:
    if importlib.util.find_spec("demo") is None:
        raise ImproperlyConfigured(
            "DEMO is true, but the demo package is not installed: it comes with the source "
            "tree, not with the built package."
        )
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "config.middleware.proxy_headers_from_proxies_only",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.permissions_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.no_store_when_signed_in",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "assessments.middleware.EqaVisitMiddleware",
    # Last, so it can turn a refused sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CONFIG_DIR / "templates"],  # the site's layout; each app has its own
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portfolio.roles.role_context",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(exist_ok=True)  # the zero-set-up SQLite database lives in var/
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A connection kept between requests is checked before reuse, so a restarted or failed-
        # over database costs one error-free reconnect rather than a failed request.
        conn_health_checks=True,
        # Behind PgBouncer in transaction pooling mode, which cannot carry a cursor between
        # transactions, large reads fetch in chunks without server-side cursors.
        disable_server_side_cursors=env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS"),
    )
}
# SQLite (the demo, a small centre) with several web processes and the worker at once: a write
# waits up to 20 seconds for another to finish rather than failing at once with "database is
# locked"; each transaction takes the write lock when it begins, so two that read and then write
# cannot each wait for the other; and in WAL mode readers do not wait for a writer.
SQLITE_OPTIONS = {
    "timeout": env_int("SQLITE_TIMEOUT", 20),
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portfolio.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in attempt while that username is locked out from that address.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portfolio.backends.CentreAdministratorBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# Public static files (ours and Bootstrap's), collected to STATIC_ROOT and served by whitenoise.
STATIC_URL = "static/"
STATICFILES_DIRS = [CONFIG_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root

# Private evidence files (and the ZIPs of bulk exports) live outside anything served publicly: no
# base URL, so nothing but the access-checked views can hand them out. On the file system ...
PRIVATE_FILES_ROOT = Path(env_str("PRIVATE_FILES_ROOT", str(VAR_DIR / "private")))
PRIVATE_FILE_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_FILES_ROOT, "base_url": None},
}
# ... or, when a bucket is named, on S3-compatible object storage (Amazon S3, MinIO, Ceph), which
# every web and worker process of a larger deployment shares. The access key may also come from
# boto3's own sources (AWS_ACCESS_KEY_ID, an instance role).
EVIDENCE_S3_BUCKET = env_str("EVIDENCE_S3_BUCKET")
if EVIDENCE_S3_BUCKET:
    _s3_options = {
        "bucket_name": EVIDENCE_S3_BUCKET,
        "location": env_str("EVIDENCE_S3_PREFIX"),
        "endpoint_url": env_str("EVIDENCE_S3_ENDPOINT_URL"),
        "region_name": env_str("EVIDENCE_S3_REGION"),
        "access_key": env_str("EVIDENCE_S3_ACCESS_KEY_ID"),
        "secret_key": env_str("EVIDENCE_S3_SECRET_ACCESS_KEY"),
        "addressing_style": env_str("EVIDENCE_S3_ADDRESSING_STYLE"),
    }
    PRIVATE_FILE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **{name: value for name, value in _s3_options.items() if value},
            # Objects get no ACL of their own, so the bucket's private policy holds. Files are
            # streamed by the access-checked view; a link to one is never handed out, and would
            # be signed and short-lived if it were.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            # A file read for serving, checking or a PDF goes to a temporary file past this size
            # rather than staying in memory (a video may be 1 GB).
            "max_memory_size": 16 * 1024 * 1024,
        },
    }

STORAGES = {
    "default": PRIVATE_FILE_STORAGE,
    "evidence": PRIVATE_FILE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# Evidence files: the largest file of each kind we accept, in megabytes (EVIDENCE_MAX_<KIND>_MB).
_EVIDENCE_MB_DEFAULTS = {
    "image": 30,
    "pdf": 50,
    "document": 50,
    "text": 5,
    "audio": 200,
    "video": 1024,
}
EVIDENCE_MAX_BYTES = {
    kind: env_int(f"EVIDENCE_MAX_{kind.upper()}_MB", megabytes) * 1024 * 1024
    for kind, megabytes in _EVIDENCE_MB_DEFAULTS.items()
}
# Uploads are parsed keeping each file's name as it was sent, so that a name with folders or
# control characters is refused (portfolio.files.name_problem) rather than quietly changed.
FILE_UPLOAD_HANDLERS = [
    "portfolio.files.SentNameUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# The most a request's fields may carry, files apart: the longest form (an assessor's discussion
# record, about 35,000 characters at its limits, portfolio/limits.py) fits four times over even
# in four-byte characters sent as %XX escapes. A longer body is refused (400) before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# An upload larger than 2.5 MB is written to a temporary file as it arrives, in this folder of
# its own rather than the system's: one left by a worker killed mid-upload is removed when
# gunicorn starts and by `manage.py sweep_storage`. The folder is made if it is missing.
FILE_UPLOAD_TEMP_DIR = env_str("UPLOAD_TEMP_DIR", str(VAR_DIR / "uploads"))
# A live upload writes to its file as the bytes arrive and removes it when the request ends; a
# file not written to for this long belongs to no request (gunicorn stops any request after
# GUNICORN_TIMEOUT, two minutes by default) and is removed.
UPLOAD_TEMP_MAX_AGE_MINUTES = env_int("UPLOAD_TEMP_MAX_AGE_MINUTES", 60)
# How many files one save of the evidence form may add: more are refused on the form, with what
# was typed kept. Django refuses a request with more than DATA_UPLOAD_MAX_NUMBER_FILES outright
# (400), so that stays well above it, as a guard against a flood of tiny files.
EVIDENCE_MAX_FILES_AT_ONCE = env_int("EVIDENCE_MAX_FILES_AT_ONCE", 100)
DATA_UPLOAD_MAX_NUMBER_FILES = 10 * EVIDENCE_MAX_FILES_AT_ONCE
# A photo larger than this many pixels is refused as a possible decompression bomb (a 48 MP
# phone camera fits).
EVIDENCE_MAX_IMAGE_PIXELS = env_int("EVIDENCE_MAX_IMAGE_PIXELS", 60_000_000)
# What one save of a form may add, and what one person may add in any 24 hours (counted from the
# database, so the same for every web worker): decoded photo pixels, and megabytes uploaded. A
# file past a budget is refused with when there will be room again; nothing of the save is kept.
EVIDENCE_MAX_PIXELS_PER_REQUEST = env_int("EVIDENCE_MAX_PIXELS_PER_REQUEST", 200_000_000)
EVIDENCE_MAX_UPLOAD_BYTES_PER_REQUEST = (
    env_int("EVIDENCE_MAX_UPLOAD_MB_PER_REQUEST", 1024) * 1024 * 1024
)
EVIDENCE_MAX_PIXELS_PER_DAY = env_int("EVIDENCE_MAX_PIXELS_PER_DAY", 2_000_000_000)
EVIDENCE_MAX_UPLOAD_BYTES_PER_DAY = env_int("EVIDENCE_MAX_UPLOAD_MB_PER_DAY", 4096) * 1024 * 1024
# Longest edge, in pixels, of the renditions made of every image by the background worker: for
# the screen, and for print (1600 pixels is over 150 dpi across an A4 page's text width).
EVIDENCE_SCREEN_EDGE = env_int("EVIDENCE_SCREEN_EDGE", 1280)
EVIDENCE_PRINT_EDGE = env_int("EVIDENCE_PRINT_EDGE", 1600)
# Videos and recordings, and PDFs larger than this (in megabytes), are checked and cleaned by the
# background worker (db_worker) rather than in the request: that takes seconds, and a web
# worker is not held for it. Smaller PDFs, photos and texts are checked while the learner waits.
EVIDENCE_BACKGROUND_CHECK_BYTES = env_int("EVIDENCE_BACKGROUND_CHECK_MB", 5) * 1024 * 1024
# How long a file made in the background (a portfolio's PDF, a bulk export's ZIP of PDFs, a
# person's own data) is kept once it is ready (purge_expired removes it after that, and at once
# when a portfolio in it is purged).
BULK_EXPORT_KEEP_DAYS = env_int("BULK_EXPORT_KEEP_DAYS", 7)
# A file being made whose worker has not reported progress for this long is marked failed (its
# worker stopped); one waiting this long to start says the worker may not be running.
EXPORT_STALE_MINUTES = env_int("EXPORT_STALE_MINUTES", 10)
# How long a witness's confirmation link stays valid.
WITNESS_LINK_DAYS = env_int("WITNESS_LINK_DAYS", 14)
# How long an employer's link to sign a progress review stays valid.
REVIEW_LINK_DAYS = env_int("REVIEW_LINK_DAYS", 14)
# How often a learner entered for single units is reviewed, in weeks (a qualification's learners
# as the centre sets for it, 12 weeks unless changed), and how many days before a review falls
# due it is shown as due.
PROGRESS_REVIEW_WEEKS = env_int("PROGRESS_REVIEW_WEEKS", 12)
REVIEW_DUE_SOON_DAYS = env_int("REVIEW_DUE_SOON_DAYS", 14)
# This site's address for links in e-mails made outside a request (the daily notifications, the
# admin site's EQA grants), e.g. https://portfolio.example.org; by default the first of
# ALLOWED_HOSTS over HTTPS (plain HTTP on a developer's machine).
_first_host = next((host.lstrip(".") for host in ALLOWED_HOSTS if host != "*"), "")
SITE_URL = env_str(
    "SITE_URL",
    "http://127.0.0.1:8000" if DEBUG else (f"https://{_first_host}" if _first_host else ""),
).rstrip("/")
# An EQA is told this many days before their access ends (send_daily_notifications).
EQA_EXPIRY_NOTICE_DAYS = env_int("EQA_EXPIRY_NOTICE_DAYS", 7)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portfolio@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# E-mail is sent by the background worker (db_worker), waiting at most EMAIL_TIMEOUT seconds for
# the mail server; an e-mail it fails to send is tried again after each of these delays, then
# given up: on the audit trail, and on the centre administrator's home for so many days.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_RETRY_MINUTES = [1, 5, 30]
EMAIL_FAILED_KEEP_DAYS = 14
EMAIL_TASK_BACKEND = "default"  # of TASKS below

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The name shown in the page header and on documents, e.g. "Northgate Training Centre".
CENTRE_NAME = env_str("CENTRE_NAME", "Demo Training Centre")

# Unit specifications shipped with the product; ``import_unit`` loads them.
UNIT_SPECS_DIR = BASE_DIR / "units" / "specs"

# A session ends when the browser closes, or after SESSION_COOKIE_AGE seconds without a request:
# saving it on every request (one write per page) slides its expiry forward while it is used.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True

# Headers on every response. The pages run no inline script or style: everything comes from our
# own static files, so the policy allows nothing else (Bootstrap's CSS draws its icons as data:
# images). Evidence files are served with a stricter policy of their own (evidence_views).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# The browser features no page uses, turned off for every page and anything in it (an evidence
# file shown in the page among them). Videos and recordings keep full screen; choosing a file,
# or taking a photo for it on a phone, needs no permission.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    ]
}
PERMISSIONS_POLICY["fullscreen"] = ["self"]

# Outside debug the site is served over HTTPS only. Behind a reverse proxy that ends TLS, set
# SECURE_PROXY_SSL_HEADER to the header it sets to "https" (e.g. X-Forwarded-Proto), and make
# sure the proxy always sets or strips it. It is believed only on connections from
# TRUSTED_PROXIES (none listed: from this machine's loopback addresses).
if not DEBUG:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    if SESSION_COOKIE_SECURE:
        # The __Host- prefix makes browsers take the cookies only when they are secure, for the
        # whole site ("/") and this host alone, so no other host of the domain can set them.
        SESSION_COOKIE_NAME = "__Host-sessionid"
        CSRF_COOKIE_NAME = "__Host-csrftoken"
        SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
        SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Asking browsers to build HTTPS-only into their lists binds the whole domain for months:
    # the domain's owner decides, so it is off unless set (and the deploy check is not asked to
    # nag about it).
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# A load balancer may ask over plain HTTP whether the process is up.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that username is locked out from that address for AXES_COOLOFF_MINUTES
# (counted again from each further attempt); a successful sign-in clears the count.
# `python manage.py axes_reset_username NAME` lifts a lock-out at once.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portfolio.views.locked_out"
# The reverse proxies in front, by address or network (e.g. "127.0.0.1" or "10.0.0.0/24"): the
# X-Forwarded-For header is believed only on a connection from one of them, read from the right
# while each hop is a trusted proxy, so the visitor's address is the one the outermost proxy
# saw. Empty (no proxy) uses the connection's own address. The same address is locked out after
# wrong passwords and recorded with a witness's answer (portfolio.backends.client_ip).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        if _proxy.isdigit():
            raise ValueError
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES lists the reverse proxies' addresses or networks (e.g. "
            f"127.0.0.1,10.0.0.0/24), not {_proxy!r}."
        ) from None
AXES_CLIENT_IP_CALLABLE = "portfolio.backends.client_ip"
# An invitation's link (people/tokens.py) lives this many days, apart from PASSWORD_RESET_TIMEOUT;
# whoever sent one is told once it has gone unused this many days (send_daily_notifications).
INVITATION_DAYS = env_int("INVITATION_DAYS", 14)
INVITATION_REMINDER_DAYS = env_int("INVITATION_REMINDER_DAYS", 3)
# Password resets asked for in an hour, from one address and for one e-mail address typed,
# before more are refused (whether or not an account has that e-mail address).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 20)
PASSWORD_RESET_LIMIT_PER_EMAIL = env_int("PASSWORD_RESET_LIMIT_PER_EMAIL", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No log holds the secret of a link that opens something by itself (config/logs.py).
    "filters": {"secret_links": {"()": "config.logs.HideSecretLinks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["secret_links"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step at INFO, django-axes every sign-in; their warnings
    # (a lock-out among them) still show.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "pikepdf": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# How long a claimed portfolio is kept before purge_expired may remove its files and anonymise
# the learner (the assessment decisions are kept).
RETENTION_YEARS = env_int("RETENTION_YEARS", 3)

# Evidence files up to this size are attached inside the exported PDF; larger ones are listed
# with their hash as held by the centre.
PDF_ATTACHMENT_MAX_BYTES = env_int("PDF_ATTACHMENT_MAX_MB", 10) * 1024 * 1024

# Background tasks (several portfolios exported as one ZIP) are kept in the database and run by
# `python manage.py db_worker`, so nothing beyond the database is needed.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
