"""The assessor's pages, and the learner's part in them (confirming records, the declaration)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from assessments import services
from assessments import waiting as waiting_for
from assessments.decision_views import SIGNED_OFF, awaiting_witnesses
from assessments.forms import (
    AssessorRecordForm,
    DecisionForm,
    DiscussionForm,
    EvidenceReviewForm,
    SignForm,
    WithdrawForm,
)
from assessments.matrix import matrices_for
from assessments.models import CriterionDecision, Mapping, ObservationRecord
from assessments.planning import overdue_activities
from assessments.portfolio_views import evidence_page, judged_items
from assessments.progress import progress_lines
from assessments.reviews import review_dues
from assessments.sufficiency import coverage_for
from portfolio.access import (
    already_saved,
    error_messages,
    get_for_user,
    posted,
    removal_messages,
    role_required,
    site_url,
)
from portfolio.files import STORE_FAILED, StoreFailed
from portfolio.forms import submitted_key
from portfolio.models import Enrolment, EvidenceItem, Portfolio, Role
from portfolio.roles import set_active_role
from portfolio.services import AlreadySaved, saved_from
from units.models import Criterion

# Learners with nothing waiting and no activity sort last, on every database.
CASELOAD_SORTS = {
    "learner": ["learner__last_name", "learner__first_name", "pk"],
    "waiting": ["-awaiting", F("oldest_waiting").asc(nulls_last=True), "pk"],
    "oldest": [F("oldest_waiting").asc(nulls_last=True), "pk"],
    "confirmed": ["-confirmed_count", "pk"],
    "activity": [F("last_activity").desc(nulls_last=True), "pk"],
}


@login_required
@role_required(Role.ASSESSOR)
def caseload(request: HttpRequest) -> HttpResponse:
    """The assessor's learners: what waits for review and for how long, and how far each is."""
    set_active_role(request, Role.ASSESSOR)
    evidence = EvidenceItem.objects.filter(portfolio=OuterRef("pk"))
    waiting = evidence.filter(status__in=EvidenceItem.AWAITING_REVIEW)
    portfolios = (
        Portfolio.objects.in_role(request.user, Role.ASSESSOR)
        .select_related("learner", "unit", "iqa", "workplace", "enrolment__qualification")
        .annotate(
            awaiting=Coalesce(
                Subquery(waiting.values("portfolio").annotate(n=Count("pk")).values("n")[:1]), 0
            ),
            oldest_waiting=Subquery(
                waiting.values("portfolio").annotate(t=Min("submitted_at")).values("t")[:1]
            ),
            last_activity=Subquery(
                evidence.values("portfolio").annotate(t=Max("updated_at")).values("t")[:1]
            ),
            confirmed_count=Coalesce(
                Subquery(
                    # Confirmed in its unit, on evidence kept anywhere in the enrolment.
                    Mapping.objects.filter(
                        evidence__portfolio__enrolment_id=OuterRef("enrolment_id"),
                        criterion__unit_id=OuterRef("unit_id"),
                        evidence__status=EvidenceItem.Status.ACCEPTED,
                    )
                    .order_by()
                    .values("criterion__unit_id")
                    .annotate(n=Count("criterion", distinct=True))
                    .values("n")[:1]
                ),
                0,
            ),
        )
    )
    query = request.GET.get("q", "").strip()
    portfolios = portfolios.search(query)
    status = request.GET.get("status", "")
    if status in Portfolio.Status.values:
        portfolios = portfolios.filter(status=status)
    if request.GET.get("waiting"):
        portfolios = portfolios.filter(awaiting__gt=0)
    sort = request.GET.get("sort", "waiting")
    sort = sort if sort in CASELOAD_SORTS else "waiting"
    portfolios = portfolios.order_by(*CASELOAD_SORTS[sort])
    page = Paginator(portfolios, 25).get_page(request.GET.get("page"))
    coverage = coverage_for(list(page))
    progress = progress_lines(page)
    overdue = overdue_activities([p.enrolment_id for p in page])
    reviews = review_dues(list({p.enrolment_id: p.enrolment for p in page}.values()))
    now = timezone.now()
    rows = [
        {
            "portfolio": p,
            "coverage": coverage[p.pk],
            "progress": progress.get(p.enrolment_id),
            "review": reviews[p.enrolment_id],
            "waited_days": (now - p.oldest_waiting).days if p.oldest_waiting else None,
            "overdue": len(overdue[p.enrolment_id]),
        }
        for p in page
    ]
    filters = request.GET.copy()
    filters.pop("page", None)
    filters.pop("sort", None)
    return render(
        request,
        "assessments/caseload.html",
        {
            "page": page,
            "rows": rows,
            "sort": sort,
            "query": query,
            "status": status,
            "waiting_only": bool(request.GET.get("waiting")),
            "waiting_for_you": waiting_for.for_assessor(request.user),
            "statuses": Portfolio.Status.choices,
            "filters": filters.urlencode(),
        },
    )


