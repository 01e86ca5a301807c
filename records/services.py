"""Asking for records made from portfolios, each asking written to the audit trail, and noticing
the ones whose worker stopped."""

import datetime

from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from audit.chain import record
from portfolio.models import Enrolment, Portfolio, User
from records.exports import builder_for
from records.models import Export
from records.tasks import audit_finished, build_export, export_fail, ready_export


def export_request(
    *,
    kind: str,
    by: User,
    portfolio: Portfolio | None = None,
    enrolment: Enrolment | None = None,
    portfolio_ids: list[int] | None = None,
    parameters: dict | None = None,
) -> Export:
    """Queue a record of ``kind`` to be made for ``by`` (who may see what it holds), with what
    was asked (``parameters``, for a kind that takes a choice). If one for the same person,
    portfolio (or enrolment) and parameters is already waiting or being built, that one is
    returned; if a ready file shows exactly what this one would, a new ready row hands it out at
    once."""
    one_at_a_time = kind != Export.Kind.BULK
    parameters = parameters or {}
    if (
        one_at_a_time
        and (running := _unfinished(kind, by, portfolio, enrolment, parameters)) is not None
    ):
        return running
    export = Export(
        kind=kind,
        requested_by=by,
        portfolio=portfolio,
        enrolment=enrolment,
        portfolio_ids=portfolio_ids or [],
        parameters=parameters,
        # A ZIP's progress is counted in portfolios; one document is one step.
        total=len(portfolio_ids) if portfolio_ids and kind == Export.Kind.BULK else 1,
    )
    builder = builder_for(export)
    key = builder.reuse_key(export) if builder.reuse_key else ""
    ready = ready_export(export, key)
    try:
        with transaction.atomic():
            if ready is not None:
                export.status, export.done = Export.Status.DONE, export.total
                export.file.name, export.size, export.reuse_key = ready.file.name, ready.size, key
                export.finished_at = timezone.now()
            export.save()
            record(
                "export.requested",
                actor=by,
                obj=export,
                summary=f"{by} asked for {_what(export)}",
                data={
                    "kind": kind,
                    "portfolios": export.portfolios_in,
                    **({"parameters": parameters} if parameters else {}),
                },
            )
            if ready is not None:
                audit_finished(export)
            else:
                # Queued with the row, in its transaction: an export is never left waiting
                # for a task that was not stored.
                build_export.enqueue(export.pk)
    except IntegrityError:
        # Another request for the same started a moment ago.
        if (
            one_at_a_time
            and (running := _unfinished(kind, by, portfolio, enrolment, parameters)) is not None
        ):
            return running
        raise
    return export


def _unfinished(
    kind: str,
    by: User,
    portfolio: Portfolio | None,
    enrolment: Enrolment | None,
    parameters: dict,
) -> Export | None:
    unfinished = Export.objects.unfinished().filter(
        kind=kind, requested_by=by, portfolio=portfolio, enrolment=enrolment
    )
    return next((each for each in unfinished if each.parameters == parameters), None)


def _what(export: Export) -> str:
    if export.kind == Export.Kind.BULK:
        return f"{len(export.portfolio_ids)} portfolio PDFs as one ZIP"
    if export.kind == Export.Kind.PDF:
        return "the portfolio as a PDF"
    if export.kind == Export.Kind.QUALIFICATION:
        units = len(export.portfolio_ids)
        return f"the PDF of {export.enrolment.entered_for} ({units} unit{pluralize(units)})"
    return export.get_kind_display().lower()


def bulk_export_request(*, portfolio_ids: list[int], by: User) -> Export:
    """Queue the PDFs of ``portfolio_ids`` (ones ``by`` may see) to be built into one ZIP."""
    return export_request(kind=Export.Kind.BULK, by=by, portfolio_ids=portfolio_ids)


def exports_fail_stale(exports=None, *, now: datetime.datetime | None = None) -> list[Export]:
    """Mark failed the running exports (of ``exports``, or all) whose worker has not reported
    for ``EXPORT_STALE_MINUTES``, auditing each; returns them."""
    failed = []
    for export in (exports if exports is not None else Export.objects.all()).stale(now):
        if export_fail(export, error=Export.STOPPED, unless_now=(Export.Status.DONE,)):
            failed.append(export)
    return failed


def export_handed_out(*, export: Export, by: User) -> None:
    """Audit each download: of a portfolio's PDF, as an export of the portfolio by whoever
    downloads it (a ready file handed out again is exported again); of a ZIP of portfolios or
    a person's data, as a download of that export. A PDF of an enrolment's units is an export of
    each unit in it."""
    if export.kind in (Export.Kind.PDF, Export.Kind.QUALIFICATION):
        if export.kind == Export.Kind.PDF:
            portfolios, what = [export.portfolio], "the portfolio as a PDF"
        else:
            portfolios = Portfolio.objects.filter(pk__in=export.portfolio_ids).order_by("pk")
            what = f"the portfolio in the PDF of {export.enrolment.entered_for}"
        for portfolio in portfolios:
            record(
                "portfolio.exported",
                actor=by,
                obj=portfolio,
                portfolio=portfolio,
                summary=f"{by} exported {what}",
                data={"bytes": export.size, "export": export.pk},
            )
        return
    record(
        "export.downloaded",
        actor=by,
        obj=export,
        summary=f"{by} downloaded {_what(export)}",
        data={"kind": export.kind, "portfolios": export.portfolios_in, "bytes": export.size},
    )
