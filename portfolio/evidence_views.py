"""The learner's evidence: items, files, witness testimonies, knowledge answers, notifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.text import get_text_list
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from portfolio import services
from portfolio.access import (
    already_saved,
    error_messages,
    get_for_user,
    posted,
    removal_messages,
    site_url,
)
from portfolio.backends import client_ip
from portfolio.files import STORE_FAILED, StoreFailed, file_response
from portfolio.forms import (
    EvidenceForm,
    KnowledgeAnswerForm,
    NotificationSettingsForm,
    SubmitEvidenceForm,
    SubmitManyForm,
    WitnessConfirmForm,
    WitnessDeclineForm,
    WitnessTestimonyForm,
    submitted_key,
)
from portfolio.links import browser_key, link_landing
from portfolio.models import (
    EvidenceFile,
    EvidenceItem,
    Notification,
    Portfolio,
    WitnessTestimony,
    WorkplaceContact,
)
from units.models import Criterion


@login_required
def evidence_new(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_work_on,
        pk=pk,
    )
    form = EvidenceForm(*posted(request), portfolio=portfolio, submitting=_submitting(request))
    form.instance.portfolio = portfolio
    # The same form posted again goes to what it made, before its files are even checked.
    if request.method == "POST" and (
        repeated := services.saved_from(portfolio, submitted_key(form))
    ):
        return already_saved(request, repeated)
    if request.method == "POST" and form.is_valid():
        try:
            evidence = services.evidence_save(
                form=form,
                by=request.user,
                files=form.cleaned_data["files"],
                created=True,
                site_url=site_url(request),
            )
        except services.AlreadySaved as repeat:
            return already_saved(request, repeat.evidence)
        except StoreFailed:
            form.add_error(None, STORE_FAILED)
            return render(
                request, "portfolio/evidence_form.html", {"form": form, "portfolio": portfolio}
            )
        removal_messages(request, form.cleaned_data["files"])
        if form.submitting:
            _submit_saved(request, evidence)
        else:
            messages.success(
                request, f"'{evidence.title}' is saved as a draft. Submit it when it is ready."
            )
        return redirect(evidence)
    return render(
        request,
        "portfolio/evidence_form.html",
        {"form": form, "portfolio": portfolio},
        status=_refused_status(form),
    )


def _submitting(request: HttpRequest) -> bool:
    """Whether the form was sent with its "submit" button rather than "Save draft"."""
    return request.method == "POST" and "submit" in request.POST


def _refused_status(form: EvidenceForm) -> int:
    # A form sent to be submitted and refused comes back as a bad request.
    return 400 if form.is_bound and form.submitting else 200


def _submit_saved(request: HttpRequest, evidence: EvidenceItem) -> None:
    """Submit evidence just saved from its form with the declaration ticked, or say why it stays
    a draft for now and where it can be submitted from once it can."""
    try:
        services.evidence_submit(evidence=evidence, by=request.user, site_url=site_url(request))
    except ValidationError as error:
        messages.warning(
            request,
            f"'{evidence.title}' is saved as a draft but not submitted: "
            + " ".join(error.messages)
            + " Submit it from this page, or with your other drafts from 'Submit drafts', once "
            "it can be.",
        )
        return
    messages.success(request, f"'{evidence.title}' is saved and submitted to your assessor.")


@login_required
def evidence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(
        request.user, EvidenceItem.objects.for_pages(), may=EvidenceItem.may_edit, pk=pk
    )
    if evidence.is_knowledge_answer:
        return redirect("knowledge_answer", evidence.portfolio_id, evidence.answers_question_id)
    form = EvidenceForm(
        *posted(request),
        instance=evidence,
        portfolio=evidence.portfolio,
        submitting=_submitting(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.evidence_save(
                form=form,
                by=request.user,
                files=form.cleaned_data["files"],
                created=False,
                site_url=site_url(request),
            )
        except ValidationError as error:
            error_messages(request, error)
            return redirect(evidence)
        except StoreFailed:
            form.add_error(None, STORE_FAILED)
        else:
            removal_messages(request, form.cleaned_data["files"])
            if form.submitting:
                _submit_saved(request, evidence)
            else:
                messages.success(request, f"'{evidence.title}' is saved.")
            return redirect(evidence)
    return render(
        request,
        "portfolio/evidence_form.html",
        {
            "form": form,
            "portfolio": evidence.portfolio,
            "evidence": evidence,
            "files": evidence.files.all(),
        },
        status=_refused_status(form),
    )


@login_required
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(
        request.user, EvidenceItem.objects.for_pages(), may=EvidenceItem.may_delete, pk=pk
    )
    if request.method == "POST":
        portfolio = evidence.portfolio
        title = evidence.title
        try:
            services.evidence_delete(evidence=evidence, by=request.user)
        except ValidationError as error:
            error_messages(request, error)
            return redirect(evidence)
        messages.success(request, f"The draft '{title}' is deleted.")
        return redirect(portfolio)
    return render(request, "portfolio/evidence_delete.html", {"evidence": evidence})


@login_required
def evidence_submit(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(
        request.user, EvidenceItem.objects.for_pages(), may=EvidenceItem.may_edit, pk=pk
    )
    form = SubmitEvidenceForm(posted(request)[0], evidence=evidence)
    if request.method == "POST" and form.is_valid():
        try:
            services.evidence_submit(evidence=evidence, by=request.user, site_url=site_url(request))
        except ValidationError as error:
            error_messages(request, error)
            return redirect(evidence)
        messages.success(request, f"'{evidence.title}' is submitted to your assessor.")
        return redirect(evidence)
    return render(request, "portfolio/evidence_submit.html", {"evidence": evidence, "form": form})


@login_required
def evidence_submit_many(request: HttpRequest, pk: int) -> HttpResponse:
    """The learner's drafts and referred-back items counting in a portfolio, submitted together
    with one declaration, recorded on each."""
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_work_on,
        pk=pk,
    )
    waiting = list(
        EvidenceItem.objects.counting_in(portfolio)
        .filter(portfolio__learner=portfolio.learner_id, status__in=EvidenceItem.EDITABLE)
        # When it was last reviewed: an item referred back and not changed since is not ticked
        # for the learner.
        .annotate(reviewed_at=Max("reviews__created_at"))
        .select_related("portfolio__unit")
        .prefetch_related(Prefetch("files", EvidenceFile.objects.order_by("pk")))
        .order_by("-occurred_on", "-pk")
    )
    form = SubmitManyForm(
        posted(request)[0], waiting=waiting, problems=_submit_problems(portfolio, waiting)
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["evidence"]
        try:
            services.evidence_submit_many(
                evidence=chosen, by=request.user, site_url=site_url(request)
            )
        except ValidationError as error:
            for message in [*error.messages, "Nothing was submitted."]:
                form.add_error(None, message)
        else:
            titles = get_text_list([f"'{item.title}'" for item in chosen], "and")
            messages.success(
                request,
                f"{len(chosen)} item{pluralize(len(chosen))} submitted to your assessor: {titles}.",
            )
            return redirect(portfolio)
    return render(
        request,
        "portfolio/evidence_submit_many.html",
        {"portfolio": portfolio, "form": form},
        status=400 if form.is_bound else 200,
    )


def _submit_problems(portfolio: Portfolio, waiting: list[EvidenceItem]) -> dict[int, str]:
    """Why each waiting item that cannot be submitted yet cannot, in a few words, by its id:
    the checks ``SubmitEvidenceForm`` makes, from the files already fetched."""
    problems = {}
    for item in waiting:
        files = list(item.files.all())
        checking = [f.original_name for f in files if f.status == EvidenceFile.Status.CHECKING]
        if checking:
            problems[item.pk] = (
                f"{get_text_list(checking, 'and')} {'is' if len(checking) == 1 else 'are'} still "
                "being checked. Submit it once the check is done."
            )
        elif not item.account.strip() and not any(f.is_ready for f in files):
            problems[item.pk] = "there is nothing to assess yet: add a file or write what happened."
    # Another unit of the enrolment signed off may hold some of them: only then is each asked.
    if (
        Portfolio.objects.filter(enrolment_id=portfolio.enrolment_id)
        .exclude(status=Portfolio.Status.IN_PROGRESS)
        .exists()
    ):
        for item in waiting:
            closed = item.closed_unit_counting_it(drafts_too=True)
            if closed is not None and item.pk not in problems:
                problems[item.pk] = (
                    f"it also counts in {closed.unit.label}, which is signed off, so it can no "
                    "longer change."
                )
    return problems


@login_required
@require_POST
def file_remove(request: HttpRequest, pk: int) -> HttpResponse:
    evidence_file = get_for_user(
        request.user,
        EvidenceFile.objects.select_related("evidence__portfolio__learner"),
        may=lambda f, user: f.evidence.may_edit(user),
        pk=pk,
    )
    evidence = evidence_file.evidence
    try:
        services.file_remove(evidence_file=evidence_file, by=request.user)
    except ValidationError as error:
        error_messages(request, error)
        return redirect(evidence)
    messages.success(request, f"The file '{evidence_file.original_name}' is removed.")
    return redirect("evidence_edit", evidence.pk)


@login_required
@xframe_options_sameorigin  # PDFs are shown inside the evidence page
def evidence_file(request: HttpRequest, pk: int, variant: str = "original") -> HttpResponse:
    """Serve a private file to someone who may see its evidence; never from a public path."""
    # A file being checked is not served: it is not yet cleaned of personal details.
    evidence_file = get_for_user(request.user, EvidenceFile.objects.ready(), pk=pk)
    return file_response(request, evidence_file, variant)


@login_required
def witness_edit(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(
        request.user, EvidenceItem.objects.for_pages(), may=EvidenceItem.may_edit, pk=pk
    )
    testimony = WitnessTestimony.objects.filter(evidence=evidence).first()
    if testimony is not None and testimony.is_answered:
        messages.info(request, "The witness has answered, so the statement can no longer change.")
        return redirect(evidence)
    # The contacts of the learner's workplace, such as their line manager, to fill the
    # witness's details from (a script fills them in place; without it, the form comes back
    # filled, keeping what was typed).
    contacts = list(
        WorkplaceContact.objects.filter(workplace_id=evidence.portfolio.workplace_id).order_by(
            "name", "pk"
        )
    )
    if request.method == "POST" and "use_contact" in request.POST:
        return render(
            request,
            "portfolio/witness_form.html",
            {
                "form": WitnessTestimonyForm(
                    instance=testimony, initial=_filled_from(request.POST, contacts)
                ),
                "evidence": evidence,
                "testimony": testimony,
                "contacts": contacts,
            },
        )
    form = WitnessTestimonyForm(posted(request)[0], instance=testimony)
    if request.method == "POST" and form.is_valid():
        sending = "send" in request.POST
        try:
            if sending:
                testimony = services.witness_save_and_invite(
                    form=form, evidence=evidence, by=request.user, site_url=site_url(request)
                )
            else:
                services.witness_save(form=form, evidence=evidence, by=request.user)
        except ValidationError as error:
            error_messages(request, error)
            return redirect(evidence)
        if sending:
            messages.success(
                request,
                f"The witness details are saved and the statement is e-mailed to "
                f"{testimony.witness_name} at {testimony.witness_email}.",
            )
        else:
            messages.success(
                request, "The witness details are saved. Send the statement when ready."
            )
        return redirect(evidence)
    return render(
        request,
        "portfolio/witness_form.html",
        {"form": form, "evidence": evidence, "testimony": testimony, "contacts": contacts},
    )


# A contact's details, and the witness's fields they fill.
CONTACT_FIELDS = {
    "name": "witness_name",
    "job_title": "witness_job_title",
    "email": "witness_email",
}


def _filled_from(data, contacts: list[WorkplaceContact]) -> dict:
    """The witness form's values as posted, with the witness's name, job title and e-mail
    address those of the contact chosen (``use_contact``)."""
    values = {name: data.get(name, "") for name in WitnessTestimonyForm.Meta.fields}
    values["not_a_relative"] = bool(data.get("not_a_relative"))
    chosen = next((c for c in contacts if str(c.pk) == data.get("use_contact")), None)
    if chosen is not None:
        for attribute, name in CONTACT_FIELDS.items():
            values[name] = getattr(chosen, attribute)
    return values


@login_required
@require_POST
def witness_send(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_for_user(
        request.user, EvidenceItem.objects.for_pages(), may=EvidenceItem.may_edit, pk=pk
    )
    testimony = get_object_or_404(WitnessTestimony, evidence=evidence)
    if testimony.is_answered:
        messages.error(request, "The witness has already answered.")
        return redirect(evidence)
    try:
        services.witness_invite(testimony=testimony, by=request.user, site_url=site_url(request))
    except ValidationError as error:
        error_messages(request, error)
        return redirect(evidence)
    messages.success(
        request,
        f"The statement is e-mailed to {testimony.witness_name} at {testimony.witness_email}.",
    )
    return redirect(evidence)


# The testimonies this browser may answer, as {testimony id: its link's token hash}: the link's
# token is exchanged for this on first use, so it does not stay in addresses the logs keep.
WITNESS_SESSION_KEY = "witness_links"


@cache_control(private=True, no_store=True)
def witness_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: no account needed. Opened (a POST, so that a mail scanner fetching the
    link opens nothing), it is exchanged for a key this browser keeps, and leads to an address
    without the token; from then on the link itself opens nothing, here or anywhere."""
    testimony = services.witness_for_token(token)
    return link_landing(
        request,
        testimony,
        problem=testimony and testimony.answer_problem,
        session_key=WITNESS_SESSION_KEY,
        opened_here=lambda key: services.witness_for_browser(testimony.pk, key) is not None,
        open_link=lambda ip: services.witness_open(testimony=testimony, ip=ip),
        respond="witness_respond",
        refused=lambda problem: _witness_link_problem(request, testimony, problem),
        button=lambda: render(request, "portfolio/witness_open.html", {"testimony": testimony}),
    )


