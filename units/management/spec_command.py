"""What the commands loading specification files share: every file in one transaction, a
malformed one refused naming each problem, and what each load did, in words."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from units.importer import SpecError


class SpecCommand(BaseCommand):
    kind = ""  # "unit", "qualification": what the files specify

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help=f"a {self.kind} specification file"
        )

    def load(self, path):
        raise NotImplementedError

    def subject(self, result):
        """What one load was of (the unit, the qualification)."""
        raise NotImplementedError

    def loaded(self, result) -> str:
        """What a first load made, in words."""
        raise NotImplementedError

    def more(self, result) -> None:
        """Anything else to say about one load."""

    def handle(self, *args, files, **options):
        try:
            with transaction.atomic():
                results = [self.load(path) for path in files]
        except SpecError as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(
                f"{exc.path} is not a valid {self.kind} specification, so nothing was "
                f"loaded:\n{lines}"
            ) from None
        for result in results:
            name = self.subject(result)
            if result.created:
                self.stdout.write(self.style.SUCCESS(f"{name}: {self.loaded(result)}"))
            elif result.changes:
                self.stdout.write(self.style.SUCCESS(f"{name}: updated in place:"))
                for change in result.changes:
                    self.stdout.write(f"  - {change}")
            else:
                self.stdout.write(f"{name}: already up to date, nothing changed.")
            self.more(result)
