from django.conf import settings
from django.core.management.base import BaseCommand

from portfolio.services import email_restart_stopped, file_work_restart_stopped
from records.models import Export
from records.services import exports_fail_stale


class Command(BaseCommand):
    help = (
        "Notice background work whose worker stopped: mark failed, audited, the exports being "
        "built that have not reported for EXPORT_STALE_MINUTES; queue again the checks of files "
        "still being checked, the renditions of photos still without them and the e-mails still "
        "to send that no task is doing; and name the exports still waiting that long for a "
        "worker to start them."
    )

    def handle(self, *args, **options):
        for export in exports_fail_stale():
            self.stdout.write(f"Export #{export.pk} ({export}) failed: {export.error}")
        for evidence_file, what in file_work_restart_stopped():
            self.stdout.write(
                f"Queued again: the {what} of file #{evidence_file.pk} "
                f"({evidence_file.original_name})"
            )
        for email in email_restart_stopped():
            self.stdout.write(f"Queued again: e-mail #{email.pk} ({email.subject})")
        waiting = [e for e in Export.objects.filter(status=Export.Status.QUEUED) if e.waiting_long]
        for export in waiting:
            self.stdout.write(
                f"Export #{export.pk} ({export}) has waited over {settings.EXPORT_STALE_MINUTES} "
                "minutes for the background worker: is it running?"
            )
