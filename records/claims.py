"""The claims list for the awarding body's system: one CSV row per claim, every cell made safe
to open in a spreadsheet."""

import csv
import datetime
import io
from typing import IO

from django.db.models import Max
from django.utils import timezone

from assessments.models import Signature
from portfolio.models import Claim

COLUMNS = [
    "Surname",
    "Forenames",
    "ULN",
    "Date of birth",
    "Awarding body",
    "Qualification code",
    "Claim kind",
    "Unit codes",
    "Start date",
    "Date achieved",
    "Claim date",
    "Reference",
]

# What a spreadsheet reads as the start of a formula, or as a control to run one (OWASP, "CSV
# Injection": https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """``value`` as a cell a spreadsheet shows as text and never runs: one beginning with what
    could start a formula is given a single quote before it, as OWASP advises. Every cell of the
    claims list passes through here, whoever typed it."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def parse_day(text: str) -> datetime.date | None:
    """A day the claims list was asked for (ISO format), or None for no bound."""
    return datetime.date.fromisoformat(text) if text else None


def claims_asked(parameters: dict):
    """The claims an export's ``parameters`` ask for (``from`` and ``to``: days, both included),
    oldest first, with what each row shows."""
    return (
        Claim.objects.made_between(
            parse_day(parameters.get("from", "")), parse_day(parameters.get("to", ""))
        )
        .listed()
        .order_by("claimed_at", "pk")
    )


def _day(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def claim_row(claim: Claim, achieved: datetime.datetime | None) -> list[str]:
    """A claim as the awarding body's system reads it, each cell made safe."""
    enrolment = claim.enrolment
    learner = enrolment.learner
    qualification = enrolment.qualification
    units = list(claim.portfolios.all())
    awarding_body = qualification.awarding_body if qualification else ""
    if not awarding_body and units:
        awarding_body = units[0].unit.awarding_body
    cells = [
        learner.last_name,
        learner.first_name,
        learner.uln,
        _day(learner.date_of_birth),
        awarding_body,
        qualification.code if qualification else "",
        claim.get_kind_display(),
        ";".join(p.unit.code for p in units),
        _day(enrolment.start_date),
        _day(achieved),
        _day(claim.claimed_at),
        claim.reference,
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def write_claims_csv(claims: list[Claim], handle: IO[bytes], progress=None) -> None:
    """The claims as CSV into ``handle``: a header, then a row each. The date achieved is when
    the last unit claimed was verified (the IQA's countersignature still holding)."""
    achieved = dict(
        Signature.objects.filter(
            portfolio__claim__in=claims,
            kind=Signature.Kind.IQA_COUNTERSIGNATURE,
            revoked_at__isnull=True,
        )
        .values("portfolio__claim")
        .annotate(last=Max("signed_at"))
        .values_list("portfolio__claim", "last")
    )
    # UTF-8 with its byte order mark: a spreadsheet then reads names with accents as written.
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, quoting=csv.QUOTE_ALL)
    writer.writerow([spreadsheet_safe(column) for column in COLUMNS])
    for done, claim in enumerate(claims, start=1):
        writer.writerow(claim_row(claim, achieved.get(claim.pk)))
        if progress is not None and done % 100 == 0:
            progress(done)
    text.flush()
    text.detach()
