"""What was signed is what is stored: the stored signable record, and the stored files' bytes."""

import hashlib
import io
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from assessments import services as assessor_services
from assessments.models import (
    CriterionDecision,
    Mapping,
    ObservationRecord,
    Review,
    SignableRecord,
)
from assessments.signable import digest_of, manifest_for
from assessments.signatures import signature_rows
from audit.models import AuditEntry
from portfolio.models import EvidenceFile, EvidenceItem, WitnessTestimony
from portfolio.signable import batched
from records.pdf import render_portfolio_pdf
from records.retention import purge
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory
from tests.test_pdf import attach, text_of
from units.models import Criterion, EvidenceContext

pytestmark = pytest.mark.django_db


def stored_equals_recomputed(portfolio) -> bool:
    record = SignableRecord.objects.get(portfolio=portfolio)
    fresh = manifest_for(portfolio)
    return record.manifest == fresh and record.digest == digest_of(fresh)


class TestStoredSignableRecord:
    """After every kind of change to what a signature covers, made any way the ORM allows (a
    service, the admin, a shell), the stored record equals one computed from scratch."""

    @pytest.fixture
    def signed(self, portfolio):
        sufficient(portfolio)
        assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        return portfolio

    def item(self, portfolio):
        return EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None).first()

    def changes(self, portfolio):
        """(what, how) for every kind of change the manifest covers."""
        item = self.item(portfolio)
        criterion = Criterion.objects.filter(unit=portfolio.unit).order_by("position").last()
        context = EvidenceContext.objects.filter(unit=portfolio.unit).exclude(evidence=item).first()
        claimed = item.claimed_criteria.first()
        decision = CriterionDecision.objects.filter(portfolio=portfolio).first()
        assessor, learner = portfolio.assessor, portfolio.learner

        def save_item():
            item.title = "Renamed after signing"
            item.save()

        def new_item():
            EvidenceFactory(portfolio=portfolio, status="submitted", title="Added after signing")

        def file_added():
            attach(item, "desk.jpg", samples.jpeg())

        def file_removed():
            EvidenceFile.objects.filter(evidence=item).first().delete()

        def file_rehashed():
            stored = attach(item, "letter.pdf", samples.pdf())
            stored.sha256 = "f" * 64
            stored.save()

        def witness():
            WitnessTestimony.objects.create(
                evidence=item,
                witness_name="A. Witness",
                witness_job_title="Supervisor",
                relationship="My line manager",
                witness_email="witness@example.com",
                statement="I saw it.",
            )

        def witness_answered():
            testimony = WitnessTestimony.objects.get(evidence=item)
            testimony.confirmed_name = "A. Witness"
            testimony.save()

        def observation():
            ObservationRecord.objects.create(
                evidence=item, place="The front desk", duration_minutes=30
            )

        def mapping_note():
            mapping = Mapping.objects.filter(evidence=item).first()
            mapping.note = "A different paragraph"
            mapping.save()

        def mapping_removed():
            Mapping.objects.filter(evidence=item).first().delete()

        def mapping_added():
            Mapping.objects.create(evidence=item, criterion=criterion, note="x", assessor=assessor)

        def review():
            Review.objects.create(evidence=item, outcome="accepted", assessor=assessor)

        def review_removed():
            Review.objects.filter(evidence=item).last().delete()

        def contexts_forward():
            item.contexts.add(context)

        def contexts_reverse():
            context.evidence.remove(item)

        def contexts_cleared():
            item.contexts.clear()

        def claims():
            item.claimed_criteria.remove(claimed)

        def claims_reverse():
            criterion.claimed_by.add(item)

        def cited():
            decision.cited.remove(*decision.cited.all())

        def decision_withdrawn():
            decision.withdrawn_at = decision.decided_at
            decision.withdrawn_by = assessor
            decision.withdrawal_reason = "Wrong"
            decision.save()

        def decision_deleted():
            CriterionDecision.objects.filter(portfolio=portfolio).last().delete()

        def portfolio_details():
            portfolio.job_role = "Duty manager"
            portfolio.save()

        def workplace_details():
            workplace = portfolio.workplace
            workplace.organisation = "Riverside City Council"
            workplace.save()

        def item_deleted():
            EvidenceItem.objects.filter(portfolio=portfolio, title="Added after signing").delete()

        def draft_added_and_changed():
            draft = EvidenceFactory(portfolio=portfolio, status="draft")
            draft.contexts.add(context)
            attach(draft, "draft.jpg", samples.jpeg())
            draft.status = "submitted"
            draft.save()

        def batched_changes():
            with batched():
                save_item()
                Mapping.objects.filter(evidence=item).delete()

        def retention_purge():
            purge(portfolio)

        del learner
        return [
            ("an evidence item's details", save_item),
            ("an evidence item added", new_item),
            ("a file added", file_added),
            ("a file removed", file_removed),
            ("a file's recorded hash", file_rehashed),
            ("a witness asked", witness),
            ("a witness's answer", witness_answered),
            ("an observation recorded", observation),
            ("a mapping's note", mapping_note),
            ("a mapping removed", mapping_removed),
            ("a mapping added", mapping_added),
            ("a review", review),
            ("a review removed", review_removed),
            ("a context added", contexts_forward),
            ("a context removed from its side", contexts_reverse),
            ("contexts cleared", contexts_cleared),
            ("a claim removed", claims),
            ("a claim added from the criterion's side", claims_reverse),
            ("a decision's cited evidence", cited),
            ("a decision withdrawn", decision_withdrawn),
            ("a decision deleted", decision_deleted),
            ("the portfolio's details", portfolio_details),
            ("its workplace's details", workplace_details),
            ("an evidence item deleted", item_deleted),
            ("a draft made and submitted", draft_added_and_changed),
            ("several changes in one block", batched_changes),
            ("the retention purge", retention_purge),
        ]

    def test_every_kind_of_change_keeps_it_equal_to_a_fresh_one(self, signed):
        unchanged = []
        for what, change in self.changes(signed):
            before = SignableRecord.objects.get(portfolio=signed).digest
            change()
            assert stored_equals_recomputed(signed), what
            if SignableRecord.objects.get(portfolio=signed).digest == before:
                unchanged.append(what)
        assert unchanged == []

    def test_a_signature_binds_the_stored_record(self, signed):
        [row] = signature_rows(signed)
        assert row.valid
        assert row.signature.digest == SignableRecord.objects.get(portfolio=signed).digest
        item = self.item(signed)
        item.customer_reference = "Another customer"
        item.save()
        [row] = signature_rows(signed)
        assert row.reasons == [f"Evidence '{item.title}' has changed (customer_reference)."]

    def test_a_change_that_is_rolled_back_leaves_it_as_it_was(self, signed):
        from django.db import transaction

        before = SignableRecord.objects.get(portfolio=signed).digest
        item = self.item(signed)
        item.title = "Never saved"

        def change_and_fail():
            with transaction.atomic(), batched():
                item.save()
                raise RuntimeError

        with pytest.raises(RuntimeError):
            change_and_fail()
        assert SignableRecord.objects.get(portfolio=signed).digest == before
        assert stored_equals_recomputed(signed)

    def test_a_portfolio_without_one_gets_it_when_first_read(self, signed):
        SignableRecord.objects.filter(portfolio=signed).delete()
        [row] = signature_rows(signed)
        assert row.valid
        assert stored_equals_recomputed(signed)

    def test_deleting_a_portfolio_removes_it(self, c4):
        portfolio = PortfolioFactory()
        EvidenceFactory(portfolio=portfolio, status="submitted")
        portfolio.delete()
        assert not SignableRecord.objects.exists()


