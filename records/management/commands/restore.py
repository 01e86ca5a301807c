from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into an empty, migrated database: every hash is "
        "checked before anything is loaded, and the signatures and audit chain afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="the backup folder")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace whatever the database holds (default: refuse a database with data)",
        )

    def handle(self, *args, dir: Path, force: bool, **options):
        try:
            result = restore(dir, force=force, progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        now = result.integrity
        self.stdout.write(
            f"{now['portfolios']} portfolios, {now['evidence_files']} evidence files, "
            f"{now['valid_signatures']} of {now['signatures']} signatures valid, "
            f"{now['audit_entries']} audit entries "
            f"({'the chain verifies' if now['audit_chain_intact'] else 'the chain is broken'})."
        )
        if result.problems:
            raise CommandError(
                "Restored, but it is not as it was backed up:\n"
                + "\n".join(f"  - {problem}" for problem in result.problems)
            )
        self.stdout.write(self.style.SUCCESS(f"Restored from {dir}; everything is intact."))
