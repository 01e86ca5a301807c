"""Photos are accepted in the request without their renditions, which the worker makes; the
pixels and megabytes one save and one person in a day may add are budgeted."""

import datetime
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import formats, timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult
from PIL import Image

from assessments import signable
from assessments.signable import stored as signable_record
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, UploadUsage
from portfolio.services import file_renditions
from records.pdf import PortfolioFetcher
from tests import samples
from tests.factories import EvidenceFactory, edit_form_data

pytestmark = pytest.mark.django_db

TYPED = {"account": "I explained the refund to the caller & wrote down when it would arrive."}


@pytest.fixture
def draft(portfolio):
    return EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])


@pytest.fixture
def upload_to(client, login, draft):
    """Post ``files`` with the draft's edit form and what the learner typed, as the learner."""
    login(draft.portfolio.learner)

    def post(*files):
        data = edit_form_data(draft, files=list(files), **TYPED)
        return client.post(f"/evidence/{draft.pk}/edit/", data)

    return post


def _store(evidence, name: str, data: bytes, by=None) -> EvidenceFile:
    with atomic_with_files() as written:
        return store_file(
            evidence,
            prepare_upload(samples.upload(name, data)),
            by=by or evidence.portfolio.learner,
            written=written,
        )


def test_a_photo_is_accepted_ready_with_its_renditions_queued(upload_to, draft):
    response = upload_to(samples.upload("till.jpg", samples.jpeg(200, 100)))

    assert response.status_code == 302
    photo = draft.files.get()
    assert photo.is_ready
    assert not photo.screen
    assert not photo.print_version
    assert photo.pixels == 200 * 100
    queued = DBTaskResult.objects.get(task_path__endswith="make_evidence_file_renditions")
    assert queued.args_kwargs["args"] == [photo.pk]


def test_no_renditions_are_queued_for_other_files(upload_to, draft):
    upload_to(samples.upload("notes.pdf", samples.pdf()))

    assert draft.files.get().pixels is None
    assert not DBTaskResult.objects.filter(task_path__endswith="make_evidence_file_renditions")


@pytest.mark.django_db(transaction=True)  # the worker closes its connection: commit for real
def test_the_worker_makes_the_renditions_without_metadata(upload_to, draft, settings):
    settings.EVIDENCE_SCREEN_EDGE = 50
    settings.EVIDENCE_PRINT_EDGE = 60
    upload_to(samples.upload("till.jpg", samples.jpeg(200, 100, gps=True)))

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())

    photo = draft.files.get()
    sizes = {}
    for variant in ("screen", "print_version"):
        with getattr(photo, variant).open("rb") as handle:
            data = handle.read()
        sizes[variant] = Image.open(io.BytesIO(data)).size
        groups = {tag.split(":")[0] for tag in samples.exiftool(data, ".jpg")}
        assert not groups & {"EXIF", "GPS", "XMP", "IPTC", "MakerNotes"}, groups
    assert sizes == {"screen": (50, 25), "print_version": (60, 30)}
    assert photo.stored_names() == [photo.file.name, photo.screen.name, photo.print_version.name]


@pytest.mark.parametrize(
    ("name", "make", "profiled"),
    [
        ("IMG_0002.jpg", samples.p3_jpeg, True),
        ("turned.jpg", lambda: samples.jpeg(64, 48, gps=True, orientation=6), False),
    ],
)
def test_a_stored_photo_keeps_no_tag_but_its_colour_profile(upload_to, draft, name, make, profiled):
    sent = make()
    assert {tag.split(":")[0] for tag in samples.exiftool(sent, f".{name.rsplit('.')[-1]}")} & {
        "EXIF",
        "ICC_Profile",
    }

    upload_to(samples.upload(name, sent))

    with draft.files.get().file.open("rb") as handle:
        tags = samples.exiftool(handle.read(), ".jpg")
    groups = {tag.split(":")[0] for tag in tags}
    assert groups <= {"SourceFile", "ExifTool", "File", "JFIF", "ICC_Profile", "Composite"}, groups
    assert ("ICC_Profile:ProfileDescription" in tags) == profiled


def test_making_renditions_leaves_the_signed_record_as_it_was(portfolio):
    item = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"], status="submitted")
    photo = _store(item, "desk.jpg", samples.jpeg(200, 100))
    before = signable_record(portfolio)

    file_renditions(file_id=photo.pk)

    photo.refresh_from_db()
    assert photo.screen
    assert photo.print_version
    after = signable_record(portfolio)
    assert after.digest == before.digest
    assert after.manifest == before.manifest


