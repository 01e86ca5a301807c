"""Evidence files: judged by their content, images re-encoded without metadata, stored privately.

An upload is checked and prepared completely before anything is written (``prepare_upload``);
``store_file`` then writes it and its row together, removing what it wrote if anything fails.
"""

import hashlib
import html
import io
import math
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import magic
import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.http.multipartparser import MultiPartParser
from django.template.defaultfilters import filesizeformat
from django.utils.encoding import force_str
from django.utils.text import capfirst, get_text_list
from PIL import Image, ImageFile, ImageOps

from portfolio.budgets import UploadBudget
from portfolio.documents import Cleaned, check_pdf, check_text, clean_office
from portfolio.media import clean_media
from portfolio.models import EvidenceFile, EvidenceItem, UploadUsage, User
from portfolio.signable import batched

pillow_heif.register_heif_opener()

Kind = EvidenceFile.Kind

# What we accept: the type libmagic reads from the content, and the names such a file may have.
ACCEPTED: dict[str, tuple[str, set[str], str]] = {
    "image/jpeg": (Kind.IMAGE, {".jpg", ".jpeg", ".jpe"}, "a JPEG photo"),
    "image/png": (Kind.IMAGE, {".png"}, "a PNG image"),
    "image/webp": (Kind.IMAGE, {".webp"}, "a WebP image"),
    "image/heic": (Kind.IMAGE, {".heic", ".heif"}, "an iPhone (HEIC) photo"),
    "image/heif": (Kind.IMAGE, {".heic", ".heif"}, "an iPhone (HEIF) photo"),
    "application/pdf": (Kind.PDF, {".pdf"}, "a PDF document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        Kind.DOCUMENT,
        {".docx"},
        "a Word document",
    ),
    "application/vnd.oasis.opendocument.text": (Kind.DOCUMENT, {".odt"}, "an OpenDocument text"),
    "text/plain": (Kind.TEXT, {".txt", ".text"}, "a plain text file"),
    "audio/mpeg": (Kind.AUDIO, {".mp3"}, "an MP3 recording"),
    "audio/x-m4a": (Kind.AUDIO, {".m4a"}, "an M4A recording"),
    "audio/mp4": (Kind.AUDIO, {".m4a"}, "an M4A recording"),
    "audio/x-wav": (Kind.AUDIO, {".wav"}, "a WAV recording"),
    "audio/wav": (Kind.AUDIO, {".wav"}, "a WAV recording"),
    "video/mp4": (Kind.VIDEO, {".mp4", ".m4v"}, "an MP4 video"),
    "video/quicktime": (Kind.VIDEO, {".mov", ".qt"}, "a QuickTime (MOV) video"),
    "video/webm": (Kind.VIDEO, {".webm"}, "a WebM video"),
}
# Kinds refused with advice: personal details cannot be removed from them.
REFUSED_WITH_ADVICE = {
    "application/msword": (
        "{name} is a Word 97-2003 document (.doc), whose author and other personal details "
        "cannot be removed. Save it as a Word document (.docx) or a PDF and choose that file."
    ),
}
# Some recorders write M4A audio in a container libmagic calls video.
AUDIO_IN_VIDEO_CONTAINER = {".m4a": "audio/mp4"}
ACCEPTED_NAMES = (
    "photos (JPEG, PNG, WebP, HEIC), PDF, Word (.docx), OpenDocument text, plain text, "
)
ACCEPTED_NAMES += "MP3, M4A or WAV audio, and MP4, MOV or WebM video"
# For the file picker: lets phones offer the camera and the recorder.
ACCEPT_ATTRIBUTE = "image/*,audio/*,video/*," + ",".join(
    sorted({ext for _, names, _ in ACCEPTED.values() for ext in names})
)

STORED_IMAGE_FORMATS = {"image/png": ("PNG", ".png", "image/png")}
DEFAULT_STORED_IMAGE = ("JPEG", ".jpg", "image/jpeg")


