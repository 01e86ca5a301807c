import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from assessments.models import AuditEntry
from portfolio.files import clean_name
from portfolio.models import EvidenceFile
from tests import samples
from tests.factories import EvidenceFactory

pytestmark = pytest.mark.django_db


def stored_files() -> list[Path]:
    return [path for path in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if path.is_file()]


@pytest.fixture
def draft(portfolio):
    return EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])


@pytest.fixture
def upload_to(client, login, draft):
    """Post ``files`` with the draft's edit form, as the learner, and return the response."""
    login(draft.portfolio.learner)

    def post(*files):
        return client.post(
            f"/evidence/{draft.pk}/edit/",
            {
                "title": draft.title,
                "method": draft.method,
                "occurred_on": draft.occurred_on.isoformat(),
                "contexts": [c.pk for c in draft.contexts.all()],
                "setting": draft.setting,
                "customer": draft.customer,
                "customer_reference": draft.customer_reference,
                "account": draft.account,
                "claimed_criteria": [c.pk for c in draft.claimed_criteria.all()],
                "files": list(files),
            },
        )

    return post


@pytest.mark.parametrize("name", samples.ACCEPTED)
def test_each_accepted_kind_is_stored_with_its_hash(upload_to, draft, name):
    make, kind = samples.ACCEPTED[name]
    data = make()

    response = upload_to(samples.upload(name, data))

    assert response.status_code == 302, response.context["form"].errors
    stored = EvidenceFile.objects.get(evidence=draft)
    assert stored.kind == kind
    assert stored.uploaded_sha256 == hashlib.sha256(data).hexdigest()
    with stored.file.open("rb") as handle:
        assert stored.sha256 == hashlib.sha256(handle.read()).hexdigest()
    if kind != "image":
        assert stored.sha256 == stored.uploaded_sha256  # stored exactly as uploaded
    assert str(settings.PRIVATE_FILES_ROOT) in stored.file.path
    assert name not in stored.file.name  # stored under a name of ours, never the learner's


def test_several_files_are_added_at_once(upload_to, draft):
    upload_to(samples.upload("a.jpg", samples.jpeg()), samples.upload("b.pdf", samples.pdf()))

    assert sorted(draft.files.values_list("original_name", flat=True)) == ["a.jpg", "b.pdf"]
    assert list(AuditEntry.objects.filter(action="file.added").values_list("summary", flat=True))


