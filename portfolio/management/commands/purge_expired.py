from django.core.management.base import BaseCommand

from portfolio.retention import due_for_purge, purge


class Command(BaseCommand):
    help = (
        "List claimed portfolios past their retention date. With --yes, remove their files and "
        "anonymise their learners, keeping the assessment decisions; each purge is audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="purge them (default: only list)")

    def handle(self, *args, yes: bool, **options):
        due = list(due_for_purge())
        if not due:
            self.stdout.write("Nothing is past its retention date.")
            return
        self.stdout.write(f"{len(due)} portfolio(s) past their retention date:")
        for portfolio in due:
            self.stdout.write(
                f"  #{portfolio.pk} {portfolio.learner} ({portfolio.unit.code}), claimed "
                f"{portfolio.claimed_at:%d %b %Y}, keep until {portfolio.retain_until:%d %b %Y}"
            )
        if not yes:
            self.stdout.write("Nothing was changed. Run again with --yes to purge them.")
            return
        for portfolio in due:
            removed = purge(portfolio)
            self.stdout.write(self.style.SUCCESS(f"  #{portfolio.pk}: {removed} file(s) removed."))
