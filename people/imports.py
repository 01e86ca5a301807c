"""People imported from a CSV file: learners (each registered and entered for a qualification or
single units, as the registration page does) or staff (added with their roles, or their roles
changed).

Every row goes through the same services as the pages (``people.services``), so a row is
refused for the same reasons, in the same words. A preview runs the whole file inside a
transaction that is then rolled back: what it says will be created or changed is what the import
does, and it writes nothing, sends nothing. The import runs the file again and keeps it only if
every row is good; the invitations are e-mailed once it has committed (``email_queue`` sends on
commit).
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_text_list

from audit.chain import record
from people.services import (
    LearnerDetails,
    NewPerson,
    UnitStaff,
    learner_register,
    staff_save,
)
from portfolio.models import Role, Sector, User, Workplace
from units.models import Qualification, Unit

MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000  # each row is registered as the page registers one: about 50 ms


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: str
    example: str
    aliases: tuple[str, ...] = ()


LEARNER_COLUMNS = (
    Column("first_name", True, "The learner's first name.", "Pat", ("first name", "forename")),
    Column("last_name", True, "The learner's last name.", "Smith", ("last name", "surname")),
    Column(
        "email",
        True,
        "Their e-mail address: a new person is invited there; a learner already registered "
        "with it is entered for more units.",
        "pat.smith@example.org",
        ("e-mail", "email address", "e-mail address"),
    ),
    Column(
        "qualification",
        False,
        "The qualification's code (the awarding body's first if two share a code); empty for "
        "single units.",
        "",
    ),
    Column(
        "units",
        True,
        "The units, by code, separated by semicolons (the awarding body's first if two share "
        "a code, e.g. OCR C4).",
        "C4",
        ("unit", "unit codes"),
    ),
    Column(
        "assessor",
        False,
        "The assessor of every unit, by username or e-mail address.",
        "assessor1",
    ),
    Column("iqa", False, "The IQA of every unit, by username or e-mail address.", "iqa1"),
    Column(
        "organisation",
        True,
        "Where the learner works (an existing workplace is found whatever its capitals).",
        "Riverside Library",
        ("employer", "workplace"),
    ),
    Column("site", False, "The site or branch, if any.", ""),
    Column("sector", False, "Public, private or voluntary (empty if not known).", "public"),
    Column("job_role", False, "The learner's job title.", "Library assistant", ("job role",)),
    Column(
        "start_date",
        False,
        "The day the learner starts, as 2026-09-01 or 01/09/2026 (empty: today).",
        "2026-09-01",
        ("start date", "start"),
    ),
    Column(
        "uln",
        False,
        "Their Unique Learner Number: 10 digits, from the Learning Records Service (empty if not "
        "known).",
        "",
        ("unique learner number", "learner number"),
    ),
    Column(
        "date_of_birth",
        False,
        "Their date of birth, as 2008-04-30 or 30/04/2008 (empty if not held).",
        "",
        ("date of birth", "dob", "birth date"),
    ),
)

STAFF_COLUMNS = (
    Column("first_name", True, "Their first name.", "Sam", ("first name", "forename")),
    Column("last_name", True, "Their last name.", "Jones", ("last name", "surname")),
    Column(
        "email",
        True,
        "Their e-mail address: a new person is invited there; someone already registered "
        "with it has their name, roles and account changed to the row's.",
        "sam.jones@example.org",
        ("e-mail", "email address", "e-mail address"),
    ),
    Column(
        "roles",
        True,
        "Their roles, separated by semicolons: assessor, IQA, EQA, centre administrator, "
        "learner, employer (a line manager).",
        "assessor; IQA",
        ("role",),
    ),
    Column(
        "active",
        False,
        "Yes, or no for an account that may not sign in (empty: yes).",
        "yes",
    ),
    Column(
        "workplaces",
        False,
        "For an employer: the workplaces where they are a line manager, separated by "
        "semicolons, each as its page names it (the organisation, then a comma and the site "
        "where it has one). Empty keeps an employer's workplaces as they are.",
        "",
        ("workplace", "line manager at"),
    ),
)

KINDS = {"learners": LEARNER_COLUMNS, "staff": STAFF_COLUMNS}

ROLE_NAMES = {
    "learner": Role.LEARNER,
    "assessor": Role.ASSESSOR,
    "iqa": Role.IQA,
    "internal quality assurer": Role.IQA,
    "eqa": Role.EQA,
    "external quality assurer": Role.EQA,
    "centre administrator": Role.CENTRE_ADMIN,
    "center administrator": Role.CENTRE_ADMIN,
    "administrator": Role.CENTRE_ADMIN,
    "admin": Role.CENTRE_ADMIN,
    "employer": Role.EMPLOYER,
    "line manager": Role.EMPLOYER,
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


class FileProblem(Exception):
    """A file that cannot be read as the kind of import chosen, with why."""


@dataclass
class Row:
    number: int  # the line of the file, counting the header as 1
    values: dict[str, str]
    person: str = ""
    action: str = ""
    invited: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    kind: str
    rows: list[Row]
    imported: bool = False

    @property
    def bad(self) -> list[Row]:
        return [row for row in self.rows if row.problems]

    @property
    def invited(self) -> int:
        return sum(1 for row in self.rows if row.invited)


def _key(header: str) -> str:
    return re.sub(r"[\s_-]+", " ", header.strip().lower())


def read(kind: str, data: bytes) -> list[Row]:
    """The rows of a CSV file of ``kind`` ("learners" or "staff"), or FileProblem."""
    columns = KINDS[kind]
    if len(data) > MAX_BYTES:
        raise FileProblem(
            f"The file is {len(data) // 1024} KB; at most {MAX_BYTES // 1024} KB can be "
            "imported at once: split it."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    if "\x00" in text:
        raise FileProblem("This is not a CSV file: save the spreadsheet as CSV and choose it.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = csv.reader(io.StringIO(text), dialect)
    header = next(lines, None)
    if not header or not any(cell.strip() for cell in header):
        raise FileProblem("The file is empty: its first line names the columns.")
    names = {}
    for column in columns:
        for alias in (column.name, *column.aliases):
            names[_key(alias)] = column.name
    found = [names.get(_key(cell)) for cell in header]
    unknown = [cell for cell, name in zip(header, found, strict=True) if not name and cell]
    missing = [c.name for c in columns if c.required and c.name not in found]
    if unknown or missing:
        said = []
        if missing:
            said.append(f"it has no column {get_text_list(missing, 'or')}")
        if unknown:
            said.append(f"it has columns this import does not know: {', '.join(unknown)}")
        raise FileProblem(
            f"The first line names the columns, and {' and '.join(said)}. The columns of a "
            f"{kind} import are: {', '.join(c.name for c in columns)}."
        )
    rows = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {c.name: "" for c in columns}
        for name, cell in zip(found, cells, strict=False):
            if name:
                values[name] = cell.strip()
        row = Row(number=number, values=values)
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            row.problems.append("This line has more values than the first line has columns.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise FileProblem(f"The file has more than {MAX_ROWS} rows: split it.")
    if not rows:
        raise FileProblem("The file names its columns but has no rows below them.")
    return rows


def run(kind: str, rows: list[Row], *, by: User, site_url: str, commit: bool) -> Outcome:
    """Each row through the people services, in one transaction: kept only if ``commit`` and
    every row is good, else rolled back (a preview). Each row's ``action`` says what it did, or
    its ``problems`` why not."""
    outcome = Outcome(kind=kind, rows=rows)
    _refuse_repeats(rows)
    staff = _People()
    try:
        with transaction.atomic():
            for row in rows:
                if row.problems:
                    continue
                try:
                    with transaction.atomic():
                        if kind == "learners":
                            _learner(row, staff, by=by, site_url=site_url)
                        else:
                            _staff(row, by=by, site_url=site_url)
                except ValidationError as error:
                    row.problems += error.messages
                except PermissionDenied as error:
                    row.problems.append(str(error))
            if commit and not outcome.bad:
                good = len(rows)
                record(
                    "people.imported",
                    actor=by,
                    obj=None,
                    summary=f"{by} imported {good} {'learner' if kind == 'learners' else 'staff'}"
                    f" row{'s' if good != 1 else ''} from a CSV file",
                    data={"kind": kind, "rows": good, "invited": outcome.invited},
                )
                outcome.imported = True
            else:
                raise _RolledBack
    except _RolledBack:
        pass
    return outcome


class _RolledBack(Exception):
    pass


def _refuse_repeats(rows: list[Row]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        email = row.values["email"].lower()
        if not email:
            continue
        if email in first:
            row.problems.append(
                f"The same person as row {first[email]} ({row.values['email']}): list each "
                "person once (for a learner, put every unit in the one row)."
            )
        else:
            first[email] = row.number


class _People:
    """Staff found by username or e-mail address, remembered for the rows after."""

    def __init__(self) -> None:
        self.found: dict[str, User | None] = {}

    def get(self, text: str) -> User | None:
        key = text.lower()
        if key not in self.found:
            matches = list(User.objects.filter(Q(username__iexact=text) | Q(email__iexact=text)))
            self.found[key] = matches[0] if len(matches) == 1 else None
        return self.found[key]


def _person(row: Row) -> str:
    values = row.values
    name = f"{values['first_name']} {values['last_name']}".strip()
    return f"{name} ({values['email']})" if values["email"] else name


def _learner(row: Row, people: _People, *, by: User, site_url: str) -> None:
    values = row.values
    row.person = _person(row)
    problems = []
    qualification = None
    if values["qualification"]:
        qualification, problem = _find(Qualification, values["qualification"], "qualification")
        if problem:
            problems.append(problem)
    units = []
    for code in filter(None, (part.strip() for part in re.split(r"[;|,]", values["units"]))):
        unit, problem = _find(Unit, code, "unit")
        if problem:
            problems.append(problem)
        else:
            units.append(unit)
    if not values["units"]:
        problems.append("Name at least one unit.")
    staff = {}
    for role, column in ((Role.ASSESSOR, "assessor"), (Role.IQA, "iqa")):
        staff[column] = None
        if values[column]:
            person = people.get(values[column])
            if person is None:
                problems.append(f"No one has the username or e-mail address {values[column]}.")
            elif not person.has_role(role):
                problems.append(f"{person} ({values[column]}) does not hold the {role.label} role.")
            else:
                staff[column] = person
    sector = _sector(values["sector"])
    if sector is None:
        problems.append(
            f"'{values['sector']}' is not a sector: write public, private or voluntary, or leave "
            "it empty."
        )
    start = _date(values["start_date"])
    if start is None:
        problems.append(
            f"'{values['start_date']}' is not a date: write it as 2026-09-01 or 01/09/2026."
        )
    born = _date(values["date_of_birth"]) if values["date_of_birth"] else None
    if values["date_of_birth"] and born is None:
        problems.append(
            f"'{values['date_of_birth']}' under date_of_birth is not a date: write it as "
            "2008-04-30 or 30/04/2008."
        )
    existing = User.objects.filter(email__iexact=values["email"]).first()
    if existing is not None and not existing.is_learner:
        problems.append(
            f"{existing} already has the e-mail address {existing.email} and is not a learner: "
            "give them the learner role first (the staff import or their page)."
        )
    if problems:
        row.problems += problems
        return
    learner_register(
        learner=existing
        or NewPerson(
            first_name=values["first_name"],
            last_name=values["last_name"],
            email=values["email"],
        ),
        qualification=qualification,
        units=units,
        staff=UnitStaff(assessor=staff["assessor"], iqa=staff["iqa"]),
        organisation=values["organisation"],
        site=values["site"],
        sector=sector,
        job_role=values["job_role"],
        start_date=start,
        by=by,
        site_url=site_url,
        details=LearnerDetails(uln=values["uln"], date_of_birth=born),
    )
    what = qualification.title if qualification else "single units"
    codes = get_text_list([unit.code for unit in units], "and")
    if existing is None:
        row.invited = True
        row.action = f"Added as a learner and invited by e-mail; entered for {what}: {codes}"
    else:
        row.action = f"Already registered: entered for {what}: {codes}"


def _staff(row: Row, *, by: User, site_url: str) -> None:
    values = row.values
    row.person = _person(row)
    problems = []
    roles = []
    for name in filter(None, (part.strip() for part in re.split(r"[;|,]", values["roles"]))):
        role = ROLE_NAMES.get(_key(name))
        if role is None:
            problems.append(
                f"'{name}' is not a role: write assessor, IQA, EQA, centre administrator, "
                "learner or employer."
            )
        elif role not in roles:
            roles.append(role)
    if not values["roles"]:
        problems.append("Name at least one role.")
    active = values["active"].lower()
    if active and active not in YES | NO:
        problems.append(f"'{values['active']}' under active: write yes or no.")
    workplaces = []
    for name in filter(None, (part.strip() for part in values["workplaces"].split(";"))):
        workplace, problem = _workplace(name)
        if problem:
            problems.append(problem)
        else:
            workplaces.append(workplace)
    if problems:
        row.problems += problems
        return
    existing = User.objects.filter(email__iexact=values["email"]).first()
    before = _account(existing) if existing else None
    # An employer's workplaces: as written, or, left empty, a new one's none (refused) and a
    # known one's as they are.
    given = workplaces if workplaces or existing is None else None
    saved = staff_save(
        user=existing,
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        roles=roles,
        is_active=active not in NO,
        by=by,
        site_url=site_url,
        workplaces=given if Role.EMPLOYER in roles or workplaces else [],
    )
    shown = get_text_list([Role(role).label for role in roles], "and")
    if existing is None:
        row.invited = saved.is_active
        invited = " and invited by e-mail" if saved.is_active else " (not active)"
        row.action = f"Added as {shown}{invited}"
    elif _account(saved) != before:
        row.action = f"Changed: now {shown}" + ("" if saved.is_active else ", not active")
    else:
        row.action = "No change"


def _account(user: User) -> tuple:
    return (user.first_name, user.last_name, user.email, user.is_active, sorted(user.roles))


def _workplace(text: str) -> tuple[Workplace | None, str | None]:
    """The workplace a cell names ("Harbour Hotels", or "Harbour Hotels, Quay Street" for one
    site of several), regardless of case, or why none."""
    query = Q(organisation__iexact=text, site="")
    if ", " in text:
        organisation, site = text.rsplit(", ", 1)
        query |= Q(organisation__iexact=organisation, site__iexact=site)
    matches = list(Workplace.objects.filter(query)[:2])
    if len(matches) == 1:
        return matches[0], None
    if matches:
        return None, f"Two workplaces are called {text}: tell them apart in the admin first."
    return None, (
        f"No workplace is called {text}: write it as its page names it, or register a learner "
        "there first."
    )


def _find(model, text: str, what: str):
    """The unit or qualification a code names ("C4", or "OCR C4"), or why none."""
    parts = text.split()
    query = Q(code__iexact=parts[-1])
    if len(parts) > 1:
        query &= Q(awarding_body__iexact=" ".join(parts[:-1]))
    matches = list(model.objects.filter(query)[:2])
    if len(matches) == 1:
        return matches[0], None
    if matches:
        return None, f"Two {what}s have the code {text}: write the awarding body first."
    return None, f"No {what} has the code {text}."


def _sector(text: str) -> str | None:
    if not text:
        return ""
    for value, label in Sector.choices:
        if _key(text) in {_key(value), _key(label)}:
            return value
    return None


def _date(text: str) -> datetime.date | None:
    if not text:
        return timezone.localdate()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


SALT = "people.imports"


def sealed(kind: str, data: bytes, by: User) -> str:
    """The file previewed, signed for the import's post (so it imports what was previewed, by
    whoever previewed it, within the hour)."""
    return signing.dumps(
        {"kind": kind, "data": data.decode("latin-1"), "by": by.pk}, salt=SALT, compress=True
    )


def unsealed(token: str, by: User) -> tuple[str, bytes]:
    """The kind and the file a preview sealed, or FileProblem."""
    try:
        value = signing.loads(token, salt=SALT, max_age=3600)
    except signing.SignatureExpired:
        raise FileProblem(
            "The preview is more than an hour old: choose the file again to check it."
        ) from None
    except signing.BadSignature:
        raise FileProblem("The preview could not be read: choose the file again.") from None
    if value.get("by") != by.pk or value.get("kind") not in KINDS:
        raise FileProblem("The preview could not be read: choose the file again.")
    return value["kind"], value["data"].encode("latin-1")


def example(kind: str) -> str:
    """A CSV file of ``kind`` with its header and one example row."""
    columns = KINDS[kind]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in columns])
    writer.writerow([c.example for c in columns])
    return out.getvalue()
