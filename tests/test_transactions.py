"""Every upload and every signature is one transaction with its files: a failure part-way
(here, the audit trail failing to record a later step) leaves no row, no audit entry and no
file behind, and changes nothing that was there."""

import errno
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone

from assessments import quality
from assessments.models import (
    CriterionDecision,
    IqaSample,
    Mapping,
    ObservationRecord,
    Review,
    Signature,
)
from assessments.services import unit_sign_off
from audit import chain as audit
from audit.models import AuditEntry
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio
from tests import samples
from tests.assessing import sufficient
from tests.factories import PASSWORD, EvidenceFactory

pytestmark = pytest.mark.django_db

WORKFLOWS = ("portfolio.services", "assessments.services", "assessments.quality")


def stored_files() -> list[Path]:
    return sorted(path for path in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if path.is_file())


def everything(portfolio) -> dict:
    """The portfolio's records, the audit trail and the file store, to compare before and after."""
    portfolio.refresh_from_db()
    return {
        "portfolio": (portfolio.status, portfolio.updated_at),
        "evidence": list(EvidenceItem.objects.values_list("pk", "title", "status", "updated_at")),
        "files": list(EvidenceFile.objects.values_list("pk", "sha256")),
        "observations": list(ObservationRecord.objects.values_list("pk")),
        "mappings": list(Mapping.objects.values_list("pk", "note")),
        "decisions": list(CriterionDecision.objects.values_list("pk", "withdrawn_at")),
        "reviews": list(Review.objects.values_list("pk")),
        "signatures": list(Signature.objects.values_list("pk", "revoked_at")),
        "samples": list(IqaSample.objects.values_list("pk")),
        "audit": AuditEntry.objects.count(),
        "on disk": stored_files(),
    }


@pytest.fixture
def fail_at(monkeypatch):
    """Make the ``nth`` audit record of ``action`` fail, after everything before it in the
    workflow (rows and files) was written."""

    def arm(action: str, nth: int = 1):
        seen = []

        def record(name, **kwargs):
            if name == action:
                seen.append(name)
                if len(seen) == nth:
                    raise RuntimeError(f"the audit trail failed at {name}")
            return audit.record(name, **kwargs)

        for module in WORKFLOWS:
            monkeypatch.setattr(f"{module}.record", record)

    return arm


def evidence_data(portfolio, **changes) -> dict:
    unit = portfolio.unit
    return {
        "title": "Refund complaint at the desk",
        "method": "reflective",
        "occurred_on": (timezone.localdate()).isoformat(),
        "contexts": [unit.contexts.get(letter="b").pk],
        "setting": "real_paid",
        "customer": "external",
        "customer_reference": "Customer 7",
        "account": "A customer was shouting about a refund. I listened, then explained.",
        "claimed_criteria": [unit.criteria.get(nos_code="P1").pk],
        **changes,
    }


def two_files():
    return [samples.upload("desk.jpg", samples.jpeg()), samples.upload("note.pdf", samples.pdf())]


