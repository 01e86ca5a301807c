"""The pages of progress reviews and breaks in learning: an enrolment's reviews, writing one,
reading and signing one, the employer's single-use link, and breaks recorded and ended."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from assessments import review_services as services
from assessments.forms import SignForm
from assessments.models import (
    BreakInLearning,
    ProgressReview,
    Signature,
    assesses_enrolment,
)
from assessments.review_forms import (
    BreakEndForm,
    BreakForm,
    ReviewForm,
    ReviewLinkForm,
    ReviewLinkSignForm,
    ReviewSignForm,
)
from assessments.reviews import (
    period_start,
    review_progress,
    review_signature_rows,
    reviews_panel,
)
from portfolio.access import error_messages, get_for_user, posted, site_url
from portfolio.backends import client_ip
from portfolio.links import browser_key, link_landing
from portfolio.models import Enrolment, Role, WorkplaceContact
from portfolio.roles import active_role

ENROLMENTS = Enrolment.objects.select_related("learner", "qualification")
REVIEWS = ProgressReview.objects.select_related(
    "enrolment__learner", "enrolment__qualification", "written_by"
).with_signatures()


def _may_assess(enrolment: Enrolment, user) -> bool:
    return assesses_enrolment(user, enrolment.pk)


@login_required
def enrolment_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    """Every review of the enrolment with where it stands, when the next falls due, and the
    breaks in learning."""
    enrolment = get_for_user(request.user, ENROLMENTS, pk=pk)
    reviews = list(
        REVIEWS.visible_to(request.user).filter(enrolment=enrolment).order_by("-held_on", "-pk")
    )
    panel = reviews_panel(enrolment)
    return render(
        request,
        "assessments/enrolment_reviews.html",
        {
            "enrolment": enrolment,
            "reviews": reviews,
            "next": panel["next"],
            "breaks": panel["breaks"],
            "may_write": _may_assess(enrolment, request.user),
            "may_record_breaks": BreakInLearning.may_record(enrolment.pk, request.user),
        },
    )


@login_required
def review_new(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = get_for_user(request.user, ENROLMENTS, may=_may_assess, pk=pk)
    draft = REVIEWS.filter(enrolment=enrolment).exclude(
        signatures__kind=Signature.Kind.REVIEW_ASSESSOR, signatures__revoked_at__isnull=True
    )
    if draft := draft.first():
        messages.info(request, "A review is being written: carry on with it.")
        return redirect("review_edit", pk=draft.pk)
    return _review_form(request, enrolment, None)


@login_required
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_for_user(request.user, REVIEWS, may=ProgressReview.may_write, pk=pk)
    return _review_form(request, review.enrolment, review)


def _review_form(request: HttpRequest, enrolment: Enrolment, review: ProgressReview | None):
    initial = (
        {"held_on": review.held_on, "went_well": review.went_well, "targets": review.targets}
        if review
        else {"held_on": timezone.localdate()}
    )
    form = ReviewForm(posted(request)[0], initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_save(
                enrolment=enrolment, review=review, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, "The review is saved. Sign it when it is agreed with the learner."
            )
            return redirect(review)
    held_on = form.cleaned_data.get("held_on") if form.is_bound and form.is_valid() else None
    held_on = held_on or (review.held_on if review else timezone.localdate())
    period_from = period_start(enrolment, before=review)
    return render(
        request,
        "assessments/progress_review_form.html",
        {
            "enrolment": enrolment,
            "review": review,
            "form": form,
            "period_from": period_from,
            "held_on": held_on,
            "progress": review_progress(
                enrolment, period_from=period_from, held_on=max(held_on, period_from)
            ),
        },
    )


@login_required
def progress_review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_for_user(request.user, REVIEWS, pk=pk)
    return _detail(request, review)


def _detail(request, review: ProgressReview, *, sign_form=None, link_form=None, status=200):
    user = request.user
    part = review.part_for(user)
    if sign_form is None and part is not None:
        sign_form = _sign_form(request, part, data=None)
    may_send_link = _may_send_link(review, user)
    if link_form is None and may_send_link:
        link_form = ReviewLinkForm(contacts=_contacts(review))
    return render(
        request,
        "assessments/progress_review_detail.html",
        {
            "review": review,
            "enrolment": review.enrolment,
            "signatures": review_signature_rows(review),
            "part": part,
            "sign_form": sign_form,
            "statement": services.STATEMENTS.get(part, ""),
            "link_form": link_form if may_send_link else None,
            "may_write": review.may_write(user),
            "employer_signed": review.signed(Signature.Kind.REVIEW_EMPLOYER) is not None,
            # An employer reads the enrolment's reviews on their own page, not the enrolment's.
            "back": reverse(
                "employer_enrolment"
                if active_role(request) == Role.EMPLOYER
                else "enrolment_reviews",
                args=[review.enrolment_id],
            ),
            "link_days": settings.REVIEW_LINK_DAYS,
        },
        status=status,
    )


def _sign_form(request, part, *, data):
    if part == Signature.Kind.REVIEW_ASSESSOR:
        return SignForm(data, request=request)
    return ReviewSignForm(data, request=request)


def _may_send_link(review: ProgressReview, user) -> bool:
    return (
        review.is_held
        and review.signed(Signature.Kind.REVIEW_EMPLOYER) is None
        and assesses_enrolment(user, review.enrolment_id)
    )


def _contacts(review: ProgressReview):
    """The contacts without an account at the workplaces of the learner's units."""
    return (
        WorkplaceContact.objects.filter(
            workplace__portfolios__enrolment=review.enrolment_id, user__isnull=True
        )
        .distinct()
        .order_by("name", "pk")
    )