@cache_control(private=True, no_store=True)  # the witness is not signed in
def witness_respond(request: HttpRequest, pk: int) -> HttpResponse:
    """The witness's page, in the browser that opened the e-mailed link."""
    key = browser_key(request, WITNESS_SESSION_KEY, pk)
    testimony = services.witness_for_browser(pk, key)
    if testimony is None:
        # Not opened through its link in this browser, or the link was replaced since.
        return render(request, "portfolio/witness_link.html", {"problem": "browser"}, status=404)
    if testimony.answer_problem:
        return _witness_link_problem(request, testimony, testimony.answer_problem)
    confirm = WitnessConfirmForm(testimony=testimony)
    decline = WitnessDeclineForm()
    if request.method == "POST":
        ip = client_ip(request) or None  # none over a Unix socket without a proxy's header
        if "confirm" in request.POST:
            confirm = WitnessConfirmForm(request.POST, testimony=testimony)
            if confirm.is_valid():
                problem = services.witness_respond(
                    testimony=testimony,
                    confirmed=True,
                    typed_name=confirm.cleaned_data["typed_name"],
                    ip=ip,
                    browser_key=key,
                )
                return _witness_done(request, testimony, problem)
        else:
            decline = WitnessDeclineForm(request.POST)
            if decline.is_valid():
                problem = services.witness_respond(
                    testimony=testimony,
                    confirmed=False,
                    reason=decline.cleaned_data["reason"],
                    ip=ip,
                    browser_key=key,
                )
                return _witness_done(request, testimony, problem)
    return render(
        request,
        "portfolio/witness_respond.html",
        {"testimony": testimony, "confirm": confirm, "decline": decline},
    )


