from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from units.importer import SpecError, import_unit_file


class Command(BaseCommand):
    help = (
        "Load or update units from specification files (see units/specs/README.md). All files "
        "load in one transaction: if any is malformed, nothing is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="a unit specification file")

    def handle(self, *args, files, **options):
        try:
            with transaction.atomic():
                results = [import_unit_file(path) for path in files]
        except SpecError as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(
                f"{exc.path} is not a valid unit specification, so nothing was loaded:\n{lines}"
            ) from None
        for result in results:
            unit = result.unit
            if result.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{unit}: loaded {unit.outcomes.count()} learning outcomes, "
                        f"{unit.criteria.count()} criteria, {unit.contexts.count()} contexts."
                    )
                )
            elif result.changes:
                self.stdout.write(self.style.SUCCESS(f"{unit}: updated in place:"))
                for change in result.changes:
                    self.stdout.write(f"  - {change}")
            else:
                self.stdout.write(f"{unit}: already up to date, nothing changed.")
            for listing in result.linked:
                self.stdout.write(
                    f"  - now loaded for {listing.qualification.label}, {listing.group.name}"
                )
