"""Where each person lands: the health check, the role homes of the learner's side, the
workplace details and page, and the lock-out page."""

import datetime
from collections.abc import Callable

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from portfolio import enrolments, services, waiting
from portfolio.access import get_for_user, posted, role_required
from portfolio.backends import client_ip
from portfolio.forms import WorkplaceForm
from portfolio.models import (
    EqaGrant,
    EvidenceFile,
    OutgoingEmail,
    Portfolio,
    Role,
    Workplace,
)
from portfolio.roles import active_role, home_url, set_active_role

PAGE_SIZE = 25

# What the apps above add to the centre administrator's home, as (template, the function giving
# its ``panel``), each run once a page: assessment adds the progress reviews due and overdue
# (``assessments/apps.py``), since this side cannot know them.
CENTRE_HOME_PANELS: list[tuple[str, Callable[[], dict]]] = []


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For a load balancer: this process answers and reaches the database. Open to anyone, and
    says nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = active_role(request)
    if role is None:
        return render(request, "portfolio/no_role.html")
    return redirect(home_url(role))


def role_home_page(request: HttpRequest, role: Role):
    """The page of portfolios a role's home lists, acting in that role from now on."""
    set_active_role(request, role)
    portfolios = Portfolio.objects.listed_for(request.user, role)
    return Paginator(portfolios, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@role_required(Role.EQA)
def eqa_home(request: HttpRequest) -> HttpResponse:
    grants = EqaGrant.objects.filter(eqa=request.user).annotate(portfolio_count=Count("portfolios"))
    return render(
        request,
        "portfolio/eqa_home.html",
        {
            "page": role_home_page(request, Role.EQA),
            "grants": grants,
            "now": timezone.now(),
            "waiting_for_you": waiting.for_eqa(request.user),
        },
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def centre_home(request: HttpRequest) -> HttpResponse:
    counts = dict(
        Portfolio.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    )
    statuses = [(label, counts.get(value, 0)) for value, label in Portfolio.Status.choices]
    problems = EvidenceFile.objects.exclude(storage_problem="").order_by("pk")
    unsent = OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.FAILED,
        finished_at__gte=timezone.now() - datetime.timedelta(days=settings.EMAIL_FAILED_KEEP_DAYS),
    )
    return render(
        request,
        "portfolio/centre_home.html",
        {
            "page": role_home_page(request, Role.CENTRE_ADMIN),
            "statuses": statuses,
            "achieved_not_claimed": enrolments.awaiting_claim_count(),
            "storage_problem_count": problems.count(),
            "storage_problems": problems.select_related(
                "evidence__portfolio__learner", "evidence__portfolio__unit"
            )[:20],
            "unsent_email_count": unsent.count(),
            "unsent_emails": unsent[:20],
            "unsent_email_days": settings.EMAIL_FAILED_KEEP_DAYS,
            "waiting_for_you": waiting.for_centre_admin(),
            "panels": [(template, panel()) for template, panel in CENTRE_HOME_PANELS],
        },
    )


@login_required
def portfolio_workplace(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("learner", "unit", "workplace"),
        may=Portfolio.may_work_on,
        pk=pk,
    )
    form = WorkplaceForm(posted(request)[0], instance=portfolio)
    if request.method == "POST" and form.is_valid():
        services.workplace_save(form=form, by=request.user)
        messages.success(request, "Your workplace details are saved.")
        return redirect(portfolio)
    return render(request, "portfolio/workplace_form.html", {"portfolio": portfolio, "form": form})


@login_required
def workplace_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A workplace for the staff: its contacts and the portfolios there the viewer may see."""
    workplace = get_for_user(
        request.user, Workplace.objects.prefetch_related("contacts__user"), pk=pk
    )
    portfolios = (
        Portfolio.objects.visible_to(request.user)
        .filter(workplace=workplace)
        .select_related("learner", "unit", "assessor", "iqa")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    return render(
        request,
        "portfolio/workplace_detail.html",
        {"workplace": workplace, "portfolios": portfolios},
    )


def locked_out(request: HttpRequest, response: HttpResponse, credentials: dict | None):
    """The page shown instead of the sign-in form while a username is locked out (django-axes
    calls it). Each further attempt starts the wait again, so it ends a cool-off from now.

    Wrong passwords asked for again to sign a record count too; whoever reached the limit that
    way is signed out, since the one at the keyboard may not be the account's owner."""
    cool_off = get_cool_off(request)
    while_signing = request.user.is_authenticated
    if while_signing:
        logout(request)
    return render(
        request,
        "registration/locked_out.html",
        {
            "retry_at": timezone.now() + cool_off if cool_off else None,
            "while_signing": while_signing,
        },
        status=429,
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, its e-mail sent by the background worker like every other."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        services.email_queue(to=to_email, subject=subject, body=body)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, throttled per address and per e-mail address typed: past the
    limit the form says so, keeping what was typed, and sends nothing."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        refusal = services.password_reset_refusal(
            email=form.cleaned_data["email"], address=client_ip(self.request)
        )
        if refusal:
            form.add_error(None, refusal)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)
