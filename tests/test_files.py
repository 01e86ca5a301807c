import hashlib
import io
import re
import struct
import zipfile
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import content_disposition_header
from PIL import Image, ImageCms, PngImagePlugin

from audit.models import AuditEntry
from portfolio.models import EvidenceFile, EvidenceItem
from tests import samples
from tests.factories import EvidenceFactory, edit_form_data

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
        return client.post(f"/evidence/{draft.pk}/edit/", edit_form_data(draft, files=list(files)))

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


def test_a_photo_loses_its_location_and_device_but_keeps_its_pixels(
    upload_to, draft, checked_at_once
):
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


def test_a_display_p3_photo_keeps_its_colour_profile_and_so_its_colours(
    upload_to, draft, checked_at_once
):
    # An iPhone photo's pixels are Display P3 values: shown as sRGB without the profile, its
    # colours shift (duller reds, greens, skin).
    profile = samples.display_p3_profile()
    sent = Image.open(io.BytesIO(samples.p3_jpeg(colour=(190, 120, 80))))
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    srgb = ImageCms.createProfile("sRGB")
    meant = ImageCms.profileToProfile(sent, p3, srgb).getpixel((8, 8))
    assert meant != sent.getpixel((8, 8))  # the profile matters for this colour

    upload_to(samples.upload("IMG_0002.jpg", samples.p3_jpeg(colour=(190, 120, 80))))

    stored = draft.files.get()
    for field in (stored.file, stored.screen, stored.print_version):
        with field.open("rb") as handle:
            image = Image.open(handle)
            image.load()
        assert image.info.get("icc_profile") == profile
        assert samples.GPS_IFD not in image.getexif()
        shown = ImageCms.profileToProfile(image, p3, srgb).getpixel((8, 8))
        assert max(abs(a - b) for a, b in zip(shown, meant, strict=True)) <= 3


def test_a_photo_is_turned_the_way_the_camera_meant(upload_to, draft):
    # Orientation 6: the camera was turned; the stored picture must be upright (portrait).
    upload_to(samples.upload("turned.jpg", samples.jpeg(64, 48, orientation=6)))

    with draft.files.get().file.open("rb") as handle:
        assert Image.open(handle).size == (48, 64)


def test_a_photo_gets_screen_and_print_renditions(upload_to, draft, settings, checked_at_once):
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


SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
MZ = b"MZ\x90\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 200


def _jpeg_with_html() -> bytes:
    """A real photo that is also an HTML page: markup in a comment segment and after the end."""
    photo = samples.jpeg()
    comment = b"\xff\xfe" + struct.pack(">H", len(SCRIPT) + 2) + SCRIPT
    return photo[:2] + comment + photo[2:] + SCRIPT


