"""What depends on real row locking, tested where it is real: on PostgreSQL."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from assessments.audit import record, verify_chain
from assessments.models import AuditEntry
from portfolio import services
from portfolio.models import WitnessTestimony
from tests.factories import EvidenceFactory, PortfolioFactory, WitnessFactory, c4_unit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks are real only on PostgreSQL; CI runs the suite there too",
    ),
]


def run_together(count, work):
    """Run ``work(n)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def runner(n):
        try:
            barrier.wait()
            results[n] = work(n)
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_writers_never_fork_the_audit_chain():
    c4_unit()
    portfolio = PortfolioFactory()

    def append(n):
        for i in range(10):
            record(
                "test.concurrent", actor=None, summary=f"writer {n} entry {i}", portfolio=portfolio
            )

    run_together(4, append)

    assert AuditEntry.objects.count() == 40
    checked, broken = verify_chain()
    assert broken is None
    assert checked == 40


def test_a_witness_link_answered_twice_at_once_counts_once():
    c4_unit()
    evidence = EvidenceFactory(portfolio=PortfolioFactory())
    testimony = WitnessFactory(
        evidence=evidence,
        status="sent",
        token_hash="x" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )

    answers = run_together(
        2,
        lambda n: services.witness_respond(
            testimony=WitnessTestimony.objects.get(pk=testimony.pk),
            confirmed=n == 0,
            typed_name="Sam",
            reason="No",
            ip="127.0.0.1",
        ),
    )

    assert sorted(answers) == [False, True]
    assert AuditEntry.objects.filter(action__startswith="witness.").count() == 1


def test_signing_off_twice_at_once_yields_one_signature(monkeypatch):
    import time

    from django.test import Client

    from assessments import services
    from assessments.models import Signature
    from tests.assessing import sufficient
    from tests.factories import PASSWORD

    c4_unit()
    portfolio = sufficient(PortfolioFactory())
    # Hold each sign-off inside its transaction long enough for the other to arrive.
    manifest_for = services.manifest_for

    def slow_manifest(portfolio):
        time.sleep(0.5)
        return manifest_for(portfolio)

    monkeypatch.setattr(services, "manifest_for", slow_manifest)
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(portfolio.assessor)

    responses = run_together(
        2,
        lambda n: clients[n].post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD}),
    )

    assert [response.status_code for response in responses] == [302, 302]
    assert Signature.objects.filter(portfolio=portfolio).count() == 1
    assert AuditEntry.objects.filter(action="signature.assessor_sign_off").count() == 1
    portfolio.refresh_from_db()
    assert portfolio.status == "assessed"
