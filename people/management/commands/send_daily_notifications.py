from django.core.management.base import BaseCommand

from assessments.planning import activities_overdue_notify
from assessments.quality import action_points_due_notify
from people.services import invitations_unused_notify
from portfolio.services import digests_send, eqa_expiry_notify


class Command(BaseCommand):
    help = (
        "Once a day: tell each assessor of the action points falling due, each learner and "
        "their assessors of the planned activities overdue, each EQA whose "
        "access ends within EQA_EXPIRY_NOTICE_DAYS and whoever sent an invitation unused for "
        "INVITATION_REMINDER_DAYS (once each), then e-mail each person who "
        "chose the daily digest one message of what arrived since their last. Run twice, it "
        "sends nothing twice."
    )

    def handle(self, *args, **options):
        due = action_points_due_notify()
        overdue = activities_overdue_notify()
        expiring = eqa_expiry_notify()
        unused = invitations_unused_notify()
        digests = digests_send()
        self.stdout.write(
            f"Action points due: {due}; planned activities overdue: {overdue}; EQA access "
            f"ending soon: {expiring}; invitations not yet used: {unused}; digests: {digests}"
        )