def _png_with_text(key: bytes, text: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(key.decode(), text.decode())
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG", pnginfo=info)
    return out.getvalue()


# Hostile and broken uploads, each name sent byte for byte: each is refused with a message
# naming the file and why.
HOSTILE = {
    "a name that climbs out of its folder": (
        b"../../../etc/passwd.pdf",
        samples.pdf(),
        "../../../etc/passwd.pdf includes folders (“/” or “\\”) in its name; only a file's own "
        "name is accepted.",
    ),
    "a name with Windows folders": (
        b"..\\..\\Windows\\letter.pdf",
        samples.pdf(),
        "..\\..\\Windows\\letter.pdf includes folders",
    ),
    "a name with folders written as HTML entities": (
        b"..&#47;..&#47;letter.pdf",
        samples.pdf(),
        "../../letter.pdf includes folders",
    ),
    "a name with a NUL byte": (
        b"let\x00ter.pdf",
        samples.pdf(),
        "let\\x00ter.pdf has control or invisible characters in its name",
    ),
    "a name with a line break": (
        b"let\nter.pdf",
        samples.pdf(),
        "let\\nter.pdf has control or invisible characters in its name",
    ),
    "a name with a terminal escape": (
        b"let\x1b[2Jter.pdf",
        samples.pdf(),
        "let\\x1b[2Jter.pdf has control or invisible characters in its name",
    ),
    "a name that turns its extension round": (
        "invoice\u202efdp.jpg".encode(),
        samples.jpeg(),
        "invoice\\u202efdp.jpg has control or invisible characters in its name",
    ),
    "a name 300 characters long": (
        b"x" * 296 + b".pdf",
        samples.pdf(),
        "x" * 59 + "… has a name 300 characters long; names may be at most 200 characters.",
    ),
    "a name of dots only": (b"..", samples.pdf(), "“..” is not a file name."),
    "an empty file": ("empty.jpg", b"", "empty.jpg is empty."),
    "a file over its kind's limit": (
        "long.pdf",
        samples.pdf().ljust(600, b"%"),
        "long.pdf is 600\xa0bytes; pdf document files may be at most 100\xa0bytes.",
    ),
    "a photo named as a PDF": (
        "statement.pdf",
        samples.jpeg(),
        "statement.pdf is named .pdf but its content is a JPEG photo. Rename it to .jpe",
    ),
    "a PNG named as a PDF": (
        "diagram.pdf",
        samples.png(),
        "diagram.pdf is named .pdf but its content is a PNG image. Rename it to .png",
    ),
    "a PDF named as a photo": (
        "letter.jpg",
        samples.pdf(),
        "letter.jpg is named .jpg but its content is a PDF document. Rename it to .pdf",
    ),
    "a type not on the list": (
        "setup.exe",
        MZ,
        "setup.exe is not a kind of file we accept (its content is application/x-dosexec)",
    ),
    "a Windows program named as a PDF": (
        "invoice.pdf",
        MZ,
        "invoice.pdf is not a kind of file we accept (its content is application/x-dosexec)",
    ),
    "a Linux program named as a PDF": (
        "invoice.pdf",
        ELF,
        "invoice.pdf is not a kind of file we accept (its content is application/x-executable)",
    ),
    "an SVG with a script": (
        "drawing.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "drawing.svg is not a kind of file we accept (its content is image/svg+xml)",
    ),
    "HTML named as text": (
        "notes.txt",
        SCRIPT,
        "notes.txt is not a kind of file we accept (its content is text/html)",
    ),
    "a photo that is also a web page": (
        "photo.jpg",
        _jpeg_with_html(),
        "photo.jpg is an image that also carries web-page markup (“<html>”), as a file made to "
        "attack a website does, so it was refused.",
    ),
    "a PNG with a script in a text chunk": (
        "chart.png",
        _png_with_text(b"Comment", b"<img src=x onerror=alert(1)>"),
        "chart.png is an image that also carries web-page markup (“onerror=”)",
    ),
    "HTML with a photo inside, named as a photo": (
        "photo.jpg",
        b"<!DOCTYPE html>" + SCRIPT + samples.jpeg(),
        "photo.jpg is not a kind of file we accept",
    ),
    "an image bomb": (
        "huge.png",
        _bomb(),
        "huge.png has more pixels than we can safely open (60 megapixels at most); it was "
        "refused as a possible decompression bomb.",
    ),
    "a truncated photo": (
        "cut.jpg",
        _truncated_jpeg(),
        "cut.jpg could not be read as an image: it may be damaged or cut short",
    ),
}

TYPED = {
    "title": "Angry caller about a lost parcel",
    "account": "The caller was shouting; I let him finish, then said what I would do & by when.",
}


@pytest.fixture
def post_evidence(client, login, portfolio, draft):
    """Post the evidence form, as the learner, with one file (its name sent byte for byte) and the
    text the learner typed: as a new item (``evidence_new``) or as changes to the draft
    (``evidence_edit``)."""
    login(portfolio.learner)

    def post(view, name, data):
        url = reverse(view, args=[portfolio.pk if view == "evidence_new" else draft.pk])
        fields = {
            "method": "reflective",
            "occurred_on": draft.occurred_on.isoformat(),
            "contexts": [c.pk for c in draft.contexts.all()],
            "setting": draft.setting,
            "customer": draft.customer,
            "customer_reference": draft.customer_reference,
            "claimed_criteria": [c.pk for c in draft.claimed_criteria.all()],
        }
        return client.post(url, **samples.multipart({**fields, **TYPED}, {"files": (name, data)}))

    return post


@pytest.mark.parametrize("view", ["evidence_new", "evidence_edit"])
@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_or_broken_file_is_refused_and_nothing_is_kept(
    post_evidence, draft, settings, view, case
):
    settings.EVIDENCE_MAX_BYTES = {**settings.EVIDENCE_MAX_BYTES, "pdf": 100}
    name, data, message = HOSTILE[case]
    counts = [model.objects.count() for model in (EvidenceItem, EvidenceFile, AuditEntry)]
    title_before = draft.title

    response = post_evidence(view, name, data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["files"])
    assert escape(message) in response.text
    assert "Nothing was saved" in response.text
    # Nothing on disk or in the database ...
    assert stored_files() == []
    assert [model.objects.count() for model in (EvidenceItem, EvidenceFile, AuditEntry)] == counts
    draft.refresh_from_db()
    assert draft.title == title_before
    # ... and nothing the learner typed is lost.
    assert escape(TYPED["title"]) in response.text
    assert escape(TYPED["account"]) in response.text


def test_a_photo_keeps_only_its_pixels(client, post_evidence, checked_at_once):
    # Anything else a photo carries (here a comment segment, and bytes after the image's end)
    # is left behind when it is encoded again.
    note = b"Taken at 12 High Street by the duty manager's phone"
    photo = samples.jpeg()
    carrying = photo[:2] + b"\xff\xfe" + struct.pack(">H", len(note) + 2) + note + photo[2:] + note
    assert Image.open(io.BytesIO(carrying)).size == (64, 48)

    post_evidence("evidence_new", "photo.jpg", carrying)

    stored = EvidenceFile.objects.get()
    for field in (stored.file, stored.screen, stored.print_version):
        with field.open("rb") as handle:
            assert note not in handle.read()
    response = client.get(f"/files/{stored.pk}/")
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("Café receipt, March.pdf", "Café receipt, March.pdf"),
        ("letter.pdf.", "letter.pdf"),
        ("x" * 196 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_a_name_a_browser_could_send_is_kept_as_it_was_sent(post_evidence, client, name, kept):
    response = post_evidence("evidence_new", name, samples.pdf())

    assert response.status_code == 302
    stored = EvidenceFile.objects.get()
    assert stored.original_name == kept
    root = Path(settings.PRIVATE_FILES_ROOT)
    assert stored_files() == [root / stored.file.name]
    assert re.fullmatch(r"evidence/\d+/\d+/[0-9a-f]{32}\.pdf", stored.file.name)
    served = client.get(f"/files/{stored.pk}/")
    assert served["Content-Disposition"] == content_disposition_header(False, kept)


def test_an_empty_file_field_saves_the_rest(client, login, draft):
    # A browser sends an empty part with no name when no file was chosen.
    login(draft.portfolio.learner)
    data = edit_form_data(draft, title="A new title")

    response = client.post(
        f"/evidence/{draft.pk}/edit/", **samples.multipart(data, {"files": (b"", b"")})
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "A new title"
    assert not EvidenceFile.objects.exists()


def test_more_files_than_may_be_added_at_once_are_refused_on_the_form(
    client, login, draft, settings
):
    settings.EVIDENCE_MAX_FILES_AT_ONCE = 3
    login(draft.portfolio.learner)
    photos = [samples.upload(f"p{n}.jpg", samples.jpeg()) for n in range(4)]

    response = client.post(
        f"/evidence/{draft.pk}/edit/", edit_form_data(draft, files=photos, **TYPED)
    )

    assert response.status_code == 200
    assert "You chose 4 files; at most 3 can be added at once." in response.text
    assert not EvidenceFile.objects.exists()
    assert stored_files() == []
    assert escape(TYPED["account"]) in response.text


def test_a_flood_of_files_is_refused_before_it_is_read(client, login, draft, settings):
    login(draft.portfolio.learner)
    flood = {f"f{n}": (f"{n}.txt", b"x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)}

    response = client.post(f"/evidence/{draft.pk}/edit/", **samples.multipart({}, flood))

    assert response.status_code == 400
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

    def test_renditions_are_served(self, client, checked_at_once, photo):
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


def _open_action(document):
    document.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hello')")
    )


def _page_action(document):
    document.pages[0].AA = pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )


def _launch(document):
    document.pages[0].Annots = document.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 100, 100],
                    A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")),
                )
            ]
        )
    )


