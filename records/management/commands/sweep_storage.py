import datetime

from django.core.management.base import BaseCommand, CommandError

from records.sweep import sweep


class Command(BaseCommand):
    help = (
        "Compare the evidence store (a disk or a bucket) with the rows that name its files: "
        "report the files no row names and the rows whose files are missing. With --remove, "
        "remove the files no row names that are older than the grace period, and the temporary "
        "files of uploads a killed process left behind; each removal is audited. Rows are never "
        "changed. Exits non-zero when a row's file is missing (restore it from a backup) or a "
        "file could not be removed; files no row names are routine after a crash and are not "
        "an error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--remove",
            action="store_true",
            help="remove the files no row names (default: only report them)",
        )
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=24,
            help="keep files no row names that are younger than this (default 24): an upload "
            "in its transaction has written its file but not yet its row",
        )

    def handle(self, *args, remove, grace_hours, **options):
        if grace_hours < 0:
            raise CommandError("--grace-hours cannot be negative.")
        swept = sweep(remove=remove, grace=datetime.timedelta(hours=grace_hours))
        write = self.stdout.write
        for name in swept.removed:
            write(f"Removed (no record names it): {name}")
        for name in sorted(set(swept.unnamed) - set(swept.removed)):
            if name in swept.too_young:
                write(f"No record names it, kept (younger than {grace_hours:g} hours): {name}")
            elif name in swept.not_removed:
                write(f"No record names it, could not be removed: {name}")
            else:
                write(f"No record names it (remove with --remove): {name}")
        for upload in swept.abandoned_uploads:
            verb = "Removed" if remove else "Found"
            write(f"{verb} an abandoned upload's temporary file: {upload}")
        for missing in swept.missing:
            write(f"Missing from the store: {missing}")
        write(
            f"{len(swept.unnamed)} stored files no record names ({len(swept.removed)} removed, "
            f"{len(swept.too_young)} kept as too recent); {len(swept.abandoned_uploads)} abandoned "
            f"uploads {'removed' if remove else 'found'}; {len(swept.missing)} records whose file "
            "is missing."
        )
        problems = []
        if swept.missing:
            problems.append(
                f"{len(swept.missing)} records' files are missing from the store: restore them "
                "from the latest backup that has them"
            )
        if swept.not_removed:
            problems.append(f"{len(swept.not_removed)} files could not be removed")
        if problems:
            raise CommandError("; ".join(problems) + ".")
