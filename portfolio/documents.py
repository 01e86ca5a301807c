"""What a document may carry into a portfolio. A PDF is read whole: one that is not a PDF from
its first byte to its last, or that carries active content (scripts, actions that run by
themselves, programs to launch, embedded files), is refused, and its document details (author,
title, XMP metadata) are removed before it is stored. A Word or OpenDocument text loses the
names of the people who wrote, changed or commented on it. Plain text is read whole too.

Each check raises ValidationError with a message the learner can act on; a cleaning returns
what was removed, in words."""

import io
import re
import zipfile
from dataclasses import dataclass

import pikepdf
from django.core.exceptions import ValidationError
from django.utils.text import get_text_list

# Web-page markup outside a PDF's streams: a file carrying it was made to be read as a page too.
_MARKUP = re.compile(
    rb"<(?:script|html|body|iframe|object|embed)[\s>/]|<!doctype\s+html|javascript:", re.I
)
_STREAMS = re.compile(rb"\bstream\r?\n.*?\bendstream\b", re.S)

# Keys of a PDF dictionary that make it do something by itself, with what the learner is told.
_ACTIVE_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/EmbeddedFiles": "embedded files",
    "/EmbeddedFile": "embedded files",
    "/RichMedia": "embedded media that runs in the viewer",
    "/XFA": "an XFA form, which can run scripts",
}
_ACTIVE_ACTIONS = {
    "/Launch": "an action that starts a program",
    "/JavaScript": "JavaScript",
    "/ImportData": "an action that imports data",
    "/SubmitForm": "a form that sends what is typed into it elsewhere",
}
_ACTIVE_ANNOTATIONS = {"/FileAttachment": "embedded files"}

# Document details a PDF may keep about the people who made it, as the learner is told of them.
_DETAILS = {
    "/Author": "author",
    "/Title": "title",
    "/Subject": "subject",
    "/Keywords": "keywords",
    "/Creator": "the program that made it",
    "/Producer": "the program that made it",
    "/CreationDate": "dates",
    "/ModDate": "dates",
}
ADVICE = (
    "Print it to a new PDF, or save it again as PDF/A, and choose that file; or ask your assessor."
)


@dataclass
class Cleaned:
    data: bytes | None  # the cleaned file, or None where nothing had to be removed
    removed: list[str]


def check_pdf(data: bytes, name: str) -> Cleaned:
    """Refuse a PDF that is not one throughout or that carries active content; return it
    without its document details."""
    not_throughout = f"{name} is not a PDF throughout, so it cannot be kept. {ADVICE}"
    end = data.rfind(b"%%EOF")
    if not data.startswith(b"%PDF-") or end == -1 or data[end + 5 :].strip(b"\r\n\t \0"):
        raise ValidationError(not_throughout, code="not_pdf")
    if _MARKUP.search(_STREAMS.sub(b"", data)):
        raise ValidationError(
            f"{name} carries web-page markup as well as a PDF, so it cannot be kept. {ADVICE}",
            code="markup",
        )
    try:
        pdf = pikepdf.open(io.BytesIO(data))
        pages = len(pdf.pages)
    except (pikepdf.PdfError, ValueError, KeyError, RecursionError):
        raise ValidationError(not_throughout, code="not_pdf") from None
    with pdf:
        if not pages:
            raise ValidationError(f"{name} has no pages. {ADVICE}", code="not_pdf")
        found = active_content(pdf)
        if found:
            raise ValidationError(
                f"{name} carries {get_text_list(found, 'and')}, which a document of evidence "
                f"must not. {ADVICE}",
                code="active",
            )
        removed = _remove_details(pdf)
        if not removed:
            return Cleaned(None, [])
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return Cleaned(out.getvalue(), removed)


def active_content(pdf: pikepdf.Pdf) -> list[str]:
    """What in the PDF would act by itself, each said once, in the order found."""
    found: dict[str, None] = {}
    seen: set[tuple[int, int]] = set()

    def visit(obj, depth: int = 0) -> None:
        # Numbers, names and strings come back as Python values: only containers hold more.
        if depth > 64 or not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            return
        if obj.is_indirect:
            if obj.objgen in seen:
                return
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            keys = obj.keys() if isinstance(obj, pikepdf.Dictionary) else obj.stream_dict.keys()
            holder = obj if isinstance(obj, pikepdf.Dictionary) else obj.stream_dict
            for key in keys:
                if key in _ACTIVE_KEYS:
                    found[_ACTIVE_KEYS[key]] = None
            # Opening at a page (a destination, or a GoTo action) is how many PDFs are saved;
            # any other action on opening, or on a page or a field, acts by itself.
            if "/OpenAction" in holder and _acts(holder["/OpenAction"]):
                found["an action that runs when it is opened"] = None
            triggers = holder.get("/AA")
            if isinstance(triggers, pikepdf.Dictionary) and any(
                _acts(triggers[trigger]) for trigger in triggers
            ):
                found["actions that run by themselves (on opening a page or a field)"] = None
            if str(holder.get("/S", "")) in _ACTIVE_ACTIONS:
                found[_ACTIVE_ACTIONS[str(holder.get("/S"))]] = None
            if str(holder.get("/Subtype", "")) in _ACTIVE_ANNOTATIONS:
                found[_ACTIVE_ANNOTATIONS[str(holder.get("/Subtype"))]] = None
            for key in keys:
                visit(holder[key], depth + 1)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                visit(item, depth + 1)

    visit(pdf.trailer)
    for obj in pdf.objects:
        visit(obj)
    return list(found)


