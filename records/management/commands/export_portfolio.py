from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portfolio.models import Portfolio
from records.pdf import render_portfolio_pdf


class Command(BaseCommand):
    help = "Write a portfolio as one PDF. Name it by the learner's username or the portfolio id."

    def add_arguments(self, parser):
        parser.add_argument("portfolio", metavar="LEARNER_OR_ID")
        parser.add_argument("--output", required=True, metavar="FILE")

    def handle(self, *args, portfolio: str, output: str, **options):
        found = Portfolio.objects.select_related("learner", "unit")
        if portfolio.isdigit():
            found = found.filter(pk=int(portfolio))
        else:
            found = found.filter(learner__username=portfolio)
        matches = list(found[:2])
        if not matches:
            raise CommandError(f"No portfolio for {portfolio!r}: give a learner's username or id.")
        if len(matches) > 1:
            ids = ", ".join(str(p.pk) for p in found)
            raise CommandError(f"{portfolio} has several portfolios ({ids}): give the id.")
        data = render_portfolio_pdf(matches[0])
        Path(output).write_bytes(data)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {output}: {len(data) / 1024 / 1024:.1f} MB for {matches[0]}."
            )
        )
