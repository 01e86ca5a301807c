"""A learner's portfolio as one PDF a verifier can audit without the web site: one unit's, or
every unit of an enrolment its reader may see, each item of evidence shown once, with the
enrolment's planning (each unit's initial assessment, breaks in learning, the assessment plan
and its earlier versions, the progress reviews: ``planning_for``).

Rendered from ``records/pdf/portfolio.html`` by WeasyPrint, whose URL fetcher reads only our
own static files and these portfolios' own evidence files; everything else is refused.
"""

import datetime
import functools
import hashlib
import mimetypes
import operator
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import storages
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assessments.matrix import unit_rows
from assessments.models import (
    AssessmentPlan,
    BreakInLearning,
    CriterionDecision,
    EqaReview,
    InitialAssessment,
    IqaSample,
    Mapping,
    PriorLearning,
    ProgressReview,
    Review,
    SignableRecord,
    Signature,
    StartingPoint,
)
from assessments.planning import ActivityRow, activity_rows, plan_prefetches, plan_signature_rows
from assessments.reviews import planning_audit, review_signature_rows
from assessments.schedule import Pause
from assessments.signable import stored
from assessments.signatures import SignatureStatus, signature_rows
from assessments.sufficiency import Coverage, coverage_for
from audit.chain import copies, proof_for
from audit.models import AuditEntry
from portfolio.models import Enrolment, EvidenceFile, EvidenceItem, Portfolio
from portfolio.services import file_renditions
from records.integrity import hash_stored, record_check
from units.models import Criterion, EvidenceContext, LearningOutcome, Unit

FILE_URL = re.compile(r"portfolio-file:(?P<pk>\d+)/(?P<variant>print|original)")
STATIC_URL = re.compile(r"static:(?P<path>[A-Za-z0-9_./-]+)")
MATRIX_COLUMNS = 24  # evidence items per matrix table on a landscape page


class RefusedURL(ValueError):
    """A resource the PDF may not read."""


class PortfolioFetcher(URLFetcher):
    """Reads ``portfolio-file:ID/print`` for the files of the evidence the document shows and
    ``static:PATH`` for our own static files; refuses ``file:``, network addresses and any
    other file."""

    def __init__(self, files: dict[int, EvidenceFile]):
        super().__init__(allowed_protocols=[])
        self.files = files

    def fetch(self, url, headers=None):
        if match := FILE_URL.fullmatch(url):
            evidence_file = self.files.get(int(match["pk"]))
            if evidence_file is None or evidence_file.purged_at:
                raise RefusedURL(f"not a file of this portfolio: {url}")
            if match["variant"] == "print" and not evidence_file.print_version:
                # A photo whose renditions the worker has not made yet: made (and kept) now.
                evidence_file = file_renditions(file_id=evidence_file.pk) or evidence_file
                if not evidence_file.print_version:
                    raise RefusedURL(f"{evidence_file.original_name} has no print version")
            field = (
                evidence_file.print_version if match["variant"] == "print" else evidence_file.file
            )
            with storages["evidence"].open(field.name, "rb") as handle:
                body = handle.read()
            original = match["variant"] == "original"
            if original and hashlib.sha256(body).hexdigest() != evidence_file.sha256:
                raise RefusedURL(f"{evidence_file.original_name} changed on storage: not attached")
            content_type = (
                "image/jpeg" if match["variant"] == "print" else evidence_file.content_type
            )
            return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})
        if match := STATIC_URL.fullmatch(url):
            path = match["path"]
            found = finders.find(path) if ".." not in Path(path).parts else None
            if not found:
                raise RefusedURL(f"not one of our static files: {url}")
            content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=Path(found).read_bytes(), headers={"Content-Type": content_type}
            )
        raise RefusedURL(f"the portfolio PDF reads nothing from {url}")


@dataclass
class UnitPart:
    """What the document shows of one unit: its progress, matrix, decisions, signatures, claim
    and quality assurance, over the evidence that counts in it (numbered as in the document)."""

    portfolio: Portfolio
    coverage: Coverage
    outcomes: list[LearningOutcome]
    contexts: list[EvidenceContext]
    items: list[EvidenceItem]
    matrix_pages: list[tuple[int, list[tuple[EvidenceItem, str]]]]
    signatures: list[SignatureStatus]
    signable: SignableRecord
    samples: list[IqaSample]
    eqa_reviews: list[EqaReview]
    initial_assessment: InitialAssessment | None = None

    @property
    def unit(self) -> Unit:
        return self.portfolio.unit


