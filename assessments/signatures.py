"""What a signature binds: a manifest of the portfolio's assessed records and file hashes, and
its digest. A signature is valid while the portfolio still produces the same manifest."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.utils import dateformat, timezone
from django.utils.text import capfirst

from assessments.models import CriterionDecision, Mapping, Review, Signature
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def digest_of(manifest: dict[str, Any]) -> str:
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def manifest_for(portfolio: Portfolio) -> dict[str, Any]:
    """Everything a signature on ``portfolio`` vouches for, drafts excepted, in a fixed order."""
    items = (
        EvidenceItem.objects.filter(portfolio=portfolio)
        .exclude(status=EvidenceItem.Status.DRAFT)
        .select_related("answers_question", "testimony", "observation")
        .prefetch_related(
            "contexts",
            "claimed_criteria",
            Prefetch("files", EvidenceFile.objects.ready()),  # never one being checked
        )
        .order_by("pk")
    )
    evidence = []
    for item in items:
        testimony = getattr(item, "testimony", None)
        observation = getattr(item, "observation", None)
        evidence.append(
            {
                "id": item.pk,
                "title": item.title,
                "method": item.method,
                "occurred_on": item.occurred_on.isoformat(),
                "status": item.status,
                "setting": item.setting,
                "customer": item.customer,
                "customer_reference": item.customer_reference,
                "account_sha256": _sha(item.account),
                "contexts": sorted(c.letter for c in item.contexts.all()),
                "claims": sorted(c.nos_code for c in item.claimed_criteria.all()),
                "declared_at": item.declared_at.isoformat() if item.declared_at else None,
                "files": [
                    {"id": f.pk, "name": f.original_name, "sha256": f.sha256}
                    for f in sorted(item.files.all(), key=lambda f: f.pk)
                ],
                "witness": {
                    "status": testimony.status,
                    "statement_sha256": _sha(testimony.statement),
                    "confirmed_name": testimony.confirmed_name,
                }
                if testimony
                else None,
                "observation": {
                    "place": observation.place,
                    "duration_minutes": observation.duration_minutes,
                }
                if observation
                else None,
            }
        )
    mappings = [
        [m.evidence_id, m.criterion.nos_code, _sha(m.note), m.recording_seconds]
        for m in Mapping.objects.filter(evidence__portfolio=portfolio)
        .exclude(evidence__status=EvidenceItem.Status.DRAFT)
        .select_related("criterion")
        .order_by("evidence_id", "criterion__position")
    ]
    decisions = [
        [d.criterion.nos_code, d.decided_by_id, sorted(e.pk for e in d.cited.all())]
        for d in CriterionDecision.objects.active()
        .filter(portfolio=portfolio)
        .select_related("criterion")
        .prefetch_related("cited")
        .order_by("criterion__position")
    ]
    reviews = list(
        Review.objects.filter(evidence__portfolio=portfolio)
        .order_by("pk")
        .values_list("pk", "evidence_id", "outcome")
    )
    return {
        "portfolio": {
            "id": portfolio.pk,
            "learner": portfolio.learner_id,
            "unit": f"{portfolio.unit.awarding_body} {portfolio.unit.code}",
            "unit_version": portfolio.unit.version,
            "organisation": portfolio.organisation,
            "sector": portfolio.sector,
            "job_role": portfolio.job_role,
        },
        "evidence": evidence,
        "mappings": mappings,
        "decisions": decisions,
        "reviews": [list(review) for review in reviews],
    }


@dataclass
class SignatureStatus:
    signature: Signature
    valid: bool
    reasons: list[str]


def status_of(signatures: list[Signature], current: dict[str, Any]) -> list[SignatureStatus]:
    """Each signature checked against the portfolio as it is now, with why it broke."""
    now_digest = digest_of(current)
    result = []
    for signature in signatures:
        reasons = []
        if signature.revoked_at:
            reasons.append(_revocation(signature))
        if digest_of(signature.manifest) != signature.digest:
            reasons.append("the record of what was signed has been altered")
        elif signature.digest != now_digest:
            reasons.extend(_differences(signature.manifest, current))
        sentences = [capfirst(reason).rstrip(".") + "." for reason in reasons]
        result.append(SignatureStatus(signature, not reasons, sentences))
    return result


def _revocation(signature: Signature) -> str:
    """Who revoked the signature, when and why, in one sentence: the reason is kept as "unlocked
    by <who>: <why>" (or "referred back by the IQA <who>: <why>")."""
    who, _, why = signature.revoked_reason.partition(": ")
    when = dateformat.format(timezone.localtime(signature.revoked_at), r"j F Y \a\t H:i")
    return f"{who} on {when}: {why}" if why else f"{who} on {when}"


def _differences(signed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    reasons = []
    if signed["portfolio"] != current["portfolio"]:
        reasons.append("the portfolio's details have changed")
    before = {item["id"]: item for item in signed["evidence"]}
    after = {item["id"]: item for item in current["evidence"]}
    for pk in before.keys() - after.keys():
        reasons.append(f"evidence '{before[pk]['title']}' has been removed")
    for pk in after.keys() - before.keys():
        reasons.append(f"evidence '{after[pk]['title']}' has been added")
    for pk in before.keys() & after.keys():
        old, new = before[pk], after[pk]
        if old == new:
            continue
        old_files = {f["id"]: f for f in old["files"]}
        new_files = {f["id"]: f for f in new["files"]}
        for file_id in old_files.keys() & new_files.keys():
            if old_files[file_id]["sha256"] != new_files[file_id]["sha256"]:
                reasons.append(
                    f"the file '{old_files[file_id]['name']}' of '{old['title']}' has changed"
                )
        if old_files.keys() != new_files.keys():
            reasons.append(f"the files of '{old['title']}' have changed")
        changed = sorted(k for k in old if k != "files" and old[k] != new.get(k))
        if changed:
            reasons.append(f"evidence '{old['title']}' has changed ({', '.join(changed)})")
    for key, label in [
        ("mappings", "the assessor's mappings"),
        ("decisions", "the criterion decisions"),
        ("reviews", "the evidence reviews"),
    ]:
        if signed[key] != current[key]:
            reasons.append(f"{label} have changed")
    return reasons or ["what was signed has changed"]


def signature_rows(portfolio: Portfolio) -> list[SignatureStatus]:
    """Every signature on the portfolio with whether it still holds, for any page showing them."""
    signatures = list(Signature.objects.filter(portfolio=portfolio).order_by("signed_at", "pk"))
    if not signatures:
        return []
    return status_of(signatures, manifest_for(portfolio))
