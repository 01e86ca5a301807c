"""What depends on real row locking, tested where it is real: on PostgreSQL."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from assessments import quality
from assessments import services as assessor_services
from assessments.models import IqaSample, Mapping, Review, Signature
from assessments.signatures import signature_rows
from audit.chain import record, verify_chains
from audit.models import AuditEntry, AuditHead
from portfolio import services
from portfolio.forms import EvidenceForm
from portfolio.models import (
    Claim,
    EvidenceItem,
    PasswordResetRequest,
    Portfolio,
    WitnessTestimony,
)
from records.models import Export
from records.tasks import build_export
from tests import samples
from tests.factories import (
    EvidenceFactory,
    PortfolioFactory,
    UserFactory,
    WitnessFactory,
    c4_unit,
    edit_form_data,
    evidence_form_data,
)
from tests.test_claims import enrolled, qualification_of

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
    verified = verify_chains()
    checked, broken = verified.entries, verified.broken
    assert broken is None
    assert checked == 40


def test_the_first_entries_of_a_new_learner_at_once_make_one_chain():
    c4_unit()
    portfolio = PortfolioFactory()

    def append(n):
        record("test.first", actor=None, summary=f"writer {n}", portfolio=portfolio)

    run_together(4, append)

    assert sorted(AuditEntry.objects.values_list("chain", "sequence")) == [
        (f"learner-{portfolio.learner_id}", n) for n in (1, 2, 3, 4)
    ]
    assert verify_chains().broken is None


def test_a_learners_upload_holds_up_neither_another_learner_nor_the_audit_trail(monkeypatch):
    """One learner's file is held mid-way through its storage write; meanwhile another learner
    saves evidence on their own portfolio, and the held learner's audit chain is not locked."""
    from django.core.files.storage import FileSystemStorage

    from portfolio.files import prepare_upload

    c4_unit()
    held, other = PortfolioFactory(), PortfolioFactory()
    record("test.earlier", actor=None, summary="The held learner's chain exists", portfolio=held)
    writing, release = threading.Event(), threading.Event()
    save = FileSystemStorage._save

    def held_save(storage, name, content):
        if name.startswith(f"evidence/{held.pk}/"):
            writing.set()
            assert release.wait(60), "the held upload was never released"
        return save(storage, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", held_save)

    def evidence_save(portfolio, title):
        form = EvidenceForm(evidence_form_data(portfolio, title=title), portfolio=portfolio)
        form.instance.portfolio = portfolio
        assert form.is_valid(), form.errors
        upload = prepare_upload(samples.upload("notes.txt", b"What the customer said."))
        return services.evidence_save(form=form, by=portfolio.learner, files=[upload], created=True)

    def in_thread(work):
        """``work`` started in a thread of its own; the thread, and what it returned or raised."""
        outcome = {}

        def runner():
            try:
                outcome["result"] = work()
            except Exception as exc:  # reported by the assertions below
                outcome["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=runner)
        thread.start()
        return thread, outcome

    def head_is_free(chain):
        with transaction.atomic():  # fails at once if another transaction holds the head
            return len(AuditHead.objects.select_for_update(nowait=True).filter(chain=chain))

    held_thread, held_outcome = in_thread(lambda: evidence_save(held, "Held upload"))
    try:
        assert writing.wait(60), f"the upload never reached its storage write: {held_outcome}"
        # The other learner saves evidence with a file while the upload is held ...
        other_thread, other_outcome = in_thread(lambda: evidence_save(other, "Saved meanwhile"))
        other_thread.join(60)  # a guard against a hang, not a measurement
        assert not other_thread.is_alive(), "the other learner waited on the held upload"
        assert "error" not in other_outcome, other_outcome
        assert held_thread.is_alive()  # still held in its storage write
        # ... and no audit chain is locked by the held transaction, not even its learner's.
        chains = [f"learner-{held.learner_id}", f"learner-{other.learner_id}"]
        assert in_thread_result(lambda: [head_is_free(chain) for chain in chains]) == [1, 1]
    finally:
        release.set()
        held_thread.join(60)

    assert not held_thread.is_alive()
    assert "error" not in held_outcome, held_outcome
    assert set(EvidenceItem.objects.values_list("title", flat=True)) == {
        "Held upload",
        "Saved meanwhile",
    }
    assert AuditEntry.objects.filter(action="file.added").count() == 2
    assert verify_chains().broken is None


def in_thread_result(work):
    """``work`` run in another thread (another connection, so another transaction)."""
    [result] = run_together(1, lambda n: work())
    return result


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

    assert sorted(answers, key=str) == [None, "used"]
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
    stored = services.stored

    def slow_manifest(portfolio):
        time.sleep(0.5)
        return stored(portfolio)

    monkeypatch.setattr(services, "stored", slow_manifest)
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


def slowly(function, seconds, *, after=False):
    """``function``, made to take ``seconds`` longer, before it runs or (``after``) once it has
    run: long enough for a request started meanwhile to arrive."""

    def slow(*args, **kwargs):
        if not after:
            time.sleep(seconds)
        result = function(*args, **kwargs)
        if after:
            time.sleep(seconds)
        return result

    return slow


def outcome(work):
    """Run ``work``; "done", or the message of the ValidationError that refused it."""
    try:
        work()
    except ValidationError as error:
        return " ".join(error.messages)
    return "done"


def test_a_learner_edit_racing_the_submission_and_acceptance_loses_neither():
    c4_unit()
    portfolio = PortfolioFactory()
    evidence = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    # The learner's second tab read the item while it was a draft and is still saving it
    # (checking a large photo, say) when the first tab submits and the assessor accepts.
    form = EvidenceForm(
        edit_form_data(evidence, account="The account as the learner finished it."),
        instance=EvidenceItem.objects.get(pk=evidence.pk),
        portfolio=portfolio,
    )
    assert form.is_valid(), form.errors
    form.save = slowly(form.save, 1)

    def edit():
        services.evidence_save(form=form, by=portfolio.learner, files=[], created=False)

    def submit_then_accept():
        time.sleep(0.2)
        services.evidence_submit(
            evidence=EvidenceItem.objects.get(pk=evidence.pk), by=portfolio.learner, site_url=""
        )
        assessor_services.evidence_review(
            evidence=EvidenceItem.objects.get(pk=evidence.pk),
            by=portfolio.assessor,
            accept=True,
            feedback="",
            site_url="",
        )

    results = run_together(2, lambda n: outcome([edit, submit_then_accept][n]))

    evidence.refresh_from_db()
    assert evidence.status == "accepted"  # the acceptance is not undone by the late edit
    actions = list(
        AuditEntry.objects.filter(action__startswith="evidence.").values_list("action", flat=True)
    )
    if results[0] == "done":  # the edit came first, so it is what was submitted and accepted
        assert evidence.account == "The account as the learner finished it."
        assert actions == ["evidence.updated", "evidence.submitted", "evidence.accepted"]
    else:  # or it came too late, and says so
        assert "was submitted while you were changing it" in results[0]
        assert actions == ["evidence.submitted", "evidence.accepted"]


def test_two_reviews_of_one_item_at_once_record_one():
    c4_unit()
    evidence = EvidenceFactory(portfolio=PortfolioFactory(), status="submitted")
    save = EvidenceItem.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.3)  # between the check of the status and its change
        return save(self, *args, **kwargs)

    def review(n):
        return outcome(
            lambda: assessor_services.evidence_review(
                evidence=EvidenceItem.objects.get(pk=evidence.pk),
                by=evidence.portfolio.assessor,
                accept=n == 0,
                feedback="Say which customer it was.",
                site_url="",
            )
        )

    EvidenceItem.save = slow_save
    try:
        results = run_together(2, review)
    finally:
        EvidenceItem.save = save

    assert sorted(results) == ["This evidence is no longer waiting for review.", "done"]
    assert Review.objects.filter(evidence=evidence).count() == 1
    evidence.refresh_from_db()
    assert evidence.status == Review.objects.get().outcome


def slow_sign_off(monkeypatch, portfolio):
    """The assessor's sign-off of ``portfolio``, holding its transaction open after reading what
    it signs, long enough for a change started meanwhile to arrive."""
    monkeypatch.setattr(
        assessor_services, "stored", slowly(assessor_services.stored, 0.5, after=True)
    )

    def sign_off():
        assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)

    return sign_off


