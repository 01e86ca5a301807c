"""The learner's workflows that touch several records: each one writes the audit trail."""

import datetime
import hashlib
import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.chain import record
from portfolio import links
from portfolio.files import (
    PreparedFile,
    atomic_with_files,
    check_stored,
    delete_stored,
    make_renditions,
    store_checked,
    store_file,
    store_renditions,
)
from portfolio.models import (
    EqaGrant,
    EvidenceFile,
    EvidenceItem,
    Notification,
    OutgoingEmail,
    PasswordResetRequest,
    Portfolio,
    User,
    WitnessTestimony,
)
from portfolio.signable import batched
from portfolio.tasks import check_evidence_file, make_evidence_file_renditions, send_email
from units.models import Criterion

logger = logging.getLogger(__name__)


def _evidence_data(evidence: EvidenceItem) -> dict:
    return {
        "title": evidence.title,
        "method": evidence.method,
        "occurred_on": evidence.occurred_on.isoformat(),
        "status": evidence.status,
    }


def _open_for_learner(portfolio_id: int, by: User) -> None:
    """Lock the portfolio (see ``PortfolioQuerySet.locked``) and check the learner may still
    change its evidence: the assessor may have signed the unit off meanwhile."""
    if not Portfolio.objects.locked(portfolio_id).may_work_on(by):
        raise ValidationError("The unit is signed off, so its evidence can no longer change.")


def _changeable(
    evidence: EvidenceItem, by: User, *, refusal: str, submitting: bool = False
) -> EvidenceItem:
    """Lock the portfolio, then read the evidence as it is now: refused with ``refusal`` unless
    the learner may still change it (another tab may have submitted it since the page was read),
    or if another unit it counts in is signed off. A draft is in no signature, so only
    ``submitting`` it is refused for that."""
    _open_for_learner(evidence.portfolio_id, by)
    current = EvidenceItem.objects.select_related("portfolio").get(pk=evidence.pk)
    if not current.is_editable:
        raise ValidationError(refusal.format(title=current.title))
    if submitting or current.status != EvidenceItem.Status.DRAFT:
        refuse_if_signed_elsewhere(current)
    return current


def lock_units_counting(evidence: EvidenceItem) -> None:
    """Lock the other portfolios the item counts in (its own first, by the caller), so that a
    change to it racing the sign-off of one of them lands before it or not at all."""
    others = Portfolio.objects.counting(evidence.pk).exclude(pk=evidence.portfolio_id)
    list(others.select_for_update(no_key=True, of=("self",)).order_by("pk").values("pk"))


def refuse_if_signed_elsewhere(evidence: EvidenceItem) -> None:
    """Lock the other portfolios the item counts in, then refuse if one is signed off: what was
    signed there includes the item as it is."""
    lock_units_counting(evidence)
    closed = evidence.closed_unit_counting_it(drafts_too=True)
    if closed is not None:
        raise ValidationError(
            f"'{evidence.title}' also counts in {closed.unit.label}, which is signed off, so it "
            "can no longer change."
        )


def workplace_save(*, form, by: User) -> None:
    """Save what changed of the learner's workplace details (the bound, valid
    ``WorkplaceForm``): the portfolio moves to the workplace record its text names, found or
    made; the record itself, shared with other learners, is never changed here."""
    if not form.has_changed():
        return
    portfolio = form.instance
    with transaction.atomic(), batched():
        portfolio.workplace = form.workplace()
        portfolio.save(update_fields=["workplace", "job_role", "updated_at"])
        record(
            "portfolio.workplace_changed",
            actor=by,
            obj=portfolio,
            portfolio=portfolio,
            summary=f"{by} changed the workplace details",
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )


def user_save(*, user: User, by: User) -> None:
    """Save a change to someone's account made by ``by``. Only a superuser may change a
    superuser's account (its details, its password, whether it is active) or make anyone a
    superuser: anyone else is refused with PermissionDenied, and nothing is saved."""
    if not by.is_superuser:
        stored = User.objects.filter(pk=user.pk).first() if user.pk else None
        if stored is not None and not by.may_manage(stored):
            raise PermissionDenied("Only a superuser may change a superuser's account.")
        if user.is_superuser:
            raise PermissionDenied("Only a superuser may make someone a superuser.")
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Two saves of one number at once: the pages' own check could not see the other.
        if user.uln and User.objects.filter(uln=user.uln).exclude(pk=user.pk).exists():
            raise ValidationError(
                {
                    "uln": f"Someone else already has the Unique Learner Number {user.uln}: "
                    "each learner has their own."
                }
            ) from error
        raise


PASSWORD_RESET_WINDOW = datetime.timedelta(hours=1)