def _evidence_for(request: HttpRequest, pk: int, may) -> EvidenceItem:
    return get_for_user(
        request.user,
        EvidenceItem.objects.select_related("portfolio__unit", "portfolio__learner"),
        may=may,
        pk=pk,
    )


@login_required
@require_POST
def evidence_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The review in one screen, saved once: accept or refer back, the criteria it shows with
    where, and the feedback. Refused, everything typed comes back."""
    evidence = get_for_user(
        request.user,
        judged_items(),
        may=lambda item, user: item.may_review(user) or item.may_map(user),
        pk=pk,
    )
    reviewing = evidence.may_review(request.user)
    form = EvidenceReviewForm(
        request.POST, evidence=evidence, user=request.user, reviewing=reviewing
    )
    if not form.is_valid():
        return evidence_page(request, evidence, review_form=form)
    accept = form.cleaned_data["decision"] == "accept" if reviewing else None
    try:
        _, changed = services.evidence_assess(
            evidence=evidence,
            by=request.user,
            accept=accept,
            feedback=form.cleaned_data["feedback"],
            mappings=form.cleaned_data["mappings"],
            removed=form.cleaned_data["removed"],
            site_url=site_url(request),
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return evidence_page(request, evidence, review_form=form)
    criteria = f"{changed} criteri{'on' if changed == 1 else 'a'}"
    if accept is None:
        done = f"On '{evidence.title}', {criteria} confirmed or changed." if changed else ""
        messages.success(request, done or "Nothing changed.")
    elif accept:
        confirmed = f", with {criteria} confirmed" if changed else ""
        messages.success(
            request, f"'{evidence.title}' is accepted{confirmed}; the learner has been told."
        )
    else:
        messages.success(
            request, f"'{evidence.title}' is referred back; the learner has been told."
        )
    return redirect(evidence)


def _record_new(request: HttpRequest, pk: int, form_class, template: str) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_assess,
        pk=pk,
    )
    data, files = posted(request)
    form = form_class(data, files, portfolio=portfolio)
    if request.method == "POST" and (repeated := saved_from(portfolio, submitted_key(form))):
        return already_saved(request, repeated)
    if request.method == "POST" and form.is_valid():
        uploads = list(form.cleaned_data.get("files") or [])
        if form.cleaned_data.get("recording"):
            uploads.append(form.cleaned_data["recording"])
        try:
            evidence = services.assessor_record_save(
                form=form,
                portfolio=portfolio,
                by=request.user,
                criteria=form.mapped_criteria(),
                files=uploads,
                place=form.cleaned_data.get("place", ""),
                duration_minutes=form.cleaned_data.get("duration_minutes"),
            )
        except ValidationError as error:
            error_messages(request, error)
            return redirect(portfolio)
        except AlreadySaved as repeat:
            return already_saved(request, repeat.evidence)
        except StoreFailed:
            form.add_error(None, STORE_FAILED)
        else:
            messages.success(request, f"'{evidence.title}' is recorded.")
            removal_messages(request, uploads)
            return redirect(evidence)
    return render(request, template, {"form": form, "portfolio": portfolio})


@login_required
def observation_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_new(request, pk, AssessorRecordForm, "assessments/observation_form.html")


@login_required
def discussion_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_new(request, pk, DiscussionForm, "assessments/discussion_form.html")


@login_required
@require_POST
def observation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_for(request, pk, ObservationRecord.may_confirm_on)
    services.observation_confirm(evidence=evidence, by=request.user)
    messages.success(request, "You have confirmed the observation record.")
    return redirect(evidence)


@login_required
def matrix(request: HttpRequest, pk: int) -> HttpResponse:
    """One unit's criteria against evidence: confirmed and claimed, the contexts, and
    sufficiency, with the items it shares with the other units of the enrolment."""
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("unit", "learner", "assessor"), pk=pk
    )
    (unit,) = matrices_for(
        _units_seen(request, portfolio.enrolment_id), viewer=request.user, shown=portfolio
    )
    return render(
        request,
        "assessments/matrix.html",
        {
            "portfolio": portfolio,
            "matrix": unit,
            "may_assess": portfolio.may_assess(request.user),
            "is_learner": portfolio.belongs_to(request.user),
        },
    )


@login_required
def enrolment_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    """The matrix of every unit of the enrolment the viewer may see, one after another."""
    enrolment = get_for_user(
        request.user, Enrolment.objects.select_related("learner", "qualification"), pk=pk
    )
    return render(
        request,
        "assessments/enrolment_matrix.html",
        {
            "enrolment": enrolment,
            "matrices": matrices_for(_units_seen(request, enrolment.pk), viewer=request.user),
            "is_learner": enrolment.learner_id == request.user.pk,
        },
    )


def _units_seen(request: HttpRequest, enrolment_id: int) -> list[Portfolio]:
    return list(
        Portfolio.objects.visible_to(request.user)
        .filter(enrolment_id=enrolment_id)
        .select_related("unit")
        .order_by("unit__code")
    )


@login_required
def criterion_detail(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    """One criterion of a portfolio: the evidence confirming it and the assessor's decision."""
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("unit", "learner", "assessor"), pk=pk
    )
    criterion = get_object_or_404(Criterion, pk=criterion_pk, unit=portfolio.unit)
    mappings = list(
        Mapping.objects.filter(
            criterion=criterion,
            evidence__in=EvidenceItem.objects.counting_in(portfolio),
            evidence__status=EvidenceItem.Status.ACCEPTED,
        ).select_related("evidence")
    )
    decisions = list(
        CriterionDecision.objects.filter(portfolio=portfolio, criterion=criterion)
        .select_related("decided_by", "withdrawn_by")
        .prefetch_related("cited")
        .order_by("-decided_at")
    )
    active = next((d for d in decisions if d.withdrawn_at is None), None)
    may_assess = portfolio.may_assess(request.user)
    form = DecisionForm(mappings=mappings)
    if request.method == "POST":
        if not may_assess:
            raise PermissionDenied
        form = DecisionForm(request.POST, mappings=mappings)
        if form.is_valid():
            try:
                services.decision_mark_met(
                    portfolio=portfolio,
                    criterion=criterion,
                    cited=list(form.cleaned_data["cited"]),
                    by=request.user,
                )
                messages.success(request, f"{criterion.label} is marked met.")
                return redirect("matrix", portfolio.pk)
            except ValidationError as error:
                form.add_error(None, error)
    return render(
        request,
        "assessments/criterion_detail.html",
        {
            "portfolio": portfolio,
            "criterion": criterion,
            "mappings": mappings,
            "decisions": decisions,
            "active": active,
            "form": form,
            "withdraw_form": WithdrawForm(),
            "may_assess": may_assess,
        },
    )


