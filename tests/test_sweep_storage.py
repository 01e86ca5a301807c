"""sweep_storage: files in the evidence store that no row names, rows whose files are gone, and
the temporary files of uploads a killed process left behind."""

import importlib
import os
import time
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from config import gunicorn
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile
from records.models import BulkExport
from tests import samples
from tests.factories import EvidenceFactory

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def stored(evidence) -> EvidenceFile:
    with atomic_with_files() as written:
        return store_file(
            evidence,
            prepare_upload(samples.upload("desk.jpg", samples.jpeg())),
            by=evidence.portfolio.learner,
            written=written,
        )


def left_behind(name: str, *, age_seconds: float) -> str:
    """A file in the store that no row names, as a write a crash interrupted leaves it."""
    storage = storages["evidence"]
    name = storage.save(name, ContentFile(b"partial"))
    when = time.time() - age_seconds
    os.utime(storage.path(name), (when, when))
    return name


def sweep_storage(*args) -> str:
    out = StringIO()
    call_command("sweep_storage", *args, stdout=out)
    return out.getvalue()


def on_disk() -> set[str]:
    root = Path(settings.PRIVATE_FILES_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_it_reports_files_no_row_names_without_removing_them(portfolio):
    kept = stored(EvidenceFactory(portfolio=portfolio))
    orphan = left_behind("evidence/9/9/0123.jpg", age_seconds=2 * DAY)

    output = sweep_storage()

    assert f"No record names it (remove with --remove): {orphan}" in output
    assert "1 stored files no record names (0 removed, 0 kept as too recent)" in output
    assert orphan in on_disk()
    assert set(kept.stored_names()) <= on_disk()
    assert not AuditEntry.objects.filter(action="storage.swept").exists()


def test_remove_takes_only_old_files_no_row_names_and_audits_it(portfolio):
    kept = stored(EvidenceFactory(portfolio=portfolio))
    export = BulkExport.objects.create(requested_by=portfolio.learner)
    export.file.name = left_behind("exports/1.zip", age_seconds=2 * DAY)
    export.save()
    old = left_behind("evidence/9/9/old.jpg", age_seconds=2 * DAY)
    young = left_behind("checking/9/9/young.mp4", age_seconds=60)
    rows = list(EvidenceFile.objects.values_list("pk", "file", "screen", "print_version"))

    output = sweep_storage("--remove")

    assert f"Removed (no record names it): {old}" in output
    assert f"No record names it, kept (younger than 24 hours): {young}" in output
    assert on_disk() == {*kept.stored_names(), export.file.name, young}
    assert list(EvidenceFile.objects.values_list("pk", "file", "screen", "print_version")) == rows
    entry = AuditEntry.objects.get(action="storage.swept")
    assert entry.chain == "centre"
    assert entry.data["removed"] == [old]


def test_a_shorter_grace_period_takes_younger_files(portfolio):
    young = left_behind("evidence/9/9/young.jpg", age_seconds=2 * 60 * 60)

    sweep_storage("--remove", "--grace-hours", "1")

    assert young not in on_disk()


def test_a_row_whose_file_is_missing_is_reported_and_fails_the_run(portfolio):
    lost = stored(EvidenceFactory(portfolio=portfolio))
    storages["evidence"].delete(lost.file.name)

    with pytest.raises(CommandError, match="1 records' files are missing from the store"):
        sweep_storage("--remove")

    assert EvidenceFile.objects.filter(pk=lost.pk).exists()  # rows are never changed


def test_a_purged_file_is_not_missing_and_its_leftover_is_removed(portfolio):
    purged = stored(EvidenceFactory(portfolio=portfolio))
    storage = storages["evidence"]
    storage.delete(purged.file.name)
    leftover = purged.screen.name
    os.utime(storage.path(leftover), (time.time() - 2 * DAY,) * 2)
    EvidenceFile.objects.filter(pk=purged.pk).update(purged_at="2026-01-01T00:00:00Z")

    output = sweep_storage("--remove")

    assert "0 records whose file is missing" in output
    assert leftover not in on_disk()


def abandoned_upload(name: str, *, age_seconds: float) -> Path:
    path = Path(settings.FILE_UPLOAD_TEMP_DIR) / name
    path.write_bytes(b"part of an 800 MB video")
    when = time.time() - age_seconds
    os.utime(path, (when, when))
    return path


def test_it_removes_abandoned_uploads_and_keeps_live_ones(db):
    abandoned = abandoned_upload("tmpabc.upload.mp4", age_seconds=2 * 60 * 60)
    live = abandoned_upload("tmpdef.upload.mp4", age_seconds=5)

    assert f"Found an abandoned upload's temporary file: {abandoned}" in sweep_storage()
    assert abandoned.exists()

    output = sweep_storage("--remove")

    assert f"Removed an abandoned upload's temporary file: {abandoned}" in output
    assert not abandoned.exists()
    assert live.exists()
    live.unlink()


def test_gunicorn_sweeps_abandoned_uploads_before_its_workers_start(db):
    abandoned = abandoned_upload("tmpghi.upload.mov", age_seconds=2 * 60 * 60)
    live = abandoned_upload("tmpjkl.upload.mov", age_seconds=5)
    logged = []

    gunicorn.on_starting(SimpleNamespace(log=SimpleNamespace(info=lambda *a: logged.append(a))))

    assert not abandoned.exists()
    assert live.exists()
    assert [entry[1] for entry in logged] == [1]
    live.unlink()


def test_uploads_in_flight_have_a_folder_of_their_own(monkeypatch):
    monkeypatch.delenv("UPLOAD_TEMP_DIR", raising=False)
    deployed = importlib.reload(importlib.import_module("config.settings"))
    assert str(deployed.VAR_DIR / "uploads") == deployed.FILE_UPLOAD_TEMP_DIR

    monkeypatch.setenv("UPLOAD_TEMP_DIR", "/srv/uploads-in-flight")
    deployed = importlib.reload(deployed)
    assert deployed.FILE_UPLOAD_TEMP_DIR == "/srv/uploads-in-flight"
    monkeypatch.delenv("UPLOAD_TEMP_DIR")
    importlib.reload(deployed)


def test_the_upload_folder_is_made_if_missing(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "var" / "uploads")

    apps.get_app_config("portfolio").ready()

    assert (tmp_path / "var" / "uploads").is_dir()