def _reset_counted_address(address: str | None) -> str | None:
    """The address password resets are counted under: an IPv4 address itself, and for IPv6 its
    /64 network, which one household or phone is given whole (so changing the last 64 bits,
    which costs nothing, does not reset the count)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)


def password_reset_refusal(*, email: str, address: str | None) -> str | None:
    """Count a password reset asked for the e-mail address ``email`` from ``address``; None if it
    may go ahead, else why not. The answer is the same whether or not an account has that
    e-mail address, so it tells nobody which addresses have accounts."""
    now = timezone.now()
    email_hash = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    address = _reset_counted_address(address)
    with transaction.atomic():
        # Requests at the same moment count one after another, or each would see room left.
        # SQLite's transactions take its write lock as they begin; PostgreSQL's need a lock.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in sorted({f"reset-email:{email_hash}", f"reset-address:{address}"}):
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        PasswordResetRequest.objects.filter(created_at__lt=now - PASSWORD_RESET_WINDOW).delete()
        if (
            address
            and PasswordResetRequest.objects.filter(address=address).count()
            >= settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
        ):
            return (
                "Too many password resets have been asked for from this connection. Please "
                "try again in an hour."
            )
        if (
            PasswordResetRequest.objects.filter(email_hash=email_hash).count()
            >= settings.PASSWORD_RESET_LIMIT_PER_EMAIL
        ):
            return (
                "Too many password resets have been asked for this e-mail address. Please use "
                "the link in the e-mail sent earlier (look in the junk folder too), or try "
                "again in an hour."
            )
        PasswordResetRequest.objects.create(address=address or None, email_hash=email_hash)
    return None


def eqa_grant_recorded(*, grant: EqaGrant, by: User, created: bool) -> None:
    """Write to the audit trail the access a grant now gives, and tell the EQA (given, changed
    or ended). Every place that saves a grant calls this, in its transaction, and tells the EQA
    nothing itself."""
    scope = _grant_scope(grant)
    record(
        "eqa.granted" if created else "eqa.grant_changed",
        actor=by,
        obj=grant,
        summary=f"{by} gave {grant.eqa} access to {scope} until "
        f"{timezone.localtime(grant.expires_at):%d %b %Y %H:%M}",
        data={
            "whole_centre": grant.whole_centre,
            "portfolios": sorted(grant.portfolios.values_list("pk", flat=True)),
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    until = f"{timezone.localtime(grant.expires_at):%d %b %Y %H:%M}"
    if created:
        message = f"You have read-only access to {scope} until {until}, given by {by}"
    elif grant.expires_at > timezone.now():
        message = f"Your access is now to {scope} until {until}, changed by {by}"
    else:
        message = f"Your access to {scope} was ended by {by}"
    notify(grant.eqa, message, kind=Notification.Kind.EQA_GRANTED, link=reverse("eqa_home"))


class AlreadySaved(Exception):
    """The form was posted before (its one-time key made ``evidence``): nothing more is saved."""

    def __init__(self, evidence: EvidenceItem):
        super().__init__(f"'{evidence.title}' was already saved from this form.")
        self.evidence = evidence


def saved_from(portfolio: Portfolio, key) -> EvidenceItem | None:
    """The evidence of ``portfolio`` that the form with one-time key ``key`` made, if any."""
    if key is None:
        return None
    return EvidenceItem.objects.filter(portfolio=portfolio, submission_key=key).first()


def fresh_key(portfolio: Portfolio, key):
    """``key``, or None if another portfolio's evidence has it (a form's body replayed to
    another portfolio): that post is saved as new, without a key, rather than refused."""
    if key is None or not EvidenceItem.objects.filter(submission_key=key).exists():
        return key
    return None


@contextmanager
def once(portfolio: Portfolio, key) -> Iterator[None]:
    """Around the transaction that creates evidence with one-time key ``key``: if the same form
    was saved meanwhile (a post at the same moment), the unique key refuses the second item,
    which rolls back with its files, and AlreadySaved names the first."""
    try:
        yield
    except IntegrityError:
        existing = saved_from(portfolio, key)
        if existing is None:
            raise
        raise AlreadySaved(existing) from None


def evidence_save(
    *, form, by: User, files: list[PreparedFile], created: bool, site_url: str = ""
) -> EvidenceItem:
    """Save the evidence form and its new files in one transaction: all of it or none.

    A change is refused if the item was submitted since the form's copy was read (from
    another tab, while the files were being checked). New evidence is made once per form: the
    same form saved again raises AlreadySaved, storing nothing."""
    key = form.cleaned_data.get("submission_key") if created else None
    if created and (existing := saved_from(form.instance.portfolio, key)):
        raise AlreadySaved(existing)
    key = fresh_key(form.instance.portfolio, key)
    with once(form.instance.portfolio, key), atomic_with_files() as written:
        if not created:
            current = _changeable(
                form.instance,
                by,
                refusal="'{title}' was submitted while you were changing it, so your changes "
                "were not saved.",
            )
            # The form changes the learner's words, never where the item is in its workflow.
            for name in ("status", "declared_at", "submitted_at"):
                setattr(form.instance, name, getattr(current, name))
        else:
            form.instance.submission_key = key
        evidence = form.save()
        # The files are stored before anything is audited: the chain's head stays locked from
        # the first entry to the commit, and no one else's entry should wait on an upload.
        stored = [store_file(evidence, prepared, by=by, written=written) for prepared in files]
        action = "evidence.created" if created else "evidence.updated"
        verb = "added" if created else "changed"
        record(
            action,
            actor=by,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{by} {verb} evidence '{evidence.title}'",
            data={
                **_evidence_data(evidence),
                # The declaration is recorded by the submission, if one follows.
                "changed": [name for name in form.changed_data if name != "declaration"],
            },
        )
        for prepared, evidence_file in zip(files, stored, strict=True):
            file_stored(evidence, prepared, evidence_file, by=by, site_url=site_url)
    return evidence


def file_add(
    evidence: EvidenceItem,
    prepared: PreparedFile,
    *,
    by: User,
    written: list[str],
    site_url: str = "",
) -> EvidenceFile:
    """Store a checked file on the evidence and audit it; call inside ``atomic_with_files``.

    A file whose cleaning takes seconds (``PreparedFile.checked_later``) is stored as being
    checked and its check queued in the same transaction; it is audited once it is ready
    (``file_check``); ``site_url`` is for the link in the e-mail that tells how it ended. The
    storage write comes first, so the audit chain is not locked during it."""
    stored = store_file(evidence, prepared, by=by, written=written)
    file_stored(evidence, prepared, stored, by=by, site_url=site_url)
    return stored


def file_stored(
    evidence: EvidenceItem, prepared: PreparedFile, stored: EvidenceFile, *, by: User, site_url: str
) -> None:
    """Audit a file just stored with ``store_file``, or, if it is checked later, queue its
    check; queue a photo's renditions. Storing every file of an action first and auditing them
    after keeps the audit chain unlocked during the storage writes."""
    if prepared.checked_later:
        check_evidence_file.enqueue(stored.pk, site_url)
    else:
        _file_added(stored, evidence=evidence, by=by)
        if stored.is_image:
            make_evidence_file_renditions.enqueue(stored.pk)


def file_work_restart_stopped() -> list[tuple[EvidenceFile, str]]:
    """Queue again the check of each file still being checked, and the renditions of each photo
    still without them, where no task for it is waiting or has been running for less than
    ``EXPORT_STALE_MINUTES`` (its worker stopped, or the task was lost); a task left running by
    a stopped worker is marked failed. Only files added longer ago than that are looked at.
    Return each file queued again with what was queued ("check" or "renditions")."""
    stale = timezone.now() - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
    work = {
        "check": (
            check_evidence_file,
            EvidenceFile.objects.filter(status=EvidenceFile.Status.CHECKING),
        ),
        "renditions": (
            make_evidence_file_renditions,
            EvidenceFile.objects.ready()
            .filter(kind=EvidenceFile.Kind.IMAGE, purged_at=None)
            .filter(Q(screen="") | Q(print_version="")),
        ),
    }
    restarted = []
    for what, (task, files) in work.items():
        candidates = {f.pk: f for f in files.filter(uploaded_at__lt=stale).order_by("pk")}
        if not candidates:
            continue
        live, sent_with = _live_tasks(task, stale)
        for pk, evidence_file in candidates.items():
            if pk not in live:
                task.enqueue(pk, *sent_with.get(pk, []))
                restarted.append((evidence_file, what))
    return restarted


def email_restart_stopped() -> list[OutgoingEmail]:
    """Queue again each e-mail still waiting to be sent, queued over ``EXPORT_STALE_MINUTES``
    ago, that no task is waiting to send (a later try included) or has been sending for less
    than that: its task was lost or its worker stopped. Return them."""
    stale = timezone.now() - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
    waiting = list(
        OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED, created_at__lt=stale)
    )
    if not waiting:
        return []
    live, _ = _live_tasks(send_email, stale)
    restarted = [email for email in waiting if email.pk not in live]
    for email in restarted:
        _enqueue_sending(email.pk)
    return restarted


def _live_tasks(task, stale: datetime.datetime) -> tuple[set, dict]:
    """The first arguments of ``task``'s tasks waiting or running since ``stale`` (a task left
    running longer, by a worker that stopped, is marked failed), and the rest of the arguments
    each was queued with."""
    live, stopped, sent_with = set(), [], {}
    for result in DBTaskResult.objects.filter(
        task_path=task.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ):
        args = result.args_kwargs.get("args") or [None]
        sent_with[args[0]] = args[1:]
        if result.status == TaskResultStatus.RUNNING and result.started_at < stale:
            stopped.append(result.pk)
        else:
            live.add(args[0])
    DBTaskResult.objects.filter(pk__in=stopped).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now()
    )
    return live, sent_with


def _file_added(stored: EvidenceFile, *, evidence: EvidenceItem, by: User) -> None:
    record(
        "file.added",
        actor=by,
        obj=stored,
        portfolio=evidence.portfolio,
        summary=f"{by} added the file '{stored.original_name}' to '{evidence.title}'",
        data={"evidence": evidence.pk, "sha256": stored.sha256, "size": stored.size},
    )


def _checking(file_id: int) -> EvidenceFile | None:
    return (
        EvidenceFile.objects.select_related("evidence__portfolio__learner", "uploaded_by")
        .filter(pk=file_id, status=EvidenceFile.Status.CHECKING)
        .first()
    )


def file_check(*, file_id: int, site_url: str = "") -> None:
    """Clean and hash a file stored as being checked, then swap the cleaned copy in, mark it
    ready and audit it; or, if it is refused, remove it and tell whoever added it why. The rest
    of the evidence item is left as it is. A file removed meanwhile is passed over."""
    evidence_file = _checking(file_id)
    if evidence_file is None:
        return
    try:
        prepared = check_stored(evidence_file)
    except ValidationError as refusal:
        _file_refused(file_id, reason=" ".join(refusal.messages), site_url=site_url)
        return
    with atomic_with_files() as written:
        # The portfolio's lock, as for every change to its records; then the file as it is now.
        Portfolio.objects.locked(evidence_file.evidence.portfolio_id)
        evidence_file = _checking(file_id)
        if evidence_file is None:
            return
        sent = store_checked(evidence_file, prepared, written=written)
        evidence = evidence_file.evidence
        _file_added(evidence_file, evidence=evidence, by=evidence_file.uploaded_by)
        _tell_of_check(
            evidence_file,
            f"{evidence_file.original_name} is checked and added to '{evidence.title}'. "
            f"{prepared.removal_note}".strip(),
            site_url=site_url,
        )
        delete_stored([sent])


def file_renditions(*, file_id: int) -> EvidenceFile | None:
    """Make and store the screen and print renditions of a stored photo that has none yet, and
    return its row; None for a file removed, purged or not a photo. The signed record is about
    the photo itself, so it stays as it was."""
    photos = EvidenceFile.objects.ready().filter(kind=EvidenceFile.Kind.IMAGE, purged_at=None)
    evidence_file = photos.filter(pk=file_id).first()
    if evidence_file is None or (evidence_file.screen and evidence_file.print_version):
        return evidence_file
    renditions = make_renditions(evidence_file)
    with atomic_with_files() as written:
        evidence_file = photos.select_for_update().filter(pk=file_id).first()
        if evidence_file is not None and not (evidence_file.screen and evidence_file.print_version):
            store_renditions(evidence_file, renditions, written=written)
    return evidence_file


def _file_refused(file_id: int, *, reason: str, site_url: str) -> None:
    with transaction.atomic():
        evidence_file = _checking(file_id)
        if evidence_file is None:
            return
        Portfolio.objects.locked(evidence_file.evidence.portfolio_id)
        names = evidence_file.stored_names()
        evidence_file.delete()
        delete_stored(names)
        _tell_of_check(
            evidence_file,
            f"A file was not added to '{evidence_file.evidence.title}': {reason}",
            site_url=site_url,
        )


def _tell_of_check(evidence_file: EvidenceFile, message: str, *, site_url: str) -> None:
    """Tell whoever added the file how its check ended, in the app, by e-mail, and on the
    evidence page until they have seen it there."""
    evidence = evidence_file.evidence
    notify(
        evidence_file.uploaded_by,
        Truncator(message).chars(Notification._meta.get_field("message").max_length),
        kind=Notification.Kind.FILE_CHECK,
        evidence=evidence,
        link=site_url + evidence.get_absolute_url(),
    )


def file_remove(*, evidence_file: EvidenceFile, by: User) -> None:
    with transaction.atomic(), batched():
        evidence = _changeable(
            evidence_file.evidence,
            by,
            refusal="'{title}' is with your assessor now, so its files cannot change.",
        )
        names = evidence_file.stored_names()
        record(
            "file.removed",
            actor=by,
            obj=evidence_file,
            portfolio=evidence.portfolio,
            summary=f"{by} removed the file '{evidence_file.original_name}' from "
            f"'{evidence.title}'",
            data={"evidence": evidence.pk, "sha256": evidence_file.sha256},
        )
        evidence_file.delete()
        delete_stored(names)


def evidence_delete(*, evidence: EvidenceItem, by: User) -> None:
    with transaction.atomic(), batched():
        refusal = "'{title}' is no longer a draft, so it was not deleted."
        evidence = _changeable(evidence, by, refusal=refusal)
        if evidence.status != EvidenceItem.Status.DRAFT:
            raise ValidationError(refusal.format(title=evidence.title))
        names = [name for f in evidence.files.all() for name in f.stored_names()]
        record(
            "evidence.deleted",
            actor=by,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{by} deleted the draft evidence '{evidence.title}'",
            data=_evidence_data(evidence),
        )
        evidence.delete()
        delete_stored(names)


def evidence_submit(*, evidence: EvidenceItem, by: User, site_url: str) -> None:
    """The learner declares the evidence their own and puts it forward for assessment."""
    with transaction.atomic(), batched():
        verb = _submit(evidence, by=by, now=timezone.now())
        _tell_assessor(evidence, verb=verb, site_url=site_url)


def evidence_submit_many(*, evidence: list[EvidenceItem], by: User, site_url: str) -> None:
    """The learner declares several items their own with one declaration and puts them all
    forward in one transaction: each is declared, submitted and audited as ``evidence_submit``
    does it, and if one cannot be submitted (a ValidationError saying why), none is. Each
    assessor is told of each item in the app, and by one e-mail for them all."""
    now = timezone.now()
    with transaction.atomic(), batched():
        # Every unit the items may count in (those of their enrolments), locked in one order
        # before any item is read again, so two such submissions never lock them in opposite
        # orders.
        kept_in = Portfolio.objects.filter(evidence__in=[item.pk for item in evidence])
        list(
            Portfolio.objects.filter(enrolment_id__in=kept_in.values("enrolment_id"))
            .select_for_update(no_key=True, of=("self",))
            .order_by("pk")
            .values("pk")
        )
        verbs = [_submit(item, by=by, now=now) for item in evidence]
        _tell_assessors(list(zip(evidence, verbs, strict=True)), site_url=site_url)


def _submit(evidence: EvidenceItem, *, by: User, now) -> str:
    """Declare and submit one item (inside the caller's transaction); return the verb audited:
    "submitted", or "resubmitted" for an item referred back."""
    # Submitted twice at once (two tabs): the second finds it submitted.
    current = _changeable(evidence, by, refusal="'{title}' is already submitted.", submitting=True)
    # A file added from another tab may still be being checked, or removed, leaving nothing.
    if problem := current.submit_problem():
        raise ValidationError(problem)
    resubmission = current.status == EvidenceItem.Status.REFERRED_BACK
    evidence.status = (
        EvidenceItem.Status.RESUBMITTED if resubmission else EvidenceItem.Status.SUBMITTED
    )
    evidence.declared_at = now
    evidence.submitted_at = now
    evidence.save(update_fields=["status", "declared_at", "submitted_at", "updated_at"])
    verb = "resubmitted" if resubmission else "submitted"
    record(
        f"evidence.{verb}",
        actor=by,
        obj=evidence,
        portfolio=evidence.portfolio,
        summary=f"{by} declared '{evidence.title}' their own work and {verb} it",
        data={**_evidence_data(evidence), "declared_at": now.isoformat()},
    )
    return verb


def notify(
    user: User,
    message: str,
    *,
    kind: str = Notification.Kind.OTHER,
    evidence: EvidenceItem | None = None,
    link: str,
    subject: str | None = None,
    file_check: bool = False,
    once_key: str = "",
) -> Notification | None:
    """Tell ``user`` in the app, and by e-mail as they chose (``User.notification_email``): one
    now from the background worker once the transaction commits, or in their next daily digest
    (``digests_send``), or none. ``link`` is the page's address, full or a path on this site
    (then e-mailed under ``SITE_URL``). With a ``once_key`` a person is told of a thing once:
    None if they were told before."""
    if once_key and Notification.objects.filter(recipient=user, once_key=once_key).exists():
        return None
    parts = urlsplit(link)
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    choice = user.notification_email
    notification = Notification.objects.create(
        recipient=user,
        kind=kind,
        evidence=evidence,
        message=Truncator(message).chars(Notification._meta.get_field("message").max_length),
        link=path,
        file_check=file_check or kind == Notification.Kind.FILE_CHECK,
        once_key=once_key,
        digest_pending=bool(user.email) and choice == User.NotificationEmail.DIGEST,
    )
    if user.email and choice == User.NotificationEmail.EACH:
        email_queue(
            to=user.email,
            subject=subject or message[:78],
            body=f"{message}.\n\nOpen it: {_absolute(link)}\n",
        )
    return notification


def _absolute(link: str) -> str:
    return link if urlsplit(link).netloc else settings.SITE_URL + link


def notifications_setting_save(*, user: User, choice: str) -> None:
    """Save how ``user`` has their messages e-mailed: each, in a daily digest, or not at all."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.notification_email == choice:
            return
        before = user.notification_email
        user.notification_email = choice
        user.save(update_fields=["notification_email"])
        record(
            "notifications.email_chosen",
            actor=user,
            obj=user,
            learner=user if user.is_learner else None,
            summary=f"{user} chose: {user.get_notification_email_display().lower()}",
            data={"before": before, "after": choice},
        )


def digests_send() -> int:
    """E-mail each person with messages waiting for their digest one e-mail of them all, oldest
    first, and mark them sent: run again, it sends nothing twice. Returns how many were sent."""
    sent = 0
    waiting = (
        Notification.objects.filter(digest_pending=True)
        .values_list("recipient", flat=True)
        .distinct()
        .order_by("recipient")
    )
    for recipient_id in list(waiting):
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=recipient_id)
            pending = list(
                Notification.objects.filter(recipient=user, digest_pending=True).order_by(
                    "created_at", "pk"
                )
            )
            if not pending:
                continue  # another run sent them meanwhile
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(digest_pending=False)
            if not user.email or user.notification_email == User.NotificationEmail.NONE:
                continue
            lines = "\n".join(
                f"- {timezone.localtime(n.created_at):%d %b %H:%M} {n.message}"
                + (f": {_absolute(n.url)}" if n.url else "")
                for n in pending
            )
            count = len(pending)
            email_queue(
                to=user.email,
                subject=f"Your daily digest: {count} message{'' if count == 1 else 's'}",
                body=f"Since your last digest:\n\n{lines}\n\nAll your messages: "
                f"{_absolute(reverse('notifications'))}\nChoose how you are e-mailed: "
                f"{_absolute(reverse('notification_settings'))}\n",
            )
            sent += 1
    return sent


