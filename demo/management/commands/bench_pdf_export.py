"""Measure the PDF export of a complete portfolio with many phone-sized photos."""

import io
import time

from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image

from portfolio.files import (
    atomic_with_files,
    make_renditions,
    prepare_upload,
    store_file,
    store_renditions,
)
from portfolio.models import EvidenceItem, Portfolio
from records.pdf import render_portfolio_pdf


def phone_photo(seed: int, width: int, height: int, exif: Image.Exif | None = None) -> bytes:
    """A 12-megapixel JPEG with a phone photo's detail and file size (a few megabytes), and
    ``exif`` tags if given."""
    base = Image.effect_noise((width // 8, height // 8), 60 + seed % 30).convert("RGB")
    photo = base.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 12).convert("RGB")
    photo = Image.blend(photo, grain, 0.15)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90, exif=exif or b"")
    return out.getvalue()


class Command(BaseCommand):
    help = (
        "Add PHOTOS phone-sized photos to a complete portfolio, export it as a PDF and report "
        "the time and size, then undo everything. Needs the demo centre (learner1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--photos", type=int, default=40)
        parser.add_argument("--learner", default="learner1")

    def handle(self, *args, photos: int, learner: str, **options):
        portfolio = Portfolio.objects.select_related("learner").get(learner__username=learner)
        written: list[str] = []
        try:
            with transaction.atomic():
                started = time.perf_counter()
                items = list(
                    EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None)
                )
                uploaded = 0
                with atomic_with_files() as written:
                    for n in range(photos):
                        data = phone_photo(n, 4000, 3000)
                        uploaded += len(data)
                        upload = SimpleUploadedFile(f"IMG_{5000 + n}.jpg", data, "image/jpeg")
                        stored = store_file(
                            items[n % len(items)],
                            prepare_upload(upload),
                            by=portfolio.learner,
                            written=written,
                        )
                        # As the worker does once the photo is accepted.
                        store_renditions(stored, make_renditions(stored), written=written)
                prepared = time.perf_counter() - started

                render_portfolio_pdf(portfolio)  # warm fonts and templates
                runs, bare, floor = [], [], []
                for _ in range(3):
                    started = time.perf_counter()
                    pdf = render_portfolio_pdf(portfolio)
                    runs.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    render_portfolio_pdf(portfolio, attach=False)
                    bare.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    render_portfolio_pdf(portfolio, attach=False, images=False)
                    floor.append(time.perf_counter() - started)
                attached = sum(
                    f.size
                    for item in portfolio.evidence.all()
                    for f in item.files.all()
                    if f.size <= _cap()
                )
                self.stdout.write(
                    f"{photos} photos of 12 megapixels ({uploaded / 1e6:.0f} MB uploaded; "
                    f"upload checks and renditions took {prepared:.1f} s)\n"
                    f"PDF export: median {sorted(runs)[1]:.2f} s over 3 runs "
                    f"({sorted(bare)[1]:.2f} s without attaching the files)\n"
                    f"Floor, WeasyPrint rendering the same text with no images: "
                    f"{sorted(floor)[1]:.2f} s; the export takes "
                    f"{sorted(runs)[1] / sorted(floor)[1]:.1f}x the floor\n"
                    f"PDF size: {len(pdf) / 1e6:.1f} MB, of which attachments "
                    f"{attached / 1e6:.1f} MB; without them "
                    f"{(len(pdf) - attached) / 1e6:.1f} MB"
                )
                transaction.set_rollback(True)
        finally:
            for name in written:
                storages["evidence"].delete(name)


def _cap() -> int:
    return settings.PDF_ATTACHMENT_MAX_BYTES
