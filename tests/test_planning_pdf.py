"""Planning in the PDF: each unit's initial assessment, the breaks in learning, the assessment
plan in force with its activities and signatures and its earlier versions, every progress
review, bookmarks for them, RPL evidence marked; and a changed plan makes a new PDF."""

import datetime
import io

import pytest
from django.core.files.storage import storages
from django.utils import timezone
from pypdf import PdfReader

from assessments.models import (
    AssessmentPlan,
    BreakInLearning,
    InitialAssessment,
    PlanActivity,
    PriorLearning,
    ProgressReview,
    Signature,
    StartingPoint,
)
from assessments.planning import plan_manifest
from assessments.reviews import review_manifest
from assessments.services import content_sign
from portfolio.models import EvidenceItem
from records import services
from records.exports import document_key
from records.pdf import progress_lines, render_enrolment_pdf, render_portfolio_pdf
from records.tasks import build_export
from tests.factories import ActivityFactory, EvidenceFactory, PlanFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def outline_titles(outline) -> list[str]:
    titles = []
    for entry in outline:
        titles.extend(outline_titles(entry) if isinstance(entry, list) else [entry.title])
    return titles


def sign(target, kind, by=None, **extra):
    manifest = (
        plan_manifest(target)
        if isinstance(target, AssessmentPlan)
        else review_manifest(target, kind, extra.get("signer_name", ""))
    )
    return content_sign(
        target=target,
        kind=kind,
        manifest=manifest,
        by=by,
        role=extra.pop("role", "assessor"),
        statement=extra.pop("statement", "I agree."),
        **extra,
    )


@pytest.fixture
def planned(portfolio):
    """A portfolio whose enrolment has it all: an initial assessment with prior learning shown
    by an accepted RPL item, a break in learning, a superseded plan and the accepted plan in
    force (an activity done, one overdue, one linked to a draft), and a review signed by the
    assessor, the learner and an employer through the link."""
    assessor, learner, enrolment = portfolio.assessor, portfolio.learner, portfolio.enrolment
    certificate = EvidenceFactory(
        portfolio=portfolio,
        title="Level 2 certificate in customer service",
        method=EvidenceItem.Method.PRIOR_LEARNING,
        status="accepted",
        occurred_on=days(-40),
    )
    observed = EvidenceFactory(
        portfolio=portfolio, title="Observed at the till", status="accepted", contexts="ab"
    )
    draft = EvidenceFactory(portfolio=portfolio, title="Unfinished draft account")
    assessment = InitialAssessment.objects.create(
        portfolio=portfolio, recorded_by=assessor, notes="Prefers morning observations."
    )
    first, second, *_ = portfolio.unit.outcomes.order_by("number")
    for outcome, level in ((first, "competent"), (second, "some")):
        StartingPoint.objects.create(
            initial_assessment=assessment, outcome=outcome, level=level, note=f"On {outcome.number}"
        )
    PriorLearning.objects.create(
        initial_assessment=assessment, description="Certificate from 2021", evidence=certificate
    )
    BreakInLearning.objects.create(
        enrolment=enrolment,
        starts_on=days(-30),
        ends_on=days(-21),
        reason="Surgery and recovery",
        recorded_by=assessor,
    )
    old = PlanFactory(
        enrolment=enrolment, version=1, status="superseded", superseded_at=timezone.now()
    )
    ActivityFactory(plan=old, title="First thoughts on an observation")
    sign(old, Signature.Kind.PLAN_ASSESSOR, by=assessor)
    # Issued before the break, so its due dates move on by the break's ten days.
    plan = PlanFactory(
        enrolment=enrolment,
        version=2,
        status="accepted",
        issued_at=timezone.now() - datetime.timedelta(days=40),
        accepted_at=timezone.now(),
    )
    done = ActivityFactory(
        plan=plan,
        title="Observation at a busy time",
        position=1,
        target_date=days(-5),
        place="Main branch till",
        details="During the Saturday rush.",
    )
    done.criteria.set(portfolio.unit.criteria.filter(nos_code__in=["P1", "P2"]))
    done.contexts.set(portfolio.unit.contexts.filter(letter="b"))
    done.evidence.add(observed)
    late = ActivityFactory(
        plan=plan, title="Reflective account of a complaint", position=2, target_date=days(-2),
        method="reflective",
    )  # fmt: skip
    late.evidence.add(draft)
    ActivityFactory(plan=plan, title="Witness statement from the manager", position=3)
    sign(plan, Signature.Kind.PLAN_ASSESSOR, by=assessor)
    sign(plan, Signature.Kind.PLAN_LEARNER, by=learner, role="learner")
    review = ProgressReview.objects.create(
        enrolment=enrolment,
        held_on=days(-1),
        period_from=enrolment.start_date,
        progress={"criteria_met": 4, "evidence_accepted": 2, "activities": {"done": 1, "due": 2}},
        went_well="Calm with an angry caller",
        targets="A witness statement by next month",
        next_review_on=days(83),
        learner_comments="I feel more confident.",
        employer_comments="Doing well on the floor.",
        written_by=assessor,
    )
    sign(review, Signature.Kind.REVIEW_ASSESSOR, by=assessor)
    sign(review, Signature.Kind.REVIEW_LEARNER, by=learner, role="learner")
    sign(
        review, Signature.Kind.REVIEW_EMPLOYER, role="employer", signer_name="Pat Mensah",
        ip="203.0.113.9",
    )  # fmt: skip
    portfolio.rows = {
        "certificate": certificate,
        "observed": observed,
        "draft": draft,
        "old": old,
        "plan": plan,
        "late": late,
        "review": review,
    }
    return portfolio