def eqa_expiry_notify(*, now: datetime.datetime | None = None) -> int:
    """Tell each EQA, once, that their access ends within ``EQA_EXPIRY_NOTICE_DAYS`` (once per
    expiry: a grant extended is told of again). Returns how many were told."""
    now = now or timezone.now()
    soon = now + datetime.timedelta(days=settings.EQA_EXPIRY_NOTICE_DAYS)
    told = 0
    grants = EqaGrant.objects.filter(expires_at__gt=now, expires_at__lte=soon).select_related("eqa")
    for grant in grants.order_by("expires_at", "pk"):
        with transaction.atomic():
            notification = notify(
                grant.eqa,
                f"Your access to {_grant_scope(grant)} ends on "
                f"{timezone.localtime(grant.expires_at):%d %b %Y %H:%M}",
                kind=Notification.Kind.EQA_EXPIRING,
                link=reverse("eqa_home"),
                once_key=f"eqa_expiring:{grant.pk}:{grant.expires_at:%Y%m%d%H%M}",
            )
            told += notification is not None
    return told


def _grant_scope(grant: EqaGrant) -> str:
    if grant.whole_centre:
        return "the whole centre"
    count = grant.portfolios.count()
    return f"{count} portfolio{'' if count == 1 else 's'}"


def email_queue(*, to: str, subject: str, body: str) -> OutgoingEmail:
    """Have the background worker send an e-mail once the transaction commits (never for a
    change rolled back, and the request does not wait for the mail server)."""
    email = OutgoingEmail.objects.create(to=to, subject=subject[:300], body=body)
    transaction.on_commit(lambda: _enqueue_sending(email.pk))
    return email


