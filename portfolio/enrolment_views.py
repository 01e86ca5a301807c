"""The choice of an enrolment's units the centre administrator makes (the enrolment's own page,
with its progress, is assessment's: ``assessments/progress_views.py``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from portfolio import enrolments
from portfolio.access import get_for_user, posted, role_required
from portfolio.forms import EnrolmentUnitsForm
from portfolio.models import Enrolment, Portfolio, Role, Workplace


def _details(form) -> enrolments.NewUnitDetails:
    data = form.cleaned_data
    return enrolments.NewUnitDetails(
        assessor=data["assessor"],
        iqa=data["iqa"],
        workplace=Workplace.objects.matching(
            organisation=data["organisation"], site=data["site"], sector=data["sector"]
        ),
        job_role=data["job_role"],
    )


def _refused(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


@login_required
@role_required(Role.CENTRE_ADMIN)
def enrolment_units(request: HttpRequest, pk: int) -> HttpResponse:
    """The centre administrator changes the units chosen, while none is signed off."""
    enrolment = get_for_user(
        request.user,
        Enrolment.objects.select_related("learner", "qualification").prefetch_related(
            Prefetch("portfolios", Portfolio.objects.select_related("unit"))
        ),
        may=Enrolment.may_change_units,
        pk=pk,
    )
    fixed = enrolment.units_fixed(list(enrolment.portfolios.all()))
    form = EnrolmentUnitsForm(
        posted(request)[0], qualification=enrolment.qualification, enrolment=enrolment
    )
    if request.method == "POST" and not fixed and form.is_valid():
        try:
            added, removed = enrolments.enrolment_units_save(
                enrolment=enrolment,
                units=form.cleaned_data["unit_objects"],
                details=_details(form),
                by=request.user,
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            if added or removed:
                messages.success(request, "The choice of units is saved.")
            return redirect(enrolment)
    return render(
        request,
        "portfolio/enrolment_units.html",
        {"enrolment": enrolment, "form": form, "fixed": fixed},
        status=400 if form.is_bound and form.errors else 200,
    )


def enrolment_new(request: HttpRequest) -> HttpResponse:
    """Where a learner was entered before the people pages: registering one is there now."""
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("learner_new") + (f"?{query}" if query else ""), permanent=True)
