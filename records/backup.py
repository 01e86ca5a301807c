"""Backups of the whole service: the database as JSON, one file per model, and every stored
evidence file, with a manifest of their SHA-256 hashes; and their restore into an empty database.

A backup folder holds ``manifest.json`` (written last, so a folder without one is not a complete
backup), ``database/`` and ``files/`` (the evidence storage's files under their own names). It
does not depend on the database engine: a backup of PostgreSQL restores into SQLite and back.
"""

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.files import File
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from assessments.models import AssessmentPlan, ProgressReview
from assessments.planning import plan_signature_rows
from assessments.reviews import review_signature_rows
from assessments.signatures import signature_rows
from audit.chain import verify_chains
from audit.models import AuditEntry
from portfolio.files import save_whole
from portfolio.models import EvidenceFile, Portfolio, User
from portfolio.signable import suspended
from records.integrity import hash_stored, record_check
from units.models import Unit

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
# Made afresh by migrate in every database, with ids of their own (rows that point at them are
# written with natural keys), or not worth keeping (sessions: everyone signs in again).
NOT_BACKED_UP = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


class BackupError(Exception):
    """A backup that cannot be written or restored, with the reasons."""


class ExactJSONEncoder(DjangoJSONEncoder):
    """Times to the microsecond: Django's encoder keeps milliseconds, but the audit chain and
    the signatures hash their times in full."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def backed_up_models() -> list[type[models.Model]]:
    """Every model with rows of its own, in an order that loads (dependencies first)."""
    app_list = [(config, None) for config in apps.get_app_configs()]
    return [
        model
        for model in serializers.sort_dependencies(app_list, allow_cycles=True)
        if model._meta.label_lower not in NOT_BACKED_UP
        and model._meta.managed
        and not model._meta.proxy
    ]


def _natural_foreign_keys(model: type[models.Model]) -> bool:
    """Whether the model points at content types or permissions, which differ in id from one
    database to another and so are written by natural key."""
    made_by_migrate = {
        apps.get_model(label) for label in ("contenttypes.contenttype", "auth.permission")
    }
    relations = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return any(f.is_relation and f.related_model in made_by_migrate for f in relations)


def _sha256_of(handle) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _sha256_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return _sha256_of(handle)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction that sees the database as it was when it began, whatever is written
    meanwhile (PostgreSQL's REPEATABLE READ; SQLite's read transaction does the same)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _dump_model(model: type[models.Model], folder: Path) -> dict[str, Any]:
    label = model._meta.label_lower
    path = folder / f"{label.replace('.', '-')}.json"
    rows = model._default_manager.order_by("pk")
    m2m = [f.name for f in model._meta.many_to_many]
    if m2m:
        rows = rows.prefetch_related(*m2m)
    count = 0

    def counted():
        nonlocal count
        for row in rows.iterator(chunk_size=2000):
            count += 1
            yield row

    with path.open("w", encoding="utf-8") as handle:
        serializers.serialize(
            "json",
            counted(),
            stream=handle,
            cls=ExactJSONEncoder,
            use_natural_foreign_keys=_natural_foreign_keys(model),
        )
    sha256, size = _sha256_file(path)
    return {
        "model": label,
        "path": f"database/{path.name}",
        "rows": count,
        "sha256": sha256,
        "size": size,
    }


def _stored_names() -> list[str]:
    """Every name in the evidence storage that the database refers to (all our file fields live
    there); a purged file's content is gone by design, only its hash is kept."""
    names: set[str] = set()
    for model in backed_up_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not fields:
            continue
        rows = model._default_manager.all()
        if any(f.name == "purged_at" for f in model._meta.concrete_fields):
            rows = rows.filter(purged_at=None)
        for values in rows.values_list(*[f.name for f in fields]).iterator():
            names.update(name for name in values if name)
    return sorted(names)


def _copy_out(name: str, target: Path) -> dict[str, Any] | None:
    storage = storages["evidence"]
    if not _safe_name(name):  # never a path outside the backup folder
        return None
    path = target / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        source = storage.open(name, "rb")
    except FileNotFoundError:
        return None
    with source, path.open("wb") as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"name": name, "sha256": digest.hexdigest(), "size": size}


