from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assessments import quality
from assessments.audit import record
from assessments.forms import ClaimForm, EqaReviewForm
from assessments.models import EqaGrant, EqaReview, IqaSample
from assessments.signatures import signature_rows
from assessments.sufficiency import coverage_for
from portfolio.access import get_for_user, posted, role_required
from portfolio.data_export import personal_data_zip
from portfolio.files import stored_file_response
from portfolio.forms import WorkplaceForm
from portfolio.models import BulkExport, EvidenceItem, Portfolio, Role
from portfolio.pdf import render_portfolio_pdf
from portfolio.roles import active_role, home_url, set_active_role
from portfolio.tasks import build_bulk_export
from units.models import Criterion, EvidenceContext

PAGE_SIZE = 25
EXPORT_PAGE_SIZE = 100


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For a load balancer: this process answers and reaches the database. Open to anyone, and
    says nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = active_role(request)
    if role is None:
        return render(request, "portfolio/no_role.html")
    return redirect(home_url(role))


def _portfolio_page(request: HttpRequest, role: Role):
    portfolios = (
        Portfolio.objects.in_role(request.user, role)
        .select_related("learner", "unit", "assessor", "iqa")
        .order_by(*_ORDERINGS[role])
    )
    return Paginator(portfolios, PAGE_SIZE).get_page(request.GET.get("page"))


_ORDERINGS = {
    Role.LEARNER: ["-start_date", "pk"],
    Role.ASSESSOR: ["learner__last_name", "learner__first_name", "pk"],
    Role.IQA: ["assessor__last_name", "assessor__first_name", "learner__last_name", "pk"],
    Role.EQA: ["learner__last_name", "learner__first_name", "pk"],
    Role.CENTRE_ADMIN: ["-start_date", "pk"],
}


def _role_home(request: HttpRequest, role: Role, template: str, **context) -> HttpResponse:
    set_active_role(request, role)
    context["page"] = _portfolio_page(request, role)
    return render(request, template, context)


@login_required
@role_required(Role.LEARNER)
def learner_home(request: HttpRequest) -> HttpResponse:
    set_active_role(request, Role.LEARNER)
    page = _portfolio_page(request, Role.LEARNER)
    coverage = coverage_for(list(page))
    rows = [(portfolio, coverage[portfolio.pk]) for portfolio in page]
    return render(request, "portfolio/learner_home.html", {"page": page, "rows": rows})


@login_required
@role_required(Role.EQA)
def eqa_home(request: HttpRequest) -> HttpResponse:
    grants = EqaGrant.objects.filter(eqa=request.user).annotate(portfolio_count=Count("portfolios"))
    return _role_home(
        request, Role.EQA, "portfolio/eqa_home.html", grants=grants, now=timezone.now()
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def centre_home(request: HttpRequest) -> HttpResponse:
    counts = dict(
        Portfolio.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    )
    statuses = [(label, counts.get(value, 0)) for value, label in Portfolio.Status.choices]
    return _role_home(request, Role.CENTRE_ADMIN, "portfolio/centre_home.html", statuses=statuses)


@login_required
def portfolio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("learner", "unit", "assessor", "iqa"), pk=pk
    )
    evidence = (
        EvidenceItem.objects.visible_to(request.user)
        .filter(portfolio=portfolio)
        .annotate(file_count=Count("files"))
        .prefetch_related(
            Prefetch("contexts", EvidenceContext.objects.order_by("letter")),
            Prefetch("claimed_criteria", Criterion.objects.order_by("position")),
        )
        .order_by("-occurred_on", "-pk")
    )
    signatures = signature_rows(portfolio)
    user = request.user
    return render(
        request,
        "portfolio/portfolio_detail.html",
        {
            "portfolio": portfolio,
            "coverage": coverage_for([portfolio])[portfolio.pk],
            "evidence_items": Paginator(evidence, 50).get_page(request.GET.get("page")),
            "may_work_on": portfolio.may_work_on(request.user),
            "may_assess": portfolio.may_assess(request.user),
            "signatures": signatures,
            "declared": any(
                row.signature.kind == "learner_declaration" and not row.signature.revoked_at
                for row in signatures
            ),
            "may_declare": portfolio.learner_id == request.user.pk
            and portfolio.status == Portfolio.Status.ASSESSED,
            "samples": IqaSample.objects.filter(portfolio=portfolio)
            .select_related("iqa")
            .prefetch_related("actions")
            .order_by("-created_at", "-pk"),
            "eqa_reviews": EqaReview.objects.filter(portfolio=portfolio).select_related("eqa"),
            "may_sample": quality.may_quality_assure(portfolio, user),
            "may_eqa_review": user.is_eqa and quality.eqa_may_review(portfolio, user),
            "is_centre_admin": user.is_centre_admin,
            "claim_form": ClaimForm(),
            "eqa_review_form": EqaReviewForm(),
        },
    )


