"""Caseloads moved: chosen portfolios of one assessor or IQA given to another in one step, in one
transaction, audited on each learner's chain and once on the centre's, with the rule that an IQA
never quality-assures what they assessed still holding (``portfolio.models.assessed_by``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from django.utils.text import Truncator, get_text_list

from audit.chain import learner_chain, record
from portfolio.models import ASSESSOR_JUDGEMENTS, Portfolio, PortfolioQuerySet, Role, User
from portfolio.roles import home_url
from portfolio.services import notify

# The portfolio's field holding each role's person.
FIELDS = {Role.ASSESSOR: "assessor", Role.IQA: "iqa"}

# What each role's move takes: the assessor's work while the unit is open (once signed off, the
# sign-off is theirs and so is the portfolio); the IQA's until they countersign it, so a unit
# signed off and waiting for its summative sample goes to the new IQA.
MOVABLE = {
    Role.ASSESSOR: {Portfolio.Status.IN_PROGRESS},
    Role.IQA: {Portfolio.Status.IN_PROGRESS, Portfolio.Status.ASSESSED},
}

# The work each role's person is given, in "a portfolio to ...".
WORK = {Role.ASSESSOR: "assess", Role.IQA: "quality-assure"}


def held_by(role: Role, person: User) -> PortfolioQuerySet:
    """Every portfolio ``person`` holds in ``role``, with what its row on the page shows."""
    return (
        Portfolio.objects.filter(**{FIELDS[role]: person})
        .select_related("learner", "unit", "assessor", "iqa")
        .order_by("learner__last_name", "learner__first_name", "unit__code", "pk")
    )


def why_it_stays(role: Role, portfolio: Portfolio) -> str | None:
    """Why ``portfolio`` does not move from its person in ``role``, or None if it may."""
    if portfolio.purged_at is not None:
        return "its records are purged"
    if portfolio.status in MOVABLE[role]:
        return None
    if role == Role.ASSESSOR:
        return (
            f"it is {portfolio.get_status_display().lower()}: the unit is signed off, and the "
            "assessor's sign-off stays theirs"
        )
    return (
        f"it is {portfolio.get_status_display().lower()}: the IQA's countersignature stays theirs"
    )


def caseload_move(
    *,
    role: Role,
    from_person: User,
    to_person: User,
    portfolios: list[Portfolio],
    reason: str,
    by: User,
    site_url: str,
) -> list[Portfolio]:
    """Give every one of ``portfolios`` held by ``from_person`` as ``role`` (assessor or IQA) to
    ``to_person``, for ``reason``, in one transaction with the portfolios locked: an entry on
    each learner's chain, one on the centre's, and ``to_person`` told once. Refused with a
    ValidationError naming each portfolio that cannot move and why, moving nothing; refused
    with PermissionDenied unless ``by`` is an active centre administrator. Returns the
    portfolios moved."""
    if not (by.is_active and by.is_centre_admin):
        raise PermissionDenied("Only a centre administrator moves a caseload.")
    role = Role(role)
    if role not in FIELDS:
        raise ValidationError("Only an assessor's or an IQA's portfolios move.")
    reason = reason.strip()
    _refuse_people(role, from_person, to_person)
    if not reason:
        raise ValidationError("Say why the portfolios move: the reason is kept on each record.")
    if not portfolios:
        raise ValidationError("Choose at least one portfolio to move.")
    field = FIELDS[role]
    wanted = {p.pk for p in portfolios}
    with transaction.atomic():
        # Locked in one order, so that two moves, or a move and a sign-off, wait on each other.
        locked = list(
            Portfolio.objects.filter(pk__in=wanted)
            .select_related("learner", "unit", "assessor", "iqa", "enrolment")
            .select_for_update(no_key=True, of=("self",))
            .order_by("pk")
        )
        problems = _problems(role, from_person, to_person, locked)
        if len(locked) < len(wanted):
            problems.append("A chosen portfolio no longer exists: look at the list again.")
        if problems:
            raise ValidationError(problems)
        # The people assigned are in no signed record (``assessments.signable.manifest_for``),
        # so an update without the save signals leaves every signature as it was.
        Portfolio.objects.filter(pk__in=wanted).update(
            **{field: to_person}, updated_at=timezone.now()
        )
        title = _title(role)
        # Each learner's chain before the centre's, and the learners' in the order the chains
        # lock (see ``audit.chain``), so two moves never lock them in opposite orders.
        for portfolio in sorted(locked, key=lambda p: (learner_chain(p.learner_id), p.pk)):
            setattr(portfolio, field, to_person)
            record(
                f"portfolio.{field}_moved",
                actor=by,
                obj=portfolio,
                portfolio=portfolio,
                summary=f"{by} moved the {title}'s work on {portfolio.unit.awarding_body} unit "
                f"{portfolio.unit.code} from {from_person} to {to_person}: {reason}",
                data={
                    "role": role.value,
                    "from": from_person.pk,
                    "to": to_person.pk,
                    "reason": reason,
                },
            )
        # The centre's chain is never erased, so it names no learner: the portfolios by number,
        # and the reason (which may name one) only on the learners' chains.
        record(
            "caseload.moved",
            actor=by,
            summary=f"{by} moved {count_of(locked)} from {from_person} to {to_person} as {title}",
            data={
                "role": role.value,
                "from": from_person.pk,
                "to": to_person.pk,
                "portfolios": sorted(wanted),
            },
        )
        _tell(role, to_person, locked, from_person=from_person, by=by, site_url=site_url)
    return locked


def count_of(portfolios: list) -> str:
    return f"{len(portfolios)} portfolio{'' if len(portfolios) == 1 else 's'}"


def _refuse_people(role: Role, from_person: User, to_person: User) -> None:
    if to_person.pk == from_person.pk:
        raise ValidationError(f"The portfolios are {from_person}'s already: choose someone else.")
    if not to_person.is_active:
        raise ValidationError(
            f"{to_person}'s account is not active: choose someone who works here."
        )
    if not to_person.has_role(role):
        raise ValidationError(f"{to_person} does not hold the {role.label.lower()} role.")


def _problems(role: Role, from_person: User, to_person: User, locked: list[Portfolio]) -> list[str]:
    """Why each portfolio cannot move, naming it: read with the portfolios locked, as they are
    now."""
    field = FIELDS[role]
    judged = _judgements(to_person, locked) if role == Role.IQA else {}
    problems = []
    for portfolio in locked:
        name = f"{portfolio.learner}, unit {portfolio.unit.code}"
        if getattr(portfolio, f"{field}_id") != from_person.pk:
            now = getattr(portfolio, field) or "nobody"
            problems.append(f"{name}: its {_title(role)} is now {now}, not {from_person}.")
        elif stays := why_it_stays(role, portfolio):
            problems.append(f"{name} stays with {from_person}: {stays}.")
        elif role == Role.ASSESSOR and portfolio.iqa_id == to_person.pk:
            problems.append(
                f"{name}: {to_person} is its IQA, and an IQA never quality-assures what they "
                "assessed. Give it another IQA first."
            )
        elif portfolio.pk in judged:
            problems.append(
                f"{name}: {to_person} has judged it as its assessor "
                f"({get_text_list(judged[portfolio.pk], 'and')}), and an IQA never "
                "quality-assures what they assessed."
            )
        else:
            # The portfolio's own rules (roles, the learner not judging their own work).
            setattr(portfolio, field, to_person)
            try:
                portfolio.clean()
            except ValidationError as error:
                problems += [f"{name}: {message}" for message in error.messages]
    return problems


def _judgements(person: User, portfolios: list[Portfolio]) -> dict[int, list[str]]:
    """For each of ``portfolios`` that ``person`` assessed (``Portfolio.objects.assessed_by``,
    the one rule), what they did as its assessor: "its assessor now", and each kind of record
    of theirs (``ASSESSOR_JUDGEMENTS``)."""
    kinds = list(ASSESSOR_JUDGEMENTS.items())
    rows = (
        Portfolio.objects.assessed_by(person)
        .filter(pk__in=[p.pk for p in portfolios])
        .annotate(**{f"judged_{i}": Exists(find(person)) for i, (_, find) in enumerate(kinds)})
        .values("pk", "assessor_id", *[f"judged_{i}" for i in range(len(kinds))])
    )
    found = {}
    for row in rows:
        what = ["its assessor now"] if row["assessor_id"] == person.pk else []
        what += [_a(name) for i, (name, _) in enumerate(kinds) if row[f"judged_{i}"]]
        found[row["pk"]] = what
    return found


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _title(role: Role) -> str:
    return "assessor" if role == Role.ASSESSOR else "IQA"


def _tell(
    role: Role,
    to_person: User,
    moved: list[Portfolio],
    *,
    from_person: User,
    by: User,
    site_url: str,
) -> None:
    """One message for the whole move, in the app and by e-mail."""
    learners = get_text_list([f"{p.learner} ({p.unit.code})" for p in moved], "and")
    message = Truncator(
        f"{by} gave you {count_of(moved)} to {WORK[role]}, until now {from_person}'s: {learners}"
    ).chars(300)
    notify(
        to_person,
        message,
        evidence=None,
        link=site_url + home_url(role),
        subject=f"{count_of(moved).capitalize()} to {WORK[role]}, from {from_person}",
    )
