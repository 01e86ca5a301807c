from units.management.spec_command import SpecCommand
from units.qualification_importer import import_qualification_file


class Command(SpecCommand):
    help = (
        "Load or update qualifications from specification files (see units/specs/README.md). "
        "All files load in one transaction: if any is malformed, or lists a unit at another "
        "level or credit value than the unit loaded, nothing is loaded."
    )
    kind = "qualification"

    def load(self, path):
        return import_qualification_file(path)

    def subject(self, result):
        return result.qualification

    def loaded(self, result) -> str:
        qualification = result.qualification
        return (
            f"loaded {qualification.groups.count()} groups, {qualification.listings.count()} "
            f"units, {qualification.rules.count()} rules."
        )

    def more(self, result) -> None:
        if result.waiting:
            self.stdout.write(
                f"  Not loaded yet (import their unit files to choose them): "
                f"{', '.join(result.waiting)}"
            )
