"""How each kind of record made in the background is built: a registry of builders.

A builder writes its file into an open temporary file and reports progress as it goes; the task
``records.tasks.build_export`` claims the row, runs the builder, stores the file in the private
evidence storage and marks the row done or failed. To add a kind: add it to ``Export.Kind``, then
``register`` its builder here (with its file's extension and type, its download name, and who may
still see it); ``services.export_request`` then starts it and the one progress page shows it."""

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.utils import timezone

from assessments.signable import stored
from audit.chain import proof_for
from portfolio.models import Enrolment, Portfolio, User
from records.claims import claims_asked, write_claims_csv
from records.models import Export
from records.pdf import planning_for, render_enrolment_pdf, render_portfolio_pdf
from records.personal_data import personal_data_zip


class Stopped(Exception):
    """The row is no longer being built (marked failed as stale, or removed): stop building."""


class Progress:
    """Reports a builder's progress on its row, which is also the worker's heartbeat."""

    def __init__(self, export: Export):
        self.export = export

    def __call__(self, done: int, total: int | None = None) -> None:
        fields = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total"] = total
        updated = Export.objects.filter(pk=self.export.pk, status=Export.Status.RUNNING).update(
            **fields
        )
        if not updated:
            raise Stopped(f"export #{self.export.pk} is no longer being built")
        for name, value in fields.items():
            setattr(self.export, name, value)


@dataclass(frozen=True)
class Builder:
    build: Callable[[Export, Progress, IO[bytes]], None]
    extension: str
    content_type: str
    filename: Callable[[Export], str]
    # Whether the person who asked may still see what it holds (404 otherwise).
    may_see: Callable[[Export, User], bool]
    # What the file will show, digested: a ready file with the same key is handed out again
    # instead of building another. None: always built afresh.
    reuse_key: Callable[[Export], str] | None = None


BUILDERS: dict[str, Builder] = {}


def register(kind: str, builder: Builder) -> None:
    BUILDERS[kind] = builder


def builder_for(export: Export) -> Builder:
    return BUILDERS[export.kind]


# Several portfolios' PDFs as one ZIP.


def _build_bulk(export: Export, progress: Progress, handle: IO[bytes]) -> None:
    portfolios = Portfolio.objects.filter(pk__in=export.portfolio_ids).select_related(
        "learner", "unit"
    )
    progress(0, len(export.portfolio_ids))
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for done, portfolio in enumerate(portfolios.order_by("pk"), start=1):
            archive.writestr(
                f"{portfolio.pk}-{portfolio.learner.username}-{portfolio.unit.code}.pdf",
                render_portfolio_pdf(portfolio),
            )
            progress(done)


def _may_see_every_portfolio(export: Export, user: User) -> bool:
    # An EQA's grant may have expired, or shrunk, since they asked for it.
    wanted = set(export.portfolio_ids)
    return Portfolio.objects.visible_to(user).filter(pk__in=wanted).count() == len(wanted)


register(
    Export.Kind.BULK,
    Builder(
        build=_build_bulk,
        extension="zip",
        content_type="application/zip",
        filename=lambda export: f"portfolios-{export.pk}.zip",
        may_see=_may_see_every_portfolio,
    ),
)


# One portfolio's PDF.


def document_key(portfolios: list[Portfolio]) -> str:
    """Each unit's signable digest, the enrolment's planning as the PDF shows it (initial
    assessments, breaks, plans with where each activity stands today, reviews and their
    signatures: ``Planning.state``) and the learner's audit chains as the PDF of ``portfolios``
    shows them (leaving out copies made, such as this one): while none of them moves, the PDF
    (of its kind: one unit's, or an enrolment's) is the same."""
    enrolment = Enrolment.objects.get(pk=portfolios[0].enrolment_id)
    shown = {
        "planning": planning_for(enrolment, portfolios).state(),
        "digests": [[p.pk, stored(p).digest] for p in sorted(portfolios, key=lambda p: p.pk)],
        # The cover counts the units of the enrolment left out of it.
        "units": Portfolio.objects.filter(enrolment_id=portfolios[0].enrolment_id).count(),
        "chains": [
            [head.chain, head.sequence, head.hash]
            for head in proof_for(portfolios[0].learner_id, leaving_out_copies=True)
        ],
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def pdf_reuse_key(export: Export) -> str:
    return document_key([export.portfolio])


def _build_pdf(export: Export, progress: Progress, handle: IO[bytes]) -> None:
    handle.write(render_portfolio_pdf(export.portfolio))
    progress(1, 1)


def _may_see_portfolio(export: Export, user: User) -> bool:
    return Portfolio.objects.visible_to(user).filter(pk=export.portfolio_id).exists()


register(
    Export.Kind.PDF,
    Builder(
        build=_build_pdf,
        extension="pdf",
        content_type="application/pdf",
        filename=lambda export: (
            f"portfolio-{export.portfolio.learner.username}-{export.portfolio.unit.code}.pdf"
        ),
        may_see=_may_see_portfolio,
        reuse_key=pdf_reuse_key,
    ),
)


# Every unit of an enrolment the person who asked may see, as one PDF.


def _units_shown(export: Export) -> list[Portfolio]:
    return list(Portfolio.objects.filter(pk__in=export.portfolio_ids).order_by("pk"))


def _build_enrolment_pdf(export: Export, progress: Progress, handle: IO[bytes]) -> None:
    handle.write(render_enrolment_pdf(_units_shown(export)))
    progress(1, 1)


def _enrolment_pdf_name(export: Export) -> str:
    enrolment = export.enrolment
    entered_for = enrolment.qualification.code if enrolment.qualification_id else "single-units"
    return f"qualification-{enrolment.learner.username}-{entered_for}.pdf"


register(
    Export.Kind.QUALIFICATION,
    Builder(
        build=_build_enrolment_pdf,
        extension="pdf",
        content_type="application/pdf",
        filename=_enrolment_pdf_name,
        may_see=_may_see_every_portfolio,
        reuse_key=lambda export: document_key(_units_shown(export)),
    ),
)


# Everything held about the person who asked.


def _build_data(export: Export, progress: Progress, handle: IO[bytes]) -> None:
    personal_data_zip(export.requested_by, handle, progress=progress)


register(
    Export.Kind.DATA,
    Builder(
        build=_build_data,
        extension="zip",
        content_type="application/zip",
        filename=lambda export: f"my-portfolio-data-{export.requested_by.username}.zip",
        may_see=lambda export, user: export.requested_by_id == user.pk,
    ),
)


# The claims list for the awarding body's system, for the days asked.


def _build_claims(export: Export, progress: Progress, handle: IO[bytes]) -> None:
    claims = list(claims_asked(export.parameters))
    progress(0, max(len(claims), 1))
    # The portfolios it holds, so that a purge removes the file with them.
    export.portfolio_ids = sorted(p.pk for claim in claims for p in claim.portfolios.all())
    Export.objects.filter(pk=export.pk).update(portfolio_ids=export.portfolio_ids)
    write_claims_csv(claims, handle, progress)
    progress(max(len(claims), 1))


def _claims_filename(export: Export) -> str:
    start, end = export.parameters.get("from", ""), export.parameters.get("to", "")
    if not (start or end):
        return "claims-all.csv"
    return f"claims-{start or 'start'}-to-{end or 'now'}.csv"


register(
    Export.Kind.CLAIMS,
    Builder(
        build=_build_claims,
        extension="csv",
        content_type="text/csv; charset=utf-8",
        filename=_claims_filename,
        may_see=lambda export, user: user.is_active and user.is_centre_admin,
    ),
)
