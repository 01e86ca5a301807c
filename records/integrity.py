"""Whether what is stored is still what was recorded: every evidence file's bytes re-read through
the storage API and hashed (``verify_files``), and every portfolio's stored signable record
recomputed from its rows (``verify_records``).

A file whose bytes no longer match is marked with the cause in plain words: the mark breaks every
signature covering the file (``assessments.signatures``), shows on the portfolio's pages, on the
centre administrator's home and in the PDF, and is audited. A file found matching again (restored
from a backup, say) loses its mark, and that is audited too. A check is saved as soon as it is
made, so a run that stops part-way loses nothing: the next run starts with the files checked
longest ago, which are the ones it did not reach."""

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from assessments.models import Signature
from assessments.signable import digest_of, manifest_for, refresh, stored
from audit.chain import record
from portfolio.models import EvidenceFile, Portfolio


def short(sha256: str) -> str:
    return f"{sha256[:4]}…"


def hash_stored(name: str) -> str | None:
    """The SHA-256 of a stored file read through the storage API; None if it is not there."""
    try:
        handle = storages["evidence"].open(name, "rb")
    except (FileNotFoundError, OSError):
        return None
    with handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _signed_file_ids(portfolio_id: int) -> set[int]:
    ids = set()
    for manifest in Signature.objects.filter(portfolio_id=portfolio_id).values_list(
        "manifest", flat=True
    ):
        for item in manifest.get("evidence", []):
            ids.update(f["id"] for f in item.get("files", []))
    return ids


NOUNS = {
    EvidenceFile.Kind.IMAGE: "Photo",
    EvidenceFile.Kind.PDF: "PDF",
    EvidenceFile.Kind.DOCUMENT: "Document",
    EvidenceFile.Kind.TEXT: "Text file",
    EvidenceFile.Kind.AUDIO: "Recording",
    EvidenceFile.Kind.VIDEO: "Video",
}


def named(evidence_file: EvidenceFile) -> str:
    """ "Photo 'IMG_0012.jpg'"."""
    return f"{NOUNS.get(evidence_file.kind, 'File')} '{evidence_file.original_name}'"


def describe(evidence_file: EvidenceFile, found: str | None, *, signed: bool) -> str:
    """The cause, in the words a page, the PDF and the audit trail show."""
    what = named(evidence_file)
    if found is None:
        return f"{what} is missing from storage."
    since = "after it was signed" if signed else "after it was uploaded"
    return (
        f"{what} changed on storage {since}: expected {short(evidence_file.sha256)}, "
        f"found {short(found)}."
    )


def record_check(evidence_file: EvidenceFile, found: str | None, *, by=None) -> str:
    """Save the result of reading ``evidence_file`` (its SHA-256 as ``found``, None if missing)
    and audit any change of standing; return the problem, or "" if the bytes match."""
    portfolio_id = evidence_file.evidence.portfolio_id
    problem = ""
    if found != evidence_file.sha256:
        signed = evidence_file.pk in _signed_file_ids(portfolio_id)
        problem = describe(evidence_file, found, signed=signed)
    with transaction.atomic():
        before = (
            EvidenceFile.objects.select_for_update()
            .filter(pk=evidence_file.pk)
            .values_list("storage_problem", flat=True)
            .first()
        )
        if before is None:  # removed meanwhile
            return ""
        # An update, not a save: a check changes nothing a signature covers.
        EvidenceFile.objects.filter(pk=evidence_file.pk).update(
            checked_at=timezone.now(), storage_problem=problem
        )
        if problem and problem != before:
            record(
                "file.check_failed",
                actor=by,
                obj=evidence_file,
                portfolio=evidence_file.evidence.portfolio,
                summary=problem,
                data={"expected": evidence_file.sha256, "found": found},
            )
        elif before and not problem:
            record(
                "file.check_passed",
                actor=by,
                obj=evidence_file,
                portfolio=evidence_file.evidence.portfolio,
                summary=f"{named(evidence_file)} matches its recorded SHA-256 again",
                data={"sha256": found},
            )
    evidence_file.storage_problem = problem
    return problem


@dataclass
class FilesResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    bytes_read: int = 0
    remaining: int = 0
    seconds: float = 0.0


def due(*, older_than_days: float | None) -> "Iterator[EvidenceFile]":
    """The files a run checks, those never checked first, then the longest since checked;
    with ``older_than_days``, only those not checked within that many days."""
    files = EvidenceFile.objects.ready().filter(purged_at=None)  # not those being checked
    if older_than_days is not None:
        cutoff = timezone.now() - timezone.timedelta(days=older_than_days)
        files = files.filter(Q(checked_at=None) | Q(checked_at__lt=cutoff))
    return files.select_related("evidence__portfolio").order_by(
        F("checked_at").asc(nulls_first=True), "pk"
    )


def verify_files(
    *,
    older_than_days: float | None = None,
    limit: int | None = None,
    max_seconds: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> FilesResult:
    """Read and hash stored files, saving each result; stop after ``limit`` files or
    ``max_seconds``, leaving the rest for the next run."""
    started = time.monotonic()
    result = FilesResult()
    # The order is fixed before anything is checked: each check moves its file to the end of it.
    ids = list(due(older_than_days=older_than_days).values_list("pk", flat=True))
    total = len(ids)
    if limit is not None:
        ids = ids[:limit]
    stopped = False
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        files = EvidenceFile.objects.select_related("evidence__portfolio").in_bulk(chunk)
        for pk in chunk:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                stopped = True
                break
            evidence_file = files.get(pk)
            if evidence_file is None:  # removed meanwhile
                continue
            found = hash_stored(evidence_file.file.name)
            problem = record_check(evidence_file, found)
            result.checked += 1
            result.bytes_read += evidence_file.size if found else 0
            if problem:
                result.problems.append(problem)
                progress(f"  file #{evidence_file.pk}: {problem}")
            if result.checked % 500 == 0:
                progress(f"  {result.checked} of {total} files checked")
        if stopped:
            break
    result.remaining = total - result.checked
    result.seconds = time.monotonic() - started
    if result.checked:
        record(
            "files.verified",
            actor=None,
            actor_label="verify_files",
            summary=f"{result.checked} stored file(s) re-read and hashed: "
            f"{len(result.problems) or 'no'} problem(s)",
            data={"checked": result.checked, "problems": len(result.problems)},
        )
    return result


def verify_records(*, progress: Callable[[str], None] = lambda _: None) -> list[int]:
    """Recompute every portfolio's signable record from its rows; where the stored one differs,
    its rows were changed outside the application: the stored record is brought into line (so
    the signatures show what changed), and the finding audited. Returns those portfolios' ids."""
    drifted = []
    for portfolio in Portfolio.objects.select_related("unit").order_by("pk").iterator(500):
        with transaction.atomic():
            locked = Portfolio.objects.select_related("unit", "workplace").locked(portfolio.pk)
            kept = stored(locked)
            now = digest_of(manifest_for(locked))
            if kept.digest == now:
                continue
            refresh(locked.pk)
            record(
                "portfolio.records_changed_outside",
                actor=None,
                actor_label="verify_files",
                obj=locked,
                portfolio=locked,
                summary=f"Portfolio #{locked.pk}'s records were changed outside the "
                "application since they were last saved",
                data={"stored_digest": kept.digest, "digest": now},
            )
        drifted.append(portfolio.pk)
        progress(f"  portfolio #{portfolio.pk}: its records were changed outside the application")
    return drifted