def _attachment(document):
    document.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
        document, b"MZ\x90\x00", filename="invoice.exe"
    )


HOSTILE_DOCUMENTS = {
    "a PDF that runs JavaScript when opened": (
        "letter.pdf",
        samples.pdf(_open_action),
        "letter.pdf carries an action that runs when it is opened and JavaScript, which a "
        "document of evidence must not.",
    ),
    "a PDF whose page runs a script": (
        "letter.pdf",
        samples.pdf(_page_action),
        "letter.pdf carries actions that run by themselves (on opening a page or a field) and "
        "JavaScript",
    ),
    "a PDF with a Launch action": (
        "letter.pdf",
        samples.pdf(_launch),
        "letter.pdf carries an action that starts a program",
    ),
    "a PDF carrying a program": (
        "letter.pdf",
        samples.pdf(_attachment),
        "letter.pdf carries embedded files",
    ),
    "HTML after a PDF header": (
        "letter.pdf",
        b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n",
        "letter.pdf is not a PDF throughout, so it cannot be kept.",
    ),
    "a web page after the end of a PDF": (
        "letter.pdf",
        samples.pdf() + b"<html><script>alert(1)</script></html>",
        "letter.pdf is not a PDF throughout, so it cannot be kept.",
    ),
    "a PDF with a web page in a comment": (
        "letter.pdf",
        samples.pdf().replace(b"\n", b"\n%<html><script>alert(1)</script>\n", 1),
        "letter.pdf carries web-page markup as well as a PDF, so it cannot be kept.",
    ),
    "text with binary data after its first 8 KB": (
        "notes.txt",
        b"A calm reply to an angry customer.\n" * 300 + b"\x00\x01\x02MZ",
        "notes.txt is not plain text throughout (it holds binary data), so it cannot be kept.",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_DOCUMENTS)
def test_a_document_with_active_content_or_not_what_it_claims_is_refused(
    post_evidence, draft, case
):
    name, data, message = HOSTILE_DOCUMENTS[case]

    response = post_evidence("evidence_edit", name, data)

    assert message in " ".join(response.context["form"].errors["files"])
    assert stored_files() == []
    assert escape(TYPED["account"]) in response.text


def test_a_word_97_2003_document_is_refused_with_what_to_do_instead(
    post_evidence, draft, monkeypatch
):
    monkeypatch.setattr("portfolio.files.magic.from_buffer", lambda *a, **k: "application/msword")

    response = post_evidence("evidence_edit", "minutes.doc", b"\xd0\xcf\x11\xe0" + b"\0" * 600)

    assert (
        "minutes.doc is a Word 97-2003 document (.doc), whose author and other personal details "
        "cannot be removed. Save it as a Word document (.docx) or a PDF and choose that file."
    ) in " ".join(response.context["form"].errors["files"])
    assert stored_files() == []


def _details(document):
    document.docinfo["/Author"] = "Mrs J. Customer, 4 Elm Road"
    document.docinfo["/Title"] = "Complaint from Mrs J. Customer"
    with document.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Mrs J. Customer"]
        meta["dc:title"] = "Complaint from Mrs J. Customer"


def test_a_pdf_is_stored_without_its_document_details_and_the_learner_is_told(
    client, upload_to, draft
):
    sent = samples.pdf(_details)

    response = upload_to(samples.upload("letter.pdf", sent))

    stored = EvidenceFile.objects.get()
    data = stored.file.read()
    assert b"Customer" not in data
    with pikepdf.open(io.BytesIO(data)) as document:
        assert "/Info" not in document.trailer
        assert "/Metadata" not in document.Root
        assert len(document.pages) == 1
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.uploaded_sha256 == hashlib.sha256(sent).hexdigest()
    page = client.get(response.url).text
    assert "Author, title and hidden document details removed from letter.pdf." in page


def _opens_at_its_first_page(document):
    # As LibreOffice and others save a PDF: open at the first page, fitted to the window.
    document.Root.OpenAction = pikepdf.Array([document.pages[0].obj, pikepdf.Name.Fit])
    document.pages[0].AA = pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[document.pages[0].obj, pikepdf.Name.Fit])
    )


