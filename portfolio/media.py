"""Videos and recordings without what they say about where, when and on what they were made.

ffmpeg copies the pictures and the sound into a new file of the same kind without re-encoding
them (``-c copy``), leaving behind the container's and the streams' tags (QuickTime location
keys, device make and model, artist, title, comments), chapters, and the data, timecode and
subtitle tracks and cover pictures that can carry them; ``bitexact`` keeps ffmpeg from adding its
own name. ffprobe reads what the file carried first, so that the learner is told in words what
was taken out. A file ffmpeg cannot read is refused."""

import json
import subprocess
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File

from portfolio.documents import Cleaned

# The container ffmpeg writes for each type we accept, and whether pictures are kept.
MUXERS: dict[str, tuple[str, bool]] = {
    "video/mp4": ("mp4", True),
    "video/quicktime": ("mov", True),
    "video/webm": ("webm", True),
    "audio/mpeg": ("mp3", False),
    "audio/mp4": ("mp4", False),
    "audio/x-m4a": ("mp4", False),
    "audio/wav": ("wav", False),
    "audio/x-wav": ("wav", False),
}
# Options of a muxer that would otherwise write a tag or a track of its own.
MUXER_OPTIONS = {
    "mp3": ["-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "0"],
    "mov": ["-write_tmcd", "0"],
    "mp4": ["-write_tmcd", "0"],
}
# Tags naming where a recording was made, and the device it was made on.
_LOCATION = ("location", "iso6709", "xyz", "gps")
_DEVICE = ("make", "model", "software", "encoder", "device")
# Tags every file has, which say nothing about anyone.
_HARMLESS = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "language",
    "duration",
    "handler_name",
    "vendor_id",
}
TIMEOUT_SECONDS = 600


def _probe(path: str) -> dict | None:
    command = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams"]
    answer = subprocess.run(
        [*command, "-show_chapters", path],
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if answer.returncode != 0:
        return None
    return json.loads(answer.stdout or b"{}")


def _found(probe: dict, *, keep_pictures: bool) -> list[str]:
    """What a probed file carries that is taken out, in words, in a fixed order."""
    tags = [key.lower() for key in probe.get("format", {}).get("tags", {})]
    dropped_streams = False
    for stream in probe.get("streams", []):
        tags += [key.lower() for key in stream.get("tags", {})]
        kept = stream.get("codec_type") == "audio" or (
            keep_pictures
            and stream.get("codec_type") == "video"
            and not stream.get("disposition", {}).get("attached_pic")
        )
        dropped_streams = dropped_streams or not kept
    tags = [tag for tag in tags if tag not in _HARMLESS]
    found = []
    if any(word in tag for tag in tags for word in _LOCATION):
        found.append("location")
    if any(word in tag for tag in tags for word in _DEVICE):
        found.append("device details")
    if any(not any(word in tag for word in _LOCATION + _DEVICE) for tag in tags):
        found.append("other tags (such as title and artist)")
    if probe.get("chapters"):
        found.append("chapters")
    if dropped_streams:
        found.append("timecode, data and picture tracks")
    return found


def clean_media(path: str, name: str, content_type: str) -> tuple[Cleaned, File]:
    """Remux the video or recording at ``path`` without its tags; return what was removed, in
    words, and the cleaned file (open, removed from disk when closed). Raise ValidationError if
    ffmpeg cannot read it or it holds no pictures or sound."""
    muxer, keep_pictures = MUXERS[content_type]
    what = "video" if keep_pictures else "recording"
    unreadable = ValidationError(
        f"{name} could not be read as a {what}: it may be damaged, cut short or not what its "
        "name says. Save or export it again from the camera, phone or recorder and choose that "
        "copy.",
        code="broken_media",
    )
    probe = _probe(path)
    if probe is None:
        raise unreadable
    kinds = {stream.get("codec_type") for stream in probe.get("streams", [])}
    if not kinds & {"audio", "video"}:
        raise unreadable
    output = tempfile.NamedTemporaryFile(suffix=Path(name).suffix or f".{muxer}")  # noqa: SIM115
    streams = ["-map", "0:V?", "-map", "0:a?"] if keep_pictures else ["-map", "0:a"]
    command = [
        "ffmpeg", "-v", "error", "-nostdin", "-y", "-i", path, *streams,
        "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        *MUXER_OPTIONS.get(muxer, []), "-f", muxer, output.name,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        output.close()
        raise unreadable from None
    if done.returncode != 0 or Path(output.name).stat().st_size == 0:
        output.close()
        raise unreadable
    output.seek(0)
    return Cleaned(data=None, removed=_found(probe, keep_pictures=keep_pictures)), File(output)
