"""Whether a signature still holds: it is valid while the portfolio's stored signable record
(``assessments.signable``) has the digest that was signed, and every file it covers is still on
storage as it was signed (``verify_files``)."""

from dataclasses import dataclass
from typing import Any

from django.utils import dateformat, timezone
from django.utils.text import capfirst

from assessments.models import Signature
from assessments.signable import DIGEST_VERSION, digest_of, stored
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio


@dataclass
class SignatureStatus:
    signature: Signature
    valid: bool
    reasons: list[str]


def status_of(
    signatures: list[Signature],
    current: dict[str, Any],
    now_digest: str,
    storage_problems: dict[int, str] | None = None,
) -> list[SignatureStatus]:
    """Each signature checked against the portfolio as it is now (its manifest and digest, and
    what ``verify_files`` found wrong with files on storage, by file id), with why it broke."""
    result = []
    for signature in signatures:
        reasons = []
        if signature.revoked_at:
            reasons.append(_revocation(signature))
        for item in signature.manifest.get("evidence", []):
            for signed_file in item.get("files", []):
                if problem := (storage_problems or {}).get(signed_file["id"]):
                    reasons.append(problem)
        if signature.digest_version != DIGEST_VERSION:
            reasons.append(
                f"it was made with version {signature.digest_version} of the record of what is "
                f"signed, which this release does not check"
            )
        elif digest_of(signature.manifest) != signature.digest:
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


def content_status(
    signatures: list[Signature], current_for, nouns: dict[str, str]
) -> list[SignatureStatus]:
    """Each signature on a plan or a progress review checked against what its kind binds as it
    is now (``current_for(signature)``: the manifest it would be given if made now), with the
    cause where it broke. A manifest is made of sections: a mapping of fields (``{"plan":
    {...}}``) or a list of records with an ``id`` and a ``title`` (``{"activities": [...]}``);
    ``nouns`` names each section's record in the sentences ("the activity 'X' has changed
    (target date)")."""
    result = []
    for signature in signatures:
        reasons = []
        if signature.revoked_at:
            reasons.append(_revocation(signature))
        current = current_for(signature)
        if digest_of(signature.manifest) != signature.digest:
            reasons.append("the record of what was signed has been altered")
        elif digest_of(current) != signature.digest:
            reasons.extend(_section_differences(signature.manifest, current, nouns))
        sentences = [capfirst(reason).rstrip(".") + "." for reason in reasons]
        result.append(SignatureStatus(signature, not reasons, sentences))
    return result


def _fields(changed: list[str]) -> str:
    return ", ".join(name.replace("_", " ") for name in changed)


def _section_differences(
    signed: dict[str, Any], current: dict[str, Any], nouns: dict[str, str]
) -> list[str]:
    reasons = []
    for key in sorted(signed.keys() | current.keys()):
        old, new = signed.get(key), current.get(key)
        if old == new:
            continue
        noun = nouns.get(key, key.replace("_", " "))
        if isinstance(old, list) and isinstance(new, list):
            before = {row["id"]: row for row in old}
            after = {row["id"]: row for row in new}
            for pk in before.keys() - after.keys():
                reasons.append(f"the {noun} '{before[pk]['title']}' has been removed")
            for pk in after.keys() - before.keys():
                reasons.append(f"the {noun} '{after[pk]['title']}' has been added")
            for pk in sorted(before.keys() & after.keys()):
                changed = sorted(
                    k for k in before[pk].keys() | after[pk].keys()
                    if before[pk].get(k) != after[pk].get(k)
                )  # fmt: skip
                if changed:
                    reasons.append(
                        f"the {noun} '{before[pk]['title']}' has changed ({_fields(changed)})"
                    )
        elif isinstance(old, dict) and isinstance(new, dict):
            changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            reasons.append(f"the {noun} has changed ({_fields(changed)})")
        else:
            reasons.append(f"the {noun} has changed")
    return reasons or ["what was signed has changed"]


def signature_rows(portfolio: Portfolio, *, save: bool = True) -> list[SignatureStatus]:
    """Every signature on the portfolio with whether it still holds, for any page showing them
    (with ``save`` false, inside a read-only transaction: see ``signable.stored``)."""
    signatures = list(Signature.objects.filter(portfolio=portfolio).order_by("signed_at", "pk"))
    if not signatures:
        return []
    current = stored(portfolio, save=save)
    problems = dict(
        EvidenceFile.objects.filter(evidence__in=EvidenceItem.objects.counting_in(portfolio))
        .exclude(storage_problem="")
        .values_list("pk", "storage_problem")
    )
    return status_of(signatures, current.manifest, current.digest, problems)