@login_required
@require_POST
def decision_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        CriterionDecision.objects.active().select_related("criterion"), pk=pk
    )
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit"),
        may=Portfolio.may_assess,
        pk=decision.portfolio_id,
    )
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.decision_withdraw(decision=decision, reason=reason, by=request.user)
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, f"The decision on {decision.criterion.label} is withdrawn.")
    return redirect("criterion_detail", portfolio.pk, decision.criterion_id)


def _signing_page(request, portfolio, *, template, statement, sign, done_message, context=None):
    form = SignForm(posted(request)[0], request=request)
    if request.method == "POST" and form.is_valid():
        try:
            sign()
        except ValidationError as error:
            error_messages(request, error)
            return redirect(portfolio)
        messages.success(request, done_message)
        return redirect(portfolio)
    return render(
        request,
        template,
        {"portfolio": portfolio, "form": form, "statement": statement, **(context or {})},
    )


@login_required
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_assess,
        pk=pk,
    )
    coverage = coverage_for([portfolio])[portfolio.pk]
    return _signing_page(
        request,
        portfolio,
        template="assessments/sign_off.html",
        statement=services.SIGN_OFF_STATEMENT,
        sign=lambda: services.unit_sign_off(
            portfolio=portfolio, by=request.user, site_url=site_url(request)
        ),
        done_message=SIGNED_OFF,
        context={"coverage": coverage, "awaiting_witnesses": list(awaiting_witnesses(portfolio))},
    )


@login_required
def declaration(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_declare,
        pk=pk,
    )
    return _signing_page(
        request,
        portfolio,
        template="assessments/declaration.html",
        statement=services.LEARNER_DECLARATION,
        sign=lambda: services.learner_declaration_sign(portfolio=portfolio, by=request.user),
        done_message="You have signed the unit declaration.",
    )
