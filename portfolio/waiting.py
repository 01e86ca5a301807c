"""What waits for a person on their home page, oldest first: open work worked out from the
records (not from the messages, which may have been read). Each role's list runs a fixed number
of queries, however much waits, and shows at most ``SHOWN`` things. Assessment adds the lists of
the roles that judge evidence (``assessments/waiting.py``)."""

import dataclasses
import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portfolio.models import EqaGrant, OutgoingEmail, User

SHOWN = 10


@dataclasses.dataclass(frozen=True)
class Waiting:
    since: datetime.datetime
    text: str
    url: str
    detail: str = ""


def oldest_first(*groups: list[Waiting]) -> list[Waiting]:
    return sorted((w for group in groups for w in group), key=lambda w: w.since)[:SHOWN]


def for_eqa(user: User) -> list[Waiting]:
    """The grants open to the EQA now, the oldest given first."""
    grants = EqaGrant.objects.active_for(user).order_by("created_at", "pk")[:SHOWN]
    return [
        Waiting(
            since=grant.created_at,
            text="Review the whole centre"
            if grant.whole_centre
            else "Review the portfolios granted to you",
            url="#your-access",
            detail=f"until {timezone.localtime(grant.expires_at):%d %b %Y %H:%M}"
            + (f": {grant.reason}" if grant.reason else ""),
        )
        for grant in grants
    ]


def not_signed_in_url(person: User) -> str:
    """Where the centre administrator follows up a person who has not signed in yet: their page
    among the people pages, which sends the invitation again."""
    return reverse("person_edit", args=[person.pk])


def for_centre_admin() -> list[Waiting]:
    """E-mails given up on, and active people who have never signed in."""
    failed = OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.FAILED,
        finished_at__gte=timezone.now() - datetime.timedelta(days=settings.EMAIL_FAILED_KEEP_DAYS),
    ).order_by("finished_at", "pk")[:SHOWN]
    never = User.objects.filter(is_active=True, last_login__isnull=True).order_by(
        "date_joined", "pk"
    )[:SHOWN]
    return oldest_first(
        [
            Waiting(
                since=email.finished_at,
                text=f"An e-mail to {email.to} could not be sent",
                url="#unsent-emails",
                detail=email.subject,
            )
            for email in failed
        ],
        [
            Waiting(
                since=person.date_joined,
                text=f"{person} has not signed in yet",
                url=not_signed_in_url(person),
                detail=", ".join(role.label for role in person.roles) or "no role yet",
            )
            for person in never
        ],
    )
