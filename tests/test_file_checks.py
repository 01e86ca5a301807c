"""Files whose cleaning takes seconds (videos, recordings, large PDFs) are checked by the
background worker: out of sight until then, and the learner told on the evidence page and by a
notification how the check ended."""

import datetime
import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from assessments.services import unit_sign_off
from assessments.signable import manifest_for
from audit.models import AuditEntry
from portfolio.files import atomic_with_files, prepare_upload
from portfolio.models import EvidenceFile, EvidenceItem, Notification
from portfolio.services import file_add
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, edit_form_data
from tests.test_files import _open_action

# The worker closes its database connection when it is done, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())


def stored_under(folder: str) -> list[Path]:
    root = Path(settings.PRIVATE_FILES_ROOT) / folder
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def draft(c4, portfolio):
    return EvidenceFactory(
        portfolio=portfolio, contexts="a", claims=["P1"], account="What I did at the desk."
    )


@pytest.fixture
def add_files(client, login, draft):
    login(draft.portfolio.learner)

    def post(*files):
        return client.post(f"/evidence/{draft.pk}/edit/", edit_form_data(draft, files=list(files)))

    return post


def test_a_video_is_out_of_sight_until_the_worker_has_cleaned_it(client, add_files, draft):
    sent = samples.mp4()

    response = add_files(samples.upload("clip.mp4", sent))

    # Answered at once: the file is stored as being checked, apart from checked files.
    page = client.get(response.url).text
    assert "clip.mp4 is being checked and cleaned of personal details" in page
    assert "Being checked" in page
    checking = draft.files.get()
    assert checking.status == EvidenceFile.Status.CHECKING
    assert checking.file.name.startswith("checking/")
    assert client.get(f"/files/{checking.pk}/").status_code == 404  # never served
    assert "1 file" not in client.get(draft.portfolio.get_absolute_url()).text
    assert not AuditEntry.objects.filter(action="file.added").exists()
    # It cannot be submitted meanwhile; the learner is told why, on the submit page.
    refused = client.post(f"/evidence/{draft.pk}/submit/", {"declaration": "on"})
    message = f"'{draft.title}' cannot be submitted yet: clip.mp4 is still being checked."
    assert message in refused.text.replace("&#x27;", "'")
    draft.refresh_from_db()
    assert draft.status == EvidenceItem.Status.DRAFT

    run_worker()

    ready = EvidenceFile.objects.get(pk=checking.pk)
    assert ready.status == EvidenceFile.Status.READY
    data = ready.file.read()
    assert ready.file.name.startswith("evidence/")
    assert ready.sha256 == hashlib.sha256(data).hexdigest()
    assert ready.uploaded_sha256 == hashlib.sha256(sent).hexdigest() != ready.sha256
    assert samples.CUSTOMER.encode() not in data
    assert stored_under("checking") == []  # the copy as sent is gone
    added = AuditEntry.objects.get(action="file.added")
    assert added.data["sha256"] == ready.sha256
    assert client.get(f"/files/{ready.pk}/").status_code == 200
    told = Notification.objects.get(recipient=draft.portfolio.learner, evidence=draft)
    assert told.message == (
        f"clip.mp4 is checked and added to '{draft.title}'. Location, device details and other "
        "tags (such as title and artist) removed from clip.mp4."
    )
    # The evidence page says so until it has been seen there.
    page = client.get(f"/evidence/{draft.pk}/").text.replace("&#x27;", "'")
    assert told.message in page
    assert told.message not in client.get(f"/evidence/{draft.pk}/").text.replace("&#x27;", "'")
    assert client.post(f"/evidence/{draft.pk}/submit/", {"declaration": "on"}).status_code == 302


def test_a_file_refused_by_the_worker_goes_and_everything_else_is_kept(
    client, add_files, draft, settings
):
    settings.EVIDENCE_BACKGROUND_CHECK_BYTES = 100  # so this small PDF is checked in the background
    scripted = samples.pdf(_open_action)
    add_files(samples.upload("letter.pdf", scripted), samples.upload("photo.jpg", samples.jpeg()))
    assert sorted(draft.files.values_list("status", flat=True)) == ["checking", "ready"]

    run_worker()

    assert list(draft.files.values_list("original_name", flat=True)) == ["photo.jpg"]
    assert stored_under("checking") == []
    draft.refresh_from_db()
    assert draft.account == "What I did at the desk."
    told = Notification.objects.get(recipient=draft.portfolio.learner, evidence=draft)
    assert told.message.startswith(
        f"A file was not added to '{draft.title}': letter.pdf carries an action that runs when it "
        "is opened and JavaScript"
    )
    page = client.get(f"/evidence/{draft.pk}/").text.replace("&#x27;", "'")
    assert told.message in page
    assert "letter.pdf" in client.get("/notifications/").text


