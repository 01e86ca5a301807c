"""Evidence files: judged by their content, images re-encoded without metadata, stored privately.

An upload is checked and prepared completely before anything is written (``prepare_upload``);
``store_file`` then writes it and its row together, removing what it wrote if anything fails.
"""

import hashlib
import io
import os
import unicodedata
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

import magic
import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageFile, ImageOps

from portfolio.models import EvidenceFile, EvidenceItem, User

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
    "application/msword": (Kind.DOCUMENT, {".doc"}, "a Word document"),
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
# Some recorders write M4A audio in a container libmagic calls video.
AUDIO_IN_VIDEO_CONTAINER = {".m4a": "audio/mp4"}
ACCEPTED_NAMES = "photos (JPEG, PNG, WebP, HEIC), PDF, Word, OpenDocument text, plain text, "
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
    renditions: dict[str, bytes] = field(default_factory=dict)


def clean_name(name: str) -> str:
    """A display name: no folders, no control characters, at most 200 characters."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return "file"
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: 200 - len(ext)] + ext
    return name


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _limit(kind: str) -> int:
    return settings.EVIDENCE_MAX_BYTES[kind]


def prepare_upload(upload: UploadedFile) -> PreparedFile:
    """Check an upload and prepare what will be stored; raise ValidationError saying why not."""
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
    uploaded_sha256 = _sha256(upload)
    if kind == Kind.IMAGE:
        return _prepare_image(upload, name, detected, uploaded_sha256)
    return PreparedFile(
        original_name=name,
        content_type=detected,
        kind=kind,
        extension=extension,
        size=upload.size,
        sha256=uploaded_sha256,
        uploaded_sha256=uploaded_sha256,
        content=upload,
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


def _open_image(upload: UploadedFile, name: str) -> Image.Image:
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


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    if image_format == "JPEG":
        _flatten(image).save(out, "JPEG", quality=88, optimize=True)
    else:
        image.save(out, image_format, optimize=True)
    return out.getvalue()


def _rendition(image: Image.Image, longest_edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    _flatten(copy).save(out, "JPEG", quality=75, optimize=True, progressive=True)
    return out.getvalue()


def _prepare_image(
    upload: UploadedFile, name: str, detected: str, uploaded_sha256: str
) -> PreparedFile:
    image = _open_image(upload, name)
    # Turn the picture the way the camera meant, then drop every tag (location, device, time):
    # only the pixels are written out again.
    image = ImageOps.exif_transpose(image)
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode == "P":
        clean.putpalette(image.getpalette())
    image_format, extension, content_type = STORED_IMAGE_FORMATS.get(detected, DEFAULT_STORED_IMAGE)
    data = _encode(clean, image_format)
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
        renditions={
            "screen": _rendition(clean, settings.EVIDENCE_SCREEN_EDGE),
            "print_version": _rendition(clean, settings.EVIDENCE_PRINT_EDGE),
        },
    )


@contextmanager
def atomic_with_files() -> Iterator[list[str]]:
    """A transaction that also removes the files written in it if it fails.

    Yields the list ``store_file`` records each written file in."""
    written: list[str] = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        storage = storages["evidence"]
        for name in written:
            storage.delete(name)
        raise


def store_file(
    evidence: EvidenceItem, prepared: PreparedFile, *, by: User, written: list[str]
) -> EvidenceFile:
    """Write a prepared file, its renditions and its row; call inside ``atomic_with_files``."""
    storage = storages["evidence"]
    folder = f"evidence/{evidence.portfolio_id}/{evidence.pk}"
    key = uuid.uuid4().hex
    record = EvidenceFile(
        evidence=evidence,
        original_name=prepared.original_name,
        content_type=prepared.content_type,
        kind=prepared.kind,
        size=prepared.size,
        sha256=prepared.sha256,
        uploaded_sha256=prepared.uploaded_sha256,
        uploaded_by=by,
    )
    prepared.content.seek(0)
    record.file.name = storage.save(f"{folder}/{key}{prepared.extension}", prepared.content)
    written.append(record.file.name)
    for variant, data in prepared.renditions.items():
        name = storage.save(f"{folder}/{key}-{variant}.jpg", ContentFile(data))
        written.append(name)
        getattr(record, variant).name = name
    record.save()
    return record


def delete_stored(names: list[str]) -> None:
    """Remove files from the evidence store once the transaction removing their rows commits."""
    storage = storages["evidence"]

    def remove():
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove)
