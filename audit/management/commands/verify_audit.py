from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.chain import chain_label, verify_chains


class Command(BaseCommand):
    help = (
        "Check every audit chain (each learner's and the centre's) and every head's seal; exits "
        "non-zero naming the first break: its chain, its entry and why."
    )

    def handle(self, *args, **options):
        result = verify_chains()
        broken = result.broken
        if broken is not None:
            entry = broken.entry
            where = "before its first entry"
            if entry is not None:
                when = timezone.localtime(entry.created_at).strftime("%d %b %Y %H:%M:%S")
                where = f"at entry {entry.sequence} ({when}, {entry.summary!r})"
            raise CommandError(
                f"The audit trail is broken on the chain of {chain_label(broken.chain)} {where}: "
                f"{broken.reason}. {result.entries} entries before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit trail is intact: {result.entries} entries on {result.chains} "
                f"chain{'' if result.chains == 1 else 's'}, "
                "every head sealed."
            )
        )
