"""The employer's (line manager's) pages: the progress of the learners at the workplaces they are
a contact of (``PortfolioQuerySet.followed_by``), never the portfolio pages themselves."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portfolio.access import role_required
from portfolio.models import Enrolment, Role
from portfolio.roles import set_active_role


@login_required
@role_required(Role.EMPLOYER)
def employer_home(request: HttpRequest) -> HttpResponse:
    set_active_role(request, Role.EMPLOYER)
    enrolments = (
        Enrolment.objects.followed_by(request.user)
        .select_related("learner", "qualification")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    return render(request, "assessments/employer_home.html", {"enrolments": enrolments})
