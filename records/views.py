"""Records made from portfolios, for whoever may see them: the PDF, the person's own data, and
bulk exports of PDFs for an EQA or the centre administrator."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from portfolio.access import get_for_user
from portfolio.files import stored_file_response
from portfolio.models import Portfolio
from records import services
from records.models import BulkExport

EXPORT_PAGE_SIZE = 100


@login_required
def my_data(request: HttpRequest) -> FileResponse:
    """Everything held about the signed-in person, as a ZIP of JSON records and their files."""
    return FileResponse(
        services.personal_data_export(by=request.user),
        as_attachment=True,
        filename=f"my-portfolio-data-{request.user.username}.zip",
        content_type="application/zip",
    )


@login_required
def portfolio_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole portfolio as one PDF, for anyone who may see the portfolio."""
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("learner", "unit"), pk=pk
    )
    data = services.portfolio_pdf_export(portfolio=portfolio, by=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"portfolio-{portfolio.learner.username}-{portfolio.unit.code}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def bulk_export_new(request: HttpRequest) -> HttpResponse:
    """An EQA or administrator chooses portfolios to export together as one ZIP of PDFs."""
    if not BulkExport.may_request(request.user):
        raise PermissionDenied
    visible = (
        Portfolio.objects.visible_to(request.user)
        .select_related("learner", "unit")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    if request.method == "POST":
        chosen = [int(pk) for pk in request.POST.getlist("portfolios") if pk.isdigit()]
        allowed = list(visible.filter(pk__in=chosen).values_list("pk", flat=True))
        if not allowed:
            messages.error(request, "Choose at least one portfolio to export.")
        else:
            export = services.bulk_export_request(portfolio_ids=allowed, by=request.user)
            return redirect(export)
    query, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    shown = visible.search(query)
    if status in Portfolio.Status.values:
        shown = shown.filter(status=status)
    return render(
        request,
        "records/bulk_export_new.html",
        {
            "page": Paginator(shown, EXPORT_PAGE_SIZE).get_page(request.GET.get("page")),
            "query": query,
            "status": status,
            "statuses": Portfolio.Status.choices,
            "exports": BulkExport.objects.filter(requested_by=request.user)[:10],
        },
    )


def _own_export(request: HttpRequest, pk: int, **lookup) -> BulkExport:
    """The person's own export, while they may still see every portfolio in it (an EQA's
    grant may have expired since they asked for it)."""
    export = get_object_or_404(BulkExport, pk=pk, requested_by=request.user, **lookup)
    wanted = set(export.portfolio_ids)
    visible = Portfolio.objects.visible_to(request.user).filter(pk__in=wanted)
    if visible.count() != len(wanted):
        raise Http404("This export holds portfolios you may no longer see.")
    return export


@login_required
def bulk_export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    return render(
        request,
        "records/bulk_export_detail.html",
        {"export": export, "keep_days": settings.BULK_EXPORT_KEEP_DAYS},
    )


@login_required
def bulk_export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = _own_export(request, pk, status=BulkExport.Status.DONE)
    return stored_file_response(
        export.file.name,
        as_attachment=True,
        filename=f"portfolios-{export.pk}.zip",
        content_type="application/zip",
    )
