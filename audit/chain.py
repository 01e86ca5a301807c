"""The audit trail: every change of state is written here, chained by keyed hash, never edited.

Each learner has a chain of their own (every entry about one of their portfolios) and the centre
one more (everything else), so two learners' work never waits on the same lock. An entry's hash
is an HMAC-SHA256 under ``settings.AUDIT_KEY`` of its fields, the hash before it and a keyed
digest of its personal details (who acted, the summary, the data), so the details can be erased
after the retention period and the chain still verifies; each chain's head is sealed with the
key. Whoever can write to the database but does not hold the key cannot rebuild the trail
unnoticed. Entries written before the keys (version 1, plain SHA-256) begin the centre chain."""

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit.models import CENTRE, ERASED, AuditEntry, AuditHead

GENESIS = "0" * 64
ERASURE = "audit.personal_details_erased"
# Entries recording that a copy of the record was asked for, made, handed out or removed (a PDF,
# a ZIP), not a change to the record itself: a printed copy shows the record, and its proof,
# without them, so an unchanged record copied twice is the same copy.
COPY_ACTIONS = ("portfolio.exported", "data.exported")
COPY_ACTION_PREFIX = "export."


def copies() -> models.Q:
    """The entries that record copies of the record (see ``COPY_ACTIONS``), as a filter."""
    return models.Q(action__in=COPY_ACTIONS) | models.Q(action__startswith=COPY_ACTION_PREFIX)


class AuditHeadTampered(Exception):
    """A chain's head does not carry its seal: it was changed outside the application (or the
    AUDIT_KEY is not the one it was sealed with), so nothing more is chained onto it."""


def learner_chain(learner_id: int) -> str:
    return f"learner-{learner_id}"


def chain_label(chain: str) -> str:
    """How a chain is named to people: "centre", "learner 12"."""
    return chain.replace("-", " ")


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _mac(payload: dict[str, Any]) -> str:
    return hmac.new(settings.AUDIT_KEY.encode(), _canonical(payload), hashlib.sha256).hexdigest()


def _legacy_digest(entry: AuditEntry) -> str:
    """The unkeyed digest of the entries written before 0.2, kept so that they still verify."""
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
    return hashlib.sha256(_canonical(payload)).hexdigest()


def _personal_digest(entry: AuditEntry) -> str:
    return _mac(
        {
            "chain": entry.chain,
            "sequence": entry.sequence,
            "actor_label": entry.actor_label,
            "summary": entry.summary,
            "data": entry.data,
        }
    )


def _digest(entry: AuditEntry) -> str:
    return _mac(
        {
            "version": entry.version,
            "chain": entry.chain,
            "sequence": entry.sequence,
            "created_at": entry.created_at.isoformat(),
            "actor": entry.actor_id,
            "action": entry.action,
            "portfolio": entry.portfolio_id,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "personal": entry.personal_digest,
            "previous_hash": entry.previous_hash,
        }
    )


def head_seal(chain: str, sequence: int, hash: str) -> str:
    return _mac({"chain": chain, "sequence": sequence, "hash": hash})


def _chain_entry(entry: AuditEntry, sequence: int, previous: str) -> str:
    entry.sequence, entry.previous_hash = sequence, previous
    entry.version = AuditEntry.Version.KEYED
    entry.data = json.loads(json.dumps(entry.data or {}, default=str))
    entry.personal_digest = _personal_digest(entry)
    entry.hash = _digest(entry)
    return entry.hash


def _locked_heads(chains: Iterable[str]) -> dict[str, AuditHead]:
    """The heads of ``chains``, locked until the transaction ends, made if new. Two first entries
    for a learner at once both insert the head, one of them silently, then both wait on it."""
    chains = sorted(set(chains))  # always locked in the same order, so never a deadlock

    def locked():
        return {h.chain: h for h in AuditHead.objects.select_for_update().filter(chain__in=chains)}

    heads = locked()
    if len(heads) < len(chains):
        AuditHead.objects.bulk_create(
            [
                AuditHead(chain=chain, hash=GENESIS, seal=head_seal(chain, 0, GENESIS))
                for chain in chains
                if chain not in heads
            ],
            ignore_conflicts=True,
        )
        heads = locked()
    for head in heads.values():
        if not hmac.compare_digest(head.seal, head_seal(head.chain, head.sequence, head.hash)):
            raise AuditHeadTampered(
                f"The head of the audit chain {chain_label(head.chain)} does not carry its seal: "
                "run verify_audit."
            )
    return heads


def _advance(head: AuditHead, entry: AuditEntry) -> None:
    head.sequence, head.hash = entry.sequence, entry.hash
    head.seal = head_seal(head.chain, head.sequence, head.hash)