def test_a_pdf_that_only_opens_at_a_page_is_kept(upload_to, draft):
    sent = samples.pdf(_opens_at_its_first_page)

    upload_to(samples.upload("letter.pdf", sent))

    assert EvidenceFile.objects.get().file.read() == sent


def test_a_pdf_without_document_details_is_stored_as_it_was_sent(upload_to, draft):
    sent = samples.pdf()

    upload_to(samples.upload("letter.pdf", sent))

    stored = EvidenceFile.objects.get()
    assert stored.file.read() == sent
    assert stored.sha256 == stored.uploaded_sha256 == hashlib.sha256(sent).hexdigest()


WORD_WITH_PEOPLE = {
    "docProps/core.xml": (
        "<cp:coreProperties><dc:title>Minutes</dc:title><dc:creator>Mrs J. Customer</dc:creator>"
        "<cp:lastModifiedBy>Sam Okafor</cp:lastModifiedBy></cp:coreProperties>"
    ),
    "docProps/app.xml": "<Properties><Company>Customer Ltd</Company></Properties>",
    "word/comments.xml": (
        '<w:comments><w:comment w:id="0" w:author="Sam Okafor" w:initials="SO">'
        "<w:p><w:r><w:t>Check this</w:t></w:r></w:p></w:comment></w:comments>"
    ),
}


