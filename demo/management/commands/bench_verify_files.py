"""Measure verify_files on many stored files of a given size, then undo everything."""

import hashlib
import os
import time
import uuid
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management.base import BaseCommand
from django.db import transaction

from portfolio.models import EvidenceFile, EvidenceItem, Portfolio
from records.integrity import verify_files


class _Undo(Exception):
    """Raised to roll the measurement's rows back."""


def _drop_page_cache() -> bool:
    """Ask the kernel to forget cached file pages, so files are read from the disk; False where
    that is not allowed (not root, or in a container)."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


class Command(BaseCommand):
    help = (
        "Store FILES files of MEGABYTES each on an evidence item of LEARNER's portfolio, run "
        "verify_files over them and report the time and rate, and the time extrapolated to "
        "100,000 files; then remove them. Needs the demo centre (learner1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--files", type=int, default=2000)
        parser.add_argument("--megabytes", type=float, default=3)
        parser.add_argument("--learner", default="learner1")

    def handle(self, *args, files: int, megabytes: float, learner: str, **options):
        portfolio = Portfolio.objects.get(learner__username=learner)
        item = EvidenceItem.objects.filter(portfolio=portfolio).order_by("pk").first()
        storage = storages["evidence"]
        size = int(megabytes * 1_000_000)
        names: list[str] = []
        try:
            with transaction.atomic():
                started = time.perf_counter()
                rows = []
                block = os.urandom(size)
                for n in range(files):
                    # Each file differs (its number first), so nothing is deduplicated.
                    data = n.to_bytes(8, "big") + block[8:]
                    name = storage.save(f"evidence/bench/{uuid.uuid4().hex}.bin", ContentFile(data))
                    names.append(name)
                    rows.append(
                        EvidenceFile(
                            evidence=item,
                            file=name,
                            original_name=f"bench-{n}.bin",
                            content_type="application/octet-stream",
                            kind=EvidenceFile.Kind.VIDEO,
                            size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(),
                            uploaded_sha256="",
                            uploaded_by=portfolio.learner,
                        )
                    )
                EvidenceFile.objects.bulk_create(rows, batch_size=500)
                took = time.perf_counter() - started
                self.stdout.write(f"Stored {files} files of {megabytes:g} MB in {took:.1f} s.")
                cold = _drop_page_cache()
                result = verify_files(older_than_days=None)
                per_file = result.seconds / max(result.checked, 1)
                rate = result.bytes_read / 1e6 / max(result.seconds, 1e-9)
                source = (
                    "from the disk (page cache dropped)"
                    if cold
                    else "partly from the page cache (it could not be dropped here)"
                )
                self.stdout.write(
                    f"verify_files: {result.checked} files, {result.bytes_read / 1e9:.2f} GB in "
                    f"{result.seconds:.1f} s ({rate:.0f} MB/s, {per_file * 1000:.1f} ms a file), "
                    f"{len(result.problems)} problem(s); read {source}."
                )
                hours = per_file * 100_000 / 3600
                self.stdout.write(
                    f"Extrapolated to 100,000 files of {megabytes:g} MB: {hours:.1f} hours at "
                    "this rate."
                )
                raise _Undo
        except _Undo:
            pass
        finally:
            for name in names:
                storage.delete(name)
