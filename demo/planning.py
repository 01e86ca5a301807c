"""The demo centre's planning and reviews: employer1, the duty manager at learner1's and
learner2's workplace, with an account; learner2's accepted assessment plan (one activity done,
one overdue, one to come), a break in learning and a progress review waiting for employer1's
signature; learner3's initial assessment and first plan, waiting for them to accept it.
Everything goes through the product's own services, as the assessor, the learner and the centre
administrator would do it. Used by ``seed_demo``; running it again changes nothing."""

import datetime

from django.utils import timezone

from assessments.models import AssessmentPlan, ProgressReview, StartingPoint
from assessments.planning import (
    plan_accept,
    plan_activity_save,
    plan_draft,
    plan_evidence_link,
    plan_issue,
)
from assessments.review_services import break_record, review_save, review_sign
from assessments.services import initial_assessment_save
from people.services import employer_workplaces_set
from portfolio.models import EvidenceItem, Portfolio, User

EMPLOYER = "employer1"


def _activity(plan, by, *, title, method, days, details="", place="", criteria=(), contexts=()):
    return plan_activity_save(
        plan=plan,
        by=by,
        values={
            "title": title,
            "details": details,
            "method": method,
            "target_date": timezone.localdate() + datetime.timedelta(days=days),
            "place": place,
            "planned_for": None,
        },
        criteria=list(criteria),
        contexts=list(contexts),
    )


def _c4(username: str) -> Portfolio | None:
    return (
        Portfolio.objects.filter(
            learner__username=username, unit__awarding_body="OCR", unit__code="C4"
        )
        .select_related("enrolment__learner", "assessor", "learner", "workplace", "unit")
        .first()
    )


def seed_planning() -> bool:
    """Give learner2 and learner3 their plans, review and initial assessment, once; True if
    anything was added."""
    admin = User.objects.filter(username="admin").first()
    employer = User.objects.filter(username=EMPLOYER).first()
    learner2, learner3 = _c4("learner2"), _c4("learner3")
    added = False
    if learner2 is not None and learner2.assessor and admin and employer:
        added |= _learner2(learner2, admin, employer)
    if learner3 is not None and learner3.assessor:
        added |= _learner3(learner3)
    return added


def _learner2(c4: Portfolio, admin: User, employer: User) -> bool:
    enrolment, assessor, learner = c4.enrolment, c4.assessor, c4.learner
    if AssessmentPlan.objects.filter(enrolment=enrolment).exists():
        return False
    employer_workplaces_set(user=employer, workplaces=[c4.workplace], by=admin)
    criteria = {c.nos_code: c for c in c4.unit.criteria.all()}
    contexts = {c.letter: c for c in c4.unit.contexts.all()}
    plan = plan_draft(enrolment=enrolment, by=assessor)
    observed = _activity(
        plan, assessor, title="Observation: a complaint at the reception desk",
        method=EvidenceItem.Method.OBSERVATION, days=-7, place="Reception desk",
        details="I will watch you deal with a customer's complaint during routine delivery.",
        criteria=[criteria["P1"], criteria["P2"]], contexts=[contexts["a"]],
    )  # fmt: skip
    _activity(
        plan, assessor, title="Witness testimony from your line manager on a busy day",
        method=EvidenceItem.Method.WITNESS, days=-3,
        details="Ask your line manager to confirm how you kept customers informed when the "
        "queue was long.",
        contexts=[contexts["b"]],
    )  # fmt: skip
    _activity(
        plan, assessor, title="Professional discussion: the organisation's procedures",
        method=EvidenceItem.Method.DISCUSSION, days=21,
        details="We will talk through the complaints procedure and your limits of authority.",
    )  # fmt: skip
    plan_issue(plan=plan, by=assessor)
    plan_accept(plan=plan, by=learner)
    accepted = (
        EvidenceItem.objects.counting_in(c4)
        .filter(status=EvidenceItem.Status.ACCEPTED)
        .order_by("occurred_on", "pk")
        .first()
    )
    if accepted is not None:
        plan_evidence_link(activity=observed, evidence=accepted, by=assessor)
    today = timezone.localdate()
    break_record(
        enrolment=enrolment,
        starts_on=today - datetime.timedelta(days=45),
        ends_on=today - datetime.timedelta(days=32),
        reason="Annual leave agreed with the employer.",
        by=assessor,
    )
    if not ProgressReview.objects.filter(enrolment=enrolment).exists():
        review = review_save(
            enrolment=enrolment,
            held_on=today - datetime.timedelta(days=1),
            went_well="Calm and clear with an upset parent; the record of the complaint was "
            "complete and on time.",
            targets="The witness testimony from your line manager, then the professional "
            "discussion before the next review.",
            by=assessor,
        )
        review_sign(review=review, by=assessor)
        review_sign(
            review=review,
            by=learner,
            comments="I feel more confident with complaints now; busy Saturdays are harder.",
        )
    return True


def _learner3(c4: Portfolio) -> bool:
    if AssessmentPlan.objects.filter(enrolment=c4.enrolment).exists():
        return False
    assessor = c4.assessor
    level = StartingPoint.Level
    levels = [level.SOME, level.NEW, level.SOME]
    outcomes = list(c4.unit.outcomes.order_by("number"))
    initial_assessment_save(
        portfolio=c4,
        by=assessor,
        starting_points={
            outcome.pk: (levels[n % len(levels)], "") for n, outcome in enumerate(outcomes)
        },
        notes="Six months on the help desk; has not yet handled complaints on their own.",
        prior_learning=[],
    )
    plan = plan_draft(enrolment=c4.enrolment, by=assessor)
    _activity(
        plan, assessor, title="Reflective account: a customer you found difficult",
        method=EvidenceItem.Method.REFLECTIVE, days=14,
    )  # fmt: skip
    _activity(
        plan, assessor, title="Observation at a quiet time",
        method=EvidenceItem.Method.OBSERVATION, days=28, place="Help desk",
        contexts=[c4.unit.contexts.get(letter="c")],
    )  # fmt: skip
    plan_issue(plan=plan, by=assessor)
    return True
