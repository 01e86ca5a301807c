"""The pages of progress towards an award: an enrolment's page (what the learner is entered
for, how far each unit has come, what the award still lacks) and the centre administrator's list
of enrolments with their progress."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assessments.planning import plan_summaries
from assessments.progress import progress_for
from assessments.review_forms import ReviewWeeksForm
from assessments.review_services import review_weeks_save
from assessments.reviews import reviews_panel
from portfolio.access import get_for_user, role_required
from portfolio.enrolments import Achievement, enrolments_at
from portfolio.models import Enrolment, Role
from portfolio.roles import set_active_role
from units.combination import problems_with_choice, rules_in_words
from units.models import Qualification

PAGE_SIZE = 25


@login_required
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What the learner is entered for, how far it has come, and each of its units the viewer
    may see."""
    enrolment = get_for_user(
        request.user, Enrolment.objects.select_related("learner", "qualification"), pk=pk
    )
    progress = progress_for([enrolment], viewer=request.user)[enrolment.pk]
    qualification, every = progress.qualification, progress.portfolios
    fixed = enrolment.units_fixed(every)
    return render(
        request,
        "assessments/enrolment_detail.html",
        {
            "enrolment": enrolment,
            "progress": progress,
            "qualification": qualification,
            "rules": rules_in_words(qualification) if qualification else [],
            "problems": problems_with_choice(qualification, [p.unit for p in every])
            if qualification
            else [],
            "may_change_units": enrolment.may_change_units(request.user) and not fixed,
            "units_fixed": fixed,
            "plan_summary": plan_summaries([enrolment.pk])[enrolment.pk],
            "reviews_panel": reviews_panel(enrolment),
        },
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def centre_qualifications(request: HttpRequest) -> HttpResponse:
    """Every enrolment with its progress, found by the learner's name and by where it stands
    (achieved, not yet achieved, claimed); and how often each qualification's learners are
    reviewed, set here."""
    set_active_role(request, Role.CENTRE_ADMIN)
    weeks_forms = _review_weeks_forms(request)
    if weeks_forms is None:
        return redirect("centre_qualifications")
    query = request.GET.get("q", "").strip()
    enrolments = Enrolment.objects.select_related("learner", "qualification").order_by(
        "learner__last_name", "learner__first_name", "learner__username", "pk"
    )
    if query:
        enrolments = enrolments.filter(
            Q(learner__first_name__icontains=query)
            | Q(learner__last_name__icontains=query)
            | Q(learner__username__icontains=query)
            | Q(qualification__code__icontains=query)
            | Q(qualification__title__icontains=query)
        )
    state = request.GET.get("achievement", "")
    if state in Achievement.values:
        enrolments = enrolments_at(enrolments, state)
    else:
        state = ""
    page = Paginator(enrolments, PAGE_SIZE).get_page(request.GET.get("page"))
    progress = progress_for(list(page))
    rows = [progress[enrolment.pk] for enrolment in page]
    return render(
        request,
        "assessments/centre_qualifications.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "achievement": state,
            "achievements": Achievement.choices,
            "weeks_forms": weeks_forms,
            "default_review_weeks": settings.PROGRESS_REVIEW_WEEKS,
        },
    )


def _review_weeks_forms(request: HttpRequest) -> list[ReviewWeeksForm] | None:
    """A form for each qualification's review schedule; the one posted, saved (None then), or
    shown again with what is wrong."""
    qualifications = Qualification.objects.order_by("code", "pk")
    posted_pk = request.POST.get("qualification") if request.method == "POST" else None
    forms = []
    for qualification in qualifications:
        mine = posted_pk == str(qualification.pk)
        form = ReviewWeeksForm(request.POST if mine else None, qualification=qualification)
        if mine and form.is_valid():
            weeks = form.cleaned_data["review_weeks"]
            if review_weeks_save(qualification=qualification, weeks=weeks, by=request.user):
                messages.success(
                    request,
                    f"Learners on {qualification.code} are now reviewed every {weeks} weeks.",
                )
            return None
        forms.append(form)
    return forms
