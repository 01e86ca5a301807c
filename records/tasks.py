"""Background work: several portfolios' PDFs as one ZIP."""

import tempfile
import zipfile

from django.core.files import File
from django.core.files.storage import storages
from django.utils import timezone
from django_tasks import task

from audit.chain import record
from portfolio.files import save_whole
from portfolio.models import Portfolio
from records.models import BulkExport
from records.pdf import render_portfolio_pdf


@task()
def build_bulk_export(export_id: int) -> None:
    """Render each portfolio of the export into one ZIP, recording progress as it goes."""
    export = BulkExport.objects.select_related("requested_by").get(pk=export_id)
    export.status = BulkExport.Status.RUNNING
    export.save(update_fields=["status"])
    portfolios = Portfolio.objects.filter(pk__in=export.portfolio_ids).select_related(
        "learner", "unit"
    )
    try:
        with tempfile.TemporaryFile() as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                for portfolio in portfolios.order_by("pk"):
                    archive.writestr(
                        f"{portfolio.pk}-{portfolio.learner.username}-{portfolio.unit.code}.pdf",
                        render_portfolio_pdf(portfolio),
                    )
                    export.done += 1
                    export.save(update_fields=["done"])
            handle.seek(0)
            name = save_whole(storages["evidence"], f"exports/{export.pk}.zip", File(handle))
        export.file.name = name
        export.size = storages["evidence"].size(name)
        export.status = BulkExport.Status.DONE
    except Exception as exc:
        export.status = BulkExport.Status.FAILED
        export.error = str(exc)[:2000]
        raise
    finally:
        export.finished_at = timezone.now()
        export.save(update_fields=["file", "size", "status", "error", "finished_at"])
        record(
            "export.finished",
            actor=export.requested_by,
            obj=export,
            summary=f"Export of {export.total} portfolio PDFs for {export.requested_by}: "
            f"{export.get_status_display().lower()}",
            data={"portfolios": export.portfolio_ids, "status": export.status},
        )
