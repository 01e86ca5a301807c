"""The audit trail: every change of state is written here, chained by hash, never edited."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(entry: AuditEntry) -> str:
    payload = {
        "sequence": entry.sequence,
        "created_at": entry.created_at.isoformat(),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "portfolio": entry.portfolio_id,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        "data": entry.data,
        "previous_hash": entry.previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    action: str,
    *,
    actor: Any,
    summary: str,
    actor_label: str | None = None,
    obj: models.Model | None = None,
    portfolio: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Call it inside the transaction that made the change."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"hash": GENESIS}
        )
        entry = AuditEntry(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=actor_label or (str(actor) if actor is not None else "system"),
            action=action,
            portfolio=portfolio,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            summary=summary[:300],
            data=json.loads(json.dumps(data or {}, default=str)),
            previous_hash=head.hash,
        )
        entry.hash = _digest(entry)
        entry.save()
        head.sequence, head.hash = entry.sequence, entry.hash
        head.save(update_fields=["sequence", "hash"])
    return entry


def record_many(entries: list[AuditEntry]) -> None:
    """Append entries made elsewhere (``actor``, ``action``, ``summary`` and the rest set, no
    sequence or hashes) to the chain in the order given, with one insert. For bulk loads."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"hash": GENESIS}
        )
        sequence, previous = head.sequence, head.hash
        for entry in entries:
            sequence += 1
            entry.sequence, entry.previous_hash = sequence, previous
            entry.data = json.loads(json.dumps(entry.data or {}, default=str))
            entry.hash = previous = _digest(entry)
        AuditEntry.objects.bulk_create(entries, batch_size=2000)
        head.sequence, head.hash = sequence, previous
        head.save(update_fields=["sequence", "hash"])


@dataclass
class Break:
    entry: AuditEntry
    reason: str


def verify_chain() -> tuple[int, Break | None]:
    """Walk the chain in order; return how many entries were checked and the first break."""
    previous, expected_sequence, checked = GENESIS, 1, 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        if entry.sequence != expected_sequence:
            return checked, Break(entry, f"entry {expected_sequence} is missing before it")
        if entry.previous_hash != previous:
            return checked, Break(entry, "it does not point at the entry before it")
        if _digest(entry) != entry.hash:
            return checked, Break(entry, "its content was changed after it was written")
        previous, expected_sequence, checked = entry.hash, expected_sequence + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.sequence != checked:
        last = AuditEntry.objects.order_by("-sequence").first()
        if last is not None:
            return checked, Break(last, f"entries after {checked} were removed")
    return checked, None
