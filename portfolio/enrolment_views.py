"""The pages of an enrolment: what the learner is entered for, its units, and the choice of
units the centre administrator makes."""

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
from units.combination import rules_in_words
from units.models import Qualification


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
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What the learner is entered for and each of its units the viewer may see."""
    enrolment = get_for_user(
        request.user,
        Enrolment.objects.select_related("learner", "qualification"),
        pk=pk,
    )
    portfolios = list(
        Portfolio.objects.visible_to(request.user)
        .filter(enrolment=enrolment)
        .select_related("unit", "assessor", "iqa")
        .order_by("unit__code")
    )
    every = list(enrolment.portfolios.select_related("unit").order_by("unit__code"))
    qualification = None
    if enrolment.qualification_id:
        qualification = Qualification.objects.with_structure().get(pk=enrolment.qualification_id)
    return render(
        request,
        "portfolio/enrolment_detail.html",
        {
            "enrolment": enrolment,
            "portfolios": portfolios,
            "hidden_units": len(every) - len(portfolios),
            "qualification": qualification,
            "rules": rules_in_words(qualification) if qualification else [],
            "problems": enrolments.choice_problems(qualification, [p.unit for p in every]),
            "may_change_units": enrolment.may_change_units(request.user)
            and not enrolment.units_fixed(every),
            "units_fixed": enrolment.units_fixed(every),
        },
    )


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
