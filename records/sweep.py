"""The evidence store swept: files no row names (left by a write a crash interrupted), rows
whose files are gone, and the temporary files of uploads a killed process left behind."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import models, transaction
from django.utils import timezone

from audit.chain import record
from portfolio.uploads import sweep_upload_temp

AUDITED_NAMES = 1000


@dataclass
class Swept:
    """What a sweep found and, with ``remove``, removed."""

    unnamed: list[str] = field(default_factory=list)  # stored, but named by no row
    removed: list[str] = field(default_factory=list)
    too_young: list[str] = field(default_factory=list)  # unnamed, but within the grace period
    not_removed: list[str] = field(default_factory=list)  # the storage refused to remove them
    missing: list[str] = field(default_factory=list)  # "<row>: <name>", its file not stored
    abandoned_uploads: list[str] = field(default_factory=list)


def _file_fields() -> Iterator[tuple[type[models.Model], str]]:
    """Every file field of every model: all of them are kept in the evidence store."""
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                yield model, model_field.name


def _named(model: type[models.Model], name: str) -> models.QuerySet:
    """The rows of ``model`` naming a file in ``name``; a row whose content was purged keeps
    the name of a file it no longer has."""
    rows = model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
    if any(f.name == "purged_at" for f in model._meta.concrete_fields):
        rows = rows.filter(purged_at__isnull=True)
    return rows


def named_files() -> dict[str, str]:
    """Each stored file's name that a row holds, with the row it belongs to ("EvidenceFile 12
    file")."""
    named = {}
    for model, name in _file_fields():
        for pk, stored in _named(model, name).values_list("pk", name).iterator():
            named[stored] = f"{model.__name__} {pk} {name}"
    return named


def stored_files(storage, folder: str = "") -> Iterator[str]:
    """Every file's name in ``storage`` under ``folder``, through the storage API (a disk or a
    bucket alike)."""
    folders, files = storage.listdir(folder)
    prefix = f"{folder}/" if folder else ""
    for name in files:
        yield prefix + name
    for sub in folders:
        yield from stored_files(storage, prefix + sub)


def sweep(*, remove: bool, grace: datetime.timedelta) -> Swept:
    """Compare the evidence store with the rows that name its files. With ``remove``, remove
    the files no row names that are older than ``grace`` (an upload in its transaction has
    written its file but not yet its row), and the abandoned uploads' temporary files; every
    removal is audited. Rows are never changed."""
    storage = storages["evidence"]
    swept = Swept()
    # The rows first, then the store: a file stored meanwhile is young, so it is kept.
    named = named_files()
    stored = set(stored_files(storage))
    cutoff = timezone.now() - grace
    for name in sorted(stored - named.keys()):
        swept.unnamed.append(name)
        if storage.get_modified_time(name) > cutoff:
            swept.too_young.append(name)
        elif remove:
            try:
                storage.delete(name)
            except Exception:  # reported, and tried again by the next sweep
                swept.not_removed.append(name)
            else:
                swept.removed.append(name)
    # A row removed meanwhile took its file with it: each one missing is read again.
    still_named = named_files()
    for name in sorted(named.keys() - stored):
        if name in still_named and not storage.exists(name):
            swept.missing.append(f"{still_named[name]}: {name}")
    swept.abandoned_uploads = [
        str(path)
        for path in sweep_upload_temp(
            settings.FILE_UPLOAD_TEMP_DIR,
            max_age_minutes=settings.UPLOAD_TEMP_MAX_AGE_MINUTES,
            remove=remove,
        )
    ]
    if swept.removed or (remove and swept.abandoned_uploads):
        with transaction.atomic():
            record(
                "storage.swept",
                actor=None,
                actor_label="sweep_storage",
                summary=f"sweep_storage removed {len(swept.removed)} stored files no record "
                f"names and {len(swept.abandoned_uploads)} abandoned uploads",
                # The names, up to a bound that keeps one entry readable; the counts in full.
                data={
                    "removed": swept.removed[:AUDITED_NAMES],
                    "removed_count": len(swept.removed),
                    "abandoned_uploads": swept.abandoned_uploads[:AUDITED_NAMES],
                    "abandoned_upload_count": len(swept.abandoned_uploads),
                },
            )
    return swept