def number_of(text: str, title: str) -> str:
    """The number the document gives an evidence item, from its heading "N. title"."""
    before = text[: text.index(f". {title}")]
    return before.rsplit(" ", 1)[-1]


def test_the_pdf_holds_the_initial_assessment_with_rpl_evidence_marked(planned):
    text = text_of(render_portfolio_pdf(planned))
    number = number_of(text, "Level 2 certificate in customer service (RPL)")

    assert "Initial assessment: C4" in text
    assert "Already competent On 1" in text
    assert "Some experience On 2" in text
    assert (
        f"Certificate from 2021 {number}. Level 2 certificate in customer service (RPL, accepted)"
        in text
    )
    assert "Prefers morning observations." in text
    assert "Recognition of prior learning (RPL)" in text  # its method, under Evidence
    assert "RPL marks evidence of recognition of prior learning" in text  # the matrix's key


def test_the_pdf_holds_the_breaks_and_the_plan_in_force_with_where_each_activity_stands(
    planned,
):
    text = text_of(render_portfolio_pdf(planned))
    observed = number_of(text, "Observed at the till")

    assert "Surgery and recovery" in text
    assert "Version 2, in force" in text
    # Set before the break, the target is moved on by its ten days.
    assert (
        f"Observation at a busy time: DONE Due {days(5):%-d %B %Y} "
        f"(target {days(-5):%-d %B %Y}, moved on by breaks in learning)"
    ) in text
    assert "C4 1.1 (P1), C4 1.2 (P2)" in text
    assert "Main branch till" in text
    assert f"done by {observed}" in text
    assert "Reflective account of a complaint: OVERDUE" not in text  # moved on too: still due
    assert "Reflective account of a complaint: DUE" in text
    assert "1 item not in this document" in text  # the draft, by count
    assert "Unfinished draft account" not in text
    assert "Witness statement from the manager: DUE" in text
    assert "Assessor's agreement to the assessment plan: VALID" in text
    assert "Learner's acceptance of the assessment plan: VALID" in text
    assert "Version 1, replaced by a later version" in text
    assert "First thoughts on an observation" in text


def test_an_activity_past_its_moved_date_is_overdue(planned):
    PlanActivity.objects.filter(pk=planned.rows["late"].pk).update(target_date=days(-20))

    text = text_of(render_portfolio_pdf(planned))

    assert "Reflective account of a complaint: OVERDUE" in text


