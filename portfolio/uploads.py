"""Uploads in flight: the folder their temporary files are written to, and its sweep.

Free of Django's models, so that gunicorn's master process can sweep the folder before it starts
its workers (``config.gunicorn.on_starting``)."""

import os
import time
from pathlib import Path


def upload_temp_dir(folder: str | os.PathLike) -> Path:
    """The folder uploads in flight are written to (``FILE_UPLOAD_TEMP_DIR``), made if missing."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sweep_upload_temp(
    folder: str | os.PathLike, *, max_age_minutes: int, remove: bool = True
) -> list[Path]:
    """The files in ``folder`` not written to for ``max_age_minutes``, removed unless ``remove``
    is false: left by a process killed mid-upload. A live upload writes to its file as its bytes
    arrive, so its file is always younger than that, however many workers share the folder."""
    path = upload_temp_dir(folder)
    cutoff = time.time() - max_age_minutes * 60
    abandoned = []
    for entry in os.scandir(path):
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime >= cutoff:
                continue
            if remove:
                os.remove(entry.path)
        except FileNotFoundError:  # its request ended meanwhile and removed it
            continue
        abandoned.append(Path(entry.path))
    return sorted(abandoned)
