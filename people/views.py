"""The centre administrator's pages for people, and the invitation's link each person opens."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from people import services
from people.forms import EqaGrantForm, RegistrationForm, StaffForm
from people.tokens import invitation_tokens
from portfolio.access import posted, role_required, site_url
from portfolio.models import ROLE_FLAGS, EqaGrant, Role, User, Workplace, WorkplaceContact
from units.models import Qualification

PAGE_SIZE = 50


def refused(form, error: ValidationError) -> None:
    """Put a service's refusal on the form, each message beside its field where it has one."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, errors in error.error_dict.items():
        for each in errors:
            where = field if field in form.fields else None
            form.add_error(where if field != NON_FIELD_ERRORS else None, each.messages[0])


def _caseload_refused(error: ValidationError) -> bool:
    return hasattr(error, "error_dict") and any(
        each.code == "caseload" for errors in error.error_dict.values() for each in errors
    )


def _manageable(request: HttpRequest, pk: int) -> User:
    person = get_object_or_404(User, pk=pk)
    if not request.user.may_manage(person):
        raise PermissionDenied("Only a superuser may change a superuser's account.")
    return person


@login_required
@role_required(Role.CENTRE_ADMIN)
def people(request: HttpRequest) -> HttpResponse:
    """Everyone, found by name or e-mail address and by role, with who has not yet signed in."""
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    found = User.objects.select_related("invitation").order_by(
        "last_name", "first_name", "username"
    )
    if query:
        for word in query.split():
            found = found.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(username__icontains=word)
            )
    if role in Role.values:
        found = found.filter(**{ROLE_FLAGS[Role(role)]: True})
    return render(
        request,
        "people/people.html",
        {
            "page": Paginator(found, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": query,
            "role": role,
            "roles": Role.choices,
        },
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def learner_new(request: HttpRequest) -> HttpResponse:
    """Register a learner, new or known, on a qualification or single units, and invite a new
    one by e-mail: one post. The qualification is chosen first (a GET), then its units."""
    qualifications = Qualification.objects.order_by("awarding_body", "code")
    chosen = request.GET.get("qualification") or request.POST.get("qualification") or ""
    qualification = get_object_or_404(Qualification, pk=chosen) if chosen.isdigit() else None
    form = RegistrationForm(posted(request)[0], qualification=qualification)
    if request.method == "POST" and form.is_valid():
        values = form.registration()
        try:
            enrolment = services.learner_register(
                **values, by=request.user, site_url=site_url(request)
            )
        except ValidationError as error:
            refused(form, error)
        else:
            learner = enrolment.learner
            new = isinstance(values["learner"], services.NewPerson)
            invited = f" and invited by e-mail to {learner.email}" if new else ""
            messages.success(
                request, f"{learner} is registered for {enrolment.entered_for}{invited}."
            )
            return redirect(enrolment)
    return render(
        request,
        "people/learner_new.html",
        {"form": form, "qualification": qualification, "qualifications": qualifications},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def staff_new(request: HttpRequest) -> HttpResponse:
    """Add a member of staff (or any person) with their roles, invited by e-mail."""
    return _person_page(request, None)


@login_required
@role_required(Role.CENTRE_ADMIN)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a person's name, e-mail address, roles and whether they may sign in."""
    return _person_page(request, _manageable(request, pk))


def _person_page(request: HttpRequest, person: User | None) -> HttpResponse:
    """The form of a person's account: a new one (``person`` None, invited once added) or
    theirs."""
    form = StaffForm(posted(request)[0], user=person)
    caseload = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.staff_save(
                user=person,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                roles=data["roles"],
                is_active=data["is_active"],
                by=request.user,
                site_url=site_url(request),
                details=form.learner_details(),
                workplaces=list(data["workplaces"]),
            )
        except ValidationError as error:
            refused(form, error)
            caseload = _caseload_refused(error)
        else:
            if person is None:
                invited = " and invited by e-mail" if saved.is_active else ""
                messages.success(request, f"{saved} is added{invited}.")
            else:
                messages.success(request, f"{saved} is saved.")
            return redirect("people")
    return render(
        request,
        "people/person_form.html",
        {"form": form, "person": person, "caseload_refused": caseload},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def person_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a person a new invitation to set their password."""
    person = _manageable(request, pk)
    try:
        services.invitation_send(user=person, by=request.user, site_url=site_url(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"A new invitation is on its way to {person.email}.")
    return redirect("people")


class InvitationView(auth_views.PasswordResetConfirmView):
    """The invitation's link: Django's password reset confirmation, with the invitation's own
    tokens; the password set, the person is signed in and lands on their home."""

    token_generator = invitation_tokens
    template_name = "people/invitation.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            services.invitation_accepted(user=form.user)
        messages.success(self.request, "Your password is set and you are signed in.")
        return response


def _eqa_page(request: HttpRequest, form: EqaGrantForm, grant: EqaGrant | None) -> HttpResponse:
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    portfolios = form.fields["portfolios"].queryset
    if query:
        chosen = form.chosen()
        matching = Q(learner__first_name__icontains=query) | Q(learner__last_name__icontains=query)
        matching |= Q(unit__code__iexact=query) | Q(pk__in=chosen)
        portfolios = portfolios.filter(matching)
    return render(
        request,
        "people/eqa_grant_form.html",
        {
            "form": form,
            "grant": grant,
            "portfolios": list(portfolios),
            "chosen": form.chosen(),
            "query": query,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _eqa_save(request: HttpRequest, form: EqaGrantForm, grant: EqaGrant | None):
    data = form.cleaned_data
    try:
        return services.eqa_grant_save(
            grant=grant,
            eqa=data["eqa"],
            whole_centre=data["whole_centre"],
            portfolios=list(data["portfolios"]),
            until=data["until"],
            reason=data["reason"],
            by=request.user,
            site_url=site_url(request),
        )
    except ValidationError as error:
        refused(form, error)
        return None


@login_required
@role_required(Role.CENTRE_ADMIN)
def eqa_access(request: HttpRequest) -> HttpResponse:
    """Every EQA access grant, current and ended."""
    grants = EqaGrant.objects.select_related("eqa", "granted_by").prefetch_related(
        "portfolios__learner", "portfolios__unit"
    )
    return render(
        request,
        "people/eqa_access.html",
        {
            "current": [grant for grant in grants if grant.is_active],
            "ended": [grant for grant in grants if not grant.is_active],
        },
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def eqa_access_new(request: HttpRequest) -> HttpResponse:
    """Give an EQA read-only access to chosen portfolios or the whole centre, until a day."""
    form = EqaGrantForm(posted(request)[0])
    if request.method == "POST" and form.is_valid():
        grant = _eqa_save(request, form, None)
        if grant is not None:
            messages.success(request, f"{grant.eqa} has access and is told so.")
            return redirect("eqa_access")
    return _eqa_page(request, form, None)


@login_required
@role_required(Role.CENTRE_ADMIN)
def eqa_access_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change what a grant covers and until when."""
    grant = get_object_or_404(EqaGrant.objects.prefetch_related("portfolios"), pk=pk)
    form = EqaGrantForm(posted(request)[0], grant=grant)
    if request.method == "POST" and form.is_valid():
        saved = _eqa_save(request, form, grant)
        if saved is not None:
            messages.success(request, f"{saved.eqa}'s access is changed and they are told so.")
            return redirect("eqa_access")
    return _eqa_page(request, form, grant)


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def eqa_access_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a grant now."""
    grant = get_object_or_404(EqaGrant, pk=pk)
    services.eqa_grant_end(grant=grant, by=request.user)
    messages.success(request, f"{grant.eqa}'s access has ended.")
    return redirect("eqa_access")


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def workplace_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Let the line managers at a workplace see their learners' evidence and its files, or only
    their progress (the checkbox on the workplace's page)."""
    workplace = get_object_or_404(Workplace, pk=pk)
    shown = request.POST.get("employer_sees_evidence") == "on"
    services.workplace_evidence_set(workplace=workplace, shown=shown, by=request.user)
    if shown:
        messages.success(request, f"The line managers at {workplace} now see the evidence.")
    else:
        messages.success(request, f"The line managers at {workplace} now see progress only.")
    return redirect(workplace)


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def contact_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a workplace's contact an employer's account and invite them, in one step."""
    contact = get_object_or_404(WorkplaceContact.objects.select_related("workplace"), pk=pk)
    try:
        person = services.contact_invite(
            contact=contact, by=request.user, site_url=site_url(request)
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        invited = "" if person.has_usable_password() else f", invited by e-mail to {person.email}"
        messages.success(request, f"{person} is a line manager at {contact.workplace}{invited}.")
    return redirect(contact.workplace)
