"""The whole benchmark: seed a small and a large centre and measure pages, PDF and upload."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.benchmark import FLOOR

# A page at the largest size should take no more than this many times the trivial page, and
# no more than this many milliseconds.
TARGET_RATIO = 5
TARGET_MS = 100


class Command(BaseCommand):
    help = (
        "Seed a centre of each size in its own SQLite database under var/bench/ (with the "
        "production settings: debug off, collected static files), then print for each key page "
        "its queries and median server time at every size and the ratio to a trivial page; "
        "the PDF export of the complete portfolio with 40 photos against its text-only floor; "
        "the peak memory of uploading a 500 MB video; the time to accept a 12-megapixel photo "
        "and the peak memory of a huge black PNG; and how long each seed_demo took."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sizes", type=int, nargs="+", default=[100, 2000])
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--photos", type=int, default=40)
        parser.add_argument("--upload-megabytes", type=int, default=500)
        parser.add_argument(
            "--output", default=str(settings.BASE_DIR / "var" / "bench"), help="working folder"
        )

    def handle(self, *args, sizes, repeat, photos, upload_megabytes, output, **options):
        if any(size < 3 for size in sizes):
            raise CommandError("Every size must be at least 3 learners (the story learners).")
        self.root = Path(output)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.manage("collectstatic", "--no-input", "-v0", size=sizes[0])
        pages, seeding = {}, {}
        for size in sizes:
            self.stdout.write(f"Seeding a centre of {size} learners...")
            self.manage("migrate", "--no-input", "-v0", size=size)
            self.manage("import_unit", *map(str, settings.UNIT_SPECS_DIR.glob("*.yaml")), size=size)
            started = time.monotonic()
            self.manage("seed_demo", "--learners", str(size), size=size)
            seeding[size] = time.monotonic() - started
            figures = self.root / f"pages-{size}.json"
            self.stdout.write(f"Measuring the key pages at {size} learners...")
            self.manage("bench_pages", "--repeat", str(repeat), "--json", str(figures), size=size)
            pages[size] = {row["label"]: row for row in json.loads(figures.read_text())}
        self.report_pages(pages, sizes, repeat)
        self.stdout.write("\nPDF export of learner1's complete portfolio:")
        self.manage("bench_pdf_export", "--photos", str(photos), size=sizes[0], show=True)
        self.stdout.write("\nUpload:")
        self.manage("bench_upload", "--megabytes", str(upload_megabytes), size=sizes[0], show=True)
        self.manage("bench_photo_upload", size=sizes[0], show=True)
        self.stdout.write("\nSeeding:")
        for size in sizes:
            self.stdout.write(f"seed_demo --learners {size}: {seeding[size]:.0f} s")

    def environment(self, size: int) -> dict[str, str]:
        return {
            **os.environ,
            "DEBUG": "false",
            # seed_demo and the bench_* commands are the demo's; it adds no page, middleware or
            # setting, so the pages are served as in production.
            "DEMO": "true",
            "SECRET_KEY": "benchmark-only-" + "x" * 40,
            "AUDIT_KEY": "benchmark-only-audit-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{self.root / f'centre-{size}.sqlite3'}",
            "PRIVATE_FILES_ROOT": str(self.root / f"files-{size}"),
            "STATIC_ROOT": str(self.root / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "ERROR",
        }

    def manage(self, *arguments: str, size: int, show: bool = False) -> None:
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments]
        result = subprocess.run(
            command, env=self.environment(size), capture_output=not show, text=True
        )
        if result.returncode:
            raise CommandError(
                f"{' '.join(arguments)} failed:\n{result.stdout or ''}{result.stderr or ''}"
            )

    def report_pages(self, pages: dict, sizes: list[int], repeat: int) -> None:
        largest = sizes[-1]
        floor = pages[largest][FLOOR]["median_ms"]
        self.stdout.write(
            f"\nKey pages: median of {repeat} requests served in one process, debug off, "
            f"SQLite; the floor is {FLOOR.split(': ')[1]} ({floor:.1f} ms at {largest})."
        )
        head = "".join(f"{'q@' + str(s):>8}" for s in sizes)
        head += "".join(f"{'ms@' + str(s):>9}" for s in sizes)
        self.stdout.write(f"{'page':<38}{head}{'x floor':>9}  target")
        missed = 0
        for label, row in pages[largest].items():
            line = "".join(f"{pages[s][label]['queries']:>8}" for s in sizes)
            line += "".join(f"{pages[s][label]['median_ms']:>9.1f}" for s in sizes)
            ratio = row["median_ms"] / floor
            met = ratio <= TARGET_RATIO and row["median_ms"] < TARGET_MS
            missed += not met
            self.stdout.write(f"{label:<38}{line}{ratio:>9.1f}  {'met' if met else 'MISSED'}")
        self.stdout.write(
            f"{missed} of {len(pages[largest])} pages miss the target (at most {TARGET_RATIO}x "
            f"the floor and under {TARGET_MS} ms at {largest} learners)."
        )