def test_a_file_being_checked_is_not_signed(c4, portfolio, client, login):
    evidence = EvidenceFactory(portfolio=portfolio, status=EvidenceItem.Status.REFERRED_BACK)
    login(portfolio.learner)
    client.post(
        f"/evidence/{evidence.pk}/edit/",
        edit_form_data(evidence, files=[samples.upload("call.mp3", samples.mp3())]),
    )
    assert evidence.files.get().status == EvidenceFile.Status.CHECKING

    (item,) = manifest_for(portfolio)["evidence"]
    assert item["files"] == []

    run_worker()

    (item,) = manifest_for(portfolio)["evidence"]
    assert [f["name"] for f in item["files"]] == ["call.mp3"]


def test_the_unit_is_not_signed_off_while_a_file_is_being_checked(c4, portfolio):
    sufficient(portfolio)
    evidence = EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None).first()
    prepared = prepare_upload(samples.upload("call.wav", samples.wav()))
    with atomic_with_files() as written:
        file_add(evidence, prepared, by=portfolio.learner, written=written)

    with pytest.raises(ValidationError) as refused:
        unit_sign_off(portfolio=portfolio, by=portfolio.assessor)

    assert refused.value.messages == [
        "The unit cannot be signed off yet: call.wav is still being checked. Sign it off once "
        "the check is done."
    ]
    run_worker()
    assert unit_sign_off(portfolio=portfolio, by=portfolio.assessor).pk


class TestWorkWhoseWorkerStopped:
    """A check or a photo's renditions whose worker stopped (or whose task was lost) is queued
    again by ``restart_stopped_work``; work still waiting or running is left to its worker."""

    @pytest.fixture
    def long_ago(self):
        def age(evidence_file, minutes=60):
            EvidenceFile.objects.filter(pk=evidence_file.pk).update(
                uploaded_at=timezone.now() - datetime.timedelta(minutes=minutes)
            )

        return age

    def restart(self) -> str:
        out = StringIO()
        call_command("restart_stopped_work", stdout=out)
        return out.getvalue()

    def test_a_check_left_running_by_a_stopped_worker_is_queued_again(
        self, add_files, draft, long_ago
    ):
        add_files(samples.upload("clip.mp4", samples.mp4()))
        checking = draft.files.get()
        long_ago(checking)
        # The worker took the task and died with it: it stays "running" for ever.
        DBTaskResult.objects.update(
            status="RUNNING", started_at=timezone.now() - datetime.timedelta(minutes=50)
        )

        output = self.restart()

        assert f"Queued again: the check of file #{checking.pk} (clip.mp4)" in output
        assert DBTaskResult.objects.filter(status="FAILED").count() == 1
        run_worker()
        assert EvidenceFile.objects.get(pk=checking.pk).status == EvidenceFile.Status.READY
        assert self.restart() == ""  # nothing left to restart

    def test_a_check_still_queued_or_just_added_is_left_to_its_worker(
        self, add_files, draft, long_ago
    ):
        add_files(samples.upload("clip.mp4", samples.mp4()))
        queued = draft.files.get()

        assert self.restart() == ""  # added just now
        long_ago(queued)
        assert self.restart() == ""  # its task is still waiting for a worker
        assert DBTaskResult.objects.count() == 1

    def test_a_photo_whose_renditions_task_was_lost_gets_them(self, add_files, draft, long_ago):
        add_files(samples.upload("till.jpg", samples.jpeg(300, 200)))
        photo = draft.files.get()
        long_ago(photo)
        DBTaskResult.objects.all().delete()  # lost with a database restored from before it

        output = self.restart()
        run_worker()

        assert f"Queued again: the renditions of file #{photo.pk} (till.jpg)" in output
        photo.refresh_from_db()
        assert photo.screen
        assert photo.print_version
