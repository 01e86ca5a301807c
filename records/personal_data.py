"""Everything held about a person, as one ZIP: their records as JSON and their files."""

import json
import zipfile
from collections.abc import Callable
from typing import IO

from django.core.files.storage import storages
from django.forms.models import model_to_dict

from assessments.models import (
    AssessmentPlan,
    BreakInLearning,
    CriterionDecision,
    InitialAssessment,
    Mapping,
    PlanActivity,
    PriorLearning,
    ProgressReview,
    Review,
    Signature,
    StartingPoint,
)
from audit.models import AuditEntry
from portfolio.models import (
    Claim,
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    Notification,
    Portfolio,
    User,
    Workplace,
)

PERSONAL_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "date_joined",
    "last_login",
    "notification_email",
    "uln",
    "date_of_birth",
]


def _rows(queryset, exclude=()) -> list[dict]:
    return [
        {k: v for k, v in model_to_dict(obj).items() if k not in exclude} | {"id": obj.pk}
        for obj in queryset
    ]


def personal_data_zip(
    user: User, out: IO[bytes], *, progress: Callable[..., None] = lambda done, total=None: None
) -> list[str]:
    """Write a ZIP of the person's account, portfolios, evidence, files and everything about
    them to ``out``, calling ``progress(done, total)`` as each file is copied. A stored file that
    is missing or cannot be read is listed in MISSING.txt and in records.json instead of stopping
    the export; returns what was missing."""
    portfolios = Portfolio.objects.filter(learner=user)
    evidence = EvidenceItem.objects.filter(portfolio__in=portfolios).order_by("pk")
    files = list(EvidenceFile.objects.ready().filter(evidence__in=evidence).order_by("pk"))
    kept = [f for f in files if not f.purged_at]
    progress(0, len(kept) + 1)
    storage = storages["evidence"]
    missing: dict[int, str] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, f in enumerate(kept, start=1):
            try:
                with (
                    storage.open(f.file.name, "rb") as handle,
                    archive.open(_in_zip(f), "w") as target,
                ):
                    for chunk in iter(lambda h=handle: h.read(1024 * 1024), b""):
                        target.write(chunk)
            except Exception as exc:  # each store fails its own way: OSError, a bucket error
                # A part written before the read failed stays in the ZIP under its name; the
                # listing says it is incomplete.
                missing[f.pk] = f"could not be read from the store ({exc.__class__.__name__})"
            progress(done)
        records = _records(user, portfolios, evidence, files, missing)
        archive.writestr("records.json", json.dumps(records, indent=2, default=str))
        archive.writestr(
            "README.txt",
            "records.json holds everything this portfolio service holds about you; the files "
            "folder holds the files you uploaded, by evidence item.\n"
            + ("MISSING.txt lists the files that could not be included.\n" if missing else ""),
        )
        lines = [
            f"{f.original_name} (evidence {f.evidence_id}, file {f.pk}, SHA-256 {f.sha256}): "
            f"{missing[f.pk]}"
            for f in kept
            if f.pk in missing
        ]
        if lines:
            archive.writestr(
                "MISSING.txt",
                "These files are held in your records but could not be included:\n"
                + "\n".join(lines)
                + "\n",
            )
    progress(len(kept) + 1)
    return lines


def _in_zip(f: EvidenceFile) -> str:
    return f"files/{f.evidence_id}/{f.pk}-{f.original_name}"


def _records(user, portfolios, evidence, files, missing: dict[int, str]) -> dict:
    plans = AssessmentPlan.objects.filter(enrolment__learner=user).order_by("pk")
    reviews = (
        (
            ProgressReview.objects.filter(enrolment__learner=user)
            | ProgressReview.objects.filter(signatures__signer=user)
        )
        .distinct()
        .order_by("pk")
    )
    return {
        "account": {
            **{name: getattr(user, name) for name in PERSONAL_FIELDS},
            "roles": [role.value for role in user.roles],
        },
        "enrolments": [
            {
                "id": enrolment.pk,
                "entered_for": enrolment.entered_for,
                "start_date": enrolment.start_date,
                "portfolios": sorted(p.pk for p in enrolment.portfolios.all()),
            }
            for enrolment in Enrolment.objects.filter(learner=user)
            .select_related("qualification")
            .prefetch_related("portfolios")
            .order_by("pk")
        ],
        "portfolios": _rows(portfolios),
        "claims": _rows(Claim.objects.filter(enrolment__learner=user).order_by("pk")),
        # Where they work, as the record their portfolios name; not the details of the people
        # there, who are not the person asking.
        "workplaces": _rows(
            Workplace.objects.filter(portfolios__in=portfolios).distinct().order_by("pk")
        ),
        "evidence": _rows(evidence.prefetch_related("contexts", "claimed_criteria")),
        "files": [
            {
                "id": f.pk,
                "evidence": f.evidence_id,
                "name": f.original_name,
                "type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_at": f.uploaded_at,
                "in_this_zip": _in_zip(f) if not f.purged_at and f.pk not in missing else None,
                **({"missing": missing[f.pk]} if f.pk in missing else {}),
            }
            for f in files
        ],
        "witness_testimonies": [
            {
                "evidence": item.pk,
                "witness_name": item.testimony.witness_name,
                "statement": item.testimony.statement,
                "status": item.testimony.status,
            }
            for item in evidence.filter(testimony__isnull=False).select_related("testimony")
        ],
        "reviews": _rows(Review.objects.filter(evidence__in=evidence)),
        "mappings": _rows(Mapping.objects.filter(evidence__in=evidence)),
        "decisions": _rows(CriterionDecision.objects.filter(portfolio__in=portfolios)),
        "initial_assessments": _rows(InitialAssessment.objects.filter(portfolio__in=portfolios)),
        "starting_points": _rows(
            StartingPoint.objects.filter(initial_assessment__portfolio__in=portfolios)
        ),
        "prior_learning": _rows(
            PriorLearning.objects.filter(initial_assessment__portfolio__in=portfolios)
        ),
        "assessment_plans": _rows(plans),
        "plan_activities": _rows(PlanActivity.objects.filter(plan__in=plans).order_by("pk")),
        "breaks_in_learning": _rows(BreakInLearning.objects.filter(enrolment__learner=user)),
        # The reviews of their learning, and those they signed as an employer.
        "progress_reviews": _rows(reviews, exclude={"token_hash", "browser_key_hash"}),
        "signatures": _rows(
            Signature.objects.filter(portfolio__in=portfolios)
            | Signature.objects.filter(plan__in=plans)
            | Signature.objects.filter(progress_review__in=reviews)
            | Signature.objects.filter(signer=user),
            exclude={"manifest"},
        ),
        "notifications": _rows(Notification.objects.filter(recipient=user)),
        "audit_entries": _rows(
            AuditEntry.objects.filter(portfolio__in=portfolios)
            | AuditEntry.objects.filter(actor=user)
        ),
    }
