"""The portfolio as one PDF a verifier can audit without the web site.

Rendered from ``records/pdf/portfolio.html`` by WeasyPrint, whose URL fetcher reads only our
own static files and this portfolio's own evidence files; everything else is refused.
"""

import hashlib
import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import storages
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assessments.models import (
    CriterionDecision,
    EqaReview,
    IqaSample,
    Mapping,
    Review,
)
from assessments.signable import stored
from assessments.signatures import signature_rows
from assessments.sufficiency import coverage_for
from audit.chain import copies, proof_for
from audit.models import AuditEntry
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio
from portfolio.services import file_renditions
from records.integrity import hash_stored, record_check

FILE_URL = re.compile(r"portfolio-file:(?P<pk>\d+)/(?P<variant>print|original)")
STATIC_URL = re.compile(r"static:(?P<path>[A-Za-z0-9_./-]+)")
MATRIX_COLUMNS = 24  # evidence items per matrix table on a landscape page


class RefusedURL(ValueError):
    """A resource the PDF may not read."""


class PortfolioFetcher(URLFetcher):
    """Reads ``portfolio-file:ID/print`` for this portfolio's files and ``static:PATH`` for our
    own static files; refuses ``file:``, network addresses and any other portfolio's files."""

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


def _context(portfolio: Portfolio) -> dict:
    """Everything the document shows, in a fixed number of queries."""
    unit = portfolio.unit
    items = list(
        EvidenceItem.objects.counting_in(portfolio)
        .exclude(status=EvidenceItem.Status.DRAFT)
        .select_related(
            "answers_question", "testimony", "observation", "recorded_by", "portfolio__unit"
        )
        .prefetch_related(
            Prefetch("contexts", unit.contexts.order_by("letter")),
            Prefetch("claimed_criteria", unit.criteria.order_by("position")),
            Prefetch("files", EvidenceFile.objects.ready().order_by("pk")),
            Prefetch("mappings", Mapping.objects.filter(criterion__unit=unit).select_related(
                "criterion"
            ).order_by("criterion__position")),
            Prefetch("reviews", Review.objects.select_related("assessor").order_by("pk")),
        )
        .order_by("occurred_on", "pk")
    )  # fmt: skip
    for number, item in enumerate(items, start=1):
        item.number = number
    criteria = list(unit.criteria.order_by("position"))
    outcomes = list(unit.outcomes.order_by("number"))
    decisions = {
        d.criterion_id: d
        for d in CriterionDecision.objects.active()
        .filter(portfolio=portfolio)
        .select_related("decided_by")
        .prefetch_related("cited")
    }
    confirmed = {}
    claimed = {}
    for item in items:
        for mapping in item.mappings.all():
            confirmed.setdefault(mapping.criterion_id, []).append((item, mapping))
        for criterion in item.claimed_criteria.all():
            claimed.setdefault(criterion.pk, set()).add(item.pk)
    by_outcome = {outcome.pk: [] for outcome in outcomes}
    for criterion in criteria:
        criterion.decision = decisions.get(criterion.pk)
        criterion.confirmed_on = confirmed.get(criterion.pk, [])
        confirmed_ids = {item.pk for item, _ in criterion.confirmed_on}
        criterion.marks = [
            "confirmed"
            if item.pk in confirmed_ids
            else "claimed"
            if item.pk in claimed.get(criterion.pk, ())
            else ""
            for item in items
        ]
        by_outcome[criterion.outcome_id].append(criterion)
    for outcome in outcomes:
        outcome.criteria_list = by_outcome[outcome.pk]
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
    matrix_pages = [
        (start, items[start : start + MATRIX_COLUMNS])
        for start in range(0, max(len(items), 1), MATRIX_COLUMNS)
    ]
    return {
        "portfolio": portfolio,
        "unit": unit,
        "centre_name": settings.CENTRE_NAME,
        "generated_at": timezone.now(),
        "coverage": coverage_for([portfolio])[portfolio.pk],
        "outcomes": outcomes,
        "criteria": criteria,
        "contexts": list(unit.contexts.order_by("letter")),
        "items": items,
        "performance_items": [i for i in items if not i.is_knowledge_answer],
        "answers": [i for i in items if i.is_knowledge_answer],
        "matrix_pages": matrix_pages,
        "signatures": signature_rows(portfolio),
        "signable": stored(portfolio),
        # Copies made of the record (this PDF among them) are left out of what it shows and of
        # its proof, so the PDF of an unchanged portfolio is the same PDF.
        "audit_heads": proof_for(portfolio.learner_id, leaving_out_copies=True),
        "samples": IqaSample.objects.filter(portfolio=portfolio)
        .select_related("iqa", "assessor")
        .prefetch_related("items__evidence", "items__decision__criterion", "actions__closed_by")
        .order_by("created_at", "pk"),
        "eqa_reviews": EqaReview.objects.filter(portfolio=portfolio).select_related("eqa"),
        "audit_entries": AuditEntry.objects.filter(portfolio=portfolio)
        .exclude(copies())
        .order_by("created_at", "id"),
        "attachment_cap": cap,
    }


def render_portfolio_pdf(
    portfolio: Portfolio, *, attach: bool = True, images: bool = True
) -> bytes:
    """The whole portfolio as PDF bytes, with its files attached up to the size cap (unless
    ``attach`` is false). Without ``images``, the same text with no pictures: the floor the
    export's speed is measured against."""
    portfolio = Portfolio.objects.select_related(
        "learner", "unit", "assessor", "iqa", "workplace"
    ).get(pk=portfolio.pk)
    context = _context(portfolio)
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
