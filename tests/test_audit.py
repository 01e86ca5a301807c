import itertools
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.chain import record, verify_chain
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


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


def test_each_entry_is_chained_to_the_one_before(chain):
    assert [entry.sequence for entry in chain] == [1, 2, 3, 4, 5]
    assert chain[0].previous_hash == "0" * 64
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.hash
    assert "The audit trail is intact: 5 entries." in verify()


def test_an_edited_entry_is_reported(chain):
    AuditEntry.objects.filter(sequence=3).update(summary="Entry number 3, quietly changed")

    with pytest.raises(CommandError) as error:
        verify()

    assert "broken at entry 3" in str(error.value)
    assert "its content was changed after it was written" in str(error.value)
    assert "2 entries before it are intact" in str(error.value)


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(chain):
    from audit.chain import _digest

    forged = AuditEntry.objects.get(sequence=2)
    forged.data = {"n": "forged"}
    forged.hash = _digest(forged)
    forged.save()

    _checked, broken = verify_chain()

    assert broken.entry.sequence == 3
    assert broken.reason == "it does not point at the entry before it"


def test_a_removed_entry_is_reported(chain):
    AuditEntry.objects.filter(sequence=4).delete()

    with pytest.raises(CommandError, match=r"broken at entry 5 .*entry 4 is missing before it"):
        verify()


def test_a_removed_last_entry_is_reported(chain):
    AuditEntry.objects.filter(sequence=5).delete()

    with pytest.raises(CommandError, match="entries after 4 were removed"):
        verify()


def test_the_command_exits_non_zero_on_a_break(chain):
    AuditEntry.objects.filter(sequence=1).update(action="evidence.deleted")

    with pytest.raises(CommandError) as error:
        call_command("verify_audit")

    assert error.value.returncode == 1  # what manage.py exits with


def test_every_learner_change_of_state_is_audited(client, login, portfolio):
    from tests.factories import EvidenceFactory

    evidence = EvidenceFactory(portfolio=portfolio)
    login(portfolio.learner)
    client.post(f"/evidence/{evidence.pk}/submit/", {"declaration": "on"})

    entry = AuditEntry.objects.get(action="evidence.submitted")
    assert entry.portfolio == portfolio
    assert entry.actor == portfolio.learner
    assert entry.object_id == str(evidence.pk)
    assert "declared" in entry.summary
