"""The workflows of progress reviews and breaks in learning: writing a review, each party's
signature (the employer's through a single-use link too), breaks recorded and ended, how often
a qualification's learners are reviewed, and the daily reminders of reviews falling due.

Every one writes the audit trail in the transaction of its change, with the rows it changes
locked."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import BreakInLearning, ProgressReview, Signature, assesses_enrolment
from assessments.reviews import (
    enrolments_in_progress,
    next_review_on,
    period_start,
    review_dues,
    review_manifest,
    review_progress,
)
from assessments.schedule import Timing
from assessments.services import content_sign
from audit.chain import record
from portfolio import links
from portfolio.models import Enrolment, Notification, Portfolio, User
from portfolio.services import email_queue, notify
from units.models import Qualification

STATEMENTS = {
    Signature.Kind.REVIEW_ASSESSOR: (
        "I held this progress review with the learner on the date given. It records their "
        "progress since the last review, what went well and the targets we agreed until the next."
    ),
    Signature.Kind.REVIEW_LEARNER: (
        "I took part in this progress review. I have read it, and my comments are my own."
    ),
    Signature.Kind.REVIEW_EMPLOYER: (
        "I am the learner's employer (line manager). I have read this progress review, and my "
        "comments are my own."
    ),
}
ROLES = {
    Signature.Kind.REVIEW_ASSESSOR: "assessor",
    Signature.Kind.REVIEW_LEARNER: "learner",
    Signature.Kind.REVIEW_EMPLOYER: "employer",
}


def _locked_review(pk: int) -> ProgressReview:
    review = (
        ProgressReview.objects.select_for_update(of=("self",))
        .select_related("enrolment__learner", "enrolment__qualification")
        .get(pk=pk)
    )
    review.signatures_in_force = list(
        Signature.objects.filter(progress_review=review, revoked_at__isnull=True)
    )
    return review


def _review_data(review: ProgressReview) -> dict:
    return {
        "enrolment": review.enrolment_id,
        "held_on": review.held_on.isoformat(),
        "period_from": review.period_from.isoformat(),
        "next_review_on": review.next_review_on.isoformat() if review.next_review_on else None,
    }


def review_save(
    *,
    enrolment: Enrolment,
    held_on: datetime.date,
    went_well: str,
    targets: str,
    by: User,
    review: ProgressReview | None = None,
) -> ProgressReview:
    """Write a new review of ``enrolment`` (or change ``review`` while no one has signed it):
    what the assessor typed, with the progress since the last review computed from the records
    as they are now and the next review's date from the schedule. One review is written at a
    time for an enrolment, after the last one held."""
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(of=("self",))
            .select_related("learner", "qualification")
            .get(pk=enrolment.pk)
        )
        if not assesses_enrolment(by, enrolment.pk):
            raise ValidationError("Only the assessor of one of the learner's units writes reviews.")
        if review is None:
            if draft := _draft_of(enrolment):
                raise ValidationError(
                    f"The review of {draft.held_on:%d %B %Y} is being written: finish and sign "
                    "it before writing another."
                )
            review = ProgressReview(enrolment=enrolment, written_by=by)
        else:
            review = _locked_review(review.pk)
            if review.is_held:
                raise ValidationError(
                    "The assessor has signed this review, so it can no longer change."
                )
        period_from = period_start(enrolment, before=review)
        if held_on < period_from:
            raise ValidationError(
                f"The review cannot be held before {period_from:%d %B %Y}, the "
                + ("day of the last review." if period_from != enrolment.start_date else "start.")
            )
        created = review.pk is None
        review.held_on, review.went_well, review.targets = held_on, went_well, targets
        review.period_from = period_from
        review.progress = review_progress(enrolment, period_from=period_from, held_on=held_on)
        review.next_review_on = next_review_on(enrolment, held_on)
        review.written_by = by
        review.save()
        record(
            "review.written" if created else "review.changed",
            actor=by,
            obj=review,
            learner=enrolment.learner,
            summary=f"{by} {'wrote' if created else 'changed'} the progress review of "
            f"{held_on:%d %b %Y} for {enrolment.learner}",
            data=_review_data(review),
        )
    return review


def _draft_of(enrolment: Enrolment) -> ProgressReview | None:
    return (
        ProgressReview.objects.filter(enrolment=enrolment)
        .exclude(
            signatures__kind=Signature.Kind.REVIEW_ASSESSOR, signatures__revoked_at__isnull=True
        )
        .first()
    )


def review_sign(
    *, review: ProgressReview, by: User, comments: str = "", site_url: str = ""
) -> Signature:
    """``by`` signs the review in their part (``ProgressReview.part_for``): the assessor first,
    fixing their part, and the learner and the employer are told it waits for them; then the
    learner and an employer with an account, each with their own comments, which no longer
    change once signed."""
    with transaction.atomic():
        review = _locked_review(review.pk)
        kind = review.part_for(by)
        if kind is None:
            raise ValidationError(_not_yours(review, by))
        if kind == Signature.Kind.REVIEW_LEARNER:
            review.learner_comments = comments
            review.save(update_fields=["learner_comments"])
        elif kind == Signature.Kind.REVIEW_EMPLOYER:
            review.employer_comments = comments
            review.employer_name = str(by)
            review.save(update_fields=["employer_comments", "employer_name"])
        signature = content_sign(
            target=review,
            kind=kind,
            manifest=review_manifest(review, kind, str(by)),
            by=by,
            role=ROLES[kind],
            statement=STATEMENTS[kind],
        )
        if kind == Signature.Kind.REVIEW_ASSESSOR:
            _tell_to_sign(review, site_url=site_url)
    return signature


def _not_yours(review: ProgressReview, user: User) -> str:
    if not review.is_held:
        return "The assessor signs the review first."
    for kind, who in (
        (Signature.Kind.REVIEW_LEARNER, "learner"),
        (Signature.Kind.REVIEW_EMPLOYER, "employer"),
    ):
        signature = review.signed(kind)
        if signature is not None and signature.signer_id == user.pk:
            return f"You signed this review as its {who} already."
    return "You have no part to sign in this review."


def _tell_to_sign(review: ProgressReview, *, site_url: str) -> None:
    learner = review.enrolment.learner
    link = site_url + review.get_absolute_url()
    notify(
        learner,
        f"Your progress review of {review.held_on:%d %b %Y} is ready for your comments and "
        "signature",
        kind=Notification.Kind.REVIEW_TO_SIGN,
        link=link,
    )
    for employer in employers_of(review.enrolment):
        notify(
            employer,
            f"{learner}'s progress review of {review.held_on:%d %b %Y} is ready for your "
            "comments and signature",
            kind=Notification.Kind.REVIEW_TO_SIGN,
            link=link,
        )


def employers_of(enrolment: Enrolment) -> list[User]:
    """The employers with an account following the learner: active people holding the employer
    role who are contacts of the workplace of one of the enrolment's units."""
    workplaces = Portfolio.objects.filter(enrolment=enrolment).values("workplace")
    return list(
        User.objects.filter(
            is_active=True, is_employer=True, workplace_contacts__workplace__in=workplaces
        )
        .distinct()
        .order_by("pk")
    )