def test_a_changed_plan_shows_its_signatures_broken_with_the_cause(planned):
    PlanActivity.objects.filter(pk=planned.rows["late"].pk).update(place="Back office")

    text = text_of(render_portfolio_pdf(planned))

    assert "Learner's acceptance of the assessment plan: BROKEN" in text
    assert "The activity 'Reflective account of a complaint' has changed (place)." in text


def test_every_review_is_in_the_pdf_with_its_progress_comments_and_signatures(planned):
    text = text_of(render_portfolio_pdf(planned))

    assert f"Review of {days(-1):%-d %B %Y}" in text
    assert "Criteria met 4" in text
    assert "Evidence accepted 2" in text
    assert "Activities: done 1" in text
    assert "Calm with an angry caller" in text
    assert "A witness statement by next month" in text
    assert "I feel more confident." in text
    assert "Doing well on the floor." in text
    assert "Employer's signature on the progress review: VALID" in text
    assert "Pat Mensah (employer), a typed name through a single-use link from 203.0.113.9" in text


def test_a_review_still_being_written_is_left_out_of_the_pdf(planned):
    ProgressReview.objects.create(
        enrolment=planned.enrolment,
        held_on=days(0),
        period_from=days(-1),
        went_well="A draft the learner has not agreed",
        targets="Not agreed yet",
        written_by=planned.assessor,
    )

    text = text_of(render_portfolio_pdf(planned))

    assert "Calm with an angry caller" in text
    assert "A draft the learner has not agreed" not in text


def test_a_changed_review_shows_its_signatures_broken(planned):
    ProgressReview.objects.filter(pk=planned.rows["review"].pk).update(targets="Nothing")

    text = text_of(render_portfolio_pdf(planned))

    assert "Assessor's signature on the progress review: BROKEN" in text
    assert "The review has changed (targets)." in text


def test_the_new_sections_have_bookmarks(planned):
    reader = PdfReader(io.BytesIO(render_portfolio_pdf(planned)))
    titles = outline_titles(reader.outline)

    for title in (
        "Initial assessment: C4",
        "Planning and reviews",
        "Breaks in learning",
        "Assessment plan",
        "Version 2, in force",
        "Progress reviews",
        f"Review of {days(-1):%-d %B %Y}",
    ):
        assert title in titles


def test_the_audit_trail_holds_the_enrolments_planning_entries(planned):
    text = text_of(render_portfolio_pdf(planned))

    assert "signed the learner's acceptance of the assessment plan" in text
    assert "signed the employer's signature on the progress review" in text


def test_the_enrolment_pdf_holds_the_planning_once(planned):
    text = text_of(render_enrolment_pdf([planned]))

    assert text.count("Version 2, in force") == 1
    assert "Initial assessment: C4" in text


def test_an_enrolment_with_no_planning_says_so(portfolio):
    text = text_of(render_portfolio_pdf(portfolio))

    assert "Initial assessment: C4 Not recorded." in text
    assert "No plan is issued yet." in text
    assert "No progress reviews yet." in text


class TestReuse:
    def test_an_export_after_a_changed_plan_is_built_again(self, planned):
        first = services.export_request(kind="pdf", by=planned.assessor, portfolio=planned)
        build_export.call(first.pk)
        again = services.export_request(kind="pdf", by=planned.assessor, portfolio=planned)
        assert again.status == "done"  # unchanged: handed the same file at once
        PlanActivity.objects.filter(pk=planned.rows["late"].pk).update(title="Renamed activity")

        changed = services.export_request(kind="pdf", by=planned.assessor, portfolio=planned)

        assert changed.status == "queued"
        build_export.call(changed.pk)
        changed.refresh_from_db()
        first.refresh_from_db()
        assert changed.reuse_key != first.reuse_key
        assert "Renamed activity" in text_of(storages["evidence"].open(changed.file.name).read())

    def test_a_changed_plan_gives_a_new_pdf(self, planned):
        key = document_key([planned])
        assert document_key([planned]) == key

        # Changed behind the application's back, with nothing audited: still a new document.
        PlanActivity.objects.filter(pk=planned.rows["late"].pk).update(title="Renamed")

        assert document_key([planned]) != key

    @pytest.mark.parametrize(
        "change",
        [
            lambda p: BreakInLearning.objects.filter(enrolment=p.enrolment).update(reason="x"),
            lambda p: ProgressReview.objects.filter(enrolment=p.enrolment).update(
                learner_comments="Changed"
            ),
            lambda p: StartingPoint.objects.filter(
                initial_assessment__portfolio=p, level="some"
            ).update(level="new"),
            lambda p: PriorLearning.objects.filter(initial_assessment__portfolio=p).update(
                evidence=None
            ),
        ],
        ids=["break", "review", "starting point", "prior learning"],
    )
    def test_a_changed_break_review_or_initial_assessment_gives_a_new_pdf(self, planned, change):
        key = document_key([planned])

        change(planned)

        assert document_key([planned]) != key

    def test_an_activity_falling_overdue_gives_a_new_pdf(self, planned, monkeypatch):
        key = document_key([planned])

        monkeypatch.setattr(timezone, "localdate", lambda *args: days(30))

        assert document_key([planned]) != key


