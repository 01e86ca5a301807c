"""Records made from portfolios, for whoever may see them: the PDF, the person's own data, and
bulk exports of PDFs for an EQA or the centre administrator."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portfolio.access import get_for_user, role_required
from portfolio.files import stored_file_response
from portfolio.models import Claim, Enrolment, Portfolio, Role
from records import services
from records.exports import builder_for
from records.forms import ClaimsFilterForm
from records.models import Export
from records.tasks import export_fail

EXPORT_PAGE_SIZE = 100


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything held about the signed-in person, as a ZIP of JSON records and their files:
    made in the background on a POST, shown on its progress page."""
    if request.method == "POST":
        return redirect(services.export_request(kind=Export.Kind.DATA, by=request.user))
    return render(
        request,
        "records/my_data.html",
        {"exports": Export.objects.filter(kind=Export.Kind.DATA, requested_by=request.user)[:5]},
    )


@login_required
def portfolio_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole portfolio as one PDF, for anyone who may see the portfolio: made in the
    background on a POST; a GET (an old bookmark) shows the page that starts it."""
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("learner", "unit"), pk=pk
    )
    if request.method == "POST":
        export = services.export_request(kind=Export.Kind.PDF, by=request.user, portfolio=portfolio)
        return redirect(export)
    return render(
        request,
        "records/portfolio_pdf.html",
        {
            "portfolio": portfolio,
            "exports": Export.objects.filter(
                kind=Export.Kind.PDF, portfolio=portfolio, requested_by=request.user
            )[:5],
        },
    )


@login_required
@require_POST
def enrolment_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Every unit of the enrolment the person may see (an EQA, those their grant covers) as one
    PDF, made in the background."""
    enrolment = get_for_user(
        request.user, Enrolment.objects.select_related("learner", "qualification"), pk=pk
    )
    units = Portfolio.objects.visible_to(request.user).filter(enrolment=enrolment)
    export = services.export_request(
        kind=Export.Kind.QUALIFICATION,
        by=request.user,
        enrolment=enrolment,
        portfolio_ids=sorted(units.values_list("pk", flat=True)),
    )
    return redirect(export)


@login_required
def bulk_export_new(request: HttpRequest) -> HttpResponse:
    """An EQA or administrator chooses portfolios to export together as one ZIP of PDFs."""
    if not Export.may_request_bulk(request.user):
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
            "exports": Export.objects.filter(kind=Export.Kind.BULK, requested_by=request.user)[:10],
        },
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def claims(request: HttpRequest) -> HttpResponse:
    """The claims recorded, from one day to another; a POST exports them for the awarding
    body's system as CSV, built in the background."""
    form = ClaimsFilterForm(request.POST if request.method == "POST" else request.GET or None)
    start = end = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if request.method == "POST":
            export = services.export_request(
                kind=Export.Kind.CLAIMS, by=request.user, parameters=form.parameters()
            )
            return redirect(export)
    shown = Claim.objects.made_between(start, end).listed()
    return render(
        request,
        "records/claims.html",
        {
            "form": form,
            "page": Paginator(shown, EXPORT_PAGE_SIZE).get_page(request.GET.get("page")),
            "exports": Export.objects.filter(kind=Export.Kind.CLAIMS, requested_by=request.user)[
                :5
            ],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _own_export(request: HttpRequest, pk: int, **lookup) -> Export:
    """The person's own export, while they may still see what it holds (an EQA's grant may
    have expired since they asked for it)."""
    export = get_object_or_404(
        Export.objects.select_related(
            "portfolio__learner",
            "portfolio__unit",
            "enrolment__learner",
            "enrolment__qualification",
        ),
        pk=pk,
        requested_by=request.user,
        **lookup,
    )
    if not builder_for(export).may_see(export, request.user):
        raise Http404("This export holds portfolios you may no longer see.")
    return export


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An export's progress: refreshed while it waits or is built, its file once ready."""
    export = _own_export(request, pk)
    if export.worker_stopped:
        services.exports_fail_stale(Export.objects.filter(pk=export.pk))
        export.refresh_from_db()
    return render(
        request,
        "records/export_detail.html",
        {"export": export, "keep_days": settings.BULK_EXPORT_KEEP_DAYS},
    )


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = _own_export(request, pk, status=Export.Status.DONE)
    if not storages["evidence"].exists(export.file.name):
        # Removed meanwhile with an export that shared it, or lost from the store.
        export_fail(export, error="its file is no longer stored")
        messages.error(request, "The file of this export is no longer stored; start it again.")
        return redirect(export)
    builder = builder_for(export)
    response = stored_file_response(
        export.file.name,
        as_attachment=True,
        filename=builder.filename(export),
        content_type=builder.content_type,
    )
    services.export_handed_out(export=export, by=request.user)
    return response
