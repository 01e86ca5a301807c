"""Pages for internal and external quality assurers and the centre administrator."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from assessments import quality, sampling
from assessments import waiting as waiting_for
from assessments.forms import (
    ActionCloseForm,
    ClaimForm,
    EqaReviewForm,
    MeetingForm,
    PlanForm,
    SampleForm,
    UnlockForm,
)
from assessments.models import (
    ActionPoint,
    CriterionDecision,
    EqaVisit,
    IqaSample,
    StandardisationMeeting,
)
from assessments.progress import progress_lines
from assessments.reviews import planning_audit
from assessments.signable import stored
from audit.chain import proof_for
from audit.models import AuditEntry
from portfolio.access import error_messages, get_for_user, posted, role_required
from portfolio.models import EqaGrant, EvidenceItem, Portfolio, Role, User
from portfolio.roles import set_active_role


@login_required
@role_required(Role.IQA)
def iqa_home(request: HttpRequest) -> HttpResponse:
    """The IQA's plans per assessor, what waits for a summative sample, and what to sample."""
    set_active_role(request, Role.IQA)
    mine = Portfolio.objects.in_role(request.user, Role.IQA)
    waiting = (
        mine.filter(status=Portfolio.Status.ASSESSED)
        .select_related("learner", "assessor", "unit")
        .order_by("updated_at", "pk")
    )
    portfolios = Paginator(
        mine.select_related(
            "learner", "unit", "assessor", "iqa", "workplace", "enrolment"
        ).order_by("assessor__last_name", "learner__last_name", "pk"),
        25,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/iqa_home.html",
        {
            "plans": sampling.sampling_plans(request.user),
            "waiting": waiting[:50],
            "suggestions": sampling.interim_suggestions(request.user),
            "samples": IqaSample.objects.filter(iqa=request.user)
            .select_related("portfolio__learner", "assessor")
            .annotate(open_actions=Count("actions", filter=Q(actions__closed_at__isnull=True)))
            .order_by("-created_at", "-pk")[:20],
            "page": portfolios,
            "progress": progress_lines(portfolios),
            "ratings": PlanForm.base_fields["rating"].choices,
            "waiting_for_you": waiting_for.for_iqa(request.user),
        },
    )


@login_required
@role_required(Role.IQA)
@require_POST
def plan_update(request: HttpRequest, assessor_pk: int) -> HttpResponse:
    assessor = get_object_or_404(User, pk=assessor_pk, is_assessor=True)
    if not Portfolio.objects.in_role(request.user, Role.IQA).filter(assessor=assessor).exists():
        raise PermissionDenied
    form = PlanForm(request.POST)
    if form.is_valid():
        quality.sampling_plan_save(
            iqa=request.user, assessor=assessor, rating=form.cleaned_data["rating"]
        )
        messages.success(request, f"The sampling plan for {assessor} is saved.")
    return redirect("iqa_home")


def _sample_choices(portfolio: Portfolio):
    evidence = list(
        EvidenceItem.objects.counting_in(portfolio)
        .exclude(status=EvidenceItem.Status.DRAFT)
        .order_by("occurred_on", "pk")
    )
    decisions = list(
        CriterionDecision.objects.active()
        .filter(portfolio=portfolio)
        .select_related("criterion")
        .order_by("criterion__position")
    )
    return evidence, decisions


