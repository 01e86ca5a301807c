"""The employer's (line manager's) pages: the progress of the learners at the workplaces they are
a contact of (``PortfolioQuerySet.followed_by``), never the portfolio pages themselves; their
evidence and its files only where the workplace lets its line managers see them
(``EvidenceQuerySet.shown_to_employer``)."""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from assessments.models import AssessmentPlan, ProgressReview, Signature
from assessments.planning import Overdue, activity_rows, current_plans, overdue_activities
from assessments.progress import EnrolmentProgress, progress_for
from assessments.reviews import ReviewDue, review_dues
from portfolio.access import role_required
from portfolio.files import file_response
from portfolio.models import Enrolment, EvidenceFile, EvidenceItem, Role, User
from portfolio.roles import set_active_role

REVIEW_KINDS = (
    Signature.Kind.REVIEW_ASSESSOR,
    Signature.Kind.REVIEW_LEARNER,
    Signature.Kind.REVIEW_EMPLOYER,
)


def _signed(kind: Signature.Kind):
    return Exists(
        Signature.objects.filter(progress_review=OuterRef("pk"), kind=kind, revoked_at__isnull=True)
    )


def reviews_to_sign(enrolment_ids) -> "list[ProgressReview]":
    """The reviews of these enrolments waiting for the employer's signature: signed by the
    assessor, not yet by an employer (one query)."""
    return list(
        ProgressReview.objects.filter(enrolment_id__in=list(enrolment_ids))
        .waiting_for(Signature.Kind.REVIEW_EMPLOYER)
        .select_related("enrolment__learner")
        .order_by("held_on", "pk")
    )


@dataclass
class Followed:
    """One learner's enrolment an employer follows, with what their home shows of it."""

    enrolment: Enrolment
    progress: EnrolmentProgress
    plan: AssessmentPlan | None
    overdue: list[Overdue]
    review: ReviewDue
    to_sign: list[ProgressReview] = field(default_factory=list)


@login_required
@role_required(Role.EMPLOYER)
def employer_home(request: HttpRequest) -> HttpResponse:
    """Each learner the employer follows: their progress, the plan in force, what is overdue,
    the next review and the reviews waiting for the employer's signature."""
    set_active_role(request, Role.EMPLOYER)
    enrolments = list(
        Enrolment.objects.followed_by(request.user)
        .select_related("learner", "qualification")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    ids = [enrolment.pk for enrolment in enrolments]
    progress = progress_for(enrolments, follower=request.user)
    plans = current_plans(ids)
    overdue = overdue_activities(ids)
    dues = review_dues(enrolments)
    to_sign: dict[int, list[ProgressReview]] = {pk: [] for pk in ids}
    for review in reviews_to_sign(ids):
        to_sign[review.enrolment_id].append(review)
    rows = [
        Followed(
            enrolment=enrolment,
            progress=progress[enrolment.pk],
            plan=plans.get(enrolment.pk),
            overdue=overdue[enrolment.pk],
            review=dues[enrolment.pk],
            to_sign=to_sign[enrolment.pk],
        )
        for enrolment in enrolments
    ]
    return render(
        request,
        "assessments/employer_home.html",
        {"rows": rows, "waiting": [review for row in rows for review in row.to_sign]},
    )


def _followed_enrolment(user: User, pk: int) -> Enrolment:
    """An enrolment the employer follows, or 404 (``EnrolmentQuerySet.followed_by``): they see
    no enrolment's own pages (``visible_to``)."""
    return get_object_or_404(
        Enrolment.objects.followed_by(user).select_related("learner", "qualification"), pk=pk
    )


@login_required
@role_required(Role.EMPLOYER)
def employer_enrolment(request: HttpRequest, pk: int) -> HttpResponse:
    """One learner the employer follows: progress per unit, the plan's activities, the reviews,
    and their evidence with its files where the workplace allows it."""
    set_active_role(request, Role.EMPLOYER)
    enrolment = _followed_enrolment(request.user, pk)
    progress = progress_for([enrolment], follower=request.user)[enrolment.pk]
    plan = current_plans([enrolment.pk]).get(enrolment.pk)
    evidence = list(
        EvidenceItem.objects.shown_to_employer(request.user)
        .filter(portfolio__enrolment=enrolment)
        .select_related("portfolio__unit")
        .prefetch_related(Prefetch("files", EvidenceFile.objects.ready().order_by("pk")))
        .order_by("-occurred_on", "-pk")
    )
    reviews = (
        ProgressReview.objects.held()
        .filter(enrolment=enrolment)
        .annotate(**{kind.value: _signed(kind) for kind in REVIEW_KINDS})
        .order_by("-held_on", "-pk")
    )
    return render(
        request,
        "assessments/employer_enrolment.html",
        {
            "enrolment": enrolment,
            "progress": progress,
            "plan": plan,
            "activities": activity_rows(plan) if plan else [],
            "shows_evidence": progress_shows_evidence(progress),
            "evidence": evidence,
            "shown_ids": {item.pk for item in evidence},
            "reviews": reviews,
            "review_due": review_dues([enrolment])[enrolment.pk],
        },
    )


def progress_shows_evidence(progress: EnrolmentProgress) -> bool:
    """Whether a unit the employer follows is at a workplace that lets its line managers see
    the evidence (the units are loaded with their workplace)."""
    return any(unit.portfolio.workplace.employer_sees_evidence for unit in progress.units)


@login_required
@role_required(Role.EMPLOYER)
@xframe_options_sameorigin
def employer_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A file of evidence kept in a portfolio the employer follows at a workplace that lets
    them see it (``EvidenceFileQuerySet.shown_to_employer``), served as every file is; 404
    otherwise, and while it is being checked."""
    evidence_file = get_object_or_404(
        EvidenceFile.objects.ready().shown_to_employer(request.user), pk=pk
    )
    return file_response(request, evidence_file)