class TestTheLearnersUploads:
    def test_a_new_item_failing_after_its_files_are_written_leaves_nothing(
        self, client, login, portfolio, fail_at
    ):
        login(portfolio.learner)
        before = everything(portfolio)
        fail_at("file.added", nth=2)  # the photo and its renditions are stored, the PDF too

        with pytest.raises(RuntimeError):
            client.post(
                f"/portfolios/{portfolio.pk}/evidence/new/",
                {**evidence_data(portfolio), "files": two_files()},
            )

        assert everything(portfolio) == before
        assert stored_files() == []

    def test_a_change_failing_after_its_files_are_written_leaves_the_item_as_it_was(
        self, client, login, portfolio, fail_at
    ):
        draft = EvidenceFactory(portfolio=portfolio, title="As it was")
        with atomic_with_files() as written:
            store_file(
                draft,
                # Another photo than the one added below, which would be refused as a repeat.
                prepare_upload(samples.upload("first.jpg", samples.jpeg(colour=(10, 120, 40)))),
                by=portfolio.learner,
                written=written,
            )
        login(portfolio.learner)
        before = everything(portfolio)
        fail_at("file.added", nth=2)

        with pytest.raises(RuntimeError):
            client.post(
                f"/evidence/{draft.pk}/edit/",
                {**evidence_data(portfolio, title="Changed"), "files": two_files()},
            )

        assert everything(portfolio) == before
        assert len(stored_files()) == 3  # the first photo and its renditions, untouched

    def test_a_file_store_failing_part_way_through_the_files_leaves_nothing(
        self, client, login, portfolio, monkeypatch
    ):
        storage = storages["evidence"]
        save, saved = storage.save, []

        def save_then_fail(name, content, *args, **kwargs):
            if len(saved) == 2:  # the photo and its screen rendition are on disk
                raise OSError("No space left on device")
            saved.append(save(name, content, *args, **kwargs))
            return saved[-1]

        login(portfolio.learner)
        before = everything(portfolio)
        monkeypatch.setattr(storage, "save", save_then_fail)

        response = client.post(
            f"/portfolios/{portfolio.pk}/evidence/new/",
            {**evidence_data(portfolio, title="Kept as typed"), "files": two_files()},
        )

        assert response.status_code == 200
        assert "The file could not be stored; nothing was saved." in response.text
        assert "Kept as typed" in response.text
        assert len(saved) == 2
        assert everything(portfolio) == before
        assert stored_files() == []

    def test_a_write_failing_part_way_removes_its_partial_file(
        self, client, login, portfolio, disk_full_after
    ):
        login(portfolio.learner)
        before = everything(portfolio)
        written = disk_full_after(0)  # the first file's write stops with some bytes on disk

        response = client.post(
            f"/portfolios/{portfolio.pk}/evidence/new/",
            {**evidence_data(portfolio, account="What I typed stays"), "files": two_files()},
        )

        assert response.status_code == 200
        assert "The file could not be stored; nothing was saved." in response.text
        assert "What I typed stays" in response.text
        assert len(written) == 1  # a partial file was written, then removed
        assert everything(portfolio) == before
        assert stored_files() == []

    def test_a_rendition_failing_part_way_removes_it_and_the_files_before_it(
        self, client, login, portfolio, disk_full_after
    ):
        draft = EvidenceFactory(portfolio=portfolio, title="As it was")
        login(portfolio.learner)
        before = everything(portfolio)
        written = disk_full_after(2)  # the photo and its screen rendition, then the print one

        response = client.post(
            f"/evidence/{draft.pk}/edit/",
            {**evidence_data(portfolio, title="Changed"), "files": two_files()},
        )

        assert response.status_code == 200
        assert "The file could not be stored; nothing was saved." in response.text
        assert len(written) == 3
        assert everything(portfolio) == before
        assert stored_files() == []


@pytest.fixture
def disk_full_after(monkeypatch):
    """Let ``whole`` writes to the file store succeed; the next one writes some of its bytes,
    then stops as a full disk does. Returns the names written to, whole or in part."""

    def arm(whole: int):
        written = []
        real_save = FileSystemStorage._save

        def save(storage, name, content):
            if len(written) < whole:
                written.append(name)
                return real_save(storage, name, content)
            written.append(name)
            with open(storage.path(name), "wb") as partial:
                partial.write(b"\xff" * 4096)
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(FileSystemStorage, "_save", save)
        return written

    return arm