def _witness_link_problem(request, testimony, problem: str) -> HttpResponse:
    return render(
        request,
        "portfolio/witness_link.html",
        {"problem": problem, "testimony": testimony},
        status=404 if problem == "unknown" else 410,
    )


def _witness_done(request, testimony, problem: str | None) -> HttpResponse:
    if problem:
        testimony.refresh_from_db()
        return _witness_link_problem(request, testimony, problem)
    return render(request, "portfolio/witness_done.html", {"testimony": testimony})


@login_required
def knowledge_list(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user, Portfolio.objects.select_related("unit", "learner"), pk=pk
    )
    answers = {
        evidence.answers_question_id: evidence
        for evidence in EvidenceItem.objects.visible_to(request.user).filter(
            portfolio=portfolio, answers_question__isnull=False
        )
    }
    questions = [
        (criterion, answers.get(criterion.pk))
        for criterion in portfolio.unit.criteria.filter(kind=Criterion.Kind.KNOWLEDGE).order_by(
            "position"
        )
    ]
    return render(
        request,
        "portfolio/knowledge_list.html",
        {
            "portfolio": portfolio,
            "questions": questions,
            "may_answer": portfolio.may_work_on(request.user),
        },
    )


@login_required
def knowledge_answer(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    portfolio = get_for_user(
        request.user,
        Portfolio.objects.select_related("unit", "learner"),
        may=Portfolio.may_work_on,
        pk=pk,
    )
    criterion = get_object_or_404(
        Criterion, pk=criterion_pk, unit=portfolio.unit, kind=Criterion.Kind.KNOWLEDGE
    )
    existing = EvidenceItem.objects.filter(portfolio=portfolio, answers_question=criterion).first()
    if existing is not None and not existing.may_edit(request.user):
        messages.info(request, "This answer is with your assessor and cannot change now.")
        return redirect(existing)
    submitting = _submitting(request)
    form = KnowledgeAnswerForm(
        posted(request)[0],
        initial={"answer": existing.account if existing else ""},
        submitting=submitting,
    )
    if request.method == "POST" and form.is_valid():
        answer = {
            "portfolio": portfolio,
            "criterion": criterion,
            "answer": form.cleaned_data["answer"],
            "by": request.user,
        }
        try:
            if submitting:
                services.knowledge_answer_submit(**answer, site_url=site_url(request))
            else:
                services.knowledge_answer_save(**answer)
        except ValidationError as error:
            error_messages(request, error)
            return redirect("knowledge_list", portfolio.pk)
        if not submitting:
            messages.success(request, f"Your answer for {criterion.label} is saved as a draft.")
            return redirect("knowledge_list", portfolio.pk)
        following = _next_question(portfolio, criterion)
        done = f"Your answer for {criterion.label} is submitted to your assessor."
        if following is None:
            messages.success(request, f"{done} No knowledge question is left to answer.")
            return redirect("knowledge_list", portfolio.pk)
        messages.success(request, f"{done} Next, the question for {following.label}.")
        return redirect("knowledge_answer", portfolio.pk, following.pk)
    return render(
        request,
        "portfolio/knowledge_answer.html",
        {"portfolio": portfolio, "criterion": criterion, "form": form, "evidence": existing},
        status=400 if form.is_bound else 200,
    )


def _next_question(portfolio: Portfolio, after: Criterion) -> Criterion | None:
    """The knowledge question after ``after`` (going round to the first) whose answer is not
    yet with the assessor: not written, a draft, or referred back; None if there is none."""
    put_forward = set(
        EvidenceItem.objects.filter(portfolio=portfolio, answers_question__isnull=False)
        .exclude(status__in=EvidenceItem.EDITABLE)
        .values_list("answers_question_id", flat=True)
    )
    questions = list(
        portfolio.unit.criteria.filter(kind=Criterion.Kind.KNOWLEDGE).order_by("position")
    )
    later = [q for q in questions if q.position > after.position]
    earlier = [q for q in questions if q.position < after.position]
    return next((q for q in later + earlier if q.pk not in put_forward), None)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """What is new for this person, newest first, in any of their roles."""
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    if request.method == "POST":
        unread.update(read_at=timezone.now())
        messages.success(request, "All marked as read.")
        return redirect("notifications")
    items = (
        Notification.objects.filter(recipient=request.user)
        .select_related("evidence")
        .order_by("-created_at", "-pk")[:100]
    )
    return render(
        request,
        "portfolio/notifications.html",
        {"notifications": items, "unread_count": unread.aggregate(n=Count("pk"))["n"]},
    )


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The person's own choice of how their messages are e-mailed."""
    form = NotificationSettingsForm(posted(request)[0], instance=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.notifications_setting_save(
                user=request.user, choice=form.cleaned_data["notification_email"]
            )
            messages.success(request, "Your choice is saved.")
            return redirect("notification_settings")
        status = 400
    return render(request, "portfolio/notification_settings.html", {"form": form}, status=status)
