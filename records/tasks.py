"""Background work: every record made in the worker (see ``records.exports``)."""

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from audit.chain import record
from portfolio.files import save_whole
from records.exports import Progress, Stopped, builder_for
from records.models import Export


@task()
def build_export(export_id: int) -> None:
    """Build the export's file with its kind's builder, recording progress (the heartbeat) as
    it goes; a ready file showing the same is reused instead of building another."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return  # already built, or marked failed or removed while it waited
    export = Export.objects.select_related("requested_by", "portfolio__learner", "portfolio__unit")
    export = export.get(pk=export_id)
    builder = builder_for(export)
    storage = storages["evidence"]
    name = ""
    try:
        key = builder.reuse_key(export) if builder.reuse_key else ""
        ready = ready_export(export, key)
        if ready is not None:
            _finish(export, Export.Status.DONE, name=ready.file.name, size=ready.size, key=key)
            return
        with tempfile.TemporaryFile() as handle, beating(export.pk):
            builder.build(export, Progress(export), handle)
            handle.seek(0)
            name = save_whole(storage, f"exports/{export.pk}.{builder.extension}", File(handle))
        if not _finish(export, Export.Status.DONE, name=name, size=storage.size(name), key=key):
            storage.delete(name)  # marked failed meanwhile: nobody will download it
    except Stopped:
        if name:
            storage.delete(name)
    except Exception as exc:
        _finish(export, Export.Status.FAILED, error=str(exc)[:2000] or exc.__class__.__name__)
        raise


def heartbeat_seconds() -> float:
    """How often a build that reports no progress of its own (one long PDF) still says it is
    alive: three times within ``EXPORT_STALE_MINUTES``, at most once a minute."""
    return min(60.0, settings.EXPORT_STALE_MINUTES * 60 / 3)


@contextmanager
def beating(export_id: int) -> Iterator[None]:
    """While the block runs, a thread moves the running export's heartbeat on every
    ``heartbeat_seconds()``, so a build that is slow but alive is not taken for a stopped one."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(heartbeat_seconds()):
                Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()  # this thread's own connection

    beater = threading.Thread(target=beat, name=f"export-{export_id}-heartbeat", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join()


# Bulk exports queued before every kind shared one task are started under this name.
build_bulk_export = build_export


def ready_export(export: Export, key: str) -> Export | None:
    """A ready export of the same kind and portfolio whose file shows the same (``key``)."""
    if not key:
        return None
    ready = (
        Export.objects.filter(
            kind=export.kind, portfolio=export.portfolio, status=Export.Status.DONE, reuse_key=key
        )
        .exclude(pk=export.pk)
        .exclude(file="")
        .order_by("-finished_at")
        .first()
    )
    if ready is None or not storages["evidence"].exists(ready.file.name):
        return None
    return ready


def _finish(
    export: Export, status: str, *, name: str = "", size: int = 0, key: str = "", error: str = ""
) -> bool:
    """Mark the running export done or failed, and audit it; False if it was no longer running
    (marked failed as stale while it was being built)."""
    now = timezone.now()
    with transaction.atomic():
        finished = Export.objects.filter(pk=export.pk, status=Export.Status.RUNNING).update(
            status=status,
            file=name,
            size=size,
            reuse_key=key,
            error=error,
            finished_at=now,
            heartbeat_at=now,
            done=export.total if status == Export.Status.DONE else export.done,
        )
        if not finished:
            return False
        export.refresh_from_db()
        audit_finished(export)
    return True


def export_fail(export: Export, *, error: str, unless_now: tuple[str, ...] = ()) -> bool:
    """Mark the export failed with ``error`` (which its page shows), and audit it; False if it
    was meanwhile in a status of ``unless_now``, or failed or removed already. A worker still
    building it then keeps nothing (only a running export's file is kept)."""
    with transaction.atomic():
        failed = (
            Export.objects.filter(pk=export.pk)
            .exclude(status__in=[Export.Status.FAILED, Export.Status.REMOVED, *unless_now])
            .update(status=Export.Status.FAILED, error=error, finished_at=timezone.now())
        )
        if not failed:
            return False
        export.refresh_from_db()
        audit_finished(export)
    return True


def audit_finished(export: Export) -> None:
    record(
        "export.finished",
        actor=export.requested_by,
        obj=export,
        summary=f"{export}: {export.get_status_display().lower()}",
        data={
            "kind": export.kind,
            "portfolios": export.portfolios_in,
            "status": export.status,
        },
    )
    if export.kind == Export.Kind.DATA and export.status == Export.Status.DONE:
        record(
            "data.exported",
            actor=export.requested_by,
            obj=export,
            summary=f"{export.requested_by} downloaded everything held about them",
        )
