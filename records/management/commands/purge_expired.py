from django.conf import settings
from django.core.management.base import BaseCommand

from records.retention import due_for_purge, exports_due_for_removal, purge, remove_export
from records.services import exports_fail_stale


class Command(BaseCommand):
    help = (
        "Mark failed the exports whose worker stopped (silent for EXPORT_STALE_MINUTES). List "
        "claimed portfolios past their retention date and exported files (PDFs, ZIPs) kept longer "
        "than BULK_EXPORT_KEEP_DAYS. With --yes, remove the portfolios' files and anonymise their "
        "learners, keeping the assessment decisions, and remove the exported files; each is "
        "audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="purge them (default: only list)")

    def handle(self, *args, yes: bool, **options):
        # Nothing is lost by this, even without --yes: the export is already dead.
        for export in exports_fail_stale():
            self.stdout.write(f"Export #{export.pk} ({export}) failed: {export.error}")
        due = list(due_for_purge())
        exports = list(exports_due_for_removal())
        if not due and not exports:
            self.stdout.write("Nothing is past its retention date.")
            return
        if due:
            self.stdout.write(f"{len(due)} portfolio(s) past their retention date:")
        for portfolio in due:
            self.stdout.write(
                f"  #{portfolio.pk} {portfolio.learner} ({portfolio.unit.code}), claimed "
                f"{portfolio.claimed_at:%d %b %Y}, keep until {portfolio.retain_until:%d %b %Y}"
            )
        if exports:
            self.stdout.write(
                f"{len(exports)} export file(s) kept over {settings.BULK_EXPORT_KEEP_DAYS} days:"
            )
        for export in exports:
            ready = f"{export.finished_at:%d %b %Y}"
            self.stdout.write(f"  export #{export.pk}: {export}, ready {ready}")
        if not yes:
            self.stdout.write("Nothing was changed. Run again with --yes to purge them.")
            return
        for portfolio in due:
            removed = purge(portfolio)
            self.stdout.write(self.style.SUCCESS(f"  #{portfolio.pk}: {removed} file(s) removed."))
        for export in exports:
            export.refresh_from_db()  # a purge above may have removed it already
            if export.status == export.Status.DONE:
                remove_export(
                    export, reason=f"kept for {settings.BULK_EXPORT_KEEP_DAYS} days once ready"
                )
            self.stdout.write(self.style.SUCCESS(f"  export #{export.pk}: file removed."))
