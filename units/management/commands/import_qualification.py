from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from units.importer import SpecError
from units.qualification_importer import import_qualification_file


class Command(BaseCommand):
    help = (
        "Load or update qualifications from specification files (see units/specs/README.md). "
        "All files load in one transaction: if any is malformed, or lists a unit at another "
        "level or credit value than the unit loaded, nothing is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="a qualification specification file"
        )

    def handle(self, *args, files, **options):
        try:
            with transaction.atomic():
                results = [import_qualification_file(path) for path in files]
        except SpecError as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(
                f"{exc.path} is not a valid qualification specification, so nothing was "
                f"loaded:\n{lines}"
            ) from None
        for result in results:
            qualification = result.qualification
            if result.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{qualification}: loaded {qualification.groups.count()} groups, "
                        f"{qualification.listings.count()} units, "
                        f"{qualification.rules.count()} rules."
                    )
                )
            elif result.changes:
                self.stdout.write(self.style.SUCCESS(f"{qualification}: updated in place:"))
                for change in result.changes:
                    self.stdout.write(f"  - {change}")
            else:
                self.stdout.write(f"{qualification}: already up to date, nothing changed.")
            if result.waiting:
                self.stdout.write(
                    f"  Not loaded yet (import their unit files to choose them): "
                    f"{', '.join(result.waiting)}"
                )
