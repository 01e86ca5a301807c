"""Making records from portfolios, each one written to the audit trail: the portfolio PDF, the
personal-data ZIP and the request for a bulk export."""

from typing import IO

from django.db import transaction

from audit.chain import record
from portfolio.models import Portfolio, User
from records.models import BulkExport
from records.pdf import render_portfolio_pdf
from records.personal_data import personal_data_zip
from records.tasks import build_bulk_export


def portfolio_pdf_export(*, portfolio: Portfolio, by: User) -> bytes:
    """The whole portfolio as one PDF, for someone who may see it."""
    data = render_portfolio_pdf(portfolio)
    record(
        "portfolio.exported",
        actor=by,
        obj=portfolio,
        portfolio=portfolio,
        summary=f"{by} exported the portfolio as a PDF",
        data={"bytes": len(data)},
    )
    return data


def personal_data_export(*, by: User) -> IO[bytes]:
    """Everything held about ``by``, as a ZIP of JSON records and their files."""
    record("data.exported", actor=by, summary=f"{by} downloaded everything held about them")
    return personal_data_zip(by)


def bulk_export_request(*, portfolio_ids: list[int], by: User) -> BulkExport:
    """Queue the PDFs of ``portfolio_ids`` (ones ``by`` may see) to be built into one ZIP."""
    with transaction.atomic():
        export = BulkExport.objects.create(requested_by=by, portfolio_ids=portfolio_ids)
        record(
            "export.requested",
            actor=by,
            obj=export,
            summary=f"{by} asked for {len(portfolio_ids)} portfolio PDFs as one ZIP",
            data={"portfolios": portfolio_ids},
        )
    build_bulk_export.enqueue(export.pk)
    return export