def test_a_mapping_racing_the_sign_off_lands_before_it_or_not_at_all(monkeypatch):
    from tests.assessing import sufficient

    c4_unit()
    portfolio = sufficient(PortfolioFactory())
    item = EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None).first()
    extra = portfolio.unit.criteria.get(nos_code="K1")
    sign_off = slow_sign_off(monkeypatch, portfolio)

    def map_late():
        time.sleep(0.2)
        assessor_services.mapping_save(
            evidence=EvidenceItem.objects.get(pk=item.pk),
            criterion=extra,
            note="Also shows K1",
            by=portfolio.assessor,
        )

    results = run_together(2, lambda n: outcome([sign_off, map_late][n]))

    assert results == ["done", "The unit is signed off, so its records can no longer change."]
    assert not Mapping.objects.filter(evidence=item, criterion=extra).exists()
    [row] = signature_rows(portfolio)
    assert row.valid, row.reasons


def test_a_witness_answer_racing_the_sign_off_lands_before_it_or_not_at_all(monkeypatch):
    from tests.assessing import sufficient

    c4_unit()
    portfolio = sufficient(PortfolioFactory())
    item = EvidenceFactory(portfolio=portfolio, method="witness", status="submitted")
    testimony = WitnessFactory(
        evidence=item,
        status="sent",
        token_hash="w" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    sign_off = slow_sign_off(monkeypatch, portfolio)

    def answer_late():
        time.sleep(0.2)
        return services.witness_respond(
            testimony=WitnessTestimony.objects.get(pk=testimony.pk),
            confirmed=True,
            typed_name="Sam",
            ip="127.0.0.1",
        )

    results = run_together(2, lambda n: [sign_off, answer_late][n]())

    assert results == [None, "closed"]
    assert WitnessTestimony.objects.get(pk=testimony.pk).status == "sent"
    [row] = signature_rows(portfolio)
    assert row.valid, row.reasons


def _assessed():
    from tests.assessing import sufficient

    c4_unit()
    portfolio = sufficient(PortfolioFactory())
    assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
    return portfolio


def _summative(portfolio):
    return quality.sample_record(
        portfolio=Portfolio.objects.get(pk=portfolio.pk),
        iqa=portfolio.iqa,
        stage="summative",
        outcome="agree",
        comment="",
        items=[(portfolio.evidence.first(), None, "")],
        actions=[],
    )


def test_countersigning_twice_at_once_yields_one_countersignature(monkeypatch):
    portfolio = _assessed()
    monkeypatch.setattr(assessor_services, "stored", slowly(assessor_services.stored, 0.3))

    results = run_together(2, lambda n: outcome(lambda: _summative(portfolio)))

    refused = [result for result in results if result != "done"]
    assert len(refused) == 1
    assert "before it is verified" in refused[0]
    kinds = Signature.objects.filter(portfolio=portfolio).values_list("kind", flat=True)
    assert sorted(kinds) == ["assessor_sign_off", "iqa_countersignature", "iqa_sample"]
    assert IqaSample.objects.filter(portfolio=portfolio).count() == 1


def test_a_countersignature_racing_an_unlock_leaves_no_valid_signature_on_an_open_portfolio(
    monkeypatch, make_user
):
    portfolio = _assessed()
    admin = make_user(centre_admin=True)
    # The unlock holds the portfolio while it breaks the signatures; the IQA's sample holds its
    # transaction open while it reads what it signs.
    monkeypatch.setattr(quality, "_revoke", slowly(quality._revoke, 0.4))
    monkeypatch.setattr(assessor_services, "stored", slowly(assessor_services.stored, 0.6))

    def unlock():
        quality.portfolio_unlock(portfolio=portfolio, reason="A mapping note is wrong", by=admin)

    def countersign():
        time.sleep(0.1)
        _summative(portfolio)

    results = run_together(2, lambda n: outcome([unlock, countersign][n]))

    assert results[0] == "done"
    assert "before it is verified" in results[1]  # the portfolio was open again
    portfolio.refresh_from_db()
    assert portfolio.status == "in_progress"
    standing = Signature.objects.filter(portfolio=portfolio, revoked_at=None)
    assert not standing.exclude(kind="iqa_sample").exists()


def test_exporting_the_pdf_while_the_unit_is_signed_off_holds_neither_up(monkeypatch, make_grant):
    from django.test import Client

    from tests.assessing import sufficient

    c4_unit()
    portfolio = sufficient(PortfolioFactory())
    eqa = make_grant(portfolios=[portfolio]).eqa
    monkeypatch.setattr(assessor_services, "stored", slowly(assessor_services.stored, 0.5))
    monkeypatch.setattr("records.exports.render_portfolio_pdf", lambda portfolio: b"%PDF-1.7\n")
    client = Client()
    client.force_login(eqa)

    def sign_off():
        return outcome(
            lambda: assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        )

    def export():
        time.sleep(0.2)
        started = client.post(f"/portfolios/{portfolio.pk}/export.pdf")
        export = Export.objects.get(pk=started.url.split("/")[-2])
        build_export.call(export.pk)
        return client.get(f"/exports/{export.pk}/download/").status_code

    results = run_together(2, lambda n: [sign_off, export][n]())

    assert results == ["done", 200]
    assert AuditEntry.objects.filter(action="portfolio.exported").count() == 1


def test_the_same_new_evidence_form_posted_five_times_at_once_makes_one_item(monkeypatch):
    from pathlib import Path

    from django.conf import settings
    from django.core.files.storage import FileSystemStorage

    from portfolio.files import prepare_upload
    from portfolio.models import EvidenceFile

    c4_unit()
    portfolio = PortfolioFactory()
    key = "5b7a3c1e-8f2d-4c6b-9a0e-1d2f3a4b5c6d"
    # Each file write waits a moment, so that every post is past its first look for the key
    # while the first one to insert it is still storing its file.
    monkeypatch.setattr(FileSystemStorage, "_save", slowly(FileSystemStorage._save, 0.5))

    def post(n):
        form = EvidenceForm(
            {**evidence_form_data(portfolio), "submission_key": key}, portfolio=portfolio
        )
        form.instance.portfolio = portfolio
        assert form.is_valid(), form.errors
        upload = prepare_upload(samples.upload("notes.txt", b"What the customer said."))
        try:
            return services.evidence_save(
                form=form, by=portfolio.learner, files=[upload], created=True
            ).pk
        except services.AlreadySaved as repeat:
            return repeat.evidence.pk

    results = run_together(5, post)

    evidence = EvidenceItem.objects.get()
    assert results == [evidence.pk] * 5
    assert EvidenceFile.objects.count() == 1
    on_disk = [p for p in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if p.is_file()]
    assert [p.name for p in on_disk] == [Path(evidence.files.get().file.name).name]


def test_two_requests_for_the_same_pdf_at_once_make_one(make_grant):
    from django.test import Client

    c4_unit()
    portfolio = PortfolioFactory()
    eqa = make_grant(portfolios=[portfolio]).eqa

    def ask(n):
        client = Client()
        client.force_login(eqa)
        return client.post(f"/portfolios/{portfolio.pk}/export.pdf").url

    first, second = run_together(2, ask)

    assert first == second
    assert Export.objects.filter(kind="pdf").count() == 1


def test_password_resets_asked_for_at_once_keep_to_the_limit(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 3

    answers = run_together(
        6,
        lambda n: services.password_reset_refusal(
            email="pat@example.org", address=f"203.0.113.{n + 1}"
        ),
    )

    assert sorted(answers, key=str).count(None) == 3
    assert PasswordResetRequest.objects.count() == 3


def test_a_full_award_and_a_unit_claimed_at_once_are_never_both_recorded(c4, c5):
    enrolment = enrolled(qualification_of(c4, c5), c4, c5)
    portfolios = list(enrolment.portfolios.order_by("unit__code"))
    Portfolio.objects.filter(enrolment=enrolment).update(status=Portfolio.Status.VERIFIED)
    admin = UserFactory(centre_admin=True)

    def claim(n):
        kind = Claim.Kind.FULL_AWARD if n == 0 else Claim.Kind.UNITS
        try:
            quality.claim_record(
                enrolment=enrolment, kind=kind, portfolios=portfolios[:1] * n, by=admin
            )
        except ValidationError as refused:
            return refused.messages[0]
        return "claimed"

    outcomes = run_together(2, claim)

    assert outcomes.count("claimed") == 1
    assert "never both for one learner" in next(o for o in outcomes if o != "claimed")
    assert Claim.objects.count() == 1