@dataclass
class PlanVersion:
    """A version of the enrolment's assessment plan as the document shows it: its signatures
    with their status, and for the plan in force where each activity stands."""

    plan: AssessmentPlan
    signatures: list[SignatureStatus]
    activities: list[ActivityRow]
    in_force: bool


@dataclass
class ReviewPart:
    """A progress review as the document shows it: its signatures with their status, and its
    computed progress as lines of label and value."""

    review: ProgressReview
    signatures: list[SignatureStatus]
    progress: list[tuple[str, str]]


@dataclass
class Planning:
    """What the document shows of the enrolment's planning: each unit's initial assessment,
    the breaks in learning, every issued version of the assessment plan (the one in force
    first) and every progress review with its signatures."""

    initial: dict[int, InitialAssessment]
    breaks: list[BreakInLearning]
    plans: list[PlanVersion]
    reviews: list[ReviewPart]

    @property
    def in_force(self) -> PlanVersion | None:
        return next((version for version in self.plans if version.in_force), None)

    def state(self) -> list:
        """Everything the document shows of the planning, as plain values: the PDF's reuse key
        holds it, so a change anywhere in it (or an activity falling overdue as the days pass,
        which nothing audits) makes a new document."""
        return [
            [
                [pk, a.updated_at.isoformat(), a.notes]
                + [[p.outcome_id, p.level, p.note] for p in a.starting_points.all()]
                + [[r.pk, r.description, r.evidence_id] for r in a.prior_learning.all()]
                for pk, a in sorted(self.initial.items())
            ],
            [[b.pk, str(b.starts_on), str(b.ends_on), b.reason] for b in self.breaks],
            [
                [
                    version.plan.pk,
                    version.plan.status,
                    _activity_values(version),
                    [[row.signature.pk, row.valid, row.reasons] for row in version.signatures],
                ]
                for version in self.plans
            ],
            [
                [
                    part.review.pk,
                    str(part.review.held_on),
                    str(part.review.period_from),
                    part.progress,
                    part.review.went_well,
                    part.review.targets,
                    str(part.review.next_review_on),
                    part.review.learner_comments,
                    part.review.employer_comments,
                    [[row.signature.pk, row.valid, row.reasons] for row in part.signatures],
                ]
                for part in self.reviews
            ],
        ]


def _activity_values(version: PlanVersion) -> list:
    """The plan's activities as the document shows them, for its reuse key."""
    return [
        [
            row.activity.pk,
            row.activity.title,
            row.activity.details,
            row.activity.method,
            str(row.activity.target_date),
            row.activity.place,
            str(row.activity.planned_for),
            sorted(c.pk for c in row.activity.criteria.all()),
            sorted(c.pk for c in row.activity.contexts.all()),
            str(row.due.timing),
            str(row.due.due_on),
            [item.pk for item in row.linked],
        ]
        for row in version.activities
    ]


def progress_lines(progress, label: str = "") -> list[tuple[str, str]]:
    """A review's computed progress as lines of label and value: the progress
    ``assessments.reviews.review_progress`` computes in the words of the review's page, and any
    other shape (whatever keys it holds) generically, nested mappings becoming "Outer: inner"
    labels and lists joined."""
    if not label and isinstance(progress, dict) and progress.keys() >= REVIEW_PROGRESS:
        try:
            return _review_progress_lines(progress)
        except (KeyError, TypeError, ValueError):
            pass  # not the shape it seemed: shown as it is
    lines = []
    if isinstance(progress, dict):
        for key, value in progress.items():
            name = str(key).replace("_", " ")
            name = f"{label}: {name}" if label else name[:1].upper() + name[1:]
            if isinstance(value, dict):
                lines.extend(progress_lines(value, name))
            else:
                lines.append((name, _shown(value)))
    elif progress not in (None, "", [], {}):
        lines.append((label or "Progress", _shown(progress)))
    return lines


# The keys of a progress as ``assessments.reviews.review_progress`` computes it.
REVIEW_PROGRESS = {"units", "evidence_accepted", "activities_done", "plan_version"}


