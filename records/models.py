"""What is made from portfolios and kept for a while: bulk exports of their PDFs."""

import datetime

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse


def _evidence_storage():
    # The ZIPs live beside the evidence files, as private as they are.
    return storages["evidence"]


class BulkExport(models.Model):
    """Several portfolios' PDFs in one ZIP, built by a background task with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Building"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    portfolio_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=_evidence_storage, max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The table keeps the name it had when exports belonged to the learner's side.
        db_table = "portfolio_bulkexport"

    def __str__(self) -> str:
        return f"Export of {len(self.portfolio_ids)} portfolios by {self.requested_by}"

    def get_absolute_url(self) -> str:
        return reverse("bulk_export_detail", args=[self.pk])

    @staticmethod
    def may_request(user) -> bool:
        """An external quality assurer or the centre administrator exports PDFs in bulk."""
        return user.is_centre_admin or user.is_eqa

    @property
    def total(self) -> int:
        return len(self.portfolio_ids)

    @property
    def kept_until(self) -> datetime.datetime | None:
        """When ``purge_expired`` may remove the ready ZIP."""
        if self.finished_at is None:
            return None
        return self.finished_at + datetime.timedelta(days=settings.BULK_EXPORT_KEEP_DAYS)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100
