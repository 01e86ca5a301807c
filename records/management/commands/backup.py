from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database and every evidence file into DIR (a new or empty folder), with a "
        "manifest of their SHA-256 hashes, from one consistent snapshot."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="the folder to write the backup into")

    def handle(self, *args, dir: Path, **options):
        try:
            result = backup(dir, progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        checks = result.manifest["integrity"]
        self.stdout.write(
            f"{checks['portfolios']} portfolios, {checks['evidence_files']} evidence files, "
            f"{checks['valid_signatures']} of {checks['signatures']} signatures valid, "
            f"{checks['audit_entries']} audit entries."
        )
        if result.missing:
            raise CommandError(
                f"The backup in {dir} is written, but {len(result.missing)} file(s) the database "
                "refers to were not in the evidence storage:\n"
                + "\n".join(f"  - {name}" for name in result.missing)
            )
        self.stdout.write(self.style.SUCCESS(f"Backed up to {dir}."))
