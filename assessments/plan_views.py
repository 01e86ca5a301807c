"""The assessment plan's pages: an enrolment's plan with its versions, one version, the
activities of a draft, issuing it, the learner's acceptance or request for a change, and the
evidence linked to an activity. Whoever sees the enrolment, or follows it as an employer, reads
its plans (``AssessmentPlanQuerySet.visible_to``); the assessor writes them, the learner accepts
them."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from assessments import planning
from assessments.forms import SignForm
from assessments.models import AssessmentPlan, PlanActivity
from assessments.plan_forms import ActivityForm, ChangeForm, LinkForm
from assessments.schedule import Timing
from assessments.signatures import SignatureStatus
from portfolio.access import error_messages, get_for_user, posted
from portfolio.models import Enrolment, EvidenceItem, Portfolio, User


@dataclass
class LinkedItem:
    """An item linked to an activity, as the reader may see it: its title only where they may
    see the item (an employer sees that it is done, not what, unless the workplace allows it),
    and a link to it only where they may open it."""

    item: EvidenceItem
    titled: bool
    opens: bool


@dataclass
class ActivityView:
    row: planning.ActivityRow
    linked: list[LinkedItem]
    # The items the reader may still link to it (empty where they may not link).
    choices: list[EvidenceItem] = field(default_factory=list)

    @property
    def activity(self) -> PlanActivity:
        return self.row.activity

    @property
    def accepted(self) -> int:
        return len(self.row.accepted)


@dataclass
class VersionView:
    """One version of the plan as the page shows it to its reader."""

    plan: AssessmentPlan
    activities: list[ActivityView]
    signatures: list[SignatureStatus]
    may_edit: bool
    may_link: bool

    @property
    def done(self) -> int:
        return sum(1 for a in self.activities if a.row.due.timing == Timing.DONE)


@dataclass
class Reader:
    """What one person may see of an enrolment's evidence, loaded once for a page."""

    user: User
    linkable: list[EvidenceItem]  # what they see of it, in the order offered
    titled: set[int]  # whose titles they may read, whether or not they open them
    may_plan: bool  # ``AssessmentPlan.may_plan``, asked once for every version shown

    @classmethod
    def of(cls, user: User, enrolment_id: int) -> "Reader":
        visible = list(
            EvidenceItem.objects.visible_to(user)
            .filter(portfolio__enrolment_id=enrolment_id)
            .only("pk", "title", "status", "occurred_on")
            .order_by("-occurred_on", "-pk")
        )
        titled = {item.pk for item in visible}
        if user.is_employer:
            # A line manager reads the titles where the workplace lets them see evidence.
            titled |= set(
                EvidenceItem.objects.filter(
                    portfolio__in=Portfolio.objects.followed_by(user).filter(
                        enrolment_id=enrolment_id, workplace__employer_sees_evidence=True
                    )
                )
                .exclude(status=EvidenceItem.Status.DRAFT)
                .values_list("pk", flat=True)
            )
        return cls(user, visible, titled, AssessmentPlan.may_plan(user, enrolment_id))

    def version(self, plan: AssessmentPlan, pauses) -> VersionView:
        # As ``may_write`` and ``may_link`` say, with the writer's check made once.
        may_link = plan.in_force and (self.may_plan or plan.may_respond(self.user))
        opens = {item.pk for item in self.linkable}
        activities = []
        for row in planning.activity_rows(plan, pauses=pauses):
            linked = [
                LinkedItem(item, item.pk in self.titled, item.pk in opens) for item in row.linked
            ]
            ids = {item.pk for item in row.linked}
            choices = [item for item in self.linkable if item.pk not in ids] if may_link else []
            activities.append(ActivityView(row, linked, choices))
        return VersionView(
            plan=plan,
            activities=activities,
            signatures=planning.plan_signature_rows(plan),
            may_edit=plan.is_draft and self.may_plan,
            may_link=may_link,
        )


def _plans(user: User):
    return AssessmentPlan.objects.visible_to(user).select_related("enrolment__learner")


