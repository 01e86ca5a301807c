from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.chain import verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exits non-zero naming the first broken entry."

    def handle(self, *args, **options):
        checked, broken = verify_chain()
        if broken is not None:
            entry = broken.entry
            when = timezone.localtime(entry.created_at).strftime("%d %b %Y %H:%M:%S")
            raise CommandError(
                f"The audit trail is broken at entry {entry.sequence} ({when}, "
                f"{entry.summary!r}): {broken.reason}. {checked} entries before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"The audit trail is intact: {checked} entries."))
