import hashlib
import itertools
import json
from contextlib import contextmanager
from io import StringIO

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction

from audit.chain import (
    GENESIS,
    AuditHeadTampered,
    HeadProof,
    _legacy_digest,
    head_seal,
    learner_chain,
    proof_for,
    record,
    record_many,
    verify_chains,
)
from audit.models import CENTRE, ERASED, AuditEntry, AuditHead
from tests.factories import PortfolioFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists only on PostgreSQL"
)


@contextmanager
def tampering():
    """What the database's administrator can do: on PostgreSQL, with the triggers set aside."""
    with pgtrigger.ignore(
        "audit.AuditEntry:append_only_no_update", "audit.AuditEntry:append_only_no_delete"
    ):
        yield


@pytest.fixture
def chain(portfolio):
    for n in range(1, 6):
        record(
            "evidence.created",
            actor=portfolio.learner,
            obj=portfolio,
            portfolio=portfolio,
            summary=f"Entry number {n}",
            data={"n": n},
        )
    return list(AuditEntry.objects.order_by("sequence"))


def verify():
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def broken_at():
    broken = verify_chains().broken
    return broken and (broken.chain, broken.entry and broken.entry.sequence, broken.reason)


def test_each_entry_is_chained_to_the_one_before(chain, portfolio):
    assert [entry.sequence for entry in chain] == [1, 2, 3, 4, 5]
    assert {entry.chain for entry in chain} == {f"learner-{portfolio.learner_id}"}
    assert chain[0].previous_hash == GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.hash
    assert "The audit trail is intact: 5 entries on 1 chain, every head sealed." in verify()


def test_each_learner_has_a_chain_of_their_own_and_the_centre_another(chain, portfolio):
    other = PortfolioFactory(unit=portfolio.unit)
    record("evidence.created", actor=other.learner, portfolio=other, summary="Another learner")
    record("eqa.granted", actor=None, summary="A centre-wide event")

    entries = AuditEntry.objects.filter(summary__in=["Another learner", "A centre-wide event"])
    assert {(e.chain, e.sequence) for e in entries} == {
        (f"learner-{other.learner_id}", 1),
        (CENTRE, 1),
    }
    heads = dict(AuditHead.objects.values_list("chain", "sequence"))
    assert heads == {
        learner_chain(portfolio.learner_id): 5,
        learner_chain(other.learner_id): 1,
        CENTRE: 1,
    }
    assert "7 entries on 3 chains" in verify()


def test_an_edited_entry_is_reported(chain, portfolio):
    with tampering():
        AuditEntry.objects.filter(sequence=3).update(summary="Entry number 3, quietly changed")

    with pytest.raises(CommandError) as error:
        verify()

    assert f"on the chain of learner {portfolio.learner_id} at entry 3" in str(error.value)
    assert "its personal details were changed after it was written" in str(error.value)
    assert "2 entries before it are intact" in str(error.value)


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(chain):
    from audit.chain import _digest

    forged = AuditEntry.objects.get(sequence=2)
    forged.action = "evidence.deleted"
    forged.hash = _digest(forged)  # even with the key, the next entry points at the old hash
    with tampering():
        forged.save()

    assert broken_at()[1:] == (3, "it does not point at the entry before it")


def test_an_entry_rebuilt_with_a_correct_sha256_but_without_the_key_is_reported(chain):
    """Whoever can write to the database rewrites an entry and every one after it, and the
    head, with plain SHA-256: the unkeyed chain they made is consistent, and still reported."""
    entries = list(AuditEntry.objects.order_by("sequence"))
    previous = entries[1].hash
    with tampering():
        for entry in entries[2:]:
            entry.summary = entry.summary.replace("Entry", "Forged entry")
            entry.version = AuditEntry.Version.LEGACY
            entry.previous_hash = previous
            entry.hash = previous = _legacy_digest(entry)
            entry.save()
    head = AuditHead.objects.get(chain=entries[0].chain)
    head.hash = previous
    head.seal = hashlib.sha256(previous.encode()).hexdigest()
    head.save()

    with pytest.raises(CommandError) as error:
        verify()

    assert "at entry 3" in str(error.value)
    assert "its content was changed after it was written" in str(error.value)


def test_an_entry_rebuilt_with_another_key_is_reported(chain, settings):
    from audit.chain import _digest, _personal_digest

    settings.AUDIT_KEY = "a key the forger made up"
    forged = AuditEntry.objects.get(sequence=5)
    forged.summary = "Entry number 5, forged"
    forged.personal_digest = _personal_digest(forged)
    forged.hash = _digest(forged)
    head = AuditHead.objects.get(chain=forged.chain)
    head.hash, head.seal = forged.hash, head_seal(head.chain, head.sequence, forged.hash)
    with tampering():
        forged.save()
    head.save()
    settings.AUDIT_KEY = "test-suite-only-audit-key"

    assert broken_at()[1:] == (
        5,
        "its content was changed after it was written (or it was written without the audit key)",
    )


def test_a_removed_entry_is_reported(chain):
    with tampering():
        AuditEntry.objects.filter(sequence=4).delete()

    with pytest.raises(CommandError, match=r"at entry 5 .*entry 4 is missing before it"):
        verify()


def test_a_removed_last_entry_is_reported(chain):
    with tampering():
        AuditEntry.objects.filter(sequence=5).delete()

    with pytest.raises(CommandError, match="entries after 4 were removed"):
        verify()


