"""Measure what accepting a photo costs the request: a phone photo's time, and the peak memory of
a picture that is small to send and huge to decode."""

import io
import resource
import statistics
import struct
import time
import zlib

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from demo.benchmark import allowed_host
from demo.management.commands.bench_pdf_export import phone_photo
from portfolio.files import make_renditions
from portfolio.models import EvidenceFile, Portfolio


def peak_rss_mb() -> float:
    """The most memory this process has held at once, in megabytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exif_of_a_phone() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Apple", "iPhone 15", "17.1"  # make, model, software
    exif[0x0132] = "2026:05:14 09:12:44"  # when it was taken
    exif[0x0112] = 6  # held upright: the picture is turned when it is accepted
    return exif


def zeros_png(side: int) -> bytes:
    """A black PNG of ``side`` x ``side`` pixels: a few hundred kilobytes, tens of megapixels.
    Written row by row, so that making it does not itself take the memory being measured."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    compressor, row = zlib.compressobj(9), bytes(1 + 3 * side)
    rows = [compressor.compress(row) for _ in range(side)] + [compressor.flush()]
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(rows))
        + chunk(b"IEND", b"")
    )


class Command(BaseCommand):
    help = (
        "Post photos through the learner's evidence form, in this process, and report the "
        "time and peak memory of accepting a black PNG of SIDE x SIDE pixels, the median time "
        "to accept a 12-megapixel phone JPEG with EXIF tags, and the time the worker then takes "
        "for its renditions. Needs the demo centre (learner3's draft portfolio); removes what it "
        "adds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--side", type=int, default=7700)
        parser.add_argument("--learner", default="learner3")

    def handle(self, *args, repeat: int, side: int, learner: str, **options):
        portfolio = Portfolio.objects.filter(learner__username=learner).first()
        if portfolio is None:
            raise CommandError(f"There is no portfolio for {learner}; run seed_demo first.")
        accept = _Acceptor(portfolio)
        accept("warm-up.jpg", phone_photo(1, 640, 480))  # load everything an upload uses

        png = zeros_png(side)
        before = peak_rss_mb()
        png_took = accept("black.png", png)
        after = peak_rss_mb()

        photo = phone_photo(0, 4000, 3000, exif=exif_of_a_phone())
        times, rendition_times = [], []
        for _ in range(repeat):
            times.append(accept("IMG_0001.jpg", photo, then=make_renditions))
            rendition_times.append(accept.then_took)
        self.stdout.write(
            f"Accepting a 12-megapixel JPEG ({len(photo) / 1e6:.1f} MB, with EXIF): median "
            f"{statistics.median(times):.2f} s over {repeat} requests (its renditions, made by "
            f"the worker afterwards: {statistics.median(rendition_times):.2f} s)\n"
            f"Accepting a black {side} x {side} PNG ({len(png) / 1e3:.0f} kB, "
            f"{side * side / 1e6:.0f} megapixels): {png_took:.1f} s, peak memory "
            f"{before:.0f} MB before, {after:.0f} MB after (+{after - before:.0f} MB)"
        )


class _Acceptor:
    """Posts the evidence form with one file and returns how long the request took; ``then``
    is timed on the stored file (``then_took``), and everything the upload stored is undone."""

    def __init__(self, portfolio: Portfolio):
        self.portfolio = portfolio
        self.client = Client(HTTP_HOST=allowed_host())
        self.client.force_login(portfolio.learner)
        self.then_took = 0.0

    def __call__(self, name: str, data: bytes, *, then=None) -> float:
        upload = io.BytesIO(data)
        upload.name = name
        names: list[str] = []
        try:
            with transaction.atomic():
                started = time.perf_counter()
                response = self.client.post(
                    reverse("evidence_new", args=[self.portfolio.pk]),
                    {**self._fields(), "files": upload},
                )
                took = time.perf_counter() - started
                stored = EvidenceFile.objects.filter(
                    evidence__portfolio=self.portfolio, original_name=name
                ).first()
                if response.status_code != 302 or stored is None:
                    raise CommandError(f"The upload of {name} failed: {response.status_code}.")
                names = stored.stored_names()
                if then is not None:
                    started = time.perf_counter()
                    then(stored)
                    self.then_took = time.perf_counter() - started
                transaction.set_rollback(True)
        finally:
            for stored_name in names:
                storages["evidence"].delete(stored_name)
        return took

    def _fields(self) -> dict:
        unit = self.portfolio.unit
        return {
            "title": "The till display after a refund",
            "method": "work_product",
            "occurred_on": timezone.localdate().isoformat(),
            "setting": "real_paid",
            "customer": "external",
            "customer_reference": "Customer 9",
            "account": "A photo of the till display after the refund went through.",
            "contexts": [unit.contexts.order_by("letter").first().pk],
            "claimed_criteria": list(
                unit.criteria.filter(nos_code__in=["P1", "P8"]).values_list("pk", flat=True)
            ),
        }