@dataclass
class PreparedFile:
    """A checked upload, ready to store; nothing of it is on disk in the evidence store yet."""

    original_name: str
    content_type: str
    kind: str
    extension: str
    size: int
    sha256: str
    uploaded_sha256: str
    content: File
    pixels: int | None = None  # width times height of a photo as uploaded
    removed: list[str] = field(default_factory=list)  # personal details taken out, in words
    # Cleaned by the background task (``portfolio.tasks.check_evidence_file``), not in the
    # request: until then it is stored out of sight as "being checked".
    checked_later: bool = False

    @property
    def removal_note(self) -> str:
        """What was taken out of the file before it was stored, for the learner; or ""."""
        if not self.removed:
            return ""
        return f"{capfirst(get_text_list(self.removed, 'and'))} removed from {self.original_name}."


# The longest file name kept; a longer one is refused rather than cut short.
MAX_NAME_LENGTH = EvidenceFile._meta.get_field("original_name").max_length
# Control characters, text-direction and zero-width marks, and line or paragraph breaks.
_UNSEEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_SHOWN_LENGTH = 60


def _unseen(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSEEN


def _shown(name: str) -> str:
    """A name as a message may show it: unseen characters written as escapes, long ones cut."""
    shown = "".join(ascii(ch)[1:-1] if _unseen(ch) else ch for ch in name)
    return shown if len(shown) <= _SHOWN_LENGTH else shown[: _SHOWN_LENGTH - 1] + "…"


def name_problem(name: str) -> str | None:
    """Why a file's name, as it was sent, is refused; None if it may be kept as it is.

    A browser sends only a file's own name, so folders, control characters or a name longer than
    we keep mean something other than a browser made the request: the file is refused with the
    reason rather than stored under a name the learner did not give it."""
    shown = _shown(name)
    if "/" in name or "\\" in name:
        return (
            f"{shown} includes folders (“/” or “\\”) in its name; only a file's own name is "
            "accepted. Rename it without them and choose it again."
        )
    if any(_unseen(ch) for ch in name):
        return (
            f"{shown} has control or invisible characters in its name (shown here as \\x or "
            "\\u codes), such as a line break, a tab or a text-direction mark. Rename it without "
            "them and choose it again."
        )
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"{shown} has a name {len(name)} characters long; names may be at most "
            f"{MAX_NAME_LENGTH} characters. Rename it with a shorter name and choose it again."
        )
    if not name.strip(" ."):
        return f"“{shown}” is not a file name. Rename the file and choose it again."
    return None


class _SentNameParser(MultiPartParser):
    """Django's parser, which also keeps each file's name as it was sent (``sent_name``).

    Django cuts folders and drops unprintable characters from a name before anything else sees
    it; kept as sent, such a name can be refused (``name_problem``) instead."""

    def sanitize_file_name(self, file_name):
        self._sent_name = html.unescape(file_name)
        # A name Django would discard ("..", control characters only) still reaches the form,
        # so that it is refused with its reason instead of vanishing from the upload.
        return super().sanitize_file_name(file_name) or "unnamed"

    def handle_file_complete(self, old_field_name, counters):
        key = force_str(old_field_name, self._encoding, errors="replace")
        before = len(self._files.getlist(key))
        super().handle_file_complete(old_field_name, counters)
        files = self._files.getlist(key)
        if len(files) > before:
            files[-1].sent_name = self._sent_name


class SentNameUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: parses the form with ``_SentNameParser``, handing the
    files' contents to the handlers after it exactly as Django's own parsing would."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        others = [handler for handler in self.request.upload_handlers if handler is not self]
        return _SentNameParser(META, input_data, others, encoding).parse()


def clean_name(name: str) -> str:
    """The name kept for display, once ``name_problem`` has passed it: no surrounding spaces or
    dots (a trailing dot would hide the extension)."""
    return name.strip(" .") or "file"


