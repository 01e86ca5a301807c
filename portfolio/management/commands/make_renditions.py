"""Make the renditions of every stored photo still without them."""

from django.core.management.base import BaseCommand
from django.db.models import Q

from portfolio.files import StoreFailed
from portfolio.models import EvidenceFile
from portfolio.services import file_renditions


class Command(BaseCommand):
    help = (
        "Make the screen and print renditions of every stored photo still without them (the "
        "worker makes them as photos are added; this catches up after a failed task), and say "
        "how many."
    )

    def handle(self, *args, **options):
        missing = (
            EvidenceFile.objects.ready()
            .filter(kind=EvidenceFile.Kind.IMAGE, purged_at=None)
            .filter(Q(screen="") | Q(print_version=""))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        made, failed = 0, []
        for pk in list(missing):
            try:
                file_renditions(file_id=pk)
            except (OSError, StoreFailed) as error:  # unreadable or unwritable storage
                failed.append(f"file {pk}: {error}")
            else:
                made += 1
        self.stdout.write(f"{made} photo(s) given their renditions.")
        for problem in failed:
            self.stderr.write(f"Not made for {problem}")
