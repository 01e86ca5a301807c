"""Settings for the test suite: the real settings with a fast hasher, locmem email, temp files."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-suite-only")
os.environ.setdefault("AUDIT_KEY", "test-suite-only-audit-key")
os.environ.setdefault("DEMO", "true")  # the suite tests the demo centre and the benchmarks too

from config.settings import *  # noqa: F403
from config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# E-mail is sent as soon as it is queued (when the transaction commits), not by a worker; the
# tests of sending in the background ask for the database queue.
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "email": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
EMAIL_TASK_BACKEND = "email"

PRIVATE_FILES_ROOT = Path(tempfile.mkdtemp(prefix="portfolio-test-files-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="portfolio-test-static-"))
FILE_UPLOAD_TEMP_DIR = tempfile.mkdtemp(prefix="portfolio-test-uploads-")
PRIVATE_FILE_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_FILES_ROOT, "base_url": None},
}
STORAGES = {
    **STORAGES,
    "default": PRIVATE_FILE_STORAGE,
    "evidence": PRIVATE_FILE_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client and the browser tests' live server speak plain HTTP; every other production
# setting stays as it is.
SECURE_SSL_REDIRECT = False
# Serve static files straight from the apps, as in development, without collectstatic.
WHITENOISE_USE_FINDERS = True