class TestTheAssessorsRecords:
    def test_an_observation_failing_after_its_photos_are_written_leaves_nothing(
        self, client, login, portfolio, fail_at
    ):
        unit = portfolio.unit
        login(portfolio.assessor)
        before = everything(portfolio)
        fail_at("mapping.added", nth=2)  # after the record, its files and the first criterion

        with pytest.raises(RuntimeError):
            client.post(
                f"/portfolios/{portfolio.pk}/observations/new/",
                {
                    "title": "Observed at the returns desk",
                    "occurred_on": timezone.localdate().isoformat(),
                    "place": "Returns desk",
                    "duration_minutes": "45",
                    "contexts": [unit.contexts.get(letter="b").pk],
                    "setting": "real_paid",
                    "customer": "external",
                    "customer_reference": "Customer 9",
                    "account": "Handled three upset customers in a long queue.",
                    "criteria": [c.pk for c in unit.criteria.filter(nos_code__in=["P8", "P17"])],
                    "note": "Seen directly during the visit",
                    "files": two_files(),
                },
            )

        assert everything(portfolio) == before
        assert stored_files() == []

    def test_a_discussion_failing_after_its_recording_is_written_leaves_nothing(
        self, client, login, portfolio, fail_at
    ):
        login(portfolio.assessor)
        before = everything(portfolio)
        fail_at("mapping.added", nth=2)

        with pytest.raises(RuntimeError):
            client.post(
                f"/portfolios/{portfolio.pk}/discussions/new/",
                {
                    "title": "Discussion about safety",
                    "occurred_on": timezone.localdate().isoformat(),
                    "account": "We talked about when to call security.",
                    "recording": samples.upload("discussion.m4a", samples.m4a()),
                    "discussed": "K10 03:15\nK5 05:40\n",
                },
            )

        assert everything(portfolio) == before
        assert stored_files() == []


@pytest.fixture
def signable(portfolio):
    """A sufficient portfolio whose evidence has a stored photo."""
    sufficient(portfolio)
    with atomic_with_files() as written:
        store_file(
            portfolio.evidence.first(),
            prepare_upload(samples.upload("desk.jpg", samples.jpeg())),
            by=portfolio.learner,
            written=written,
        )
    return portfolio


class TestSignatures:
    def test_a_sign_off_failing_after_its_signature_is_written_leaves_nothing(
        self, client, login, signable, fail_at
    ):
        login(signable.assessor)
        before = everything(signable)
        fail_at("portfolio.assessed")  # after the signature and its audit entry

        with pytest.raises(RuntimeError):
            client.post(f"/portfolios/{signable.pk}/sign-off/", {"password": PASSWORD})

        assert everything(signable) == before
        assert before["portfolio"][0] == Portfolio.Status.IN_PROGRESS

    def test_a_declaration_failing_at_its_audit_entry_leaves_nothing(
        self, client, login, signable, fail_at
    ):
        unit_sign_off(portfolio=signable, by=signable.assessor)
        login(signable.learner)
        before = everything(signable)
        fail_at("signature.learner_declaration")

        with pytest.raises(RuntimeError):
            client.post(f"/portfolios/{signable.pk}/declaration/", {"password": PASSWORD})

        assert everything(signable) == before

    def test_a_countersignature_failing_after_it_is_written_leaves_nothing(self, signable, fail_at):
        unit_sign_off(portfolio=signable, by=signable.assessor)
        before = everything(signable)
        fail_at("portfolio.verified")  # after the sample, its signature and the countersignature

        with pytest.raises(RuntimeError):
            quality.sample_record(
                portfolio=signable,
                iqa=signable.iqa,
                stage="summative",
                outcome="agree",
                comment="Sound judgements throughout.",
                items=[(signable.evidence.first(), None, "Clear mapping")],
                actions=[],
            )

        assert everything(signable) == before
        assert before["portfolio"][0] == Portfolio.Status.ASSESSED

    def test_an_unlock_failing_after_it_breaks_the_signatures_leaves_them_standing(
        self, client, login, signable, make_user, fail_at
    ):
        unit_sign_off(portfolio=signable, by=signable.assessor)
        login(make_user(centre_admin=True))
        before = everything(signable)
        fail_at("portfolio.unlocked")

        with pytest.raises(RuntimeError):
            client.post(f"/portfolios/{signable.pk}/unlock/", {"reason": "Wrong photo"})

        assert everything(signable) == before