def verify(*options) -> str:
    out = StringIO()
    call_command("verify_files", *options, stdout=out)
    return out.getvalue()


def failing_verify(*options) -> str:
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_files", *options, stdout=out)
    return out.getvalue() + str(failure.value)


class TestVerifyFiles:
    @pytest.fixture
    def signed(self, portfolio, learner_declared):
        return portfolio

    @pytest.fixture
    def learner_declared(self, portfolio):
        sufficient(portfolio)
        item = EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None).first()
        portfolio.photo = attach(item, "IMG_0012.jpg", samples.jpeg(80, 60))
        portfolio.letter = attach(item, "letter.pdf", samples.pdf())
        assessor_services.unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        assessor_services.learner_declaration_sign(portfolio=portfolio, by=portfolio.learner)
        return portfolio

    def append_a_byte(self, evidence_file):
        storage = storages["evidence"]
        with storage.open(evidence_file.file.name, "rb") as handle:
            data = handle.read()
        storage.delete(evidence_file.file.name)
        storage.save(evidence_file.file.name, ContentFile(data + b"\0"))
        return data

    def test_files_as_stored_pass_and_each_result_is_recorded(self, signed):
        output = verify()
        assert "2 file(s) checked" in output
        assert "no problem(s)" in output
        assert not EvidenceFile.objects.filter(checked_at=None).exists()
        assert all(row.valid for row in signature_rows(signed))
        assert AuditEntry.objects.filter(action="files.verified").count() == 1

    def test_a_byte_appended_breaks_every_signature_covering_the_file(
        self, signed, client, login, make_user
    ):
        photo = signed.photo
        original = self.append_a_byte(photo)

        output = failing_verify()

        expected = photo.sha256[:4]
        found = hashlib.sha256(original + b"\0").hexdigest()[:4]
        cause = (
            f"Photo 'IMG_0012.jpg' changed on storage after it was signed: expected {expected}…, "
            f"found {found}…."
        )
        assert cause in output
        rows = signature_rows(signed)
        assert len(rows) == 2
        for row in rows:
            assert not row.valid
            assert row.reasons == [cause]
        entry = AuditEntry.objects.get(action="file.check_failed")
        assert entry.summary == cause
        assert entry.portfolio_id == signed.pk
        assert entry.data["found"].startswith(found)

        login(signed.assessor)
        page = client.get(signed.get_absolute_url()).text
        assert "Files that no longer match what was recorded" in page
        assert cause.replace("'", "&#x27;") in page
        login(make_user(centre_admin=True))
        home = client.get("/centre/").text
        assert "1 stored file no longer matches what was recorded" in home
        assert cause.replace("'", "&#x27;") in home

        text = text_of(PdfReader(io.BytesIO(render_portfolio_pdf(signed)))).replace("\n", " ")
        assert "BROKEN" in text
        assert "changed on storage after it was signed" in text
        assert "not attached" in text

        # The same finding again is not audited twice; the file restored is, and the
        # signatures hold again.
        failing_verify()
        assert AuditEntry.objects.filter(action="file.check_failed").count() == 1
        storage = storages["evidence"]
        storage.delete(photo.file.name)
        storage.save(photo.file.name, ContentFile(original))
        assert "no problem(s)" in verify()
        assert all(row.valid for row in signature_rows(signed))
        assert AuditEntry.objects.filter(action="file.check_passed").count() == 1

    def test_a_missing_file_is_reported(self, signed):
        storages["evidence"].delete(signed.letter.file.name)
        output = failing_verify()
        assert "PDF 'letter.pdf' is missing from storage." in output
        assert EvidenceFile.objects.get(pk=signed.letter.pk).storage_problem

    def test_an_unsigned_file_changed_says_so(self, portfolio):
        item = EvidenceFactory(portfolio=portfolio, status="submitted")
        photo = attach(item, "desk.jpg", samples.jpeg())
        self.append_a_byte(photo)
        assert "changed on storage after it was uploaded" in failing_verify("--files-only")

    def test_a_limited_run_is_continued_by_the_next(self, signed):
        first = verify("--limit", "1", "--files-only")
        assert "1 file(s) checked" in first
        assert "1 not reached" in first
        checked = EvidenceFile.objects.exclude(checked_at=None).get()
        verify("--limit", "1", "--files-only")
        assert EvidenceFile.objects.exclude(pk=checked.pk).get().checked_at is not None
        assert "0 not reached" in verify("--older-than-days", "1", "--files-only")

    def test_recently_checked_files_are_skipped_when_asked(self, signed):
        verify("--files-only")
        assert "0 file(s) checked" in verify("--older-than-days", "1", "--files-only")
        assert "2 file(s) checked" in verify("--older-than-days", "0", "--files-only")

    def test_nonsense_limits_are_refused(self, db):
        with pytest.raises(CommandError, match="--limit must be more than 0"):
            call_command("verify_files", "--limit", "0", stdout=StringIO())

    def test_the_pdf_export_hashes_each_file_it_attaches(self, signed):
        self.append_a_byte(signed.photo)
        reader = PdfReader(io.BytesIO(render_portfolio_pdf(signed)))
        names = list(reader.attachments)
        assert f"{signed.letter.pk}-letter.pdf" in names
        assert f"{signed.photo.pk}-IMG_0012.jpg" not in names
        assert EvidenceFile.objects.get(pk=signed.photo.pk).storage_problem
        assert AuditEntry.objects.filter(action="file.check_failed").exists()

    def test_the_pdf_carries_the_stored_digest(self, signed):
        text = text_of(PdfReader(io.BytesIO(render_portfolio_pdf(signed))))
        digest = SignableRecord.objects.get(portfolio=signed).digest
        assert digest in text.replace("\n", "")

    def test_a_file_changed_after_the_check_is_still_not_attached(self, signed):
        from records.pdf import PortfolioFetcher, RefusedURL

        photo = EvidenceFile.objects.get(pk=signed.photo.pk)
        fetcher = PortfolioFetcher({photo.pk: photo})
        assert fetcher.fetch(f"portfolio-file:{photo.pk}/original").headers["Content-Type"]
        self.append_a_byte(photo)
        with pytest.raises(RefusedURL, match="changed on storage"):
            fetcher.fetch(f"portfolio-file:{photo.pk}/original")
        fetcher.fetch(f"portfolio-file:{photo.pk}/print")  # a rendition, not signed: read

    def test_the_pdf_and_the_audit_trail_page_show_the_same_proof(self, signed, client, login):
        from audit.chain import proof_for

        text = text_of(PdfReader(io.BytesIO(render_portfolio_pdf(signed)))).replace("\n", "")
        learner_head, centre_head = proof_for(signed.learner_id)
        assert learner_head.chain == f"learner {signed.learner_id}"
        for head in (learner_head, centre_head):
            assert head.hash in text
            assert head.seal in text
        login(signed.assessor)
        page = client.get(f"/portfolios/{signed.pk}/audit/").text
        assert learner_head.seal in page
        assert SignableRecord.objects.get(portfolio=signed).digest in page
        # Anything audited afterwards moves the learner's head on: the printed copy then differs.
        from audit.chain import record

        record("test.change", actor=signed.assessor, portfolio=signed, summary="A change")
        assert proof_for(signed.learner_id)[0].hash != learner_head.hash
        assert proof_for(signed.learner_id)[0].hash not in text