def _sha256(stream) -> str:
    stream.seek(0)
    digest = hashlib.file_digest(stream, "sha256")
    stream.seek(0)
    return digest.hexdigest()


def _limit(kind: str) -> int:
    return settings.EVIDENCE_MAX_BYTES[kind]


def prepare_upload(upload: UploadedFile, *, budget: UploadBudget | None = None) -> PreparedFile:
    """Check an upload and prepare what will be stored; raise ValidationError saying why not.

    ``budget`` counts the upload's megabytes and, read from a photo's header before it is
    decoded, its pixels, refusing the file if the save or its person has no room left for it."""
    problem = name_problem(getattr(upload, "sent_name", None) or upload.name or "")
    if problem:
        raise ValidationError(problem, code="name")
    name = clean_name(upload.name or "")
    extension = os.path.splitext(name)[1].lower()
    largest = max(settings.EVIDENCE_MAX_BYTES.values())
    if upload.size == 0:
        raise ValidationError(f"{name} is empty.", code="empty")
    if upload.size > largest:
        raise ValidationError(
            f"{name} is {filesizeformat(upload.size)}, larger than any file we accept "
            f"(at most {filesizeformat(largest)}).",
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    detected = magic.from_buffer(head, mime=True)
    if detected in {"video/mp4"} and extension in AUDIO_IN_VIDEO_CONTAINER:
        detected = AUDIO_IN_VIDEO_CONTAINER[extension]
    if detected in REFUSED_WITH_ADVICE:
        raise ValidationError(REFUSED_WITH_ADVICE[detected].format(name=name), code="type")
    if detected not in ACCEPTED:
        raise ValidationError(
            f"{name} is not a kind of file we accept (its content is {detected}). "
            f"We accept {ACCEPTED_NAMES}.",
            code="type",
        )
    kind, extensions, description = ACCEPTED[detected]
    if extension not in extensions:
        raise ValidationError(
            f"{name} is named {extension or 'without an extension'} but its content is "
            f"{description}. Rename it to {sorted(extensions)[0]} if that is what it is.",
            code="mismatch",
        )
    if upload.size > _limit(kind):
        raise ValidationError(
            f"{name} is {filesizeformat(upload.size)}; {Kind(kind).label.lower()} files may be "
            f"at most {filesizeformat(_limit(kind))}.",
            code="too_large",
        )
    if budget is not None:
        budget.take(name, size=upload.size)
    uploaded_sha256 = _sha256(upload)
    if kind in {Kind.AUDIO, Kind.VIDEO} or (
        kind == Kind.PDF and upload.size > settings.EVIDENCE_BACKGROUND_CHECK_BYTES
    ):
        as_sent = Cleaned(None, [])
        return _prepared(
            upload, name, detected, kind, extension, uploaded_sha256, as_sent, checked_later=True
        )
    if kind == Kind.IMAGE:
        _refuse_markup(upload, name)
        return _prepare_image(upload, name, detected, uploaded_sha256, budget)
    if kind == Kind.PDF:
        return _prepare_pdf(upload, name, extension, uploaded_sha256)
    if kind == Kind.TEXT:
        check_text(_read_all(upload), name)
    if kind == Kind.DOCUMENT:
        opendocument = detected == "application/vnd.oasis.opendocument.text"
        cleaned = clean_office(_read_all(upload), name, opendocument=opendocument)
        return _prepared(upload, name, detected, kind, extension, uploaded_sha256, cleaned)
    return _prepared(upload, name, detected, kind, extension, uploaded_sha256, Cleaned(None, []))


def check_stored(record: EvidenceFile) -> PreparedFile:
    """The slow part of ``prepare_upload``, for a file stored as being checked: a video or
    recording remuxed without its tags, a large PDF checked and cleaned. Raise ValidationError
    saying why it is refused."""
    name, extension = record.original_name, os.path.splitext(record.file.name)[1]
    with tempfile.NamedTemporaryFile(suffix=extension) as sent:
        with record.file.open("rb") as stored:
            shutil.copyfileobj(stored, sent, 1024 * 1024)
        sent.flush()
        upload = File(sent, name=name)
        upload.size = sent.tell()
        if record.kind == Kind.PDF:
            cleaned = check_pdf(_read_all(upload), name)
            return _prepared(
                upload, name, record.content_type, Kind.PDF, extension, record.uploaded_sha256,
                cleaned,
            )  # fmt: skip
        cleaned, remuxed = clean_media(sent.name, name, record.content_type)
    remuxed.size = os.fstat(remuxed.fileno()).st_size
    return PreparedFile(
        original_name=name,
        content_type=record.content_type,
        kind=record.kind,
        extension=extension,
        size=remuxed.size,
        sha256=_sha256(remuxed),
        uploaded_sha256=record.uploaded_sha256,
        content=remuxed,
        removed=cleaned.removed,
    )


# Web-page markup that has no business inside a photo: a picture carrying it (in a comment, a
# text chunk, a tag or after the image's end) was made to be read as a page too. Each pattern is
# long enough that a photo's compressed data matching it by chance is vanishingly unlikely, and
# each begins with a literal, which the regular expression engine finds quickly: they are matched
# against the lower-cased bytes.
_MARKUP = [
    re.compile(rb"<(?:script|html|body|iframe|object|embed)[\s>/]|<!doctype\s+html"),
    re.compile(rb"javascript:"),
    re.compile(rb"on(?:error|load)\s*="),
]


def _refuse_markup(upload: UploadedFile, name: str) -> None:
    upload.seek(0)
    content = upload.read().lower()
    upload.seek(0)
    for pattern in _MARKUP:
        if found := pattern.search(content):
            markup = found.group().decode("ascii", "replace").strip()
            raise ValidationError(
                f"{name} is an image that also carries web-page markup (“{markup}”), as a file "
                "made to attack a website does, so it was refused. Save the picture again from "
                "your camera, phone or screenshot tool and choose that copy.",
                code="markup",
            )


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Refuse truncated images while reading an upload, whatever another library (WeasyPrint
    sets the opposite on import) has made Pillow's global default."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _open_image(upload: UploadedFile, name: str, budget: UploadBudget | None) -> Image.Image:
    limit = settings.EVIDENCE_MAX_IMAGE_PIXELS
    too_large = ValidationError(
        f"{name} has more pixels than we can safely open ({limit // 1_000_000} megapixels at "
        "most); it was refused as a possible decompression bomb.",
        code="bomb",
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own limit: both are "too large" here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
        width, height = image.size
        if width * height > limit:
            raise too_large
        if budget is not None:
            budget.take(name, pixels=width * height)
        with _strict_decoding():
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            f"{name} could not be read as an image: it may be damaged or cut short ({exc}).",
            code="broken_image",
        ) from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """An image JPEG can hold: transparency laid on white."""
    if image.mode in {"RGB", "L"}:
        return image
    background = Image.new("RGB", image.size, "white")
    rgba = image.convert("RGBA")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _encode(image: Image.Image, image_format: str, icc_profile: bytes | None) -> bytes:
    # Encoded while the learner waits: without the optimising pass, which takes about as long
    # as decoding and changes nothing of how the picture looks (only the file is a little larger).
    out = io.BytesIO()
    if image_format == "JPEG":
        _flatten(image).save(out, "JPEG", quality=88, icc_profile=icc_profile)
    else:
        image.save(out, image_format, icc_profile=icc_profile)
    return out.getvalue()


def _rendition(image: Image.Image, longest_edge: int, icc_profile: bytes | None) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    _flatten(copy).save(
        out, "JPEG", quality=75, optimize=True, progressive=True, icc_profile=icc_profile
    )
    return out.getvalue()


RENDITIONS = {"print_version": "EVIDENCE_PRINT_EDGE", "screen": "EVIDENCE_SCREEN_EDGE"}


def make_renditions(record: EvidenceFile) -> dict[str, bytes]:
    """The smaller copies of a stored photo for the screen and for print, by variant: made by
    the background worker from the stored (already cleaned) picture, or by the PDF for a photo
    still without them."""
    edges = {variant: getattr(settings, edge) for variant, edge in RENDITIONS.items()}
    with storages["evidence"].open(record.file.name, "rb") as stored, _strict_decoding():
        image = Image.open(stored)
        # A JPEG is decoded at the smallest scale still larger than the largest rendition.
        scale = max(edges.values()) / max(image.size)
        if scale < 1:
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.load()
    icc_profile = image.info.get("icc_profile") or None
    return {variant: _rendition(image, edge, icc_profile) for variant, edge in edges.items()}


def store_renditions(
    record: EvidenceFile, renditions: dict[str, bytes], *, written: list[str]
) -> None:
    """Write a photo's renditions beside it and name them on its row; call inside
    ``atomic_with_files``. Its signed record is unchanged: that names the photo itself."""
    storage = storages["evidence"]
    stem = os.path.splitext(record.file.name)[0]
    for variant, data in renditions.items():
        name = save_whole(storage, f"{stem}-{variant}.jpg", ContentFile(data))
        written.append(name)
        getattr(record, variant).name = name
    record.save(update_fields=list(renditions))


def _prepare_image(
    upload: UploadedFile,
    name: str,
    detected: str,
    uploaded_sha256: str,
    budget: UploadBudget | None = None,
) -> PreparedFile:
    image = _open_image(upload, name, budget)
    pixels = image.width * image.height
    # The colour profile says how the pixels are meant to look (an iPhone's Display P3 photo
    # shifts colour without it), and nothing about who took it: it is the one thing kept.
    icc_profile = image.info.get("icc_profile") or None
    # Turn the picture the way the camera meant (in place: no second full-size copy), then drop
    # every tag (location, device, time): only the pixels and their colour profile are written
    # out again, as nothing is passed to the encoder but the profile and the image keeps no info.
    ImageOps.exif_transpose(image, in_place=True)
    image.info = {}
    image_format, extension, content_type = STORED_IMAGE_FORMATS.get(detected, DEFAULT_STORED_IMAGE)
    data = _encode(image, image_format, icc_profile)
    stem = os.path.splitext(name)[0]
    return PreparedFile(
        original_name=f"{stem}{extension}" if extension != os.path.splitext(name)[1] else name,
        content_type=content_type,
        kind=Kind.IMAGE,
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_sha256=uploaded_sha256,
        content=ContentFile(data),
        pixels=pixels,
    )


def _read_all(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _prepare_pdf(
    upload: UploadedFile, name: str, extension: str, uploaded_sha256: str
) -> PreparedFile:
    cleaned = check_pdf(_read_all(upload), name)
    return _prepared(upload, name, "application/pdf", Kind.PDF, extension, uploaded_sha256, cleaned)


def _prepared(
    upload,
    name,
    content_type,
    kind,
    extension,
    uploaded_sha256,
    cleaned: Cleaned,
    *,
    checked_later: bool = False,
):
    """The upload as it was sent, or its cleaned copy where something had to be removed
    (``checked_later`` for one the worker cleans)."""
    data = cleaned.data
    return PreparedFile(
        original_name=name,
        content_type=content_type,
        kind=kind,
        extension=extension,
        size=upload.size if data is None else len(data),
        sha256=uploaded_sha256 if data is None else hashlib.sha256(data).hexdigest(),
        uploaded_sha256=uploaded_sha256,
        content=upload if data is None else ContentFile(data),
        removed=cleaned.removed,
        checked_later=checked_later,
    )


class StoreFailed(Exception):
    """A file could not be written to the evidence store; what was written of it is removed."""


STORE_FAILED = (
    "The file could not be stored; nothing was saved. Choose the files again and save; if it "
    "happens again, tell your centre's administrator (the file store may be full)."
)


def save_whole(storage, name: str, content) -> str:
    """Write ``content`` to ``storage`` as ``name`` (or the free name the storage chooses) and
    return the name; if the write fails part-way (a full disk, an I/O or network error), remove
    what it wrote and raise StoreFailed.

    The name is chosen first, the way ``storage.save`` would choose it, so that a partial file
    left by a failed write is known and removed, and nothing that was already stored is."""
    name = storage.get_available_name(name)
    try:
        return storage.save(name, content)
    except BaseException as exc:
        # A store that is itself failing may refuse this too: sweep_storage finds what is left.
        with suppress(Exception):
            if storage.exists(name):
                storage.delete(name)
        if isinstance(exc, Exception):
            raise StoreFailed(f"Could not store {name}: {exc}") from exc
        raise


@contextmanager
def atomic_with_files() -> Iterator[list[str]]:
    """A transaction that also removes the files written in it if it fails.

    Yields the list ``store_file`` records each written file in."""
    written: list[str] = []
    try:
        with transaction.atomic(), batched():
            yield written
    except BaseException:
        storage = storages["evidence"]
        for name in written:
            # A store that is itself failing may refuse this too: sweep_storage finds the rest.
            with suppress(Exception):
                storage.delete(name)
        raise


def store_file(
    evidence: EvidenceItem, prepared: PreparedFile, *, by: User, written: list[str]
) -> EvidenceFile:
    """Write a prepared file and its row; call inside ``atomic_with_files``. A photo's
    renditions are made afterwards (``make_renditions``, by the worker)."""
    storage = storages["evidence"]
    # A file still to be checked is kept apart from the checked ones until the check is done.
    top = "checking" if prepared.checked_later else "evidence"
    folder = f"{top}/{evidence.portfolio_id}/{evidence.pk}"
    key = uuid.uuid4().hex
    record = EvidenceFile(
        status=EvidenceFile.Status.CHECKING
        if prepared.checked_later
        else EvidenceFile.Status.READY,
        evidence=evidence,
        original_name=prepared.original_name,
        content_type=prepared.content_type,
        kind=prepared.kind,
        size=prepared.size,
        sha256=prepared.sha256,
        uploaded_sha256=prepared.uploaded_sha256,
        pixels=prepared.pixels,
        uploaded_by=by,
    )
    prepared.content.seek(0)
    record.file.name = save_whole(storage, f"{folder}/{key}{prepared.extension}", prepared.content)
    written.append(record.file.name)
    record.save()
    UploadUsage.objects.create(
        person=by, file=record, size=prepared.size, pixels=prepared.pixels, at=record.uploaded_at
    )
    return record


def store_checked(record: EvidenceFile, prepared: PreparedFile, *, written: list[str]) -> str:
    """Write the cleaned copy of a file that was being checked beside the checked files, and
    update its row to it, ready; return the name of the copy as sent, for ``delete_stored``.
    Call inside ``atomic_with_files``."""
    sent = record.file.name
    folder = f"evidence/{record.evidence.portfolio_id}/{record.evidence_id}"
    prepared.content.seek(0)
    record.file.name = save_whole(
        storages["evidence"], f"{folder}/{uuid.uuid4().hex}{prepared.extension}", prepared.content
    )
    written.append(record.file.name)
    record.size = prepared.size
    record.sha256 = prepared.sha256
    record.status = EvidenceFile.Status.READY
    record.save(update_fields=["file", "size", "sha256", "status"])
    return sent


_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for, or None to send the whole file (no
    header, one not understood, several ranges). Raises ValueError for a range wholly past the
    end (416)."""
    match = _BYTE_RANGE.fullmatch(header.replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        if int(last) == 0 or size == 0:
            raise ValueError("the range is past the end of the file")
        return max(0, size - int(last)), size - 1
    if last != "" and int(last) < int(first):
        return None  # not a valid range: ignored
    if int(first) >= size:
        raise ValueError("the range is past the end of the file")
    return int(first), min(int(last), size - 1) if last != "" else size - 1


class _Slice:
    """The part of an open file from its current position that is ``length`` bytes long."""

    def __init__(self, handle, length: int):
        self.handle, self.left = handle, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.handle.read(size) if size else b""
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def stored_file_response(name: str, *, request=None, **options) -> HttpResponse:
    """A response streaming a stored file to the browser, with its length; ``options`` go to
    FileResponse. Given the ``request``, a single byte range it asks for (``Range: bytes=a-b``,
    ``a-`` or ``-n``, as a browser's audio and video players do to seek) is answered with that
    part alone (206), and a range past the end with 416; several ranges get the whole file.

    From S3-compatible storage the object's body is passed on as it arrives: django-storages' own
    file would first copy the whole object to a temporary file (a video of a gigabyte, to disk,
    before the first byte is sent)."""
    handle = storages["evidence"].open(name, "rb")
    bucket_object = getattr(handle, "obj", None)  # set by django-storages' S3File
    header = request.headers.get("Range", "") if request is not None else ""
    # An If-Range names a version of the file; these responses name none, so it never matches.
    if header and "If-Range" in request.headers:
        header = ""
    part = None
    if header:
        size = handle.size if bucket_object is None else bucket_object.content_length
        try:
            part = byte_range(header, size)
        except ValueError:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response
    if bucket_object is None:
        stream, size = handle, handle.size
        if part is not None:
            handle.seek(part[0])
            stream = _Slice(handle, part[1] - part[0] + 1)
    else:
        handle.close()
        ranged = {"Range": f"bytes={part[0]}-{part[1]}"} if part is not None else {}
        answer = bucket_object.get(**ranged)
        stream = answer["Body"]
        if part is None:
            size = answer["ContentLength"]
    response = FileResponse(stream, **options)
    response["Accept-Ranges"] = "bytes"
    if part is None:
        response["Content-Length"] = size
    else:
        response.status_code = 206
        response["Content-Range"] = f"bytes {part[0]}-{part[1]}/{size}"
        response["Content-Length"] = part[1] - part[0] + 1
    return response


def delete_stored(names: list[str]) -> None:
    """Remove files from the evidence store once the transaction removing their rows commits."""
    storage = storages["evidence"]

    def remove():
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove)


VARIANTS = {"original": "file", "screen": "screen", "print": "print_version"}
# A file opened in the browser is a sandboxed document of its own, with an origin of its own:
# nothing it contains may run as this site or load anything, and only our pages may frame it.
FILE_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'self'"
)
# PDFs are shown in a frame on the evidence page by the browser's own viewer, which keeps the
# document's scripts away from this site but which a sandbox or a resource policy can stop.
PDF_POLICY = "frame-ancestors 'self'"


def file_response(request, evidence_file: EvidenceFile, variant: str = "original") -> HttpResponse:
    """A stored file (or one of its renditions) as every view serving one answers: byte ranges,
    the name it was sent with, never kept by the browser, sandboxed. The caller has checked
    that the reader may have it, and that it is ready."""
    stored = getattr(evidence_file, VARIANTS[variant])
    if not stored:
        raise Http404("This file has no such version.")
    rendition = variant != "original"
    name = evidence_file.original_name
    if rendition:
        name = f"{name.rsplit('.', 1)[0]}-{variant}.jpg"
    response = stored_file_response(
        stored.name,
        request=request,  # a player seeking in a video or recording asks for a part of it
        as_attachment=not evidence_file.shown_inline,
        filename=name,
        content_type="image/jpeg" if rendition else evidence_file.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = (
        PDF_POLICY if evidence_file.kind == EvidenceFile.Kind.PDF and not rendition else FILE_POLICY
    )
    return response
