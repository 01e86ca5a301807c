"""The centre administrator's work on people, taking plain cleaned values (the pages and the CSV
import both call these): a person added, a learner registered and entered in one step, staff and
their roles, invitations to set a password, and EQA access granted and ended.

Each refuses with a ``ValidationError`` whose messages are keyed by the field they are about
(``email``, ``roles``, ``units``, ``assessor``, ``iqa``, ``assessor_<unit pk>``, ...), saving
nothing; changing a superuser, or making one, is refused with ``PermissionDenied``
(``User.may_manage``, ``portfolio.services.user_save``)."""

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import get_text_list

from audit.chain import record
from people.caseload import FIELDS, MOVABLE
from people.models import Invitation
from people.tokens import invitation_tokens
from portfolio.enrolments import NewUnitDetails, choice_problems, enrolment_create
from portfolio.models import (
    ROLE_FLAGS,
    Enrolment,
    EqaGrant,
    Notification,
    Portfolio,
    Role,
    Sector,
    User,
    Workplace,
    WorkplaceContact,
    start_of,
)
from portfolio.services import email_queue, eqa_grant_recorded, notify, user_save
from portfolio.uln import normalise, uln_problem
from units.models import Qualification, Unit


@dataclass(frozen=True)
class LearnerDetails:
    """What the awarding body's claims need of a learner: their Unique Learner Number and date
    of birth ("" and None where the centre holds neither). Personal data: the personal-data
    export holds them and the retention purge removes them."""

    uln: str = ""
    date_of_birth: datetime.date | None = None

    def normalised(self) -> "LearnerDetails":
        return LearnerDetails(uln=normalise(self.uln), date_of_birth=self.date_of_birth)


@dataclass(frozen=True)
class NewPerson:
    """Someone not yet known to the centre: an account is made for them, with no password until
    they accept their invitation."""

    first_name: str
    last_name: str
    email: str
    username: str = ""
    details: LearnerDetails = LearnerDetails()


@dataclass(frozen=True)
class UnitStaff:
    """Who assesses and who quality-assures a unit."""

    assessor: User | None
    iqa: User | None


