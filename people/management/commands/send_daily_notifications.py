from django.core.management.base import BaseCommand

from assessments.planning import activities_overdue_notify
from assessments.quality import action_points_due_notify
from assessments.review_services import reviews_due_notify
from people.services import invitations_unused_notify
from portfolio.services import digests_send, eqa_expiry_notify


class Command(BaseCommand):
    help = (
        "Once a day: tell each assessor of the action points falling due and of the progress "
        "reviews falling due soon or overdue, each learner and their assessors of the planned "
        "activities overdue, each EQA whose "
        "access ends within EQA_EXPIRY_NOTICE_DAYS and whoever sent an invitation unused for "
        "INVITATION_REMINDER_DAYS (once each), then e-mail each person who "
        "chose the daily digest one message of what arrived since their last. Run twice, it "
        "sends nothing twice."
    )

    def handle(self, *args, **options):
        due = action_points_due_notify()
        overdue = activities_overdue_notify()
        reviews = reviews_due_notify()
        expiring = eqa_expiry_notify()
        unused = invitations_unused_notify()
        digests = digests_send()
        self.stdout.write(
            f"Action points due: {due}; planned activities overdue: {overdue}; progress "
            f"reviews due: {reviews}; EQA access ending soon: {expiring}; invitations not yet "
            f"used: {unused}; digests: {digests}"
        )