def _enqueue_sending(email_id: int, *, run_after: datetime.datetime | None = None) -> None:
    sending = send_email.using(backend=settings.EMAIL_TASK_BACKEND)
    if run_after is not None:
        sending = sending.using(run_after=run_after)
    sending.enqueue(email_id)


def email_send(*, email_id: int) -> None:
    """Send a queued e-mail (waiting at most EMAIL_TIMEOUT seconds for the mail server); once
    sent, nothing of it is kept. If it fails, try again later, after each of
    EMAIL_RETRY_MINUTES in turn; after the last try the e-mail is given up, on the audit trail
    and listed on the centre administrator's home for EMAIL_FAILED_KEEP_DAYS."""
    email = OutgoingEmail.objects.filter(pk=email_id, status=OutgoingEmail.Status.QUEUED).first()
    if email is None:
        return  # sent or given up already
    email.attempts += 1
    try:
        EmailMessage(email.subject, email.body, None, [email.to]).send()
    except Exception as error:  # whatever the mail server or the connection to it did
        email.error = f"{type(error).__name__}: {error}"[:1000]
        delays = settings.EMAIL_RETRY_MINUTES
        if email.attempts <= len(delays):
            email.save(update_fields=["attempts", "error"])
            delay = datetime.timedelta(minutes=delays[email.attempts - 1])
            logger.warning("E-mail %s not sent (%s); trying again in %s", email.pk, error, delay)
            _enqueue_sending(email.pk, run_after=timezone.now() + delay)
            return
        logger.error("E-mail %s not sent after %s tries: %s", email.pk, email.attempts, error)
        now = timezone.now()
        with transaction.atomic():
            email.status = OutgoingEmail.Status.FAILED
            email.body = ""  # it may hold a link that signs someone in
            email.finished_at = now
            email.save(update_fields=["status", "body", "attempts", "error", "finished_at"])
            # The centre's chain cannot be erased: nothing naming a person goes on it (a
            # subject names the learner, a refusal the recipient). The row keeps both.
            code = getattr(error, "smtp_code", None)
            record(
                "email.failed",
                actor=None,
                obj=email,
                summary=f"E-mail #{email.pk} could not be sent after {email.attempts} tries",
                data={"email": email.pk, "error": type(error).__name__, "smtp_code": code},
            )
            OutgoingEmail.objects.filter(
                status=OutgoingEmail.Status.FAILED,
                finished_at__lt=now - datetime.timedelta(days=settings.EMAIL_FAILED_KEEP_DAYS),
            ).delete()
        return
    email.delete()


