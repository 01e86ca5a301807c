from django.core.management.base import BaseCommand, CommandError

from records.integrity import verify_files, verify_records


class Command(BaseCommand):
    help = (
        "Re-read every stored evidence file through the storage API and compare its SHA-256 "
        "with the one recorded (and signed); record each result, mark and audit any file "
        "changed or missing, and check each portfolio's stored signable record against its "
        "rows. Files never checked come first, then those checked longest ago, so a run that "
        "is stopped or limited is continued by the next."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=float,
            help="only files not checked within this many days (default: every file)",
        )
        parser.add_argument("--limit", type=int, help="check at most this many files")
        parser.add_argument(
            "--max-minutes", type=float, help="stop starting new files after this many minutes"
        )
        parser.add_argument(
            "--files-only",
            action="store_true",
            help="skip recomputing the portfolios' signable records",
        )

    def handle(self, *args, older_than_days, limit, max_minutes, files_only, **options):
        for name, value in (("--limit", limit), ("--max-minutes", max_minutes)):
            if value is not None and value <= 0:
                raise CommandError(f"{name} must be more than 0.")
        result = verify_files(
            older_than_days=older_than_days,
            limit=limit,
            max_seconds=max_minutes * 60 if max_minutes else None,
            progress=self.stdout.write,
        )
        rate = result.bytes_read / 1e6 / result.seconds if result.seconds else 0
        self.stdout.write(
            f"{result.checked} file(s) checked in {result.seconds:.1f} s ({rate:.0f} MB/s): "
            f"{len(result.problems) or 'no'} problem(s); {result.remaining} not reached (the next "
            "run starts with them)."
        )
        drifted = [] if files_only else verify_records(progress=self.stdout.write)
        if not files_only:
            self.stdout.write(
                f"Signable records: {len(drifted) or 'none'} changed outside the application."
            )
        if result.problems or drifted:
            raise CommandError(
                f"{len(result.problems)} file problem(s) and {len(drifted)} portfolio(s) changed "
                "outside the application: see above, the portfolios' pages and the audit trail."
            )