class Refusal:
    """Messages gathered by field, raised together as one ValidationError."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str | None, message: str) -> None:
        self.errors.setdefault(field or NON_FIELD_ERRORS, []).append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _chain(user: User) -> dict:
    # A learner's account is audited on their own chain (with their enrolments), staff on the
    # centre's.
    return {"learner": user} if user.is_learner and user.pk else {}


def email_problem(email: str, *, user: User | None = None) -> str | None:
    """Why ``email`` cannot be this person's address: not an address, or another's already
    (compared regardless of case)."""
    email = email.strip()
    if not email:
        return "Enter the person's e-mail address: their invitation is sent to it."
    try:
        validate_email(email)
    except ValidationError:
        return f"'{email}' is not an e-mail address."
    others = User.objects.filter(email__iexact=email)
    if user is not None and user.pk:
        others = others.exclude(pk=user.pk)
    if other := others.first():
        return f"{other} already has the e-mail address {other.email}: a person is added once."
    return None


def username_for(email: str) -> str:
    """A username for a new person: their e-mail address in lower case, or with a number after
    it where that is taken."""
    base = email.strip().lower()[: User._meta.get_field("username").max_length - 4]
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _details_problems(refusal: Refusal, details: LearnerDetails, user: User | None = None) -> None:
    """A Unique Learner Number that fails its check digit or is another person's, and a date of
    birth that cannot be one: messages under ``uln`` and ``date_of_birth``."""
    if problem := uln_problem(details.uln):
        refusal.add("uln", problem)
    elif details.uln:
        others = User.objects.filter(uln=details.uln)
        if user is not None and user.pk:
            others = others.exclude(pk=user.pk)
        if other := others.first():
            refusal.add(
                "uln",
                f"{other} already has the Unique Learner Number {details.uln}: each learner has "
                "their own.",
            )
    born = details.date_of_birth
    if born is not None and born > timezone.localdate():
        refusal.add(
            "date_of_birth", f"{born:%d/%m/%Y} is after today: it cannot be a date of birth."
        )
    elif born is not None and born.year < 1900:
        refusal.add("date_of_birth", f"{born:%d/%m/%Y} is too long ago to be a date of birth.")


def _details_changed(user: User, details: LearnerDetails) -> list[str]:
    """Set ``details`` on ``user``; the names of the fields that changed."""
    changed = []
    for name, value in (("uln", details.uln), ("date_of_birth", details.date_of_birth)):
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    return changed


def _name_problems(refusal: Refusal, first_name: str, last_name: str) -> None:
    if not first_name.strip():
        refusal.add("first_name", "Enter the person's first name.")
    if not last_name.strip():
        refusal.add("last_name", "Enter the person's last name.")


def person_create(
    *,
    first_name: str,
    last_name: str,
    email: str,
    roles: Collection[Role],
    by: User,
    username: str = "",
    details: LearnerDetails | None = None,
) -> User:
    """Add a person with ``roles`` and no usable password (they set one from their invitation).
    Refused if a name is missing, the e-mail address is not one or is another person's, the
    username is taken, or the learner's ``details`` are refused (``_details_problems``)."""
    details = (details or LearnerDetails()).normalised()
    refusal = Refusal()
    _name_problems(refusal, first_name, last_name)
    _details_problems(refusal, details)
    if problem := email_problem(email):
        refusal.add("email", problem)
    if username and User.objects.filter(username__iexact=username).exists():
        refusal.add("username", f"The username {username} is taken.")
    refusal.raise_any()
    user = User(
        username=username or username_for(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        uln=details.uln,
        date_of_birth=details.date_of_birth,
        **{ROLE_FLAGS[role]: True for role in roles},
    )
    user.set_unusable_password()
    with transaction.atomic():
        user_save(user=user, by=by)
        record(
            "person.created",
            actor=by,
            obj=user,
            summary=f"{by} added {user}",
            data={"username": user.username, "roles": sorted(user.roles)},
            **_chain(user),
        )
    return user


def invitation_link(user: User, site_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_tokens.make_token(user)
    return site_url + reverse("invitation", args=[uid, token])


def invitation_send(*, user: User, by: User, site_url: str) -> Invitation:
    """E-mail ``user`` a new link to set their password and sign in (sent by the background
    worker once the transaction commits), and record when. Earlier links keep working until a
    password is set. Refused for a superuser (unless ``by`` is one), and for an account that is
    not active or has no e-mail address."""
    if not by.may_manage(user):
        raise PermissionDenied("Only a superuser may invite a superuser.")
    if not user.is_active:
        raise ValidationError(f"{user}'s account is not active: make it active first.")
    if not user.email:
        raise ValidationError(f"{user} has no e-mail address to send the invitation to.")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(user=user).first()
        resent = invitation is not None
        if invitation is None:
            invitation = Invitation(user=user, times_sent=0)
        invitation.sent_at = timezone.now()
        invitation.sent_by = by
        invitation.times_sent += 1
        invitation.save()
        email_queue(
            to=user.email,
            subject="Your account on the evidence portfolio",
            body=render_to_string(
                "people/invitation_email.txt",
                {
                    "user": user,
                    "by": by,
                    "link": invitation_link(user, site_url),
                    "days": invitation_tokens.timeout_seconds // 86400,
                },
            ),
        )
        record(
            "person.invitation_resent" if resent else "person.invited",
            actor=by,
            obj=user,
            summary=f"{by} {'sent again' if resent else 'sent'} {user} an invitation to sign in",
            data={"times_sent": invitation.times_sent},
            **_chain(user),
        )
    return invitation


def invitation_accepted(*, user: User) -> None:
    """Record that ``user`` set their password from an invitation."""
    with transaction.atomic():
        Invitation.objects.filter(user=user).update(accepted_at=timezone.now())
        record(
            "person.invitation_accepted",
            actor=user,
            obj=user,
            summary=f"{user} set their password from their invitation",
            **_chain(user),
        )


def _staff_problems(
    refusal: Refusal, staff: UnitStaff, learner: User | None, unit: Unit | None = None
) -> None:
    """Each person offered in the role, and the IQA never the assessor: messages under
    ``assessor`` and ``iqa``, or ``assessor_<pk>`` and ``iqa_<pk>`` for one unit's own."""
    suffix = f" for unit {unit.code}" if unit else ""
    key = f"_{unit.pk}" if unit else ""
    assessor, iqa = staff.assessor, staff.iqa
    if assessor is not None:
        if not (assessor.is_assessor and assessor.is_active):
            refusal.add(f"assessor{key}", f"{assessor} does not hold the assessor role{suffix}.")
        elif learner is not None and assessor.pk == learner.pk:
            refusal.add(f"assessor{key}", "A learner cannot assess their own portfolio.")
    if iqa is not None:
        if not (iqa.is_iqa and iqa.is_active):
            refusal.add(
                f"iqa{key}", f"{iqa} does not hold the internal quality assurer role{suffix}."
            )
        elif assessor is not None and iqa.pk == assessor.pk:
            refusal.add(f"iqa{key}", f"The IQA must not be the assessor{suffix}.")
        elif learner is not None and iqa.pk == learner.pk:
            refusal.add(f"iqa{key}", "A learner cannot quality-assure their own portfolio.")


def learner_register(
    *,
    learner: User | NewPerson,
    qualification: Qualification | None,
    units: list[Unit],
    staff: UnitStaff,
    per_unit: Mapping[int, UnitStaff] | None = None,
    organisation: str,
    site: str = "",
    sector: str = "",
    job_role: str = "",
    start_date: datetime.date,
    by: User,
    site_url: str,
    details: LearnerDetails | None = None,
) -> Enrolment:
    """Enter a learner (``NewPerson``: added with the learner role and invited by e-mail) for
    ``qualification`` or single units, one portfolio for each of ``units``, assessed and
    quality-assured by ``staff`` or, for a unit whose pk ``per_unit`` holds, by its own, at the
    workplace named (found or made, ``Workplace.objects.matching``). ``details`` (a ULN, a date
    of birth) are a new person's, or replace a known learner's where given (empty ones keep
    what is held). All of it or, refused with every reason by field, none of it."""
    per_unit = per_unit or {}
    refusal = Refusal()
    existing = learner if isinstance(learner, User) else None
    if existing is None:
        details = (details or learner.details).normalised()
        _name_problems(refusal, learner.first_name, learner.last_name)
        if problem := email_problem(learner.email):
            refusal.add("email", problem)
        _details_problems(refusal, details)
    elif not (existing.is_learner and existing.is_active):
        refusal.add("learner", f"{existing} is not an active learner.")
    else:
        given = (details or LearnerDetails()).normalised()
        _details_problems(refusal, given, existing)  # what is held already is not judged again
        details = LearnerDetails(
            uln=given.uln or existing.uln,
            date_of_birth=given.date_of_birth or existing.date_of_birth,
        )
    for problem in choice_problems(qualification, units):
        refusal.add("units", problem)
    if not organisation.strip():
        refusal.add("organisation", "Enter the organisation where the learner works.")
    if sector and sector not in Sector.values:
        refusal.add("sector", f"'{sector}' is not a sector.")
    _staff_problems(refusal, staff, existing)
    for unit in units:
        if unit.pk in per_unit:
            _staff_problems(refusal, per_unit[unit.pk], existing, unit)
    if existing is not None:
        taken = Portfolio.objects.filter(learner=existing, unit__in=units).select_related("unit")
        if taken:
            refusal.add(
                "units",
                f"{existing} already has a portfolio for "
                f"{get_text_list([p.unit.label for p in taken], 'and')}: a unit is taken once.",
            )
    refusal.raise_any()
    with transaction.atomic():
        if existing is None:
            person = person_create(
                first_name=learner.first_name,
                last_name=learner.last_name,
                email=learner.email,
                username=learner.username,
                roles=[Role.LEARNER],
                by=by,
                details=details,
            )
        else:
            person = existing
            if changed := _details_changed(person, details):
                user_save(user=person, by=by)
                _person_changed(person, changed, by=by)
        workplace = Workplace.objects.matching(organisation=organisation, site=site, sector=sector)

        def details(each: UnitStaff) -> NewUnitDetails:
            return NewUnitDetails(
                assessor=each.assessor, iqa=each.iqa, workplace=workplace, job_role=job_role
            )

        enrolment = enrolment_create(
            learner=person,
            qualification=qualification,
            units=units,
            start_date=start_date,
            details=details(staff),
            per_unit={pk: details(each) for pk, each in per_unit.items()},
            by=by,
        )
        if existing is None:
            invitation_send(user=person, by=by, site_url=site_url)
    return enrolment


def _caseload_problems(refusal: Refusal, user: User, roles: Collection[Role], is_active: bool):
    # What a caseload move would take (people/caseload.py): the assessor's portfolios in
    # progress, the IQA's also those waiting for their summative sample.
    held = {
        Role.ASSESSOR: ("assesses", "in progress"),
        Role.IQA: ("quality-assures", "in progress or waiting for a sample"),
    }
    for role, (verb, which) in held.items():
        if user.has_role(role) and (role not in roles or not is_active):
            count = Portfolio.objects.filter(
                **{FIELDS[role]: user}, status__in=MOVABLE[role], purged_at__isnull=True
            ).count()
            if count:
                what = "be deactivated" if role in roles else f"lose the {role.label.lower()} role"
                refusal.add(
                    "roles" if role not in roles else "is_active",
                    ValidationError(
                        f"{user} still {verb} {count} portfolio{'s' if count > 1 else ''} "
                        f"{which}, so cannot {what}: move their caseload first.",
                        code="caseload",
                    ),
                )
    if user.has_role(Role.LEARNER) and Role.LEARNER not in roles and user.portfolios.exists():
        refusal.add("roles", f"{user} has portfolios, so keeps the learner role.")


def staff_save(
    *,
    user: User | None,
    first_name: str,
    last_name: str,
    email: str,
    roles: Collection[Role],
    is_active: bool = True,
    by: User,
    site_url: str,
    details: LearnerDetails | None = None,
    workplaces: Collection[Workplace] | None = None,
) -> User:
    """Add a person (``user`` None: made with ``roles`` and invited by e-mail) or change one's
    name, e-mail address, roles and whether their account is active. Refused for a superuser's
    account (unless ``by`` is one); refused if they would lose a role, or their account, while
    they still assess or quality-assure a portfolio in progress (their caseload is moved
    first). ``details`` (a learner's ULN and date of birth) replace what is held; None keeps
    what is held. ``workplaces`` are where an employer is a line manager
    (``employer_workplaces_set``): required with the employer role, refused without it; None
    keeps the workplaces they have."""
    if problem := workplace_problem(roles, workplaces):
        raise ValidationError({"workplaces": problem})
    if user is None:
        with transaction.atomic():
            person = person_create(
                first_name=first_name,
                last_name=last_name,
                email=email,
                roles=roles,
                by=by,
                details=details,
            )
            if workplaces is not None:
                employer_workplaces_set(user=person, workplaces=workplaces, by=by)
            if not is_active:
                person.is_active = False
                user_save(user=person, by=by)
            else:
                invitation_send(user=person, by=by, site_url=site_url)
        return person
    stored = User.objects.get(pk=user.pk)
    if not by.may_manage(stored):
        raise PermissionDenied("Only a superuser may change a superuser's account.")
    refusal = Refusal()
    _name_problems(refusal, first_name, last_name)
    if problem := email_problem(email, user=stored):
        refusal.add("email", problem)
    if stored.pk == by.pk and Role.CENTRE_ADMIN not in roles:
        refusal.add("roles", "You cannot take the centre administrator role from yourself.")
    if stored.pk == by.pk and not is_active:
        refusal.add("is_active", "You cannot deactivate your own account.")
    _caseload_problems(refusal, stored, roles, is_active)
    if details is not None:
        details = details.normalised()
        _details_problems(refusal, details, stored)
    refusal.raise_any()
    new = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "email": email.strip(),
        "is_active": is_active,
        **{flag: role in roles for role, flag in ROLE_FLAGS.items()},
    }
    if details is not None:
        new |= {"uln": details.uln, "date_of_birth": details.date_of_birth}
    changed = sorted(name for name, value in new.items() if getattr(stored, name) != value)
    for name in changed:
        setattr(stored, name, new[name])
    with transaction.atomic():
        if changed:
            user_save(user=stored, by=by)
            _person_changed(stored, changed, by=by)
        if workplaces is not None:
            employer_workplaces_set(user=stored, workplaces=workplaces, by=by)
    return stored


def workplace_problem(
    roles: Collection[Role], workplaces: Collection[Workplace] | None
) -> str | None:
    """Why these cannot be a person's workplaces as a line manager: an employer needs one, and
    only an employer has any (None: left as they are)."""
    if workplaces is None:
        return None
    if Role.EMPLOYER in roles and not workplaces:
        return "Choose the workplace where they are a line manager."
    if Role.EMPLOYER not in roles and workplaces:
        return (
            "Only an employer is a line manager at a workplace: tick the employer role too, or "
            "choose no workplace."
        )
    return None


def _contact_linked(contact: WorkplaceContact, user: User, *, by: User) -> None:
    record(
        "workplace.contact_linked",
        actor=by,
        obj=contact,
        summary=f"{by} made {user} a line manager at {contact.workplace}",
        data={"workplace": contact.workplace_id, "user": user.pk},
        **_chain(user),
    )


def employer_workplaces_set(*, user: User, workplaces: Collection[Workplace], by: User) -> None:
    """Make ``user`` (an employer) the line manager at each of ``workplaces``, and at no other:
    at each, the contact with their account, or else the contact with their e-mail address
    (regardless of case) and no account yet, is linked to them, or a contact is added with
    their name and e-mail address; a contact of theirs elsewhere loses the account and stays a
    contact. Each link made or undone is audited."""
    wanted = {workplace.pk: workplace for workplace in workplaces}
    with transaction.atomic():
        mine = list(
            WorkplaceContact.objects.select_for_update()
            .filter(user=user)
            .select_related("workplace")
        )
        for contact in mine:
            if contact.workplace_id not in wanted:
                contact.user = None
                contact.save(update_fields=["user"])
                record(
                    "workplace.contact_unlinked",
                    actor=by,
                    obj=contact,
                    summary=f"{by} made {user} no longer the line manager at {contact.workplace}",
                    data={"workplace": contact.workplace_id, "user": user.pk},
                    **_chain(user),
                )
        linked = {contact.workplace_id for contact in mine}
        for pk, workplace in sorted(wanted.items()):
            if pk in linked:
                continue
            contact = (
                WorkplaceContact.objects.select_for_update()
                .filter(workplace=workplace, user__isnull=True, email__iexact=user.email)
                .order_by("pk")
                .first()
                if user.email
                else None
            )
            if contact is None:
                contact = WorkplaceContact(
                    workplace=workplace, name=user.get_full_name(), email=user.email
                )
            contact.user = user
            contact.save()
            _contact_linked(contact, user, by=by)


def contact_invite(*, contact: WorkplaceContact, by: User, site_url: str) -> User:
    """Give a workplace's contact an employer's account in one step: made with their name and
    e-mail address, linked to the contact and invited by e-mail; or, where someone holds that
    address already, the employer role given to them and the contact linked. Refused for a
    contact with an account already, without an e-mail address, or named by one word only."""
    if contact.user_id:
        raise ValidationError(f"{contact.name} has an account already.")
    if not contact.email:
        raise ValidationError(
            f"{contact.name} has no e-mail address to send the invitation to: add it to the "
            "contact first."
        )
    existing = User.objects.filter(email__iexact=contact.email).first()
    with transaction.atomic():
        if existing is not None:
            if not by.may_manage(existing):
                raise PermissionDenied("Only a superuser may change a superuser's account.")
            if not existing.is_employer:
                existing.is_employer = True
                user_save(user=existing, by=by)
                _person_changed(existing, ["is_employer"], by=by)
            person = existing
        else:
            first, _, last = contact.name.strip().rpartition(" ")
            if not first.strip() or not last:
                raise ValidationError(
                    f"{contact.name} is recorded by one name only: add them on the people page "
                    "with their first and last names."
                )
            person = person_create(
                first_name=first.strip(),
                last_name=last,
                email=contact.email,
                roles=[Role.EMPLOYER],
                by=by,
            )
        contact.user = person
        contact.save(update_fields=["user"])
        _contact_linked(contact, person, by=by)
        if existing is None or not existing.has_usable_password():
            invitation_send(user=person, by=by, site_url=site_url)
    return person


def workplace_evidence_set(*, workplace: Workplace, shown: bool, by: User) -> Workplace:
    """Let the line managers at ``workplace`` see their learners' evidence and its files
    (``shown``), or only their progress; audited on the centre's chain."""
    if workplace.employer_sees_evidence == shown:
        return workplace
    with transaction.atomic():
        workplace.employer_sees_evidence = shown
        workplace.save(update_fields=["employer_sees_evidence", "updated_at"])
        record(
            "workplace.evidence_shown" if shown else "workplace.evidence_hidden",
            actor=by,
            obj=workplace,
            summary=f"{by} {'let' if shown else 'stopped'} the line managers at {workplace} "
            f"{'see' if shown else 'seeing'} the evidence",
            data={"employer_sees_evidence": shown},
        )
    return workplace


def _person_changed(person: User, changed: list[str], *, by: User) -> None:
    """Audit a change to ``person``'s account: the names of the fields changed, not their
    values."""
    record(
        "person.changed",
        actor=by,
        obj=person,
        summary=f"{by} changed {person}'s account",
        data={"changed": changed, "roles": sorted(person.roles), "active": person.is_active},
        **_chain(person),
    )


def end_of_day(day: datetime.date) -> datetime.datetime:
    """When ``day`` ends in the centre's time zone: the first moment of the next day."""
    return start_of(day + datetime.timedelta(days=1))


def eqa_grant_save(
    *,
    grant: EqaGrant | None,
    eqa: User,
    whole_centre: bool,
    portfolios: Collection[Portfolio],
    until: datetime.date,
    reason: str = "",
    by: User,
    site_url: str,
) -> EqaGrant:
    """Give (``grant`` None) or change an EQA's read-only access, to the whole centre or to
    ``portfolios``, until the end of ``until`` in the centre's time zone; the EQA is told in the
    app and by e-mail."""
    refusal = Refusal()
    if not (eqa.is_eqa and eqa.is_active):
        refusal.add("eqa", f"{eqa} does not hold the external quality assurer role.")
    if not whole_centre and not portfolios:
        refusal.add("portfolios", "Choose the portfolios, or the whole centre.")
    if until < timezone.localdate() and (grant is None or end_of_day(until) != grant.expires_at):
        refusal.add("until", "The access must last until today or a later day.")
    refusal.raise_any()
    created = grant is None
    grant = grant or EqaGrant(granted_by=by)
    grant.eqa = eqa
    grant.whole_centre = whole_centre
    grant.expires_at = end_of_day(until)
    grant.reason = reason.strip()
    with transaction.atomic():
        grant.save()
        grant.portfolios.set([] if whole_centre else portfolios)
        eqa_grant_recorded(grant=grant, by=by, created=created)  # which tells the EQA
    return grant


def eqa_grant_end(*, grant: EqaGrant, by: User) -> EqaGrant:
    """End an EQA's access now."""
    with transaction.atomic():
        grant.expires_at = min(grant.expires_at, timezone.now())
        grant.save(update_fields=["expires_at"])
        eqa_grant_recorded(grant=grant, by=by, created=False)
    return grant


def invitations_unused_notify(*, now: datetime.datetime | None = None) -> int:
    """Tell whoever sent an invitation (or, if they no longer administer the centre, every
    centre administrator), once per invitation sent, that it has gone unused for
    ``INVITATION_REMINDER_DAYS``: the person has not set a password or signed in. Returns how
    many were told."""
    now = now or timezone.now()
    unused = Invitation.objects.filter(
        accepted_at__isnull=True,
        sent_at__lte=now - datetime.timedelta(days=settings.INVITATION_REMINDER_DAYS),
        user__is_active=True,
        user__last_login__isnull=True,
    ).select_related("user", "sent_by")
    administrators = None
    told = 0
    for invitation in unused.order_by("sent_at", "pk"):
        sender = invitation.sent_by
        if sender is not None and sender.is_active and sender.is_centre_admin:
            recipients = [sender]
        else:
            if administrators is None:
                administrators = list(User.objects.filter(is_centre_admin=True, is_active=True))
            recipients = administrators
        person = invitation.user
        sent = timezone.localtime(invitation.sent_at)
        for recipient in recipients:
            with transaction.atomic():
                told += (
                    notify(
                        recipient,
                        f"{person} has not used the invitation sent on {sent:%-d %B %Y}: send "
                        f"it again, or check their e-mail address ({person.email})",
                        kind=Notification.Kind.INVITATION_UNUSED,
                        link=reverse("person_edit", args=[person.pk]),
                        once_key=f"invitation_unused:{invitation.pk}:{sent:%Y%m%d%H%M%S}",
                    )
                    is not None
                )
    return told
