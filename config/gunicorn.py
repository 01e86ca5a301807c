"""Gunicorn's settings for the web processes. `gunicorn` run at the top of the repository reads
them through gunicorn.conf.py there; an installed package runs `gunicorn -c python:config.gunicorn`.

Behind a reverse proxy that terminates TLS and buffers uploads (see docs/deployment.md).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from config.logs import HideSecretLinks

wsgi_app = "config.wsgi:application"

# BIND (e.g. "0.0.0.0:8000" or "unix:/run/portfolio/web.sock") or else the loopback address on
# PORT: only a proxy on this machine reaches the web processes unless told otherwise.
bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
# Whose X-Forwarded-* headers gunicorn believes (for the WSGI scheme): FORWARDED_ALLOW_IPS, or
# else the proxies the application trusts (TRUSTED_PROXIES, its plain addresses: gunicorn
# compares addresses, not networks), or else gunicorn's own default, the loopback addresses.
_proxies = [
    proxy.strip()
    for proxy in os.environ.get("TRUSTED_PROXIES", "").split(",")
    if proxy.strip() and "/" not in proxy
]
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or ",".join(_proxies) or "127.0.0.1,::1"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# A whole portfolio's PDF, photos attached, takes seconds to minutes on a small machine.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
# Start each worker afresh now and then, so memory a large PDF took is given back.
max_requests = 500
max_requests_jitter = 50

# Requests and errors to standard output and error, for journald or the container's log.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


class LoggerHidingSecretLinks(Logger):
    """gunicorn's logs without the secret of a witness's, a password reset's or an invitation's
    link: the request line and the path of the access log, and the error log's messages."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(HideSecretLinks())


logger_class = LoggerHidingSecretLinks

# Workers' heartbeat files in memory, not on a disk that may stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def on_starting(server):
    """Before any worker starts: remove the temporary files of uploads that a worker killed
    mid-upload left behind (any other gunicorn sharing the folder keeps its live ones: only
    files not written to for UPLOAD_TEMP_MAX_AGE_MINUTES go)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    from portfolio.uploads import sweep_upload_temp

    removed = sweep_upload_temp(
        settings.FILE_UPLOAD_TEMP_DIR, max_age_minutes=settings.UPLOAD_TEMP_MAX_AGE_MINUTES
    )
    if removed:
        server.log.info(
            "Removed %d abandoned upload file(s) from %s",
            len(removed),
            settings.FILE_UPLOAD_TEMP_DIR,
        )