def chain_for(portfolio: Any) -> str:
    """An entry about a portfolio goes on its learner's chain, any other on the centre's."""
    return CENTRE if portfolio is None else learner_chain(portfolio.learner_id)


def record(
    action: str,
    *,
    actor: Any,
    summary: str,
    actor_label: str | None = None,
    obj: models.Model | None = None,
    portfolio: Any = None,
    data: dict[str, Any] | None = None,
    learner: Any = None,
) -> AuditEntry:
    """Append one entry to its chain. Call it inside the transaction that made the change, after
    any slow work (storage writes): the chain's head stays locked until the transaction ends.
    A transaction writing to a learner's chain and the centre's writes the learner's first. An
    entry about a learner but no one portfolio (their enrolment, say) names the ``learner``."""
    chain = learner_chain(learner.pk) if portfolio is None and learner else chain_for(portfolio)
    with transaction.atomic():
        head = _locked_heads([chain])[chain]
        entry = AuditEntry(
            chain=chain,
            created_at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=actor_label or (str(actor) if actor is not None else "system"),
            action=action,
            portfolio=portfolio,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            summary=summary[:300],
            data=data,
        )
        _chain_entry(entry, head.sequence + 1, head.hash)
        entry.save()
        _advance(head, entry)
        head.save(update_fields=["sequence", "hash", "seal"])
    return entry


def record_many(entries: list[AuditEntry]) -> None:
    """Append entries made elsewhere (``actor``, ``action``, ``summary`` and the rest set, no
    chain, sequence or hashes) to their chains in the order given, with one insert. For bulk
    loads."""
    portfolio_field = AuditEntry._meta.get_field("portfolio")
    unloaded = {
        e.portfolio_id for e in entries if e.portfolio_id and not portfolio_field.is_cached(e)
    }
    learners = dict(
        portfolio_field.related_model._default_manager.filter(pk__in=unloaded).values_list(
            "pk", "learner_id"
        )
    )
    for entry in entries:
        if entry.portfolio_id is None:
            entry.chain = CENTRE
        elif entry.portfolio_id in learners:
            entry.chain = learner_chain(learners[entry.portfolio_id])
        else:
            entry.chain = chain_for(entry.portfolio)
    with transaction.atomic():
        heads = _locked_heads(e.chain for e in entries)
        for entry in entries:
            head = heads[entry.chain]
            _chain_entry(entry, head.sequence + 1, head.hash)
            _advance(head, entry)
        AuditEntry.objects.bulk_create(entries, batch_size=2000)
        AuditHead.objects.bulk_update(heads.values(), ["sequence", "hash", "seal"])


def erase_personal_details(*, learner_id: int, user_type: str) -> int:
    """Replace the personal details (who acted, summary, data) of every entry on the learner's
    chain, and of the centre's entries about the learner's account (``user_type`` is the user
    model's label), with the erased marker, and record the erasure on the centre chain. The
    chain still verifies: each entry keeps its digest of what was erased. Returns how many
    entries were erased. For the retention purge, inside its transaction."""
    chain = learner_chain(learner_id)
    with transaction.atomic():
        _locked_heads([chain])  # the learner's chain first, as every writer takes them
        erased = AuditEntry.objects.filter(version=AuditEntry.Version.KEYED).filter(
            models.Q(chain=chain)
            | models.Q(chain=CENTRE, object_type=user_type, object_id=str(learner_id))
        )
        erased = erased.exclude(actor_label=ERASED, summary=ERASED, data={})
        which: dict[str, list[int]] = defaultdict(list)
        for entry_chain, sequence in erased.order_by("chain", "sequence").values_list(
            "chain", "sequence"
        ):
            which[entry_chain].append(sequence)
        count = erased.update(actor_label=ERASED, summary=ERASED, data={})
        record(
            ERASURE,
            actor=None,
            actor_label="purge_expired",
            summary=f"The personal details in {count} audit entries of learner {learner_id} "
            "were erased after the retention period",
            data={"learner": learner_id, "entries": dict(which)},
        )
    return count


@dataclass
class Break:
    chain: str
    entry: AuditEntry | None
    reason: str


@dataclass
class Verification:
    entries: int  # how many entries were checked and found intact
    chains: int
    broken: Break | None


def _erasures() -> dict[str, set[int]]:
    """The entries whose personal details the centre's chain records erasing, by chain. The
    records are read ahead of the walk, and checked in it like any other entry: one forged to
    excuse an erasure breaks the centre's chain where it stands."""
    erased: dict[str, set[int]] = defaultdict(set)
    records = AuditEntry.objects.filter(
        chain=CENTRE, action=ERASURE, version=AuditEntry.Version.KEYED
    ).values_list("data", flat=True)
    for data in records:
        for chain, sequences in (data.get("entries") or {}).items():
            erased[chain].update(sequences)
    return erased