def test_making_renditions_does_not_recompute_the_signed_record(portfolio, monkeypatch):
    item = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"], status="submitted")
    photo = _store(item, "desk.jpg", samples.jpeg(200, 100))
    signable_record(portfolio)
    computed = []
    monkeypatch.setattr(signable, "manifest_for", lambda p: computed.append(p) or {})

    file_renditions(file_id=photo.pk)

    assert EvidenceFile.objects.get(pk=photo.pk).screen
    assert computed == []


def test_the_evidence_page_shows_a_placeholder_until_the_preview_is_made(client, upload_to, draft):
    upload_to(samples.upload("till.jpg", samples.jpeg(200, 100)))
    photo = draft.files.get()
    screen_url = f"/files/{photo.pk}/screen/"

    page = client.get(draft.get_absolute_url()).text
    assert "Preparing preview…" in page
    assert 'role="status"' in page
    assert screen_url not in page  # no image that cannot load
    assert client.get(screen_url).status_code == 404  # not an error

    file_renditions(file_id=photo.pk)

    page = client.get(draft.get_absolute_url()).text
    assert "Preparing preview…" not in page
    assert f'src="{screen_url}"' in page
    assert client.get(screen_url).status_code == 200


def test_the_pdf_makes_a_missing_print_version_and_keeps_it(portfolio):
    item = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"], status="submitted")
    photo = _store(item, "desk.jpg", samples.jpeg(2000, 1000))
    assert not photo.print_version

    answer = PortfolioFetcher({photo.pk: photo}).fetch(f"portfolio-file:{photo.pk}/print")

    assert answer.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.read())).size == (1600, 800)  # not the original
    photo.refresh_from_db()
    assert photo.print_version
    assert photo.screen


def _refused(response) -> str:
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["files"])
    assert escape(TYPED["account"]) in response.text  # nothing typed is lost
    return errors


def test_the_pixels_of_one_save_are_budgeted(upload_to, draft, settings):
    settings.EVIDENCE_MAX_PIXELS_PER_REQUEST = 15_000

    response = upload_to(
        samples.upload("a.jpg", samples.jpeg(100, 100)),
        samples.upload("b.jpg", samples.jpeg(100, 100)),
    )

    errors = _refused(response)
    assert "b.jpg (10,000 pixels) would bring the photos of this save to 20,000 pixels" in errors
    assert "one save may add at most 15,000 pixels of photos" in errors
    assert "Add b.jpg in a separate save, which you can do straight away." in errors
    assert not draft.files.exists()


def test_the_megabytes_of_one_save_are_budgeted(upload_to, draft, settings):
    letter = samples.pdf()
    settings.EVIDENCE_MAX_UPLOAD_BYTES_PER_REQUEST = len(letter) + 10

    response = upload_to(samples.upload("a.pdf", letter), samples.upload("b.pdf", letter))

    errors = _refused(response)
    assert "b.pdf" in errors
    assert "a.pdf" not in errors
    assert "would bring the files of this save to" in errors
    assert "one save may add at most" in errors
    assert not draft.files.exists()


def test_the_pixel_budget_is_read_from_the_header_before_decoding(upload_to, draft, settings):
    settings.EVIDENCE_MAX_PIXELS_PER_REQUEST = 1_000
    cut_short = samples.jpeg(100, 100)[:-200]  # would be refused as damaged once decoded

    errors = _refused(upload_to(samples.upload("big.jpg", cut_short)))

    assert "big.jpg is 10,000 pixels; one save may add at most 1,000 pixels of photos" in errors
    assert "damaged" not in errors


def _added_earlier(draft, *, hours_ago: float, size: int = 0, pixels: int | None = None, by=None):
    earlier = _store(draft, "earlier.pdf", samples.pdf(), by=by)
    when = timezone.now() - datetime.timedelta(hours=hours_ago)
    UploadUsage.objects.filter(file=earlier).update(at=when, size=size, pixels=pixels)
    return when


def _moment(when) -> str:
    return formats.date_format(timezone.localtime(when), "j F Y \\a\\t H:i")


