"""What is made from portfolios in the background and kept for a while: a portfolio's PDF, a
person's own data, several portfolios' PDFs in one ZIP."""

import datetime

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse
from django.utils import timezone


def _evidence_storage():
    # The files live beside the evidence files, as private as they are.
    return storages["evidence"]


class ExportQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(status__in=Export.UNFINISHED)

    def stale(self, now: datetime.datetime | None = None):
        """Running ones whose worker has not reported for ``EXPORT_STALE_MINUTES``: it stopped."""
        cutoff = (now or timezone.now()) - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
        return self.filter(status=Export.Status.RUNNING).filter(
            models.Q(heartbeat_at__lt=cutoff) | models.Q(heartbeat_at=None, created_at__lt=cutoff)
        )


class Export(models.Model):
    """A record made by a background task, with its progress: what ``kind`` of record, for whom,
    of which portfolio(s). How each kind is built is in ``records.exports``."""

    class Kind(models.TextChoices):
        BULK = "bulk", "Portfolio PDFs as one ZIP"
        PDF = "pdf", "Portfolio PDF"
        DATA = "data", "Everything held about you"
        QUALIFICATION = "qualification", "Qualification PDF"
        CLAIMS = "claims", "Claims for the awarding body"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Building"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)
    STOPPED = "the worker stopped while building it; start it again"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BULK)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    enrolment = models.ForeignKey(
        "portfolio.Enrolment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    portfolio_ids = models.JSONField(
        default=list,
        help_text="The portfolios it holds where there are several: a bulk export's, or the units "
        "of an enrolment's PDF that the person who asked may see.",
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="What was asked for, where a kind takes a choice."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=1)
    file = models.FileField(storage=_evidence_storage, max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    reuse_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="What the file shows, digested: a later request for the same reuses the file.",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker building it last reported progress."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The table keeps the name it had when bulk exports belonged to the learner's side.
        db_table = "portfolio_bulkexport"
        constraints = [
            # One record of a kind being made at a time, per person and portfolio (or, for their
            # own data, per person): a second request goes to the one already under way.
            models.UniqueConstraint(
                fields=["requested_by", "kind", "portfolio"],
                condition=models.Q(status__in=["queued", "running"], portfolio__isnull=False),
                name="one_unfinished_export_per_portfolio",
            ),
            models.UniqueConstraint(
                fields=["requested_by", "kind"],
                condition=models.Q(status__in=["queued", "running"], kind="data"),
                name="one_unfinished_data_export",
            ),
            models.UniqueConstraint(
                fields=["requested_by", "kind", "enrolment"],
                condition=models.Q(status__in=["queued", "running"], enrolment__isnull=False),
                name="one_unfinished_export_per_enrolment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["portfolio", "kind", "reuse_key"],
                condition=models.Q(status="done"),
                name="ready_export_by_key",
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.BULK:
            return f"Export of {len(self.portfolio_ids)} portfolios by {self.requested_by}"
        if self.kind == self.Kind.PDF:
            return f"PDF of portfolio #{self.portfolio_id} for {self.requested_by}"
        if self.kind == self.Kind.QUALIFICATION:
            return f"PDF of enrolment #{self.enrolment_id} for {self.requested_by}"
        return f"{self.get_kind_display()}, for {self.requested_by}"

    def get_absolute_url(self) -> str:
        return reverse("export_detail", args=[self.pk])

    @staticmethod
    def may_request_bulk(user) -> bool:
        """An external quality assurer or the centre administrator exports PDFs in bulk."""
        return user.is_centre_admin or user.is_eqa

    @property
    def unfinished(self) -> bool:
        return self.status in self.UNFINISHED

    @property
    def portfolios_in(self) -> list[int]:
        """The portfolios whose records it holds (none for a person's own data)."""
        return self.portfolio_ids or ([self.portfolio_id] if self.portfolio_id else [])

    @property
    def worker_stopped(self) -> bool:
        """Running, and its worker has not reported for ``EXPORT_STALE_MINUTES`` (as ``stale``)."""
        cutoff = timezone.now() - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
        seen = self.heartbeat_at or self.created_at
        return self.status == self.Status.RUNNING and seen < cutoff

    @property
    def waiting_long(self) -> bool:
        """Queued for ``EXPORT_STALE_MINUTES`` and not started: is the worker running?"""
        cutoff = timezone.now() - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
        return self.status == self.Status.QUEUED and self.created_at < cutoff

    @property
    def kept_until(self) -> datetime.datetime | None:
        """When ``purge_expired`` may remove the ready file."""
        if self.finished_at is None:
            return None
        return self.finished_at + datetime.timedelta(days=settings.BULK_EXPORT_KEEP_DAYS)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 100