def _tell_assessors(submitted: list[tuple[EvidenceItem, str]], *, site_url: str) -> None:
    """Tell each assessor, in the app, of each item submitted (with its verb), and by one
    e-mail of them all."""
    by_assessor: dict[int, list[tuple[EvidenceItem, str]]] = {}
    for evidence, verb in submitted:
        if evidence.portfolio.assessor_id is not None:
            by_assessor.setdefault(evidence.portfolio.assessor_id, []).append((evidence, verb))
    for items in by_assessor.values():
        if len(items) == 1:
            _tell_assessor(items[0][0], verb=items[0][1], site_url=site_url)
            continue
        assessor = items[0][0].portfolio.assessor
        learner = items[0][0].portfolio.learner
        digest = assessor.notification_email == User.NotificationEmail.DIGEST
        for evidence, verb in items:
            Notification.objects.create(
                recipient=assessor,
                kind=Notification.Kind.EVIDENCE_SUBMITTED,
                evidence=evidence,
                link=evidence.get_absolute_url(),
                message=f"{learner} {verb} '{evidence.title}'",
                digest_pending=digest and bool(assessor.email),
            )
        if assessor.email and assessor.notification_email == User.NotificationEmail.EACH:
            lines = "\n".join(
                f"- {evidence.title} ({verb}): {site_url}{evidence.get_absolute_url()}"
                for evidence, verb in items
            )
            email_queue(
                to=assessor.email,
                subject=f"New evidence from {learner}: {len(items)} items",
                body=f"{learner} submitted {len(items)} items of evidence.\n\n{lines}\n",
            )