def test_a_word_document_loses_the_names_of_who_wrote_changed_and_commented_on_it(
    client, upload_to, draft
):
    sent = samples.docx(WORD_WITH_PEOPLE)

    response = upload_to(samples.upload("minutes.docx", sent))

    stored = EvidenceFile.objects.get()
    data = stored.file.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert not any(b"Customer" in part or b"Okafor" in part for part in parts.values())
    assert b"<dc:title>Minutes</dc:title>" in parts["docProps/core.xml"]
    assert b"Check this" in parts["word/comments.xml"]
    assert set(parts) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        *WORD_WITH_PEOPLE,
    }
    assert stored.sha256 == hashlib.sha256(data).hexdigest() != stored.uploaded_sha256
    assert (
        "Author, last modified by, company and the authors of comments and changes removed from "
        "minutes.docx." in client.get(response.url).text
    )


def test_an_opendocument_text_loses_its_authors_and_stays_an_opendocument(upload_to, draft):
    sent = samples.odt(
        content=(
            "<office:document-content><office:annotation><dc:creator>Sam Okafor</dc:creator>"
            "<text:p>Check this</text:p></office:annotation></office:document-content>"
        ),
        meta="<office:meta><meta:initial-creator>Mrs J. Customer</meta:initial-creator>"
        "<dc:creator>Sam Okafor</dc:creator></office:meta>",
    )

    upload_to(samples.upload("minutes.odt", sent))

    data = EvidenceFile.objects.get().file.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        text = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Okafor" not in text
    assert b"Customer" not in text
    assert b"Check this" in text