def integrity() -> dict[str, Any]:
    """What a restore must reproduce: counts, the signatures that hold, the audit chain."""
    signatures = valid = 0
    for portfolio in Portfolio.objects.filter(signatures__isnull=False).distinct().order_by("pk"):
        for row in signature_rows(portfolio, save=False):
            signatures += 1
            valid += row.valid
    for plan in AssessmentPlan.objects.filter(signatures__isnull=False).distinct().order_by("pk"):
        for row in plan_signature_rows(plan):
            signatures += 1
            valid += row.valid
    reviews = ProgressReview.objects.filter(signatures__isnull=False).distinct().order_by("pk")
    for review in reviews:
        for row in review_signature_rows(review):
            signatures += 1
            valid += row.valid
    audit = verify_chains()
    return {
        "portfolios": Portfolio.objects.count(),
        "evidence_files": EvidenceFile.objects.count(),
        "signatures": signatures,
        "valid_signatures": valid,
        "audit_entries": audit.entries,
        "audit_chain_intact": audit.broken is None,
    }


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


@dataclass
class BackupResult:
    manifest: dict[str, Any]
    missing: list[str] = field(default_factory=list)


def backup(target: Path, *, progress: Callable[[str], None] = lambda _: None) -> BackupResult:
    """Write a backup into ``target``, a new or empty folder, from one consistent snapshot."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; give each backup a new folder.")
    (target / "database").mkdir(parents=True, exist_ok=True)
    (target / "files").mkdir(exist_ok=True)
    with _snapshot():
        started = timezone.now()
        tables = []
        for model in backed_up_models():
            tables.append(_dump_model(model, target / "database"))
        progress(f"Database: {sum(t['rows'] for t in tables)} rows of {len(tables)} models.")
        files, missing = [], []
        for name in _stored_names():
            copied = _copy_out(name, target)
            if copied is None:
                missing.append(name)
            else:
                files.append(copied)
        progress(f"Files: {len(files)}, {sum(f['size'] for f in files)} bytes.")
        manifest = {
            "format": FORMAT,
            "created_at": started.isoformat(),
            "database_vendor": connection.vendor,
            "migrations": _applied_migrations(),
            "database": tables,
            "files": files,
            "missing_files": missing,
            "integrity": integrity(),
        }
    partial = target / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    partial.replace(target / MANIFEST)
    return BackupResult(manifest, missing)


def _safe_name(name: Any) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(part not in {"", ".", ".."} for part in path.parts)


def read_manifest(source: Path) -> dict[str, Any]:
    path = Path(source) / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{source} holds no {MANIFEST}, so it is not a complete backup; nothing was restored."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} cannot be read ({exc}); nothing was restored.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path} is not a backup manifest of format {FORMAT}; nothing was restored."
        )
    return manifest


def check_backup(source: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file of the backup against the manifest's size and SHA-256; the problems found."""
    problems = []
    entries = [(e.get("path"), e) for e in manifest.get("database", [])]
    entries += [
        (f"files/{e.get('name')}" if _safe_name(e.get("name")) else None, e)
        for e in manifest.get("files", [])
    ]
    for relative, entry in entries:
        if not _safe_name(relative) or (
            entry.get("model") and not relative.startswith("database/")
        ):
            problems.append(f"{entry!r} in the manifest names no file inside the backup")
            continue
        path = Path(source) / relative
        if not path.is_file():
            problems.append(f"{relative} is missing")
            continue
        sha256, size = _sha256_file(path)
        if (sha256, size) != (entry.get("sha256"), entry.get("size")):
            problems.append(
                f"{relative} has changed: {size} bytes with SHA-256 {sha256}, but the manifest "
                f"says {entry.get('size')} bytes with SHA-256 {entry.get('sha256')}"
            )
    return problems


def database_holds_data() -> list[str]:
    """What the database already holds beyond what migrate puts there."""
    held = []
    for model in (User, Unit, Portfolio, AuditEntry):
        count = model._default_manager.count()
        if count:
            name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
            held.append(f"{count} {name}")
    return held


def _tables() -> list[str]:
    """The tables a restore replaces: every backed-up model's, with their many-to-many tables,
    and the sessions (a session must not sign someone in as whoever now has its user id)."""
    tables = []
    for model in [*backed_up_models(), apps.get_model("sessions.session")]:
        tables.append(model._meta.db_table)
        tables += [
            f.m2m_db_table()
            for f in model._meta.local_many_to_many
            if f.remote_field.through._meta.auto_created
        ]
    return tables