def test_progress_of_any_shape_is_shown_line_by_line():
    assert progress_lines(
        {"criteria_met": ["1.1", "1.2"], "units": {"C4": {"met": 3}}, "on_track": True}
    ) == [("Criteria met", "1.1; 1.2"), ("Units: C4: met", "3"), ("On track", "yes")]
    assert progress_lines({}) == []


def test_the_progress_a_review_computes_reads_as_on_its_page():
    progress = {
        "units": [
            {"unit": "OCR C4", "title": "Difficult customers", "criteria_met": 2,
             "criteria_met_so_far": 5, "criteria": 27},
        ],
        "evidence_accepted": 1,
        "evidence_accepted_so_far": 3,
        "activities_done": [{"title": "Observed at the returns desk", "done_on": "2026-03-02"}],
        "activities_done_so_far": 2,
        "plan_version": 1,
    }  # fmt: skip

    assert progress_lines(progress) == [
        ("Criteria met, OCR C4", "2 in the period, 5 of 27 so far"),
        ("Evidence accepted", "1 in the period, 3 so far"),
        (
            "Plan activities done",
            "1 in the period, 2 so far (plan version 1): "
            "Observed at the returns desk (2 March 2026)",
        ),
    ]
    no_plan = {**progress, "activities_done": [], "plan_version": None}
    assert progress_lines(no_plan)[-1] == ("Plan activities done", "No assessment plan in force")


@pytest.mark.parametrize("size", [1, 3])
def test_the_planning_adds_a_fixed_number_of_queries(portfolio, django_assert_num_queries, size):
    enrolment = portfolio.enrolment
    InitialAssessment.objects.create(portfolio=portfolio, recorded_by=portfolio.assessor)
    for version in range(1, size + 1):
        plan = PlanFactory(
            enrolment=enrolment,
            version=version,
            status="accepted" if version == size else "superseded",
        )
        for _ in range(size):
            activity = ActivityFactory(plan=plan)
            activity.evidence.add(EvidenceFactory(portfolio=portfolio, status="accepted"))
            activity.criteria.set(portfolio.unit.criteria.all()[:2])
        sign(plan, Signature.Kind.PLAN_ASSESSOR, by=portfolio.assessor)
        review = ProgressReview.objects.create(
            enrolment=enrolment, held_on=days(-version), period_from=days(-100),
            went_well="x", targets="y", written_by=portfolio.assessor,
        )  # fmt: skip
        sign(review, Signature.Kind.REVIEW_ASSESSOR, by=portfolio.assessor)
    BreakInLearning.objects.create(
        enrolment=enrolment, starts_on=days(-50), ends_on=days(-45), reason="Leave",
        recorded_by=portfolio.assessor,
    )  # fmt: skip

    # Expect 38 queries: the 30 of a portfolio with no planning (tests/test_pdf.py), and the
    # initial assessment's starting points and prior learning; the plans' activities, their
    # criteria, contexts and evidence, and the plans' signatures; the reviews' signatures
    with django_assert_num_queries(38):
        render_portfolio_pdf(portfolio)
