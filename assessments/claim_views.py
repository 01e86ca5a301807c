"""The centre administrator's claims to the awarding body: what an enrolment may be claimed for,
the claim recorded in one post, and the awarding body's reference added later."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assessments import quality
from assessments.forms import ClaimReferenceForm, EnrolmentClaimForm
from portfolio.access import error_messages, get_for_user, posted, role_required
from portfolio.models import Claim, Enrolment, Role
from portfolio.uln import uln_problem


@login_required
@role_required(Role.CENTRE_ADMIN)
def enrolment_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """What the enrolment may be claimed for (the full award once achieved, or the verified
    units), with what the awarding body will lack of the learner's details; one post claims."""
    enrolment = get_for_user(
        request.user,
        Enrolment.objects.select_related("learner", "qualification"),
        pk=pk,
    )
    claimable = quality.claimable(enrolment)
    form = EnrolmentClaimForm(posted(request)[0], claimable=claimable)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = quality.claim_record(
                enrolment=enrolment,
                kind=data["kind"],
                portfolios=list(data["units"]) if data["kind"] == Claim.Kind.UNITS else [],
                reference=data["reference"],
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            count = claim.portfolios.count()
            messages.success(
                request,
                f"The claim for {claim.get_kind_display().lower()} is recorded "
                f"({count} unit{'s' if count != 1 else ''}).",
            )
            return redirect("enrolment_claim", pk=enrolment.pk)
    learner = enrolment.learner
    return render(
        request,
        "assessments/enrolment_claim.html",
        {
            "enrolment": enrolment,
            "claimable": claimable,
            "form": form,
            "claims": Claim.objects.filter(enrolment=enrolment)
            .select_related("claimed_by")
            .prefetch_related("portfolios__unit"),
            "uln_problem": uln_problem(learner.uln),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def claim_reference(request: HttpRequest, pk: int) -> HttpResponse:
    """The awarding body's reference for a claim, given after it was recorded."""
    claim = get_for_user(request.user, Claim.objects.select_related("enrolment"), pk=pk)
    form = ClaimReferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reference"][0])
    else:
        try:
            quality.claim_reference_record(
                claim=claim, reference=form.cleaned_data["reference"], by=request.user
            )
        except ValidationError as error:
            error_messages(request, error)
        else:
            messages.success(request, "The awarding body's reference is recorded.")
    return redirect("enrolment_claim", pk=claim.enrolment_id)