def _verify_one(
    chain: str, entries: Iterable[AuditEntry], head: AuditHead | None, erased: dict[str, set[int]]
) -> tuple[int, Break | None]:
    previous, expected, checked, keyed = GENESIS, 1, 0, False
    last = None
    for entry in entries:
        if entry.sequence != expected:
            return checked, Break(chain, entry, f"entry {expected} is missing before it")
        if entry.previous_hash != previous:
            return checked, Break(chain, entry, "it does not point at the entry before it")
        if entry.version == AuditEntry.Version.LEGACY:
            # Only the centre's chain begins with the entries written before the keys.
            if chain != CENTRE or keyed or _legacy_digest(entry) != entry.hash:
                return checked, Break(chain, entry, "its content was changed after it was written")
        else:
            keyed = True
            if not hmac.compare_digest(_digest(entry), entry.hash):
                return checked, Break(
                    chain,
                    entry,
                    "its content was changed after it was written (or it was "
                    "written without the audit key)",
                )
            if entry.is_erased:
                if entry.sequence not in erased.get(chain, ()):
                    return checked, Break(
                        chain,
                        entry,
                        "its personal details were removed, but no erasure of them was recorded",
                    )
            elif not hmac.compare_digest(_personal_digest(entry), entry.personal_digest):
                return checked, Break(
                    chain, entry, "its personal details were changed after it was written"
                )
        previous, expected, checked, last = entry.hash, expected + 1, checked + 1, entry
    if head is None:
        return checked, Break(chain, last, "its chain has no head")
    if head.sequence != checked or head.hash != previous:
        if head.sequence > checked:
            return checked, Break(chain, last, f"entries after {checked} were removed")
        return checked, Break(chain, last, "the chain's head does not point at its last entry")
    if not hmac.compare_digest(head.seal, head_seal(head.chain, head.sequence, head.hash)):
        return checked, Break(
            chain,
            last,
            "the chain's head does not carry its seal (it was rewritten without the audit key)",
        )
    return checked, None


def verify_chains() -> Verification:
    """Walk every chain in order and check its head's seal: the centre's first, then each
    learner's. Stops at the first break."""
    heads = {head.chain: head for head in AuditHead.objects.all()}
    found = set(heads) | set(AuditEntry.objects.values_list("chain", flat=True).distinct())
    chains = sorted(found, key=lambda chain: (chain != CENTRE, chain))
    erased = _erasures()
    total = 0
    for chain in chains:
        entries = AuditEntry.objects.filter(chain=chain).order_by("sequence")
        checked, broken = _verify_one(
            chain, entries.iterator(chunk_size=2000), heads.get(chain), erased
        )
        total += checked
        if broken is not None:
            return Verification(total, len(chains), broken)
    return Verification(total, len(chains), None)


@dataclass(frozen=True)
class HeadProof:
    """Where a chain stood, for a printed copy: compared with the live head (or verify_audit),
    it tells whether the record still matches."""

    chain: str  # "learner 12", "centre"
    sequence: int
    hash: str
    seal: str  # hex HMAC-SHA256 of chain, sequence and hash under AUDIT_KEY


def proof_for(learner_id: int, *, leaving_out_copies: bool = False) -> list[HeadProof]:
    """The learner's chain head and the centre chain head, as they are now; with
    ``leaving_out_copies``, each chain as of its last entry that does not record a copy of the
    record (a printed copy's proof: making or handing out copies does not move it). The seal is
    the one the head carried, or would carry, at that entry."""
    wanted = [learner_chain(learner_id), CENTRE]
    if leaving_out_copies:
        heads = {}
        for chain in wanted:
            # Read back from the chain's end by its (chain, sequence) index: a few entries.
            entry = (
                AuditEntry.objects.filter(chain=chain)
                .exclude(copies())
                .order_by("-sequence")
                .only("chain", "sequence", "hash")
                .first()
            )
            if entry is not None:
                heads[chain] = AuditHead(
                    chain=chain,
                    sequence=entry.sequence,
                    hash=entry.hash,
                    seal=head_seal(chain, entry.sequence, entry.hash),
                )
    else:
        heads = {h.chain: h for h in AuditHead.objects.filter(chain__in=wanted)}
    proofs = []
    for chain in wanted:
        head = heads.get(chain) or AuditHead(
            chain=chain, hash=GENESIS, seal=head_seal(chain, 0, GENESIS)
        )
        proofs.append(HeadProof(chain_label(chain), head.sequence, head.hash, head.seal))
    return proofs