def review_link_send(
    *, review: ProgressReview, name: str, email: str, by: User, site_url: str
) -> None:
    """E-mail an employer without an account a single-use link to read and sign the review,
    once the assessor has signed it; any earlier link stops working."""
    with transaction.atomic():
        review = _locked_review(review.pk)
        if not assesses_enrolment(by, review.enrolment_id):
            raise ValidationError("Only the assessor of one of the learner's units sends it.")
        if not review.is_held:
            raise ValidationError("Sign the review before sending it to the employer.")
        if review.signed(Signature.Kind.REVIEW_EMPLOYER) is not None:
            raise ValidationError("The employer has signed this review already.")
        token = links.link_issue(review, days=settings.REVIEW_LINK_DAYS)
        review.employer_name, review.employer_email = name, email
        review.save(update_fields=[*links.LINK_FIELDS, "employer_name", "employer_email"])
        learner = review.enrolment.learner
        record(
            "review.link_sent",
            actor=by,
            obj=review,
            learner=learner,
            summary=f"{by} asked {name} to sign the progress review of {review.held_on:%d %b %Y}",
            data={"employer": name, "expires_at": review.expires_at.isoformat()},
        )
        link = site_url + reverse("review_link", args=[token])
        expires = timezone.localtime(review.expires_at).strftime("%d %B %Y")
        email_queue(
            to=email,
            subject=f"Please read and sign {learner}'s progress review",
            body=(
                f"Dear {name},\n\n"
                f"{learner}'s assessor has reviewed their progress on "
                f"{review.held_on:%d %B %Y} and asks you, as their employer, to read the "
                "review, add your comments and sign it:\n\n"
                f"{link}\n\n"
                f"The link works once and until {expires}, in the browser you first open it "
                "in. You do not need an account.\n"
            ),
        )