def _tell_assessor(evidence: EvidenceItem, *, verb: str, site_url: str) -> None:
    assessor = evidence.portfolio.assessor
    if assessor is None:
        return
    learner = evidence.portfolio.learner
    notify(
        assessor,
        f"{learner} {verb} '{evidence.title}'",
        kind=Notification.Kind.EVIDENCE_SUBMITTED,
        evidence=evidence,
        link=site_url + evidence.get_absolute_url(),
        subject=f"New evidence from {learner}",
    )


def knowledge_answer_save(
    *, portfolio, criterion: Criterion, answer: str, by: User
) -> EvidenceItem:
    """Save the learner's answer to a knowledge question as evidence by questioning."""
    with transaction.atomic(), batched():
        _open_for_learner(portfolio.pk, by)
        evidence = EvidenceItem.objects.filter(
            portfolio=portfolio, answers_question=criterion
        ).first()
        if evidence is not None and not evidence.is_editable:
            raise ValidationError(
                f"Your answer for {criterion.label} is with your assessor now, so it cannot change."
            )
        created = evidence is None
        if created:
            evidence = EvidenceItem.objects.create(
                portfolio=portfolio,
                answers_question=criterion,
                title=f"Answer to the question for {criterion.label}",
                method=EvidenceItem.Method.QUESTIONING,
                occurred_on=timezone.localdate(),
                account=answer,
            )
            evidence.claimed_criteria.add(criterion)
        else:
            evidence.account = answer
            evidence.occurred_on = timezone.localdate()
            evidence.save(update_fields=["account", "occurred_on", "updated_at"])
        record(
            "evidence.created" if created else "evidence.updated",
            actor=by,
            obj=evidence,
            portfolio=portfolio,
            summary=f"{by} {'answered' if created else 'changed the answer to'} the question "
            f"for {criterion.label}",
            data={**_evidence_data(evidence), "criterion": criterion.nos_code},
        )
    return evidence