def _review_progress_lines(progress: dict) -> list[tuple[str, str]]:
    lines = [
        (
            f"Criteria met, {unit['unit']}",
            f"{unit['criteria_met']} in the period, {unit['criteria_met_so_far']} of "
            f"{unit['criteria']} so far",
        )
        for unit in progress["units"]
    ]
    lines.append(
        (
            "Evidence accepted",
            f"{progress['evidence_accepted']} in the period, "
            f"{progress.get('evidence_accepted_so_far', progress['evidence_accepted'])} so far",
        )
    )
    if progress["plan_version"] is None:
        lines.append(("Plan activities done", "No assessment plan in force"))
    else:
        done = progress["activities_done"]
        words = (
            f"{len(done)} in the period, {progress.get('activities_done_so_far', len(done))} "
            f"so far (plan version {progress['plan_version']})"
        )
        if done:
            words += ": " + "; ".join(
                f"{activity['title']} "
                f"({datetime.date.fromisoformat(activity['done_on']):%-d %B %Y})"
                for activity in done
            )
        lines.append(("Plan activities done", words))
    return lines


def _shown(value) -> str:
    if isinstance(value, list):
        return "; ".join(_shown(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {_shown(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None else str(value)


def _linked_evidence(row: ActivityRow, numbered: dict[int, EvidenceItem]) -> str:
    """The evidence linked to an activity, by its numbers in the document: what fulfils it
    (accepted), what is linked but not yet accepted, and how many items are not in it."""
    shown = [numbered[item.pk] for item in row.linked if item.pk in numbered]
    done = [str(item.number) for item in shown if item.status == EvidenceItem.Status.ACCEPTED]
    waiting = [
        f"{item.number} ({item.get_status_display().lower()})"
        for item in shown
        if item.status != EvidenceItem.Status.ACCEPTED
    ]
    missing = len(row.linked) - len(shown)
    words = []
    if done:
        words.append(f"done by {', '.join(done)}")
    if waiting:
        words.append(f"linked, not yet accepted: {', '.join(waiting)}")
    if missing:
        words.append(f"{missing} item{'s' if missing > 1 else ''} not in this document")
    return "; ".join(words) or "none linked yet"


def planning_for(enrolment: Enrolment, shown: Sequence[Portfolio]) -> Planning:
    """The planning of ``enrolment`` that the document of ``shown`` (units of it) holds, in a
    fixed number of queries however many plans, activities, reviews and breaks there are."""
    initial = {
        assessment.portfolio_id: assessment
        for assessment in InitialAssessment.objects.filter(portfolio__in=list(shown))
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("starting_points", StartingPoint.objects.select_related("outcome")),
            Prefetch("prior_learning", PriorLearning.objects.order_by("created_at", "pk")),
        )
    }
    breaks = list(
        BreakInLearning.objects.filter(enrolment=enrolment)
        .select_related("recorded_by")
        .order_by("starts_on", "pk")
    )
    pauses = Pause.of(breaks)
    every_plan = list(
        AssessmentPlan.objects.filter(enrolment=enrolment)
        .select_related("written_by")
        .prefetch_related(*plan_prefetches())
        .order_by("-version")
    )
    issued = [plan for plan in every_plan if plan.status != AssessmentPlan.Status.DRAFT]
    # The plan in force: the latest version issued and not replaced (``current_plans``).
    in_force = next((p for p in issued if p.status in AssessmentPlan.ISSUED), None)
    plans = [
        PlanVersion(
            plan=plan,
            signatures=plan_signature_rows(plan),
            activities=activity_rows(plan, pauses=pauses),
            in_force=plan is in_force,
        )
        for plan in sorted(issued, key=lambda p: (p is not in_force, -p.version))
    ]
    reviews = [
        ReviewPart(review, review_signature_rows(review), progress_lines(review.progress))
        # A review still being written is its assessor's draft, as a plan's is.
        for review in ProgressReview.objects.held()
        .filter(enrolment=enrolment)
        .select_related("written_by")
        .prefetch_related(Prefetch("signatures", Signature.objects.order_by("signed_at", "pk")))
        .order_by("held_on", "pk")
    ]
    return Planning(
        initial=initial,
        breaks=breaks,
        plans=plans,
        reviews=reviews,
    )


def _context(*portfolios: Portfolio, whole: bool = False) -> dict:
    """Everything the document of ``portfolios`` (units of one enrolment) shows: a part for each
    unit, then each item of evidence counting in any of them once, numbered, with the units of
    the enrolment it counts in. ``whole``: the enrolment's document, whose cover names what the
    learner is entered for, rather than one unit's. A fixed number of queries whatever the
    evidence, and two more for each unit (its signatures and its stored record)."""
    wanted = {p.pk for p in portfolios}
    enrolment_units = list(
        Portfolio.objects.filter(enrolment_id=portfolios[0].enrolment_id)
        .select_related(
            "learner", "unit", "assessor", "iqa", "workplace", "enrolment__qualification", "claim"
        )
        .order_by("unit__code", "pk")
    )
    shown = [p for p in enrolment_units if p.pk in wanted]
    unit_ids = [p.unit_id for p in shown]
    # Which units of the enrolment each item counts in, as ``counting_in`` says.
    counts_in = {
        f"in_{p.pk}": Exists(EvidenceItem.objects.counting_in(p).filter(pk=OuterRef("pk")))
        for p in enrolment_units
    }
    items = list(
        EvidenceItem.objects.filter(portfolio__enrolment_id=shown[0].enrolment_id)
        .exclude(status=EvidenceItem.Status.DRAFT)
        .annotate(**counts_in)
        .filter(functools.reduce(operator.or_, [Q(**{f"in_{p.pk}": True}) for p in shown]))
        .select_related(
            "answers_question__unit", "testimony", "observation", "recorded_by", "portfolio__unit"
        )
        .prefetch_related(
            Prefetch("contexts", EvidenceContext.objects.filter(unit_id__in=unit_ids)
                     .select_related("unit").order_by("unit__code", "letter")),
            Prefetch("claimed_criteria", Criterion.objects.filter(unit_id__in=unit_ids)
                     .select_related("unit").order_by("unit__code", "position")),
            Prefetch("files", EvidenceFile.objects.ready().order_by("pk")),
            Prefetch("mappings", Mapping.objects.filter(criterion__unit_id__in=unit_ids)
                     .select_related("criterion__unit")
                     .order_by("criterion__unit__code", "criterion__position")),
            Prefetch("reviews", Review.objects.select_related("assessor").order_by("pk")),
        )
        .order_by("occurred_on", "pk")
    )  # fmt: skip
    for number, item in enumerate(items, start=1):
        item.number = number
        item.counts_in = [p.unit for p in enrolment_units if getattr(item, f"in_{p.pk}")]
    cap = settings.PDF_ATTACHMENT_MAX_BYTES
    for item in items:
        for evidence_file in item.files.all():
            evidence_file.attached = not evidence_file.purged_at and evidence_file.size <= cap
            if evidence_file.attached:
                # Read and hashed before anything is shown: a file whose bytes changed on storage
                # is marked (breaking the signatures that cover it) and not attached.
                evidence_file.evidence = item
                found = hash_stored(evidence_file.file.name)
                if found != evidence_file.sha256 and record_check(evidence_file, found):
                    evidence_file.attached = False

    # Criteria belong to one unit each, so what is decided, confirmed and claimed on them is
    # gathered once for the whole document.
    decisions = {
        d.criterion_id: d
        for d in CriterionDecision.objects.active()
        .filter(portfolio__in=shown)
        .select_related("decided_by")
        .prefetch_related("cited")
    }
    confirmed = defaultdict(list)
    for item in items:
        for mapping in item.mappings.all():
            confirmed[mapping.criterion_id].append((item, mapping))
    criteria_of = defaultdict(list)
    for criterion in Criterion.objects.filter(unit_id__in=unit_ids).order_by("position"):
        criterion.decision = decisions.get(criterion.pk)
        criterion.confirmed_on = confirmed[criterion.pk]
        criteria_of[criterion.outcome_id].append(criterion)
    outcomes_of = defaultdict(list)
    for outcome in LearningOutcome.objects.filter(unit_id__in=unit_ids).order_by("number"):
        outcome.criteria_list = criteria_of[outcome.pk]
        outcomes_of[outcome.unit_id].append(outcome)
    contexts_of = defaultdict(list)
    for context in EvidenceContext.objects.filter(unit_id__in=unit_ids).order_by("letter"):
        contexts_of[context.unit_id].append(context)
    samples_of, reviews_of = defaultdict(list), defaultdict(list)
    samples = (
        IqaSample.objects.filter(portfolio__in=shown)
        .select_related("iqa", "assessor")
        .prefetch_related("items__evidence", "items__decision__criterion", "actions__closed_by")
        .order_by("created_at", "pk")
    )
    for sample in samples:
        samples_of[sample.portfolio_id].append(sample)
    for review in EqaReview.objects.filter(portfolio__in=shown).select_related("eqa"):
        reviews_of[review.portfolio_id].append(review)
    coverage = coverage_for(shown)
    first = shown[0]
    planning = planning_for(first.enrolment, shown)
    numbered = {item.pk: item for item in items}
    for version in planning.plans:
        for row in version.activities:
            # Each item linked to the activity by its number here; those not in the document
            # (a draft, or a unit its reader may not see) only counted.
            row.evidence_text = _linked_evidence(row, numbered)
    for assessment in planning.initial.values():
        for claim in assessment.prior_learning.all():
            claim.item = numbered.get(claim.evidence_id)

    parts = []
    for portfolio in shown:
        unit_items = [item for item in items if getattr(item, f"in_{portfolio.pk}")]
        unit_criteria = [
            criterion
            for outcome in outcomes_of[portfolio.unit_id]
            for criterion in outcome.criteria_list
        ]
        for row in unit_rows(unit_criteria, unit_items, coverage[portfolio.pk]):
            row["criterion"].marks = row["marks"]
        # Each column is an item by its number in the document, with the contexts of this unit
        # it shows.
        columns = [
            (item, "".join(c.letter for c in item.contexts.all() if c.unit_id == portfolio.unit_id))
            for item in unit_items
        ]
        parts.append(
            UnitPart(
                portfolio=portfolio,
                coverage=coverage[portfolio.pk],
                outcomes=outcomes_of[portfolio.unit_id],
                contexts=contexts_of[portfolio.unit_id],
                items=unit_items,
                matrix_pages=[
                    (start, columns[start : start + MATRIX_COLUMNS])
                    for start in range(0, max(len(columns), 1), MATRIX_COLUMNS)
                ],
                signatures=signature_rows(portfolio),
                signable=stored(portfolio),
                samples=samples_of[portfolio.pk],
                eqa_reviews=reviews_of[portfolio.pk],
                initial_assessment=planning.initial.get(portfolio.pk),
            )
        )
    return {
        "whole": whole,
        "learner": first.learner,
        "enrolment": first.enrolment,
        "shown_for": first.enrolment.entered_for if whole else first.unit.label,
        "parts": parts,
        "several_units": len(shown) > 1,
        # The units of the enrolment its reader may not see (a unit's document is of one).
        "hidden_units": len(enrolment_units) - len(shown) if whole else 0,
        "centre_name": settings.CENTRE_NAME,
        "generated_at": timezone.now(),
        "items": items,
        "performance_items": [i for i in items if not i.is_knowledge_answer],
        "answers": [i for i in items if i.is_knowledge_answer],
        # Copies made of the record (this PDF among them) are left out of what it shows and of
        # its proof, so the PDF of an unchanged portfolio is the same PDF.
        "audit_heads": proof_for(first.learner_id, leaving_out_copies=True),
        "planning": planning,
        "audit_entries": AuditEntry.objects.filter(
            Q(portfolio__in=shown) | planning_audit(first.enrolment)
        )
        .exclude(copies())
        .order_by("created_at", "id"),
        "attachment_cap": cap,
    }


def render_enrolment_pdf(
    portfolios: Sequence[Portfolio], *, whole: bool = True, attach: bool = True, images: bool = True
) -> bytes:
    """The document of ``portfolios``, units of one enrolment, as PDF bytes: the enrolment's (the
    units its reader may see), or with ``whole`` false one unit's. Its files are attached up to
    the size cap (unless ``attach`` is false), each once. Without ``images``, the same text with
    no pictures: the floor the export's speed is measured against."""
    context = _context(*portfolios, whole=whole)
    files = {f.pk: f for item in context["items"] for f in item.files.all()}
    fetcher = PortfolioFetcher(files)
    html = render_to_string("records/pdf/portfolio.html", context)
    if not images:
        html = re.sub(r"<img\b[^>]*>", "", html)
    attachments = [
        Attachment(
            url=f"portfolio-file:{f.pk}/original",
            url_fetcher=fetcher,
            name=f"{f.pk}-{f.original_name}",
            description=f"{f.original_name} (SHA-256 {f.sha256})",
        )
        for f in files.values()
        if f.attached and attach
    ]
    return HTML(string=html, base_url="static:", url_fetcher=fetcher).write_pdf(
        attachments=attachments
    )


def render_portfolio_pdf(
    portfolio: Portfolio, *, attach: bool = True, images: bool = True
) -> bytes:
    """One unit's portfolio as PDF bytes: the enrolment's document limited to this unit."""
    return render_enrolment_pdf([portfolio], whole=False, attach=attach, images=images)