def review_for_token(token: str) -> ProgressReview | None:
    return links.for_token(_for_link(), token)


def review_for_browser(pk: int, key: str | None) -> ProgressReview | None:
    """The review whose link this browser opened (``key`` from ``review_link_open``)."""
    return links.for_browser(_for_link(), pk, key)


def _for_link():
    return ProgressReview.objects.select_related(
        "enrolment__learner", "enrolment__qualification"
    ).with_signatures()


def review_link_open(*, review: ProgressReview, ip: str | None) -> str | None:
    """Exchange the e-mailed link for a key this browser keeps (returned), once: None if the
    link was opened in a browser already, or takes no signature now."""
    with transaction.atomic():
        locked = _locked_review(review.pk)
        if locked.opened_at is not None or locked.link_problem:
            return None
        key = links.link_open(locked)
        locked.save(update_fields=["opened_at", "browser_key_hash"])
        record(
            "review.link_opened",
            actor=None,
            actor_label=f"Employer {locked.employer_name}",
            obj=locked,
            learner=locked.enrolment.learner,
            summary=f"{locked.employer_name} opened the link to the progress review",
            data={"ip": ip},
        )
    return key


def review_link_sign(
    *,
    review: ProgressReview,
    typed_name: str,
    comments: str,
    ip: str | None,
    browser_key: str | None,
) -> str | None:
    """The employer's signature through the link, once: their comments and their typed name,
    with the time and the address kept. None if it was recorded, else why not (as
    ``ProgressReview.link_problem``, or "replaced" if the link was sent again since this
    browser opened it)."""
    with transaction.atomic():
        locked = _locked_review(review.pk)
        if problem := locked.link_problem:
            return problem
        if not links.key_matches(locked, browser_key):
            return "replaced"
        locked.employer_comments = comments
        locked.save(update_fields=["employer_comments"])
        kind = Signature.Kind.REVIEW_EMPLOYER
        content_sign(
            target=locked,
            kind=kind,
            manifest=review_manifest(locked, kind, typed_name),
            by=None,
            role=ROLES[kind],
            statement=STATEMENTS[kind],
            signer_name=typed_name,
            ip=ip,
        )
        learner = locked.enrolment.learner
        for assessor in _assessors_of(locked.enrolment):
            notify(
                assessor,
                f"{typed_name}, {learner}'s employer, signed the progress review of "
                f"{locked.held_on:%d %b %Y}",
                kind=Notification.Kind.REVIEW_TO_SIGN,
                link=locked.get_absolute_url(),
            )
    return None


def _assessors_of(enrolment: Enrolment) -> list[User]:
    return list(
        User.objects.filter(is_active=True, assessed_portfolios__enrolment=enrolment)
        .distinct()
        .order_by("pk")
    )


def break_record(
    *,
    enrolment: Enrolment,
    starts_on: datetime.date,
    ends_on: datetime.date | None,
    reason: str,
    by: User,
) -> BreakInLearning:
    """Record a break in learning: from its first day to its last (None while it lasts), never
    overlapping another break of the enrolment."""
    with transaction.atomic():
        enrolment = _breaks_locked(enrolment.pk, by, "records")
        pause = BreakInLearning(
            enrolment=enrolment, starts_on=starts_on, ends_on=ends_on, reason=reason, recorded_by=by
        )
        _check_break(pause)
        pause.save()
        record(
            "break.recorded",
            actor=by,
            obj=pause,
            learner=enrolment.learner,
            summary=f"{by} recorded a break in learning for {enrolment.learner} from "
            f"{starts_on:%d %b %Y}" + (f" to {ends_on:%d %b %Y}" if ends_on else ""),
            data=_break_data(pause),
        )
    return pause