@login_required
def sample_new(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner", "assessor"),
        may=Portfolio.may_quality_assure,
        pk=pk,
    )
    evidence, decisions = _sample_choices(portfolio)
    form = SampleForm(posted(request)[0], request=request, evidence=evidence, decisions=decisions)
    if request.method == "POST" and form.is_valid():
        try:
            sample = quality.sample_record(
                portfolio=portfolio,
                iqa=request.user,
                stage=form.cleaned_data["stage"],
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
                items=form.cleaned_data["items"],
                actions=form.cleaned_data["actions"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The sample is recorded and signed.")
            return redirect("sample_detail", sample.pk)
    return render(request, "assessments/sample_form.html", {"portfolio": portfolio, "form": form})


@login_required
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sample = get_object_or_404(
        IqaSample.objects.select_related("iqa", "assessor", "signature").prefetch_related(
            Prefetch("items__evidence"), "items__decision__criterion", "actions__closed_by"
        ),
        pk=pk,
    )
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        pk=sample.portfolio_id,
    )
    return render(
        request,
        "assessments/sample_detail.html",
        {
            "sample": sample,
            "portfolio": portfolio,
            "may_close": portfolio.assessor_id == request.user.pk and request.user.is_assessor,
            "close_form": ActionCloseForm(),
        },
    )


@login_required
@require_POST
def action_close(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(ActionPoint.objects.select_related("sample__portfolio"), pk=pk)
    get_for_user(
        request.user,
        Portfolio.objects.all(),
        may=lambda p, user: p.assessor_id == user.pk and user.is_assessor,
        pk=action.sample.portfolio_id,
    )
    form = ActionCloseForm(request.POST)
    if form.is_valid():
        try:
            quality.action_close(
                action=action, response=form.cleaned_data["response"], by=request.user
            )
            messages.success(request, "The action point is closed.")
        except ValidationError as error:
            error_messages(request, error)
    else:
        messages.error(request, "Say what you did about the action point.")
    return redirect("sample_detail", action.sample_id)


def _may_see_standardisation(user: User) -> bool:
    return (
        user.is_iqa
        or user.is_assessor
        or user.is_centre_admin
        or (user.is_eqa and EqaGrant.objects.active_for(user).exists())
    )


@login_required
def standardisation(request: HttpRequest) -> HttpResponse:
    if not _may_see_standardisation(request.user):
        raise PermissionDenied
    # A meeting may have looked at evidence of portfolios this person may not see: list only
    # what they may see.
    visible_evidence = EvidenceItem.objects.visible_to(request.user).select_related(
        "portfolio__learner"
    )
    meetings = Paginator(
        StandardisationMeeting.objects.select_related("recorded_by").prefetch_related(
            "attendees", Prefetch("evidence", visible_evidence)
        ),
        20,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/standardisation.html",
        {"page": meetings, "may_record": request.user.is_iqa or request.user.is_centre_admin},
    )


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_iqa or request.user.is_centre_admin):
        raise PermissionDenied
    choices = (
        EvidenceItem.objects.visible_to(request.user)
        .filter(status=EvidenceItem.Status.ACCEPTED)
        .select_related("portfolio__learner")
        .order_by("-occurred_on")[:200]
    )
    form = MeetingForm(
        posted(request)[0],
        evidence_choices=EvidenceItem.objects.filter(pk__in=[e.pk for e in choices]),
    )
    if request.method == "POST" and form.is_valid():
        quality.meeting_record(form=form, by=request.user)
        messages.success(request, "The meeting is recorded.")
        return redirect("standardisation")
    return render(request, "assessments/meeting_form.html", {"form": form})


@login_required
def audit_trail(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("learner", "unit", "enrolment"), pk=pk
    )
    entries = Paginator(
        AuditEntry.objects.filter(
            Q(portfolio=portfolio) | planning_audit(portfolio.enrolment)
        ).order_by("-created_at", "-id"),
        100,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/audit_trail.html",
        {
            "portfolio": portfolio,
            "page": entries,
            "heads": proof_for(portfolio.learner_id, leaving_out_copies=True),
            "signable": stored(portfolio),
        },
    )


@login_required
@require_POST
def eqa_review(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user, Portfolio.objects.all(), may=Portfolio.may_eqa_review, pk=pk
    )
    form = EqaReviewForm(request.POST)
    if form.is_valid():
        quality.eqa_review_record(
            portfolio=portfolio,
            eqa=request.user,
            outcome=form.cleaned_data["outcome"],
            report=form.cleaned_data["report"],
        )
        messages.success(request, "Your review is recorded.")
    else:
        messages.error(request, "Choose an outcome and write the report: nothing was recorded.")
    return redirect(portfolio)


def _centre_portfolio(request: HttpRequest, pk: int) -> Portfolio:
    return get_for_user(
        request.user,
        Portfolio.objects.select_related("learner", "unit"),
        may=lambda p, user: user.is_centre_admin,
        pk=pk,
    )


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _centre_portfolio(request, pk)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reference"][0])
        return redirect(portfolio)
    try:
        quality.portfolio_claim(
            portfolio=portfolio, reference=form.cleaned_data["reference"], by=request.user
        )
        messages.success(request, "The certification claim is recorded.")
    except ValidationError as error:
        error_messages(request, error)
    return redirect(portfolio)


@login_required
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _centre_portfolio(request, pk)
    form = UnlockForm(posted(request)[0])
    if request.method == "POST" and form.is_valid():
        try:
            revoked = quality.portfolio_unlock(
                portfolio=portfolio, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            error_messages(request, error)
        else:
            messages.success(
                request,
                f"The portfolio is unlocked; {len(revoked)} signature(s) are broken by it.",
            )
        return redirect(portfolio)
    return render(request, "assessments/unlock.html", {"portfolio": portfolio, "form": form})


@login_required
@role_required(Role.CENTRE_ADMIN)
def eqa_visits(request: HttpRequest) -> HttpResponse:
    visits = Paginator(EqaVisit.objects.select_related("eqa"), 100).get_page(
        request.GET.get("page")
    )
    return render(request, "assessments/eqa_visits.html", {"page": visits})
