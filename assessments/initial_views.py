"""The initial assessment of a portfolio: where the learner starts on each learning outcome and
the prior learning they claim, recorded by the assessor and read by whoever sees the
portfolio."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assessments import services
from assessments.initial_forms import InitialAssessmentForm
from assessments.models import InitialAssessment, PriorLearning, StartingPoint
from portfolio.access import get_for_user, posted
from portfolio.models import EvidenceItem, Portfolio


def initial_assessment_of(portfolio: Portfolio) -> InitialAssessment | None:
    """The portfolio's initial assessment with its starting points and prior learning (three
    queries; one when there is none)."""
    return (
        InitialAssessment.objects.filter(portfolio=portfolio)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("starting_points", StartingPoint.objects.select_related("outcome")),
            Prefetch(
                "prior_learning", PriorLearning.objects.select_related("evidence__portfolio__unit")
            ),
        )
        .first()
    )


@login_required
def initial_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    """The assessor records or changes the whole initial assessment in one post; everyone else
    who sees the portfolio reads it."""
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("learner", "unit", "assessor"),
        pk=pk,
    )
    may_assess = portfolio.may_assess(request.user)
    if request.method == "POST" and not may_assess:
        raise PermissionDenied
    assessment = initial_assessment_of(portfolio)
    outcomes = list(portfolio.unit.outcomes.order_by("number"))
    # The learner's items of recognition of prior learning, anywhere in the enrolment, that
    # this reader may see: what may be linked, and what may be linked to.
    prior_items = list(
        EvidenceItem.objects.visible_to(request.user)
        .filter(
            portfolio__enrolment_id=portfolio.enrolment_id,
            method=EvidenceItem.Method.PRIOR_LEARNING,
        )
        .select_related("portfolio__unit")
        .order_by("occurred_on", "pk")
    )
    form = None
    if may_assess:
        form = InitialAssessmentForm(
            posted(request)[0],
            outcomes=outcomes,
            assessment=assessment,
            evidence=prior_items,
            portfolio_id=portfolio.pk,
        )
    if request.method == "POST" and form.is_valid():
        try:
            _, changed = services.initial_assessment_save(
                portfolio=portfolio,
                by=request.user,
                starting_points=form.starting_points(),
                notes=form.cleaned_data["notes"].strip(),
                prior_learning=form.claims(),
                removed=form.removed(),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            if changed or assessment is None:
                messages.success(request, "The initial assessment is saved.")
            else:
                messages.info(request, "Nothing in the initial assessment changed.")
            return redirect(portfolio)
    points = {p.outcome_id: p for p in assessment.starting_points.all()} if assessment else {}
    return render(
        request,
        "assessments/initial_assessment.html",
        {
            "portfolio": portfolio,
            "assessment": assessment,
            "form": form,
            "outcome_points": [(outcome, points.get(outcome.pk)) for outcome in outcomes],
            "prior_items": prior_items,
            "visible_ids": {item.pk for item in prior_items},
            "may_work_on": portfolio.may_work_on(request.user),
            "is_learner": portfolio.belongs_to(request.user),
        },
        status=400 if form is not None and form.is_bound else 200,
    )
