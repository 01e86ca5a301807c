from django.conf import settings
from django.core.management.base import BaseCommand

from records.models import Export
from records.services import exports_fail_stale


class Command(BaseCommand):
    help = (
        "Mark failed the exports being built whose worker has not reported for "
        "EXPORT_STALE_MINUTES (it stopped), each audited, and name the ones still waiting that "
        "long for a worker to start them."
    )

    def handle(self, *args, **options):
        for export in exports_fail_stale():
            self.stdout.write(f"Export #{export.pk} ({export}) failed: {export.error}")
        waiting = [e for e in Export.objects.filter(status=Export.Status.QUEUED) if e.waiting_long]
        for export in waiting:
            self.stdout.write(
                f"Export #{export.pk} ({export}) has waited over {settings.EXPORT_STALE_MINUTES} "
                "minutes for the background worker: is it running?"
            )
