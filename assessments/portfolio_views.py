"""The pages that show a portfolio whole, to everyone who may see it, with the judgements made
on it: the learner's home, the portfolio page and the evidence page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Prefetch, Q, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assessments import waiting
from assessments.forms import ClaimForm, EqaReviewForm, EvidenceReviewForm
from assessments.models import (
    AssessmentPlan,
    EqaReview,
    InitialAssessment,
    IqaSample,
    Mapping,
    ObservationRecord,
    PlanActivity,
    Review,
    Signature,
    StartingPoint,
)
from assessments.planning import plan_summaries
from assessments.progress import progress_for
from assessments.reviews import reviews_panel
from assessments.signable import stored
from assessments.signatures import signature_rows
from assessments.sufficiency import coverage_for
from portfolio.access import get_for_user, role_required
from portfolio.models import (
    EvidenceFile,
    EvidenceItem,
    Notification,
    Portfolio,
    Role,
    WitnessTestimony,
)
from portfolio.views import role_home_page
from units.models import Criterion, EvidenceContext


@login_required
@role_required(Role.LEARNER)
def learner_home(request: HttpRequest) -> HttpResponse:
    page = role_home_page(request, Role.LEARNER)
    # Each enrolment's progress above its units, in the order the units come.
    enrolments = list({portfolio.enrolment_id: portfolio.enrolment for portfolio in page}.values())
    progress = progress_for(enrolments, viewer=request.user)
    units = {unit.portfolio.pk: unit for row in progress.values() for unit in row.units}
    plans = plan_summaries([enrolment.pk for enrolment in enrolments])
    sections = [
        (
            progress[enrolment.pk],
            [(p, units[p.pk]) for p in page if p.enrolment_id == enrolment.pk],
            plans[enrolment.pk],
        )
        for enrolment in enrolments
    ]
    return render(
        request,
        "assessments/learner_home.html",
        {
            "page": page,
            "sections": sections,
            "waiting_for_you": waiting.for_learner(request.user),
        },
    )


@login_required
def portfolio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related(
            "learner", "unit", "assessor", "iqa", "workplace", "enrolment__qualification"
        ),
        pk=pk,
    )
    evidence = (
        EvidenceItem.objects.visible_to(request.user)
        .counting_in(portfolio)
        .select_related("portfolio__unit")
        .annotate(file_count=Count("files", filter=Q(files__status=EvidenceFile.Status.READY)))
        .prefetch_related(
            Prefetch("contexts", portfolio.unit.contexts.order_by("letter")),
            Prefetch("claimed_criteria", portfolio.unit.criteria.order_by("position")),
        )
        .order_by("-occurred_on", "-pk")
    )
    signatures = signature_rows(portfolio)
    user = request.user
    storage_problems = list(
        EvidenceFile.objects.filter(evidence__in=evidence)
        .exclude(storage_problem="")
        .select_related("evidence")
        .order_by("pk")
    )
    return render(
        request,
        "assessments/portfolio_detail.html",
        {
            "portfolio": portfolio,
            "coverage": coverage_for([portfolio])[portfolio.pk],
            "evidence_items": Paginator(evidence, 50).get_page(request.GET.get("page")),
            "may_work_on": portfolio.may_work_on(user),
            "may_assess": portfolio.may_assess(user),
            "signatures": signatures,
            "signable": stored(portfolio),
            "storage_problems": storage_problems,
            "declared": any(
                row.signature.kind == Signature.Kind.LEARNER_DECLARATION
                and not row.signature.revoked_at
                for row in signatures
            ),
            "may_declare": portfolio.may_declare(user),
            "samples": IqaSample.objects.filter(portfolio=portfolio)
            .select_related("iqa")
            .prefetch_related("actions")
            .order_by("-created_at", "-pk"),
            "eqa_reviews": EqaReview.objects.filter(portfolio=portfolio).select_related("eqa"),
            "initial_assessment": InitialAssessment.objects.filter(portfolio=portfolio)
            .select_related("recorded_by")
            .annotate(prior_count=Count("prior_learning"))
            .prefetch_related(
                Prefetch("starting_points", StartingPoint.objects.select_related("outcome"))
            )
            .first(),
            "may_sample": portfolio.may_quality_assure(user),
            "may_eqa_review": portfolio.may_eqa_review(user),
            "is_centre_admin": user.is_centre_admin,
            "is_learner": portfolio.belongs_to(user),
            "shows_workplace": portfolio.shows_workplace_to(user),
            "claim_form": ClaimForm(),
            "eqa_review_form": EqaReviewForm(),
            "plan_summary": plan_summaries([portfolio.enrolment_id])[portfolio.enrolment_id],
            "reviews_panel": reviews_panel(portfolio.enrolment),
        },
    )


@login_required
def evidence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(request.user, EvidenceItem.objects.for_pages(), pk=pk)
    return evidence_page(request, evidence)


def _portfolio_to_go_back_to(evidence: EvidenceItem, user) -> Portfolio:
    """The portfolio the evidence page leads back to: the one the item is kept in, unless the
    reader sees it only in another unit it counts in (that unit's assessor or IQA), then that."""
    kept = evidence.portfolio
    if user.pk in (kept.learner_id, kept.assessor_id, kept.iqa_id) or user.is_centre_admin:
        return kept
    return (
        Portfolio.objects.visible_to(user)
        .counting(evidence.pk)
        .select_related("learner")
        .order_by(Case(When(pk=kept.pk, then=0), default=1), "pk")
        .first()
        or kept
    )


def with_judgements(pk: int) -> EvidenceItem:
    """The item as the evidence page shows it (``judged_items``)."""
    return judged_items().get(pk=pk)


def judged_items():
    """Evidence as the evidence page shows it, with its contexts, files, claims, mappings and
    reviews, each in the order shown."""
    return EvidenceItem.objects.for_pages().prefetch_related(
        Prefetch(
            "contexts",
            EvidenceContext.objects.select_related("unit").order_by("unit__code", "letter"),
        ),
        "files",
        Prefetch(
            "claimed_criteria",
            Criterion.objects.select_related("unit").order_by("unit__code", "position"),
        ),
        Prefetch(
            "mappings",
            Mapping.objects.select_related("criterion__unit").order_by(
                "criterion__unit__code", "criterion__position"
            ),
        ),
        Prefetch("reviews", Review.objects.select_related("assessor")),
    )


def evidence_page(
    request: HttpRequest, evidence: EvidenceItem, *, review_form: EvidenceReviewForm | None = None
) -> HttpResponse:
    """The evidence page for whoever may see it, with the actions their role allows; a review
    form passed in (bound, with errors) is shown as it was filled in."""
    evidence = review_form.evidence if review_form else with_judgements(evidence.pk)
    user = request.user
    may_map = evidence.may_map(user)
    may_review, may_edit = evidence.may_review(user), evidence.may_edit(user)
    # Its assessor or learner is told why it is no longer reviewed or changed: another unit it
    # counts in is signed off (asked again only then).
    signed_elsewhere = None
    if (
        not may_review
        and evidence.status in EvidenceItem.AWAITING_REVIEW
        and evidence.portfolio.may_assess(user)
    ) or (not may_edit and evidence.is_editable and evidence.portfolio.may_work_on(user)):
        signed_elsewhere = evidence.closed_unit_counting_it()
    if review_form is None and (may_review or may_map):
        review_form = EvidenceReviewForm(evidence=evidence, user=user, reviewing=may_review)
    # Claimed, confirmed or shown in another unit too, each criterion and context is named with
    # its unit.
    units = (
        {c.unit_id for c in evidence.claimed_criteria.all()}
        | {m.criterion.unit_id for m in evidence.mappings.all()}
        | {c.unit_id for c in evidence.contexts.all()}
    )
    several_units = bool(units - {evidence.portfolio.unit_id})
    # How the background check of a file this person added ended: shown here until seen.
    file_checks = list(
        Notification.objects.filter(
            recipient=user, evidence=evidence, file_check=True, read_at__isnull=True
        ).order_by("created_at", "pk")
    )
    if file_checks:
        Notification.objects.filter(pk__in=[n.pk for n in file_checks]).update(
            read_at=timezone.now()
        )
    return render(
        request,
        "assessments/evidence_detail.html",
        {
            "evidence": evidence,
            "portfolio": _portfolio_to_go_back_to(evidence, user),
            "testimony": WitnessTestimony.objects.filter(evidence=evidence).first(),
            "observation": ObservationRecord.objects.filter(evidence=evidence).first(),
            "may_edit": may_edit,
            "may_delete": evidence.may_delete(user),
            "may_review": may_review,
            "signed_elsewhere": signed_elsewhere,
            "may_map": may_map,
            "review_form": review_form,
            "several_units": several_units,
            "is_learner": evidence.portfolio.belongs_to(user),
            "file_checks": file_checks,
            # Whoever sees the item sees its enrolment, so the plans in force it fulfils.
            "plan_activities": PlanActivity.objects.filter(
                evidence=evidence, plan__status__in=AssessmentPlan.ISSUED
            )
            .select_related("plan")
            .order_by("plan__enrolment_id", "position", "pk"),
        },
        status=400 if review_form and review_form.is_bound else 200,
    )