@login_required
@require_POST
def review_sign(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_for_user(request.user, REVIEWS, pk=pk)
    part = review.part_for(request.user)
    if part is None:
        raise PermissionDenied("You have no part to sign in this review now.")
    form = _sign_form(request, part, data=request.POST)
    if not form.is_valid():
        return _detail(request, review, sign_form=form)
    try:
        services.review_sign(
            review=review,
            by=request.user,
            comments=form.cleaned_data.get("comments", ""),
            site_url=site_url(request),
        )
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, "You have signed the review.")
    return redirect(review)


@login_required
@require_POST
def review_link_send(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_for_user(
        request.user,
        REVIEWS,
        may=lambda review, user: assesses_enrolment(user, review.enrolment_id),
        pk=pk,
    )
    if not _may_send_link(review, request.user):
        messages.error(
            request,
            "Sign the review first."
            if not review.is_held
            else "The employer has signed this review already.",
        )
        return redirect(review)
    form = ReviewLinkForm(request.POST, contacts=_contacts(review))
    if not form.is_valid():
        return _detail(request, review, link_form=form)
    name, email = form.cleaned_data["name"], form.cleaned_data["email"]
    try:
        services.review_link_send(
            review=review, name=name, email=email, by=request.user, site_url=site_url(request)
        )
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, f"The review is e-mailed to {name} at {email} to sign.")
    return redirect(review)


# The reviews this browser may sign as an employer through a link, as {review id: key}.
REVIEW_SESSION_KEY = "review_links"


@cache_control(private=True, no_store=True)
def review_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: no account needed; opened by a POST, as the witness's is
    (``portfolio.links.link_landing``)."""
    review = services.review_for_token(token)
    return link_landing(
        request,
        review,
        problem=review and review.link_problem,
        session_key=REVIEW_SESSION_KEY,
        opened_here=lambda key: services.review_for_browser(review.pk, key) is not None,
        open_link=lambda ip: services.review_link_open(review=review, ip=ip),
        respond="review_link_respond",
        refused=lambda problem: _link_problem(request, review, problem),
        button=lambda: render(request, "assessments/review_link_open.html", {"review": review}),
    )


@cache_control(private=True, no_store=True)  # the employer is not signed in
def review_link_respond(request: HttpRequest, pk: int) -> HttpResponse:
    """The review for the employer, in the browser that opened the e-mailed link: the
    progress, what went well and the targets (not the evidence), to comment on and sign."""
    key = browser_key(request, REVIEW_SESSION_KEY, pk)
    review = services.review_for_browser(pk, key)
    if review is None:
        return _link_problem(request, None, "browser")
    if review.link_problem:
        return _link_problem(request, review, review.link_problem)
    form = ReviewLinkSignForm(posted(request)[0], initial={"typed_name": review.employer_name})
    if request.method == "POST" and form.is_valid():
        problem = services.review_link_sign(
            review=review,
            typed_name=form.cleaned_data["typed_name"],
            comments=form.cleaned_data["comments"],
            ip=client_ip(request) or None,
            browser_key=key,
        )
        if problem:
            return _link_problem(request, review, problem)
        return render(request, "assessments/review_link_done.html", {"review": review})
    return render(request, "assessments/review_link_respond.html", {"review": review, "form": form})


def _link_problem(request, review, problem: str) -> HttpResponse:
    return render(
        request,
        "assessments/review_link.html",
        {"problem": problem, "review": review},
        status=404 if problem in ("unknown", "browser") else 410,
    )


@login_required
def break_new(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = get_for_user(
        request.user,
        ENROLMENTS,
        may=lambda enrolment, user: BreakInLearning.may_record(enrolment.pk, user),
        pk=pk,
    )
    form = BreakForm(posted(request)[0])
    if request.method == "POST" and form.is_valid():
        try:
            services.break_record(enrolment=enrolment, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The break in learning is recorded.")
            return redirect("enrolment_reviews", pk=enrolment.pk)
    return render(
        request,
        "assessments/break_form.html",
        {"enrolment": enrolment, "form": form, "pause": None},
    )


@login_required
def break_end(request: HttpRequest, pk: int) -> HttpResponse:
    pause = get_for_user(
        request.user,
        BreakInLearning.objects.select_related("enrolment__learner"),
        may=lambda pause, user: BreakInLearning.may_record(pause.enrolment_id, user),
        pk=pk,
    )
    enrolment = pause.enrolment
    if pause.ends_on is not None:
        messages.info(request, f"This break ended on {pause.ends_on:%d %B %Y}.")
        return redirect("enrolment_reviews", pk=enrolment.pk)
    form = BreakEndForm(posted(request)[0], pause=pause)
    if request.method == "POST" and form.is_valid():
        try:
            services.break_end(pause=pause, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The break in learning is ended.")
            return redirect("enrolment_reviews", pk=enrolment.pk)
    return render(
        request,
        "assessments/break_form.html",
        {"enrolment": enrolment, "form": form, "pause": pause},
    )