@login_required
def portfolio_workplace(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("learner", "unit"),
        may=Portfolio.may_work_on,
        pk=pk,
    )
    form = WorkplaceForm(posted(request)[0], instance=portfolio)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            with transaction.atomic():
                portfolio.save(update_fields=[*form.changed_data, "updated_at"])
                record(
                    "portfolio.workplace_changed",
                    actor=request.user,
                    obj=portfolio,
                    portfolio=portfolio,
                    summary=f"{request.user} changed the workplace details",
                    data={name: form.cleaned_data[name] for name in form.changed_data},
                )
        messages.success(request, "Your workplace details are saved.")
        return redirect(portfolio)
    return render(request, "portfolio/workplace_form.html", {"portfolio": portfolio, "form": form})


def locked_out(request: HttpRequest, response: HttpResponse, credentials: dict | None):
    """The page shown instead of the sign-in form while a username is locked out (django-axes
    calls it). Each further attempt starts the wait again, so it ends a cool-off from now.

    Wrong passwords asked for again to sign a record count too; whoever reached the limit that
    way is signed out, since the one at the keyboard may not be the account's owner."""
    cool_off = get_cool_off(request)
    while_signing = request.user.is_authenticated
    if while_signing:
        logout(request)
    return render(
        request,
        "registration/locked_out.html",
        {
            "retry_at": timezone.now() + cool_off if cool_off else None,
            "while_signing": while_signing,
        },
        status=429,
    )


@login_required
def my_data(request: HttpRequest) -> FileResponse:
    """Everything held about the signed-in person, as a ZIP of JSON records and their files."""
    record(
        "data.exported",
        actor=request.user,
        summary=f"{request.user} downloaded everything held about them",
    )
    return FileResponse(
        personal_data_zip(request.user),
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
    data = render_portfolio_pdf(portfolio)
    record(
        "portfolio.exported",
        actor=request.user,
        obj=portfolio,
        portfolio=portfolio,
        summary=f"{request.user} exported the portfolio as a PDF",
        data={"bytes": len(data)},
    )
    response = HttpResponse(data, content_type="application/pdf")
    name = f"portfolio-{portfolio.learner.username}-{portfolio.unit.code}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _may_bulk_export(user) -> bool:
    return user.is_centre_admin or user.is_eqa


@login_required
def bulk_export_new(request: HttpRequest) -> HttpResponse:
    """An EQA or administrator chooses portfolios to export together as one ZIP of PDFs."""
    if not _may_bulk_export(request.user):
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
            export = BulkExport.objects.create(requested_by=request.user, portfolio_ids=allowed)
            record(
                "export.requested",
                actor=request.user,
                obj=export,
                summary=f"{request.user} asked for {len(allowed)} portfolio PDFs as one ZIP",
                data={"portfolios": allowed},
            )
            build_bulk_export.enqueue(export.pk)
            return redirect(export)
    query, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    shown = visible.search(query)
    if status in Portfolio.Status.values:
        shown = shown.filter(status=status)
    return render(
        request,
        "portfolio/bulk_export_new.html",
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
        "portfolio/bulk_export_detail.html",
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