def knowledge_answer_submit(
    *, portfolio, criterion: Criterion, answer: str, by: User, site_url: str
) -> EvidenceItem:
    """Save the learner's answer to a knowledge question, declare it and submit it, in one
    transaction: the audit trail and the assessor hear of it as if saved, then submitted."""
    with transaction.atomic(), batched():
        evidence = knowledge_answer_save(
            portfolio=portfolio, criterion=criterion, answer=answer, by=by
        )
        evidence_submit(evidence=evidence, by=by, site_url=site_url)
    return evidence


def witness_save(*, form, evidence: EvidenceItem, by: User) -> WitnessTestimony:
    """Save the witness's details; a change to a sent statement needs sending again."""
    with transaction.atomic(), batched():
        evidence = _changeable(
            evidence, by, refusal="'{title}' is with your assessor now, so it cannot change."
        )
        testimony = form.save(commit=False)
        if testimony.pk is None and (
            made := WitnessTestimony.objects.filter(evidence=evidence).first()
        ):
            # The same form posted twice at once: the first post made the testimony, and this
            # one saves onto it rather than adding a second.
            testimony.pk = made.pk
        if testimony.pk:
            # The witness may have answered since the form was read: their answer stands.
            current = _unanswered(testimony.pk)
            for name in ("status", *links.LINK_FIELDS):
                setattr(testimony, name, getattr(current, name))
        testimony.evidence = evidence
        if testimony.status == WitnessTestimony.Status.SENT and form.has_changed():
            # The link sent, and the browser that opened it, answer nothing any more: the
            # witness answers the statement as it now is, from a new link.
            testimony.status = WitnessTestimony.Status.NOT_SENT
            links.link_cancel(testimony)
        testimony.save()
        record(
            "witness.saved",
            actor=by,
            obj=testimony,
            portfolio=evidence.portfolio,
            summary=f"{by} wrote the statement for witness {testimony.witness_name} on "
            f"'{evidence.title}'",
            data={"evidence": evidence.pk, "witness": testimony.witness_name},
        )
    return testimony


def witness_invite(*, testimony: WitnessTestimony, by: User, site_url: str) -> None:
    """E-mail the witness a single-use link that expires; any earlier link stops working."""
    with transaction.atomic(), batched():
        evidence = _changeable(
            testimony.evidence,
            by,
            refusal="'{title}' is with your assessor now, so it cannot change.",
        )
        testimony = _unanswered(testimony.pk)
        learner = evidence.portfolio.learner
        token = links.link_issue(testimony, days=settings.WITNESS_LINK_DAYS)
        testimony.status = WitnessTestimony.Status.SENT
        testimony.save(update_fields=[*links.LINK_FIELDS, "status"])
        record(
            "witness.invited",
            actor=by,
            obj=testimony,
            portfolio=evidence.portfolio,
            summary=f"{by} asked {testimony.witness_name} to confirm a witness statement",
            data={"evidence": evidence.pk, "expires_at": testimony.expires_at.isoformat()},
        )
        link = site_url + reverse("witness_link", args=[token])
        expires = timezone.localtime(testimony.expires_at).strftime("%d %B %Y")
        email_queue(
            to=testimony.witness_email,
            subject=f"Please confirm what you saw: a witness statement for {learner}",
            body=(
                f"Dear {testimony.witness_name},\n\n"
                f"{learner} is working towards a customer service qualification and has "
                f"named you as a witness to '{evidence.title}'. Please read their statement "
                "of what you saw and confirm it or decline it:\n\n"
                f"{link}\n\n"
                f"The link works once and until {expires}, in the browser you first open it "
                "in. You do not need an account.\n"
            ),
        )


