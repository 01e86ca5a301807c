"""Small files of every kind, made in memory, for upload tests."""

import functools
import io
import json
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

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


# Personal details a phone or recorder writes into a video or recording, as tests look for them.
CUSTOMER = "Mrs J. Customer"
ARTIST = "Sam Okafor"
ISO6709 = "+51.5074-000.1278/"
_TAGS = {"title": f"Complaint from {CUSTOMER}", "artist": ARTIST, "comment": "At 12 High Street"}
_PICTURES = ["-f", "lavfi", "-i", "testsrc=size=32x24:rate=5:duration=0.4"]
_SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.4"]
_MEDIA = {
    # name: (inputs, codecs and container options, extra tags)
    "mp4": (_PICTURES + _SOUND, ["-c:v", "libx264", "-c:a", "aac"], {"location": ISO6709}),
    # An iPhone's keys: com.apple.quicktime.* in the QuickTime "mdta" list, ©xyz in udta.
    "mov": (
        _PICTURES + _SOUND,
        ["-c:v", "libx264", "-c:a", "aac", "-movflags", "use_metadata_tags"],
        {
            "com.apple.quicktime.location.ISO6709": ISO6709,
            "com.apple.quicktime.make": "Apple",
            "com.apple.quicktime.model": "iPhone 15 Pro",
            "location": ISO6709,
        },
    ),
    "webm": (_PICTURES + _SOUND, ["-c:v", "libvpx", "-c:a", "libopus"], {}),
    "mp3": (_SOUND, ["-c:a", "libmp3lame"], {}),
    "m4a": (_SOUND, ["-c:a", "aac", "-f", "ipod"], {}),
    "wav": (_SOUND, ["-write_id3v2", "1"], {}),
}


@functools.cache
def media(extension: str) -> bytes:
    """A tiny video or recording made by ffmpeg, carrying a customer's name, an artist and, for
    MP4 and MOV, a GPS position and the phone that took it."""
    inputs, options, extra = _MEDIA[extension]
    tags = [
        arg for key, value in {**_TAGS, **extra}.items() for arg in ("-metadata", f"{key}={value}")
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sample.{extension}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", *inputs, *options, *tags, str(path)],
            check=True,
        )
        return path.read_bytes()


def mp3() -> bytes:
    return media("mp3")


def m4a() -> bytes:
    return media("m4a")


def wav() -> bytes:
    return media("wav")


def mp4() -> bytes:
    return media("mp4")


def mov() -> bytes:
    return media("mov")


def webm() -> bytes:
    return media("webm")


def exiftool(data: bytes, extension: str) -> dict:
    """Every tag exiftool finds in a file, by group and name (``exiftool -j -G``)."""
    with tempfile.NamedTemporaryFile(suffix=f".{extension}") as handle:
        handle.write(data)
        handle.flush()
        found = subprocess.run(
            ["exiftool", "-j", "-G", handle.name], capture_output=True, check=True
        ).stdout
    return json.loads(found)[0]


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


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


@functools.cache
def display_p3_profile() -> bytes:
    """An ICC (v2) matrix profile of Display P3, the colour space of an iPhone's photos: its
    primaries adapted to D50 as ICC profiles hold them, and sRGB's tone curve (as a table)."""
    description = b"Display P3"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(description) + 1) + description + b"\0"
    desc += b"\0" * 12 + b"\0" * 67  # no Unicode or Macintosh descriptions
    curve = [
        (v / 1023 / 12.92 if v / 1023 <= 0.04045 else ((v / 1023 + 0.055) / 1.055) ** 2.4)
        for v in range(1024)
    ]
    trc = b"curv\0\0\0\0" + struct.pack(">I", len(curve))
    trc += b"".join(struct.pack(">H", round(v * 65535)) for v in curve)
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", _xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", _xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
        (b"cprt", b"text\0\0\0\0No copyright, test data\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(">I", size) + b"lcms" + b"\x02\x10\0\0" + b"mntrRGB XYZ "
    header += b"\0" * 12 + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + b"\0" * 4
    header += _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4
    header += b"\0" * (128 - len(header))
    return header + table + body


def p3_jpeg(colour=(255, 40, 20)) -> bytes:
    """A photo in Display P3, as an iPhone saves one, with its GPS position."""
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(
        out, "JPEG", quality=95, exif=exif, icc_profile=display_p3_profile()
    )
    return out.getvalue()