def break_end(*, pause: BreakInLearning, ends_on: datetime.date, by: User) -> BreakInLearning:
    """Set the last day of a break in learning that is going on."""
    with transaction.atomic():
        enrolment = _breaks_locked(pause.enrolment_id, by, "ends")
        pause = BreakInLearning.objects.select_for_update().get(pk=pause.pk)
        pause.enrolment = enrolment
        if pause.ends_on is not None:
            raise ValidationError(f"This break ended on {pause.ends_on:%d %B %Y} already.")
        pause.ends_on = ends_on
        _check_break(pause)
        pause.save(update_fields=["ends_on"])
        record(
            "break.ended",
            actor=by,
            obj=pause,
            learner=pause.enrolment.learner,
            summary=f"{by} ended the break in learning of {pause.enrolment.learner} on "
            f"{ends_on:%d %b %Y}",
            data=_break_data(pause),
        )
    return pause


def _breaks_locked(enrolment_id: int, by: User, verb: str) -> Enrolment:
    """The enrolment, locked while its breaks change (so two overlapping breaks recorded at once
    are not both saved), if ``by`` may change them."""
    enrolment = (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("learner")
        .get(pk=enrolment_id)
    )
    if not BreakInLearning.may_record(enrolment.pk, by):
        raise ValidationError(
            "Only the assessor of one of the learner's units, or the centre administrator, "
            f"{verb} a break in learning."
        )
    return enrolment


def _check_break(pause: BreakInLearning) -> None:
    if pause.ends_on is not None and pause.ends_on < pause.starts_on:
        raise ValidationError(
            {"ends_on": "The last day of the break cannot be before its first day."}
        )
    others = BreakInLearning.objects.filter(enrolment_id=pause.enrolment_id)
    if other := pause.overlap_of(others):
        until = f"to {other.ends_on:%d %B %Y}" if other.ends_on else "and still going on"
        raise ValidationError(
            f"It overlaps the break from {other.starts_on:%d %B %Y} {until}: change the dates, "
            "or end that break first."
        )


def _break_data(pause: BreakInLearning) -> dict:
    return {
        "enrolment": pause.enrolment_id,
        "starts_on": pause.starts_on.isoformat(),
        "ends_on": pause.ends_on.isoformat() if pause.ends_on else None,
        "reason": pause.reason,
    }


def review_weeks_save(*, qualification: Qualification, weeks: int, by: User) -> bool:
    """Set how often the learners of a qualification are reviewed, on the centre's chain.
    False if it was so already."""
    with transaction.atomic():
        qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
        before = qualification.review_weeks
        if before == weeks:
            return False
        qualification.review_weeks = weeks
        qualification.save(update_fields=["review_weeks"])
        record(
            "qualification.review_weeks",
            actor=by,
            obj=qualification,
            summary=f"{by} set progress reviews of {qualification.code} to every {weeks} weeks",
            data={"qualification": qualification.pk, "before": before, "after": weeks},
        )
    return True


def reviews_due_notify(*, today: datetime.date | None = None) -> int:
    """Tell the assessors of each enrolment in progress, once, when its next review falls due
    soon and once when it is overdue (again for a new due date). Returns how many were told."""
    today = today or timezone.localdate()
    enrolments = list(enrolments_in_progress())
    dues = review_dues(enrolments, today=today)
    assessors: dict[int, list[User]] = {}
    for portfolio in Portfolio.objects.filter(
        enrolment__in=enrolments, assessor__is_active=True
    ).select_related("assessor"):
        people = assessors.setdefault(portfolio.enrolment_id, [])
        if portfolio.assessor not in people:
            people.append(portfolio.assessor)
    told = 0
    for enrolment in enrolments:
        due = dues[enrolment.pk].due
        if due.timing not in (Timing.DUE_SOON, Timing.OVERDUE):
            continue
        when = "is overdue since" if due.is_overdue else "falls due on"
        for assessor in assessors.get(enrolment.pk, []):
            with transaction.atomic():
                notification = notify(
                    assessor,
                    f"{enrolment.learner}'s progress review {when} {due.due_on:%d %b %Y}",
                    kind=Notification.Kind.REVIEW_DUE,
                    link=_reviews_link(enrolment),
                    once_key=f"review_due:{enrolment.pk}:{due.due_on:%Y%m%d}:{due.timing.name}",
                )
                told += notification is not None
    return told


def _reviews_link(enrolment: Enrolment) -> str:
    return reverse("enrolment_reviews", args=[enrolment.pk])
