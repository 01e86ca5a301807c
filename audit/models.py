"""The audit trail: every change of state, append-only and chained by hash.

Both sides of the product write it (the learner's and the assessor's), so it sits below both and
knows neither: an entry names its portfolio by foreign key and its object by label and id. The
tables keep the names they had when the trail belonged to assessment, so databases upgrade in
place."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One change of state, append-only, chained to the entry before it by hash."""

    sequence = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, as they were named then.")
    action = models.CharField(max_length=60)
    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.PROTECT, null=True, related_name="audit_entries"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        verbose_name_plural = "audit entries"
        db_table = "assessments_auditentry"

    def __str__(self) -> str:
        return f"#{self.sequence} {self.summary}"


class AuditHead(models.Model):
    """A single row locked while an entry is appended, so the chain never forks."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "assessments_audithead"

    def __str__(self) -> str:
        return f"audit chain at entry {self.sequence}"
