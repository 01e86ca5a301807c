"""The health check, and the benchmark commands that measure the product at scale."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from demo.benchmark import key_pages
from portfolio.models import EvidenceFile, EvidenceItem


def test_the_health_check_answers_anyone_and_says_nothing_else(client, db):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert client.post("/health/").status_code == 405


@pytest.fixture
def centre(c4):
    call_command("seed_demo", learners=4, stdout=io.StringIO())


def test_the_page_benchmark_serves_every_key_page(centre):
    out = io.StringIO()

    call_command("bench_pages", repeat=1, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["page", "queries", "median", "ms", "x", "floor"]
    assert len(lines) == 1 + len(key_pages())
    assert lines[1].startswith("floor: health check")


def stored_files(settings) -> set[Path]:
    return {p for p in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if p.is_file()}


def test_the_upload_benchmark_streams_a_video_and_leaves_nothing_behind(centre, settings):
    before = (
        EvidenceItem.objects.count(),
        EvidenceFile.objects.count(),
        AuditEntry.objects.count(),
    )
    files = stored_files(settings)
    out = io.StringIO()

    call_command("bench_upload", megabytes=5, stdout=out)

    assert out.getvalue().startswith("Upload of a 5 MB video: peak memory")
    after = (EvidenceItem.objects.count(), EvidenceFile.objects.count(), AuditEntry.objects.count())
    assert after == before
    assert stored_files(settings) == files


def test_the_file_check_benchmark_measures_and_leaves_nothing_behind(centre, settings):
    before = (EvidenceFile.objects.count(), AuditEntry.objects.count())
    files = stored_files(settings)
    out = io.StringIO()

    call_command("bench_verify_files", files=3, megabytes=0.01, stdout=out)

    report = out.getvalue()
    assert "Stored 3 files of 0.01 MB" in report
    assert "verify_files: " in report
    assert "0 problem(s)" in report
    assert "Extrapolated to 100,000 files of 0.01 MB" in report
    assert (EvidenceFile.objects.count(), AuditEntry.objects.count()) == before
    assert stored_files(settings) == files


def test_the_photo_benchmark_measures_and_leaves_nothing_behind(centre, settings):
    before = (
        EvidenceItem.objects.count(),
        EvidenceFile.objects.count(),
        AuditEntry.objects.count(),
    )
    files = stored_files(settings)
    out = io.StringIO()

    call_command("bench_photo_upload", repeat=1, side=300, stdout=out)

    report = out.getvalue()
    assert report.startswith("Accepting a 12-megapixel JPEG")
    assert "its renditions, made by the worker afterwards" in report
    assert "Accepting a black 300 x 300 PNG" in report
    after = (EvidenceItem.objects.count(), EvidenceFile.objects.count(), AuditEntry.objects.count())
    assert after == before
    assert stored_files(settings) == files
