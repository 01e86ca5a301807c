"""Measure the peak memory of uploading a large video through the evidence form."""

import os
import resource
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from demo.benchmark import allowed_host
from portfolio.models import EvidenceFile, Portfolio

CHUNK = 1024 * 1024
# An MP4 file's first box, which is how the upload check knows a video from its content.
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def peak_rss_mb() -> float:
    """The most memory this process has held at once, in megabytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = (
        "Upload a video of MEGABYTES through the learner's evidence form, in this process, and "
        "report the peak memory before and after: an upload that streams to disk leaves it "
        "flat. Needs the demo centre (learner3's draft portfolio); removes what it adds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--megabytes", type=int, default=500)
        parser.add_argument("--learner", default="learner3")

    def handle(self, *args, megabytes: int, learner: str, **options):
        portfolio = Portfolio.objects.filter(learner__username=learner).first()
        if portfolio is None:
            raise CommandError(f"There is no portfolio for {learner}; run seed_demo first.")
        work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
        try:
            uploader = _Uploader(portfolio, work)
            uploader.upload(megabytes=2)  # load everything an upload uses
            before = peak_rss_mb()
            status, stored = uploader.upload(megabytes=megabytes)
            after = peak_rss_mb()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if status != 302 or stored != megabytes * CHUNK:
            raise CommandError(f"The upload failed: status {status}, {stored} bytes stored.")
        self.stdout.write(
            f"Upload of a {megabytes} MB video: peak memory {before:.0f} MB before, "
            f"{after:.0f} MB after (+{after - before:.0f} MB)"
        )


class _Uploader:
    """Posts the evidence form with a file to Django's WSGI handler, streaming the request body
    from disk as a web server would, then undoes what the upload stored."""

    def __init__(self, portfolio: Portfolio, work: Path):
        self.portfolio, self.work = portfolio, work
        client = Client()
        client.force_login(portfolio.learner)
        self.session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.csrf = secrets.token_hex(16)
        self.handler = WSGIHandler()

    def upload(self, megabytes: int) -> tuple[int, int]:
        video = self.work / "video.mp4"
        with open(video, "wb") as out:
            out.write(MP4_HEAD)
            block = os.urandom(CHUNK)
            out.write(block[len(MP4_HEAD) :])
            for _ in range(megabytes - 1):
                out.write(block)
        boundary = secrets.token_hex(16)
        body = self.work / "body"
        with open(body, "wb") as out:
            for name, value in self._fields():
                out.write(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="shift-handover.mp4"\r\nContent-Type: video/mp4\r\n\r\n'.encode()
            )
            with open(video, "rb") as source:
                shutil.copyfileobj(source, out, CHUNK)
            out.write(f"\r\n--{boundary}--\r\n".encode())
        video.unlink()
        status, stored, names = 0, 0, []
        with transaction.atomic(), open(body, "rb") as stream:
            status = self._post(stream, body.stat().st_size, boundary)
            for file in EvidenceFile.objects.filter(evidence__portfolio=self.portfolio).filter(
                original_name="shift-handover.mp4"
            ):
                stored, names = file.size, [file.file.name]
            transaction.set_rollback(True)
        for name in names:
            storages["evidence"].delete(name)
        body.unlink()
        return status, stored

    def _fields(self) -> list[tuple[str, str]]:
        unit = self.portfolio.unit
        fields = [
            ("csrfmiddlewaretoken", self.csrf),
            ("title", "Handover at the end of a difficult shift"),
            ("method", "work_product"),
            ("occurred_on", timezone.localdate().isoformat()),
            ("setting", "real_paid"),
            ("customer", "external"),
            ("customer_reference", "Customer 9"),
            ("account", "A recording of the handover after a difficult customer."),
            ("contexts", str(unit.contexts.order_by("letter").first().pk)),
        ]
        fields += [
            ("claimed_criteria", str(pk))
            for pk in unit.criteria.filter(nos_code__in=["P1", "P8"]).values_list("pk", flat=True)
        ]
        return fields

    def _post(self, stream, length: int, boundary: str) -> int:
        statuses = []
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": reverse("evidence_new", args=[self.portfolio.pk]),
            "SERVER_NAME": allowed_host(),
            "SERVER_PORT": "80",
            "HTTP_HOST": allowed_host(),
            "wsgi.url_scheme": "http",
            "wsgi.input": stream,
            "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(length),
            "HTTP_COOKIE": (
                f"{settings.SESSION_COOKIE_NAME}={self.session}; "
                f"{settings.CSRF_COOKIE_NAME}={self.csrf}"
            ),
        }
        # As in Django's test client, the request keeps this process's database connection, so
        # that what it stores can be rolled back afterwards.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, lambda status, headers: statuses.append(status))
            response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return int(statuses[0].split()[0])