@login_required
def enrolment_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan in force with where each activity stands, its signatures, the draft being
    written (its assessor's) and every earlier version; a POST starts or revises the plan."""
    # An enrolment's page, as the others are: an employer reads the plan on their own page of
    # the learner (``employer_enrolment``) and each version at ``plan_detail``.
    enrolment = get_for_user(
        request.user, Enrolment.objects.select_related("learner", "qualification"), pk=pk
    )
    if request.method == "POST":
        if not AssessmentPlan.may_plan(request.user, enrolment.pk):
            raise PermissionDenied
        try:
            plan = planning.plan_draft(enrolment=enrolment, by=request.user)
        except ValidationError as error:
            error_messages(request, error)
            return redirect("enrolment_plan", pk=enrolment.pk)
        messages.success(
            request,
            f"Version {plan.version} of the plan is a draft: "
            + (
                "add its activities, then issue it."
                if plan.version == 1
                else "change it, then issue it."
            ),
        )
        return redirect(reverse("enrolment_plan", args=[enrolment.pk]) + "#draft")
    versions = list(
        AssessmentPlan.objects.visible_to(request.user)
        .filter(enrolment=enrolment)
        .select_related("written_by")
        .order_by("-version")
    )
    for version in versions:
        version.enrolment = enrolment
    current = next((v for v in versions if v.in_force), None)
    draft = next((v for v in versions if v.is_draft), None)
    pauses = planning.pauses_of([enrolment.pk])[enrolment.pk]
    reader = Reader.of(request.user, enrolment.pk)
    return render(
        request,
        "assessments/enrolment_plan.html",
        {
            "enrolment": enrolment,
            "current": reader.version(current, pauses) if current else None,
            "draft": reader.version(draft, pauses) if draft else None,
            "earlier": [v for v in versions if v is not current and v is not draft],
            "may_plan": reader.may_plan,
            "sees_enrolment": _sees_enrolment(request.user, enrolment),
        },
    )


def _sees_enrolment(user: User, enrolment: Enrolment) -> bool:
    """Whether the page may lead to the enrolment's own page (an employer only follows it)."""
    return Enrolment.objects.visible_to(user).filter(pk=enrolment.pk).exists()


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One version of the plan, readable for ever with its signatures."""
    plan = get_for_user(request.user, _plans(request.user).select_related("written_by"), pk=pk)
    pauses = planning.pauses_of([plan.enrolment_id])[plan.enrolment_id]
    reader = Reader.of(request.user, plan.enrolment_id)
    return render(
        request,
        "assessments/plan_detail.html",
        {
            "plan": plan,
            "enrolment": plan.enrolment,
            "version": reader.version(plan, pauses),
            "may_respond": plan.status == AssessmentPlan.Status.AWAITING_LEARNER
            and plan.may_respond(request.user),
            "sees_enrolment": _sees_enrolment(request.user, plan.enrolment),
        },
    )


def _draft_for(request: HttpRequest, pk: int) -> AssessmentPlan:
    return get_for_user(request.user, _plans(request.user), may=AssessmentPlan.may_write, pk=pk)


def _activity_for(request: HttpRequest, pk: int, may) -> PlanActivity:
    return get_for_user(
        request.user,
        PlanActivity.objects.select_related("plan__enrolment__learner"),
        may=lambda activity, user: may(activity.plan, user),
        pk=pk,
    )


def _back_to_draft(plan: AssessmentPlan) -> HttpResponse:
    return redirect(reverse("enrolment_plan", args=[plan.enrolment_id]) + "#draft")


def _activity_page(
    request: HttpRequest, plan: AssessmentPlan, activity: PlanActivity | None
) -> HttpResponse:
    if problem := plan.change_problem():
        messages.error(request, problem)
        return redirect(plan)
    form = ActivityForm(posted(request)[0], instance=activity, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            saved = planning.plan_activity_save(
                plan=plan,
                by=request.user,
                values=form.values(),
                criteria=form.cleaned_data["criteria"],
                contexts=form.cleaned_data["contexts"],
                activity=activity,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"'{saved.title}' is {'changed' if activity else 'planned'}.")
            if "another" in request.POST:
                return redirect("plan_activity_new", pk=plan.pk)
            return _back_to_draft(plan)
    return render(
        request,
        "assessments/plan_activity_form.html",
        {"plan": plan, "activity": activity, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
def plan_activity_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _activity_page(request, _draft_for(request, pk), None)


@login_required
def plan_activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_for(request, pk, AssessmentPlan.may_write)
    return _activity_page(request, activity.plan, activity)


@login_required
@require_POST
def plan_activity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_for(request, pk, AssessmentPlan.may_write)
    try:
        planning.plan_activity_remove(activity=activity, by=request.user)
    except ValidationError as error:
        error_messages(request, error)
        return redirect(activity.plan)
    messages.success(request, f"'{activity.title}' is taken out of the plan.")
    return _back_to_draft(activity.plan)


@login_required
def plan_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """The assessor signs the draft and it goes to the learner to accept."""
    plan = _draft_for(request, pk)
    if problem := plan.change_problem():
        messages.error(request, problem)
        return redirect(plan)
    form = SignForm(posted(request)[0], request=request)
    if request.method == "POST" and form.is_valid():
        try:
            planning.plan_issue(plan=plan, by=request.user)
        except ValidationError as error:
            error_messages(request, error)
            return _back_to_draft(plan)
        messages.success(
            request,
            f"Version {plan.version} of the plan is issued; {plan.enrolment.learner} has been "
            "asked to accept it.",
        )
        return redirect("enrolment_plan", pk=plan.enrolment_id)
    pauses = planning.pauses_of([plan.enrolment_id])[plan.enrolment_id]
    return render(
        request,
        "assessments/plan_issue.html",
        {
            "plan": plan,
            "version": Reader.of(request.user, plan.enrolment_id).version(plan, pauses),
            "form": form,
            "statement": planning.ISSUE_STATEMENT,
        },
        status=400 if form.is_bound else 200,
    )


def _accept_page(
    request: HttpRequest, plan: AssessmentPlan, sign_form: SignForm, change_form: ChangeForm
) -> HttpResponse:
    pauses = planning.pauses_of([plan.enrolment_id])[plan.enrolment_id]
    return render(
        request,
        "assessments/plan_accept.html",
        {
            "plan": plan,
            "version": Reader.of(request.user, plan.enrolment_id).version(plan, pauses),
            "form": sign_form,
            "change_form": change_form,
            "statement": planning.ACCEPT_STATEMENT,
        },
        status=400 if sign_form.is_bound or change_form.is_bound else 200,
    )


def _waiting_for(request: HttpRequest, pk: int) -> AssessmentPlan | HttpResponse:
    plan = get_for_user(request.user, _plans(request.user), may=AssessmentPlan.may_respond, pk=pk)
    if plan.status != AssessmentPlan.Status.AWAITING_LEARNER:
        messages.info(
            request,
            f"Version {plan.version} of the plan is not waiting for you: it is "
            f"{plan.get_status_display().lower()}.",
        )
        return redirect(plan)
    return plan


@login_required
def plan_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The learner reads the plan and signs their acceptance, or asks for a change."""
    plan = _waiting_for(request, pk)
    if isinstance(plan, HttpResponse):
        return plan
    form = SignForm(posted(request)[0], request=request)
    if request.method == "POST" and form.is_valid():
        try:
            planning.plan_accept(plan=plan, by=request.user)
        except ValidationError as error:
            error_messages(request, error)
        else:
            messages.success(request, f"You have accepted version {plan.version} of your plan.")
        return redirect(plan)
    return _accept_page(request, plan, form, ChangeForm())


@login_required
@require_POST
def plan_change(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _waiting_for(request, pk)
    if isinstance(plan, HttpResponse):
        return plan
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return _accept_page(request, plan, SignForm(request=request), form)
    try:
        planning.plan_change_ask(plan=plan, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(
            request, "Your assessor has been told what you would like changed, and will revise it."
        )
    return redirect(plan)


def _evidence_post(request: HttpRequest, pk: int, *, link: bool) -> HttpResponse:
    activity = _activity_for(request, pk, AssessmentPlan.may_link)
    plan = activity.plan
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("enrolment_plan", args=[plan.enrolment_id]) + f"#activity-{activity.pk}"
    form = LinkForm(request.POST, choices=planning.linkable_evidence(plan, request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(back)
    evidence = form.cleaned_data["evidence"]
    change = planning.plan_evidence_link if link else planning.plan_evidence_unlink
    try:
        change(activity=activity, evidence=evidence, by=request.user)
    except ValidationError as error:
        error_messages(request, error)
    else:
        if link:
            done = " It is done once the evidence is accepted." * (
                evidence.status != EvidenceItem.Status.ACCEPTED
            )
            messages.success(request, f"'{evidence.title}' is linked to '{activity.title}'.{done}")
        else:
            messages.success(
                request, f"'{evidence.title}' is no longer linked to '{activity.title}'."
            )
    return redirect(back)


@login_required
@require_POST
def plan_evidence_link(request: HttpRequest, pk: int) -> HttpResponse:
    return _evidence_post(request, pk, link=True)


@login_required
@require_POST
def plan_evidence_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    return _evidence_post(request, pk, link=False)
