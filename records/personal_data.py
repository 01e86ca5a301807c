"""Everything held about a person, as one ZIP: their records as JSON and their files."""

import json
import tempfile
import zipfile

from django.core.files.storage import storages
from django.forms.models import model_to_dict

from assessments.models import CriterionDecision, Mapping, Review, Signature
from audit.models import AuditEntry
from portfolio.models import EvidenceFile, EvidenceItem, Notification, Portfolio, User

PERSONAL_FIELDS = ["username", "first_name", "last_name", "email", "date_joined", "last_login"]


def _rows(queryset, exclude=()) -> list[dict]:
    return [
        {k: v for k, v in model_to_dict(obj).items() if k not in exclude} | {"id": obj.pk}
        for obj in queryset
    ]


def personal_data_zip(user: User) -> tempfile.SpooledTemporaryFile:
    """A ZIP of the person's account, portfolios, evidence, files and everything about them."""
    portfolios = Portfolio.objects.filter(learner=user)
    evidence = EvidenceItem.objects.filter(portfolio__in=portfolios).order_by("pk")
    files = list(EvidenceFile.objects.ready().filter(evidence__in=evidence).order_by("pk"))
    records = {
        "account": {
            **{name: getattr(user, name) for name in PERSONAL_FIELDS},
            "roles": [role.value for role in user.roles],
        },
        "portfolios": _rows(portfolios),
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
                "in_this_zip": f"files/{f.evidence_id}/{f.pk}-{f.original_name}"
                if not f.purged_at
                else None,
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
        "signatures": _rows(
            Signature.objects.filter(portfolio__in=portfolios)
            | Signature.objects.filter(signer=user),
            exclude={"manifest"},
        ),
        "notifications": _rows(Notification.objects.filter(recipient=user)),
        "audit_entries": _rows(
            AuditEntry.objects.filter(portfolio__in=portfolios)
            | AuditEntry.objects.filter(actor=user)
        ),
    }
    # Returned open: the FileResponse that sends it closes it.
    out = tempfile.SpooledTemporaryFile(max_size=50 * 1024 * 1024)  # noqa: SIM115
    storage = storages["evidence"]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.json", json.dumps(records, indent=2, default=str))
        archive.writestr(
            "README.txt",
            "records.json holds everything this portfolio service holds about you; the files "
            "folder holds the files you uploaded, by evidence item.\n",
        )
        for f in files:
            if f.purged_at:
                continue
            with (
                storage.open(f.file.name, "rb") as handle,
                archive.open(f"files/{f.evidence_id}/{f.pk}-{f.original_name}", "w") as target,
            ):
                for chunk in iter(lambda h=handle: h.read(1024 * 1024), b""):
                    target.write(chunk)
    out.seek(0)
    return out