def test_a_document_without_names_is_stored_as_it_was_sent(upload_to, draft):
    sent = samples.docx()

    upload_to(samples.upload("minutes.docx", sent))

    assert EvidenceFile.objects.get().file.read() == sent


@pytest.fixture
def checked_at_once(settings):
    """Background checks run as they are queued, inside the request (the worker's own tests are
    in tests/test_file_checks.py)."""
    immediate = {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    settings.TASKS = {**settings.TASKS, "default": immediate}


# Videos and recordings carrying a customer's name, the learner's, and (MP4, MOV) where and on
# what phone they were made: each is stored without any of it, and the learner told what went.
PERSONAL = [samples.CUSTOMER, samples.ARTIST, "High Street", "51.5", "51 deg", "iPhone"]
TAGS_NAMING_PLACE_OR_DEVICE = ("GPS", "Location", "Encoder", ":Make", ":Model", "Software")
HOSTILE_MEDIA = {
    "an MP4 video with its GPS position": (
        "clip.mp4",
        "Location, device details and other tags (such as title and artist) removed from clip.mp4.",
    ),
    "a MOV video with QuickTime location keys and the phone's make and model": (
        "IMG_0003.MOV",
        "Location, device details and other tags (such as title and artist) removed from "
        "IMG_0003.MOV.",
    ),
    "a WebM video with a title and artist": (
        "clip.webm",
        "Device details and other tags (such as title and artist) removed from clip.webm.",
    ),
    "an MP3 recording with ID3 tags": (
        "call.mp3",
        "Device details and other tags (such as title and artist) removed from call.mp3.",
    ),
    "an M4A recording with MP4 tags": (
        "call.m4a",
        "Device details and other tags (such as title and artist) removed from call.m4a.",
    ),
    "a WAV recording with LIST/INFO and ID3 chunks": (
        "call.wav",
        "Device details and other tags (such as title and artist) removed from call.wav.",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_MEDIA)
def test_a_video_or_recording_is_stored_without_its_personal_metadata(
    client, upload_to, draft, checked_at_once, case
):
    name, removed = HOSTILE_MEDIA[case]
    extension = name.rsplit(".", 1)[1].lower()
    sent = samples.media(extension)
    before = samples.exiftool(sent, extension)
    assert [value for value in before.values() if any(p in str(value) for p in PERSONAL)]

    response = upload_to(samples.upload(name, sent))

    stored = draft.files.get()
    assert stored.status == EvidenceFile.Status.READY
    data = stored.file.read()
    found = samples.exiftool(data, extension)
    assert not [
        (tag, value) for tag, value in found.items() if any(p in str(value) for p in PERSONAL)
    ]
    assert not [tag for tag in found if any(word in tag for word in TAGS_NAMING_PLACE_OR_DEVICE)]
    assert found["File:MIMEType"] == before["File:MIMEType"]  # still the kind it was
    streams = {key: found.get(key) for key in ("Composite:ImageSize", "QuickTime:AudioChannels")}
    assert streams == {key: before.get(key) for key in streams}  # pictures and sound kept
    assert stored.sha256 == hashlib.sha256(data).hexdigest() != stored.uploaded_sha256
    assert stored.size == len(data)
    assert removed in client.get(response.url).text


def test_a_video_ffmpeg_cannot_read_is_refused_and_the_rest_kept(
    client, upload_to, draft, checked_at_once, django_capture_on_commit_callbacks
):
    broken = samples.mp4()[:300]  # its header, and nothing of the pictures

    with django_capture_on_commit_callbacks(execute=True):
        response = upload_to(
            samples.upload("clip.mp4", broken), samples.upload("a.jpg", samples.jpeg())
        )

    assert list(draft.files.values_list("original_name", flat=True)) == ["a.jpg"]
    assert [p.name for p in stored_files() if p.suffix == ".mp4"] == []
    page = client.get(response.url).text
    assert "clip.mp4 could not be read as a video: it may be damaged, cut short" in page