def test_a_photo_loses_its_location_and_device_but_keeps_its_pixels(upload_to, draft):
    original = samples.jpeg(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(samples.GPS_IFD) is not None

    upload_to(samples.upload("photo.jpg", original))

    stored = draft.files.get()
    for field in (stored.file, stored.screen, stored.print_version):
        with field.open("rb") as handle:
            image = Image.open(handle)
            exif = image.getexif()
            assert samples.GPS_IFD not in exif
            assert samples.MAKE not in exif
            assert not image.info.get("exif")
    assert stored.sha256 != stored.uploaded_sha256


def test_a_photo_is_turned_the_way_the_camera_meant(upload_to, draft):
    # Orientation 6: the camera was turned; the stored picture must be upright (portrait).
    upload_to(samples.upload("turned.jpg", samples.jpeg(64, 48, orientation=6)))

    with draft.files.get().file.open("rb") as handle:
        assert Image.open(handle).size == (48, 64)


def test_a_photo_gets_screen_and_print_renditions(upload_to, draft, settings):
    settings.EVIDENCE_SCREEN_EDGE = 50
    settings.EVIDENCE_PRINT_EDGE = 60

    upload_to(samples.upload("big.jpg", samples.jpeg(200, 100)))

    stored = draft.files.get()
    with stored.screen.open("rb") as screen, stored.print_version.open("rb") as printed:
        assert Image.open(screen).size == (50, 25)
        assert Image.open(printed).size == (60, 30)


def test_an_iphone_photo_is_converted_to_jpeg(upload_to, draft):
    upload_to(samples.upload("IMG_0001.HEIC", samples.heic()))

    stored = draft.files.get()
    assert stored.original_name == "IMG_0001.jpg"
    assert stored.content_type == "image/jpeg"
    with stored.file.open("rb") as handle:
        assert Image.open(handle).format == "JPEG"


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 megapixels, a few kilobytes
    return out.getvalue()


def _truncated_jpeg() -> bytes:
    data = samples.jpeg(300, 300)
    return data[: len(data) // 2]


REJECTED = {
    "an empty file": ("empty.jpg", b"", "empty.jpg is empty."),
    "a type not on the list": (
        "setup.exe",
        b"MZ\x90\x00" + b"\x00" * 200,
        "setup.exe is not a kind of file we accept (its content is application/x-dosexec)",
    ),
    "an SVG with a script": (
        "drawing.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "drawing.svg is not a kind of file we accept",
    ),
    "HTML named as text": (
        "notes.txt",
        b"<html><body><script>alert(1)</script></body></html>",
        "notes.txt is not a kind of file we accept (its content is text/html)",
    ),
    "a photo named as a PDF": (
        "statement.pdf",
        samples.jpeg(),
        "statement.pdf is named .pdf but its content is a JPEG photo",
    ),
    "an executable named as a PDF": (
        "invoice.pdf",
        b"MZ\x90\x00" + b"\x00" * 200,
        "invoice.pdf is not a kind of file we accept",
    ),
    "an image bomb": (
        "huge.png",
        _bomb(),
        "huge.png has more pixels than we can safely open (60 megapixels at most)",
    ),
    "a truncated image": (
        "cut.jpg",
        _truncated_jpeg(),
        "cut.jpg could not be read as an image: it may be damaged or cut short",
    ),
}


@pytest.mark.parametrize("case", REJECTED)
def test_a_bad_file_is_refused_and_nothing_is_stored(upload_to, draft, case):
    name, data, message = REJECTED[case]
    audit_before = AuditEntry.objects.count()
    title_before = draft.title

    response = upload_to(samples.upload(name, data))

    assert response.status_code == 200
    assert message in str(response.context["form"].errors["files"])
    assert "Nothing was saved" in response.text
    assert not EvidenceFile.objects.exists()
    assert stored_files() == []
    assert AuditEntry.objects.count() == audit_before
    draft.refresh_from_db()
    assert draft.title == title_before


def test_an_oversized_file_is_refused(upload_to, draft, settings):
    settings.EVIDENCE_MAX_BYTES = {**settings.EVIDENCE_MAX_BYTES, "pdf": 100}

    data = samples.pdf() + b"%" * 200

    response = upload_to(samples.upload("long.pdf", data))

    assert (
        f"long.pdf is {len(data)}\xa0bytes; pdf document files may be at most 100\xa0bytes"
        in str(response.context["form"].errors["files"])
    )
    assert stored_files() == []


def test_one_bad_file_among_good_ones_stores_none_of_them(upload_to, draft):
    response = upload_to(samples.upload("good.jpg", samples.jpeg()), samples.upload("bad.txt", b""))

    assert response.status_code == 200
    assert not EvidenceFile.objects.exists()
    assert stored_files() == []


def test_a_failure_while_saving_leaves_no_file_and_no_row(upload_to, draft, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("portfolio.services.record", fail)

    with pytest.raises(RuntimeError):
        upload_to(samples.upload("photo.jpg", samples.jpeg()))

    assert not EvidenceFile.objects.exists()
    assert stored_files() == []


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("bad\x00na\x1bme.pdf", "badname.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        ("...", "file"),
    ],
)
def test_names_are_cleaned_for_display(name, clean):
    assert clean_name(name) == clean


def test_a_learner_removes_a_file_before_submitting(
    client, upload_to, draft, django_capture_on_commit_callbacks
):
    upload_to(samples.upload("photo.jpg", samples.jpeg()))
    stored = draft.files.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/files/{stored.pk}/remove/")

    assert response.url == f"/evidence/{draft.pk}/edit/"
    assert not EvidenceFile.objects.exists()
    assert stored_files() == []
    assert AuditEntry.objects.filter(action="file.removed").count() == 1


def test_files_cannot_be_removed_once_submitted(client, upload_to, draft):
    upload_to(samples.upload("photo.jpg", samples.jpeg()))
    draft.status = "submitted"
    draft.save()

    response = client.post(f"/files/{draft.files.get().pk}/remove/")

    assert response.status_code == 403
    assert EvidenceFile.objects.count() == 1


class TestServing:
    @pytest.fixture
    def photo(self, upload_to, draft):
        upload_to(samples.upload("photo.jpg", samples.jpeg()))
        return draft.files.get()

    def test_images_are_shown_inline_and_never_sniffed(self, client, photo):
        response = client.get(f"/files/{photo.pk}/")

        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        with photo.file.open("rb") as handle:
            assert b"".join(response.streaming_content) == handle.read()

    def test_renditions_are_served(self, client, photo):
        for variant in ("screen", "print"):
            response = client.get(f"/files/{photo.pk}/{variant}/")
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"

    def test_other_kinds_are_downloads(self, client, upload_to, draft):
        upload_to(samples.upload("notes.docx", samples.docx()))
        document = draft.files.get()

        response = client.get(f"/files/{document.pk}/")

        assert response["Content-Disposition"].startswith('attachment; filename="notes.docx"')
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_a_draft_file_is_hidden_from_the_assessor_until_submitted(
        self, client, login, photo, draft
    ):
        login(draft.portfolio.assessor)
        assert client.get(f"/files/{photo.pk}/").status_code == 404

        draft.status = "submitted"
        draft.save()
        assert client.get(f"/files/{photo.pk}/").status_code == 200

    def test_strangers_and_anonymous_visitors_get_nothing(self, client, login, photo, make_user):
        photo.evidence.status = "submitted"
        photo.evidence.save()
        client.logout()
        assert client.get(f"/files/{photo.pk}/").status_code == 302

        login(make_user(learner=True))
        assert client.get(f"/files/{photo.pk}/").status_code == 404
        login(make_user(assessor=True))
        assert client.get(f"/files/{photo.pk}/").status_code == 404


def test_an_image_just_over_the_pixel_limit_is_refused(upload_to, draft, settings):
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 1000

    response = upload_to(samples.upload("photo.jpg", samples.jpeg(40, 30)))

    assert "photo.jpg has more pixels than we can safely open" in str(
        response.context["form"].errors["files"]
    )
    assert stored_files() == []


def test_a_truncated_image_is_refused_even_after_the_pdf_library_loads(upload_to, draft):
    import weasyprint  # noqa: F401  (sets Pillow to accept truncated images on import)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    response = upload_to(samples.upload("cut.jpg", _truncated_jpeg()))

    assert "could not be read as an image" in str(response.context["form"].errors["files"])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as it was found
