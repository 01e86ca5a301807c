from units.importer import import_unit_file
from units.management.spec_command import SpecCommand


class Command(SpecCommand):
    help = (
        "Load or update units from specification files (see units/specs/README.md). All files "
        "load in one transaction: if any is malformed, nothing is loaded."
    )
    kind = "unit"

    def load(self, path):
        return import_unit_file(path)

    def subject(self, result):
        return result.unit

    def loaded(self, result) -> str:
        unit = result.unit
        return (
            f"loaded {unit.outcomes.count()} learning outcomes, {unit.criteria.count()} "
            f"criteria, {unit.contexts.count()} contexts."
        )

    def more(self, result) -> None:
        for listing in result.linked:
            self.stdout.write(
                f"  - now loaded for {listing.qualification.label}, {listing.group.name}"
            )
