"""The centre administrator's page that moves a caseload from one assessor or IQA to another."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from people import caseload
from people.caseload_forms import CaseloadChooseForm, CaseloadMoveForm
from portfolio.access import posted, role_required, site_url
from portfolio.models import Role


@login_required
@role_required(Role.CENTRE_ADMIN)
def caseload_move(request: HttpRequest) -> HttpResponse:
    """Choose whose portfolios and in which role (the query string), then move every one ticked
    to someone else in one post."""
    choose = CaseloadChooseForm(request.GET or None)
    move, held, staying = None, [], []
    if choose.is_valid():
        role, from_person = choose.cleaned_data["role"], choose.cleaned_data["from_person"]
        held = list(caseload.held_by(role, from_person))
        staying = [(p, why) for p in held if (why := caseload.why_it_stays(role, p))]
        movable = [p for p in held if caseload.why_it_stays(role, p) is None]
        move = CaseloadMoveForm(
            posted(request)[0], role=role, from_person=from_person, movable=movable
        )
        if request.method == "POST" and move.is_valid():
            data = move.cleaned_data
            try:
                moved = caseload.caseload_move(
                    role=role,
                    from_person=from_person,
                    to_person=data["to_person"],
                    portfolios=list(data["portfolios"]),
                    reason=data["reason"],
                    by=request.user,
                    site_url=site_url(request),
                )
            except ValidationError as error:
                for message in error.messages:
                    move.add_error(None, message)
            else:
                messages.success(
                    request,
                    f"{caseload.count_of(moved).capitalize()} moved from {from_person} to "
                    f"{data['to_person']}, who has been told.",
                )
                query = urlencode({"role": role.value, "from_person": from_person.pk})
                return redirect(f"{reverse('caseload_move')}?{query}")
    refused = (choose.is_bound and choose.errors) or (move is not None and move.errors)
    if request.method == "POST" and not choose.is_valid():
        refused = True
    return render(
        request,
        "people/caseload_move.html",
        {
            "choose": choose,
            "form": move,
            "held": held,
            "staying": staying,
            "ticked": move.ticked() if move is not None else set(),
        },
        status=400 if refused else 200,
    )