def witness_save_and_invite(
    *, form, evidence: EvidenceItem, by: User, site_url: str
) -> WitnessTestimony:
    """Save the witness's details and e-mail the witness the link, in one transaction: if the
    e-mail cannot be asked for, nothing is saved."""
    with transaction.atomic(), batched():
        testimony = witness_save(form=form, evidence=evidence, by=by)
        witness_invite(testimony=testimony, by=by, site_url=site_url)
    return testimony


def _unanswered(pk: int) -> WitnessTestimony:
    """The testimony, locked against the witness's answer, unless the witness has answered."""
    testimony = WitnessTestimony.objects.select_for_update().get(pk=pk)
    if testimony.is_answered:
        raise ValidationError("The witness has answered, so the statement can no longer change.")
    return testimony


def witness_for_token(token: str) -> WitnessTestimony | None:
    return links.for_token(
        WitnessTestimony.objects.select_related("evidence__portfolio__learner"), token
    )


def witness_open(*, testimony: WitnessTestimony, ip: str | None) -> str | None:
    """Exchange the e-mailed link for a key this browser keeps (returned), once: None if the
    link was opened in a browser already, or takes no answer now."""
    with transaction.atomic():
        locked = (
            WitnessTestimony.objects.select_for_update(of=("self",))
            .select_related("evidence__portfolio")
            .get(pk=testimony.pk)
        )
        if locked.opened_at is not None or locked.answer_problem:
            return None
        key = links.link_open(locked)
        locked.save(update_fields=["opened_at", "browser_key_hash"])
        record(
            "witness.opened",
            actor=None,
            actor_label=f"Witness {locked.witness_name}",
            obj=locked,
            portfolio=locked.evidence.portfolio,
            summary=f"{locked.witness_name} opened the link to the witness statement",
            data={"evidence": locked.evidence_id, "ip": ip},
        )
    return key


def witness_for_browser(pk: int, key: str | None) -> WitnessTestimony | None:
    """The testimony whose link this browser opened (``key`` from ``witness_open``), or None."""
    return links.for_browser(
        WitnessTestimony.objects.select_related("evidence__portfolio__learner"), pk, key
    )


def witness_respond(
    *,
    testimony: WitnessTestimony,
    confirmed: bool,
    typed_name: str = "",
    reason: str = "",
    ip: str | None,
    browser_key: str | None = None,
) -> str | None:
    """Record the witness's answer once; None if it was recorded, else why not (as
    ``WitnessTestimony.answer_problem``): the link was used, expired, replaced or closed
    meanwhile. ``browser_key`` is the key of the browser that opened the link: the answer is
    refused if the link was sent again or the statement changed since."""
    with transaction.atomic(), batched():
        # The portfolio's lock first, as every change to its records takes it: an answer racing
        # the sign-off lands before it, and is signed, or finds the statement closed.
        portfolio = Portfolio.objects.locked(testimony.evidence.portfolio_id)
        locked = (
            WitnessTestimony.objects.select_for_update(of=("self",))
            .select_related("evidence")
            .get(pk=testimony.pk)
        )
        locked.evidence.portfolio = portfolio
        # And those of the other units it counts in: a sign-off there signs the answer too.
        lock_units_counting(locked.evidence)
        problem = locked.answer_problem
        if problem:
            return problem
        if browser_key is not None and not links.key_matches(locked, browser_key):
            return "replaced"
        locked.status = (
            WitnessTestimony.Status.CONFIRMED if confirmed else WitnessTestimony.Status.DECLINED
        )
        locked.responded_at = timezone.now()
        locked.response_ip = ip
        locked.confirmed_name = typed_name
        locked.decline_reason = reason
        locked.save()
        verb = "confirmed" if confirmed else "declined"
        record(
            f"witness.{verb}",
            actor=None,
            actor_label=f"Witness {locked.witness_name}",
            obj=locked,
            portfolio=locked.evidence.portfolio,
            summary=f"Witness {locked.witness_name} {verb} the statement on "
            f"'{locked.evidence.title}'",
            data={
                "evidence": locked.evidence_id,
                "typed_name": typed_name,
                "reason": reason,
                "ip": ip,
                "statement_sha256": hashlib.sha256(locked.statement.encode()).hexdigest(),
            },
        )
        evidence = locked.evidence
        notify(
            portfolio.learner,
            f"Witness {locked.witness_name} {verb} the statement on '{evidence.title}'",
            kind=Notification.Kind.WITNESS_ANSWERED,
            evidence=evidence,
            link=evidence.get_absolute_url(),
        )
        if portfolio.assessor_id is not None:
            notify(
                portfolio.assessor,
                f"Witness {locked.witness_name} {verb} the statement on {portfolio.learner}'s "
                f"'{evidence.title}'",
                kind=Notification.Kind.WITNESS_ANSWERED,
                evidence=evidence,
                link=evidence.get_absolute_url(),
            )
    testimony.refresh_from_db()
    return None