def test_a_persons_megabytes_in_a_day_are_budgeted(upload_to, draft, settings):
    letter = samples.pdf()
    settings.EVIDENCE_MAX_UPLOAD_BYTES_PER_DAY = 10 * len(letter)
    _added_earlier(draft, hours_ago=30, size=100 * len(letter))  # over a day ago: not counted
    first = _added_earlier(draft, hours_ago=20, size=5 * len(letter))
    _added_earlier(draft, hours_ago=2, size=5 * len(letter))

    errors = _refused(upload_to(samples.upload("letter.pdf", letter)))

    assert "letter.pdf" in errors
    assert "would bring the files you have added in the last 24 hours to" in errors
    assert "may be added in 24 hours" in errors
    # Room again once the upload of 20 hours ago is a day old.
    assert (
        f"There will be room for letter.pdf from {_moment(first + datetime.timedelta(hours=24))}."
        in errors
    )
    assert draft.files.count() == 3


def test_a_persons_pixels_in_a_day_are_budgeted(upload_to, draft, settings):
    settings.EVIDENCE_MAX_PIXELS_PER_DAY = 25_000
    first = _added_earlier(draft, hours_ago=5, pixels=10_000)
    _added_earlier(draft, hours_ago=1, pixels=10_000)

    errors = _refused(upload_to(samples.upload("till.jpg", samples.jpeg(100, 100))))

    assert (
        "till.jpg (10,000 pixels) would bring the photos you have added in the last 24 " in errors
    )
    assert (
        "hours to 30,000 pixels; at most 25,000 pixels of photos may be added in 24 hours" in errors
    )
    assert f"from {_moment(first + datetime.timedelta(hours=24))}" in errors


def test_deleting_what_was_added_gives_no_room_back(upload_to, draft, settings):
    settings.EVIDENCE_MAX_PIXELS_PER_DAY = 15_000
    assert upload_to(samples.upload("till.jpg", samples.jpeg(100, 100))).status_code == 302
    draft.files.get().delete()  # the learner removes the photo and tries another

    errors = _refused(upload_to(samples.upload("again.jpg", samples.jpeg(100, 100))))

    assert "would bring the photos you have added in the last 24 hours to 20,000 pixels" in errors
    assert not draft.files.exists()


def test_what_was_added_over_a_day_ago_is_forgotten(upload_to, draft, settings):
    _added_earlier(draft, hours_ago=30, size=1)
    _added_earlier(draft, hours_ago=2, size=1)

    assert upload_to(samples.upload("till.jpg", samples.jpeg(100, 100))).status_code == 302

    day_ago = timezone.now() - datetime.timedelta(hours=24)
    assert UploadUsage.objects.count() == 2  # two hours ago, and now
    assert not UploadUsage.objects.filter(at__lt=day_ago).exists()


def test_only_the_persons_own_uploads_count_against_their_day(upload_to, draft, settings):
    settings.EVIDENCE_MAX_PIXELS_PER_DAY = 25_000
    _added_earlier(draft, hours_ago=1, pixels=20_000, by=draft.portfolio.assessor)

    response = upload_to(samples.upload("till.jpg", samples.jpeg(100, 100)))

    assert response.status_code == 302


def test_make_renditions_catches_up_on_photos_without_them(portfolio):
    item = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    photos = [_store(item, f"{n}.jpg", samples.jpeg()) for n in range(2)]
    letter = _store(item, "letter.pdf", samples.pdf())
    out = StringIO()

    call_command("make_renditions", stdout=out)

    assert out.getvalue() == "2 photo(s) given their renditions.\n"
    for photo in photos:
        photo.refresh_from_db()
        assert photo.screen
        assert photo.print_version
    letter.refresh_from_db()
    assert not letter.screen
    call_command("make_renditions", stdout=out)
    assert out.getvalue().endswith("0 photo(s) given their renditions.\n")


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_counts_the_files_of_the_last_day_against_their_person(portfolio):
    item = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    recent = _store(item, "recent.jpg", samples.jpeg(100, 100))
    old = _store(item, "old.pdf", samples.pdf())
    EvidenceFile.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - datetime.timedelta(hours=25)
    )
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(
        [("portfolio", "0021_portfolio_workplace_required")]
    )  # before the budget kept its own rows

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)

    usage = UploadUsage.objects.get()
    assert (usage.person, usage.file, usage.size, usage.pixels) == (
        portfolio.learner,
        recent,
        recent.size,
        10_000,
    )
    assert usage.at == recent.uploaded_at