def _write_back(source: Path, entry: dict[str, Any]) -> str | None:
    """Write one file into the evidence storage under its own name; read it back to check."""
    storage = storages["evidence"]
    name = entry["name"]
    if storage.exists(name):
        storage.delete(name)
    with (Path(source) / "files" / name).open("rb") as handle:
        saved = save_whole(storage, name, File(handle, name=os.path.basename(name)))
    if saved != name:
        return f"{name} was stored as {saved}"
    with storage.open(name, "rb") as handle:
        sha256, size = _sha256_of(handle)
    if (sha256, size) != (entry["sha256"], entry["size"]):
        return f"{name} reads back from the storage as {size} bytes with SHA-256 {sha256}"
    return None


@dataclass
class RestoreResult:
    integrity: dict[str, Any]
    expected: dict[str, Any]
    problems: list[str]


def restore(
    source: Path, *, force: bool = False, progress: Callable[[str], None] = lambda _: None
) -> RestoreResult:
    """Restore the backup in ``source``: check it whole first, then write its files through the
    evidence storage and load its database in one transaction, then check the result."""
    source = Path(source)
    manifest = read_manifest(source)
    problems = check_backup(source, manifest)
    if problems:
        raise BackupError(
            f"The backup in {source} does not match its manifest, so nothing was restored:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    if manifest["migrations"] != _applied_migrations():
        raise BackupError(
            "The backup was made by a release with other database migrations than this one's, "
            "so nothing was restored. Restore it with the release that made it (then upgrade), "
            "into a database migrated by that release."
        )
    held = database_holds_data()
    if held and not force:
        raise BackupError(
            f"The database is not empty (it holds {', '.join(held)}), so nothing was restored. "
            "Restore into an empty, migrated database, or give --force to replace everything in "
            "it with the backup."
        )
    progress(f"The backup of {manifest['created_at']} matches its manifest.")

    problems = [p for entry in manifest["files"] if (p := _write_back(source, entry))]
    if problems:
        raise BackupError(
            "The files could not be written back to the evidence storage, so the database was "
            "not restored:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )
    progress(f"Files: {len(manifest['files'])} written to the evidence storage and read back.")

    fixtures = [str(source / t["path"]) for t in manifest["database"] if t["rows"]]
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql in connection.ops.sql_flush(no_style(), _tables()):
                cursor.execute(sql)
        # loaddata checks the foreign keys once everything is in, and resets the sequences of
        # the tables it loaded so new rows do not collide with restored ids.
        # The stored signable records are restored as they were saved, not recomputed as the
        # rows they cover arrive (verify_files compares the two).
        with suspended():
            call_command("loaddata", *fixtures, verbosity=0)
    progress(f"Database: {sum(t['rows'] for t in manifest['database'])} rows loaded.")
    return verify_restore(manifest)


def verify_restore(manifest: dict[str, Any]) -> RestoreResult:
    """Each evidence file's recorded SHA-256 against the bytes restored (read back through the
    storage API, as ``verify_files`` does, and marked as it marks them), the signatures, and the
    audit chain, against what the backup recorded."""
    hashes = {f["name"]: f["sha256"] for f in manifest["files"]}
    missing_at_backup = set(manifest.get("missing_files", []))
    problems = []
    now, expected = integrity(), manifest["integrity"]
    for evidence_file in EvidenceFile.objects.filter(purged_at=None).select_related(
        "evidence__portfolio"
    ):
        pk, name, sha256 = evidence_file.pk, evidence_file.file.name, evidence_file.sha256
        if name in missing_at_backup:
            problems.append(f"file #{pk} ({name}) was already missing when the backup was made")
        elif hashes.get(name) != sha256:
            problems.append(f"file #{pk} ({name}) does not match the SHA-256 recorded at upload")
        elif (found := hash_stored(name)) != sha256:
            # Marked and audited as verify_files would; a file that matches is left as restored.
            problems.append(f"file #{pk}: {record_check(evidence_file, found)}")
    for key, value in expected.items():
        if now.get(key) != value:
            problems.append(f"{key.replace('_', ' ')}: {now.get(key)}, but {value} when backed up")
    if not now["audit_chain_intact"]:
        problems.append("the audit chain does not verify (run verify_audit for where it breaks)")
    return RestoreResult(now, expected, problems)
