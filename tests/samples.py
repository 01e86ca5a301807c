"""Small files of every kind, made in memory, for upload tests."""

import io
import struct
import zipfile

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg(width=64, height=48, *, gps=True, orientation=None, colour=(200, 30, 30)) -> bytes:
    """A JPEG carrying a GPS position and the camera's make, as a phone's photo does."""
    image = Image.new("RGB", (width, height), colour)
    image.paste((30, 30, 200), (0, 0, width // 2, height // 4))  # a mark to tell rotation by
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width=40, height=30) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, "WEBP")
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 48), "orange")).save(out, format="HEIF")
    return out.getvalue()


def pdf(build=None) -> bytes:
    """A one-page PDF; ``build``, given the pikepdf document, adds to it first."""
    document = pikepdf.new()
    document.add_blank_page()
    if build is not None:
        build(document)
    out = io.BytesIO()
    document.save(out, deterministic_id=True)
    return out.getvalue()


def docx(parts: dict[str, str] | None = None) -> bytes:
    """A Word document; ``parts`` adds parts by name, such as docProps/core.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for name, content in (parts or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def odt(content: str = "<office:document-content/>", meta: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content)
        if meta is not None:
            archive.writestr("meta.xml", meta)
    return out.getvalue()


def text() -> bytes:
    return b"The customer shouted about the queue. I stayed calm and listened.\n"


def _ftyp(brand: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\0\0\0\0" + brand + b"isom" + b"\0" * 200


def mp3() -> bytes:
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 400


def m4a() -> bytes:
    return _ftyp(b"M4A ")


def wav() -> bytes:
    return (
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00"
        b"\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
    )


def mp4() -> bytes:
    return _ftyp(b"isom")


def mov() -> bytes:
    return struct.pack(">I", 20) + b"ftypqt  \0\0\0\0qt  " + b"\0" * 200


def webm() -> bytes:
    header = "1A45DFA39F4286810142F7810142F2810442F381084282847765626D4287810442858102"
    return bytes.fromhex(header) + b"\0" * 100


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def multipart(fields: dict, files: dict[str, tuple[str | bytes, bytes]]) -> dict:
    """A form post built by hand, as ``client.post(url, **multipart(...))`` takes it: each file's
    name reaches the server byte for byte (the test client would keep only its last part)."""
    boundary = "hand-built-boundary"
    body = b""
    for key, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            body += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            ).encode()
    for key, (name, data) in files.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="'.encode()
            + (name if isinstance(name, bytes) else name.encode())
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


ACCEPTED = {
    "photo.jpg": (jpeg, "image"),
    "screenshot.png": (png, "image"),
    "picture.webp": (webp, "image"),
    "IMG_0001.HEIC": (heic, "image"),
    "letter.pdf": (pdf, "pdf"),
    "notes.docx": (docx, "document"),
    "notes.odt": (odt, "document"),
    "account.txt": (text, "text"),
    "call.mp3": (mp3, "audio"),
    "call.m4a": (m4a, "audio"),
    "call.wav": (wav, "audio"),
    "clip.mp4": (mp4, "video"),
    "clip.mov": (mov, "video"),
    "clip.webm": (webm, "video"),
}