def _acts(action) -> bool:
    """Whether an action, with the ones chained after it, does more than go to a place in the
    document."""
    if not isinstance(action, pikepdf.Dictionary):
        return False  # a destination: a page and a view of it
    if str(action.get("/S", "")) != "/GoTo":
        return True
    chained = action.get("/Next")
    if isinstance(chained, pikepdf.Array):
        return any(_acts(step) for step in chained)
    return chained is not None and _acts(chained)


def _remove_details(pdf: pikepdf.Pdf) -> list[str]:
    removed: dict[str, None] = {}
    info = pdf.trailer.get("/Info")
    if info is not None:
        for key in info:
            removed[_DETAILS.get(key, "other document details")] = None
        del pdf.trailer["/Info"]
    for obj in pdf.objects:
        holder = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
        if isinstance(holder, pikepdf.Dictionary) and "/Metadata" in holder:
            del holder["/Metadata"]
            removed["hidden document details"] = None
    if "/Metadata" in pdf.Root:
        del pdf.Root["/Metadata"]
        removed["hidden document details"] = None
    return list(removed)


def check_text(data: bytes, name: str) -> None:
    """Plain text throughout: no binary data after the part its type was judged from."""
    if b"\0" in data:
        raise ValidationError(
            f"{name} is not plain text throughout (it holds binary data), so it cannot be kept.",
            code="not_text",
        )
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        f"{name} is not plain text throughout (some of it is not readable text), so it cannot "
        "be kept. Save it again as plain text (UTF-8) and choose that file.",
        code="not_text",
    )


# What a Word or OpenDocument file keeps about the people who wrote it, part by part: each
# pattern is replaced by what follows it, and said to the learner as the word after.
_WORD_PEOPLE = [
    (re.compile(rb"<dc:creator>.*?</dc:creator>|<dc:creator/>", re.S), b"", "author"),
    (
        re.compile(rb"<cp:lastModifiedBy>.*?</cp:lastModifiedBy>|<cp:lastModifiedBy/>", re.S),
        b"",
        "last modified by",
    ),
    (re.compile(rb"<Company>.*?</Company>", re.S), b"", "company"),
    (re.compile(rb"<Manager>.*?</Manager>", re.S), b"", "manager"),
    # Comments, tracked changes and the list of people who made them.
    (
        re.compile(rb'\b(w|w15):(author|initials|userId)="(?!Author")[^"]*"'),
        rb'\1:\2="Author"',
        "the authors of comments and changes",
    ),
]
_ODF_PEOPLE = [
    (
        re.compile(rb"<meta:initial-creator>.*?</meta:initial-creator>", re.S),
        b"",
        "author",
    ),
    (
        re.compile(rb"<dc:creator>.*?</dc:creator>", re.S),
        b"",
        "author (and of comments and changes)",
    ),
    (re.compile(rb"<meta:printed-by>.*?</meta:printed-by>", re.S), b"", "printed by"),
]


def clean_office(data: bytes, name: str, *, opendocument: bool) -> Cleaned:
    """A Word (.docx) or OpenDocument text without the names of the people who wrote, changed,
    commented on or printed it; every other part of the file as it was."""
    rules = _ODF_PEOPLE if opendocument else _WORD_PEOPLE
    removed: dict[str, None] = {}
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        entries = [(info, source.read(info)) for info in source.infolist()]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        raise ValidationError(
            f"{name} could not be read as a document: it may be damaged. Save it again and "
            "choose that file.",
            code="not_document",
        ) from None
    cleaned = []
    for info, content in entries:
        if info.filename.endswith(".xml"):
            for pattern, replacement, said in rules:
                content, count = pattern.subn(replacement, content)
                if count:
                    removed[said] = None
        cleaned.append((info, content))
    if not removed:
        return Cleaned(None, [])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, content in cleaned:  # the same order, names and compression
            archive.writestr(info, content, compress_type=info.compress_type)
    return Cleaned(out.getvalue(), list(removed))