def test_a_removed_last_entry_with_its_head_rewound_without_the_key_is_reported(chain):
    fourth = AuditEntry.objects.get(sequence=4)
    with tampering():
        AuditEntry.objects.filter(sequence=5).delete()
    AuditHead.objects.filter(chain=fourth.chain).update(sequence=4, hash=fourth.hash)

    assert broken_at()[1:] == (
        4,
        "the chain's head does not carry its seal (it was rewritten without the audit key)",
    )


def test_nothing_is_chained_onto_a_head_rewritten_without_the_key(chain, portfolio):
    AuditHead.objects.filter(chain=chain[0].chain).update(hash="f" * 64)

    with pytest.raises(AuditHeadTampered, match="does not carry its seal"):
        record("evidence.created", actor=None, portfolio=portfolio, summary="After the forgery")


def test_the_command_exits_non_zero_on_a_break(chain):
    with tampering():
        AuditEntry.objects.filter(sequence=1).update(action="evidence.deleted")

    with pytest.raises(CommandError) as error:
        call_command("verify_audit")

    assert error.value.returncode == 1  # what manage.py exits with


def test_bulk_loads_go_on_each_learners_chain(portfolio):
    other = PortfolioFactory(unit=portfolio.unit)
    record("evidence.created", actor=None, portfolio=portfolio, summary="Before the load")
    record_many(
        [
            AuditEntry(
                created_at=portfolio.created_at,
                actor_label="loader",
                action="evidence.created",
                portfolio_id=p.pk if p else None,
                summary=f"Loaded {n}",
            )
            for n, p in enumerate([portfolio, other, portfolio, None])
        ]
    )

    rows = AuditEntry.objects.order_by("chain", "sequence").values_list("chain", "sequence")
    assert sorted(rows) == sorted(
        [
            (learner_chain(portfolio.learner_id), 1),
            (learner_chain(portfolio.learner_id), 2),
            (learner_chain(portfolio.learner_id), 3),
            (learner_chain(other.learner_id), 1),
            (CENTRE, 1),
        ]
    )
    assert broken_at() is None


def test_the_proof_gives_the_learners_head_and_the_centres(chain, portfolio):
    record("eqa.granted", actor=None, summary="A centre-wide event")
    last = AuditEntry.objects.filter(chain=learner_chain(portfolio.learner_id)).last()

    learner, centre = proof_for(portfolio.learner_id)

    assert learner == HeadProof(
        f"learner {portfolio.learner_id}",
        5,
        last.hash,
        head_seal(learner_chain(portfolio.learner_id), 5, last.hash),
    )
    assert centre.chain == "centre"
    assert centre.sequence == 1
    assert centre.seal == AuditHead.objects.get(chain=CENTRE).seal
    assert len(centre.seal) == 64


def test_a_learner_without_entries_has_a_proof_of_an_empty_chain(portfolio):
    (learner, _centre) = proof_for(portfolio.learner_id)

    assert (learner.sequence, learner.hash) == (0, GENESIS)


def test_details_removed_without_an_erasure_recorded_are_reported(chain):
    with tampering():
        AuditEntry.objects.filter(sequence=2).update(actor_label=ERASED, summary=ERASED, data={})

    assert broken_at()[1:] == (
        2,
        "its personal details were removed, but no erasure of them was recorded",
    )


def test_every_learner_change_of_state_is_audited(client, login, portfolio):
    from tests.factories import EvidenceFactory

    evidence = EvidenceFactory(portfolio=portfolio)
    login(portfolio.learner)
    client.post(f"/evidence/{evidence.pk}/submit/", {"declaration": "on"})

    entry = AuditEntry.objects.get(action="evidence.submitted")
    assert entry.portfolio == portfolio
    assert entry.chain == learner_chain(portfolio.learner_id)
    assert entry.actor == portfolio.learner
    assert entry.object_id == str(evidence.pk)
    assert "declared" in entry.summary


@on_postgresql
def test_an_update_of_an_audit_row_fails_on_postgresql(chain):
    with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
        AuditEntry.objects.filter(sequence=3).update(summary="Quietly changed")
    with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
        AuditEntry.objects.filter(sequence=3).update(hash="0" * 64)
    with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
        # the erased marker, but with another column changed too
        AuditEntry.objects.filter(sequence=3).update(
            actor_label=ERASED, summary=ERASED, data={}, action="evidence.deleted"
        )
    with pytest.raises(ProgrammingError, match="Cannot delete rows"), transaction.atomic():
        AuditEntry.objects.filter(sequence=3).delete()

    assert AuditEntry.objects.get(sequence=3).summary == "Entry number 3"


@on_postgresql
def test_the_erasure_of_personal_details_is_the_one_update_allowed_on_postgresql(chain):
    AuditEntry.objects.filter(sequence=3).update(actor_label=ERASED, summary=ERASED, data={})

    assert AuditEntry.objects.get(sequence=3).is_erased


def test_a_head_made_twice_for_one_chain_is_refused_by_the_database(portfolio):
    AuditHead.objects.create(chain="learner-999", hash=GENESIS, seal="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditHead.objects.create(chain="learner-999", hash=GENESIS, seal="x")


def test_the_personal_details_are_digested_with_the_entry(chain):
    entry = AuditEntry.objects.get(sequence=1)
    assert len(entry.personal_digest) == 64
    assert entry.personal_digest not in json.dumps(entry.data)
