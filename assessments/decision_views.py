"""The decisions page: the assessor marks any set of criteria met in one post, withdraws a
decision with a reason, and signs the unit off once nothing is missing."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import get_text_list

from assessments import services
from assessments.decision_forms import BulkDecisionForm, Candidate, DecisionWithdrawForm
from assessments.forms import SignForm
from assessments.models import CriterionDecision, Mapping
from assessments.sufficiency import Coverage, coverage_for
from portfolio.access import get_for_user, site_url
from portfolio.models import EvidenceItem, Portfolio, WitnessTestimony
from units.models import Criterion

SIGNED_OFF = "The unit is signed off. The portfolio is assessed and its records locked."


def awaiting_witnesses(portfolio: Portfolio) -> QuerySet[WitnessTestimony]:
    """Witnesses whose link, still open, closes when the unit is signed off: the assessor is
    told before signing."""
    return (
        WitnessTestimony.objects.filter(
            evidence__in=EvidenceItem.objects.counting_in(portfolio),
            status=WitnessTestimony.Status.SENT,
            expires_at__gt=timezone.now(),
        )
        .select_related("evidence")
        .order_by("evidence__occurred_on", "pk")
    )


@dataclass
class Decisions:
    """What the page lists: the criteria that may be marked met now, those no accepted evidence
    confirms yet, and the active decisions."""

    coverage: Coverage
    candidates: list[Candidate]
    lacking: list[Criterion]
    met: list[CriterionDecision]

    @property
    def undecided(self) -> int:
        return len(self.candidates) + len(self.lacking)

    @classmethod
    def of(cls, portfolio: Portfolio) -> "Decisions":
        coverage = coverage_for([portfolio])[portfolio.pk]
        mappings: dict[int, list[Mapping]] = {}
        for mapping in (
            Mapping.objects.filter(
                criterion__unit_id=portfolio.unit_id,
                evidence__in=EvidenceItem.objects.counting_in(portfolio),
                evidence__status=EvidenceItem.Status.ACCEPTED,
            )
            .select_related("evidence__portfolio__unit")
            .order_by("evidence__occurred_on", "evidence_id")
        ):
            mappings.setdefault(mapping.criterion_id, []).append(mapping)
        met = list(
            CriterionDecision.objects.active()
            .filter(portfolio=portfolio)
            .select_related("criterion", "decided_by")
            .prefetch_related("cited")
            .order_by("criterion__position")
        )
        undecided = [c for c in coverage.criteria if c.pk not in coverage.met]
        return cls(
            coverage=coverage,
            candidates=[Candidate(c, mappings[c.pk]) for c in undecided if c.pk in mappings],
            lacking=[c for c in undecided if c.pk not in mappings],
            met=met,
        )


@login_required
def decisions(request: HttpRequest, pk: int) -> HttpResponse:
    """Every criterion not yet met that accepted evidence confirms, with that evidence cited,
    to mark met in one post; what else is missing; the decisions made, each to withdraw; and
    the sign-off once nothing is missing."""
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_assess,
        pk=pk,
    )
    listed = Decisions.of(portfolio)
    action = request.POST.get("action") if request.method == "POST" else None
    data = request.POST if action else None
    mark_form = BulkDecisionForm(
        data if action == "mark" else None,
        candidates=listed.candidates,
        portfolio_id=portfolio.pk,
    )
    withdraw_forms = [
        DecisionWithdrawForm(
            data if action == "withdraw" and request.POST.get("decision") == str(d.pk) else None,
            decision=d,
        )
        for d in listed.met
    ]
    sign_form = SignForm(data if action == "sign" else None, request=request)
    failed = None
    if action == "mark":
        failed = _mark(request, portfolio, mark_form, listed.met)
    elif action == "withdraw":
        bound = next((form for form in withdraw_forms if form.is_bound), None)
        if bound is None:
            messages.error(request, "That decision is already withdrawn.")
            return redirect("decisions", portfolio.pk)
        failed = _withdraw(request, bound)
    elif action == "sign":
        failed = _sign(request, portfolio, sign_form)
        if failed is None:
            return redirect(portfolio)
    if action and failed is None:
        return redirect("decisions", portfolio.pk)
    may_sign = not listed.coverage.unmet
    return render(
        request,
        "assessments/decisions.html",
        {
            "portfolio": portfolio,
            "listed": listed,
            "mark_form": mark_form,
            "met_rows": list(zip(listed.met, withdraw_forms, strict=True)),
            "failed": failed,
            "password_not_kept": failed is sign_form,
            "may_sign": may_sign,
            "form": sign_form,
            "statement": services.SIGN_OFF_STATEMENT,
            "awaiting_witnesses": list(awaiting_witnesses(portfolio)) if may_sign else [],
        },
        status=400 if failed else 200,
    )


def _mark(request, portfolio, form, met) -> BulkDecisionForm | None:
    """Mark the ticked criteria met; the form back if anything is refused (nothing is marked)."""
    if not form.is_valid():
        # The same form sent twice: the first marked them, so the second ticks none listed.
        repeated = [d.criterion.label for d in met if f"met_{d.criterion_id}" in request.POST]
        if form.nothing_ticked and repeated:
            verb = "is" if len(repeated) == 1 else "are"
            messages.info(request, f"{get_text_list(repeated, 'and')} {verb} already marked met.")
            return None
        return form
    try:
        done = services.decisions_mark_met(
            portfolio=portfolio, chosen=form.cleaned_data["chosen"], by=request.user
        )
    except ValidationError as error:
        form.add_error(None, error)
        return form
    labels = get_text_list([d.criterion.label for d in done], "and")
    messages.success(request, f"{labels} {'is' if len(done) == 1 else 'are'} marked met.")
    return None


def _withdraw(request, form) -> DecisionWithdrawForm | None:
    decision = form.decision
    if not form.is_valid():
        return form
    try:
        services.decision_withdraw(
            decision=decision, reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as error:
        form.add_error(None, error)
        return form
    messages.success(request, f"The decision on {decision.criterion.label} is withdrawn.")
    return None


def _sign(request, portfolio, form) -> SignForm | None:
    if not form.is_valid():
        return form
    try:
        services.unit_sign_off(portfolio=portfolio, by=request.user, site_url=site_url(request))
    except ValidationError as error:
        form.add_error(None, error)
        return form
    messages.success(request, SIGNED_OFF)
    return None
