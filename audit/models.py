"""The audit trail: every change of state, append-only and chained by keyed hash.

Both sides of the product write it (the learner's and the assessor's), so it sits below both and
knows neither: an entry names its portfolio by foreign key and its object by label and id. The
tables keep the names they had when the trail belonged to assessment, so databases upgrade in
place.

There is one chain per learner (every entry about one of their portfolios) and one for the
centre (everything else), each with its head row, so unrelated work never waits on one lock."""

import pgtrigger
from django.conf import settings
from django.db import models

CENTRE = "centre"
# What the retention purge leaves in an entry's personal details (its actor's label, summary and
# data); the entry's keyed digest of them, kept, still chains it.
ERASED = "[erased]"


class AuditEntry(models.Model):
    """One change of state, append-only, chained to the entry before it on its chain."""

    class Version(models.IntegerChoices):
        LEGACY = 1, "plain SHA-256 (before 0.2)"
        KEYED = 2, "HMAC-SHA256 with the personal details digested apart"

    chain = models.CharField(max_length=40, help_text='"centre" or "learner-<id>".')
    sequence = models.PositiveBigIntegerField()
    version = models.PositiveSmallIntegerField(choices=Version, default=Version.KEYED)
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
    personal_digest = models.CharField(
        max_length=64, blank=True, help_text="Keyed digest of the actor's label, summary and data."
    )
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"
        db_table = "assessments_auditentry"
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="audit_entry_in_chain_once")
        ]
        # On PostgreSQL the database itself keeps the trail append-only: no entry is deleted,
        # and the one change allowed is the erasure of its personal details (every other
        # column as it was, those three set to the erased marker).
        triggers = [
            pgtrigger.Protect(name="append_only_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="append_only_no_update",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "NOT (NEW.actor_label = '" + ERASED + "' AND NEW.summary = '" + ERASED + "'"
                    " AND NEW.data = '{}'::jsonb"
                    " AND (NEW.id, NEW.chain, NEW.sequence, NEW.version, NEW.created_at,"
                    " NEW.actor_id, NEW.action, NEW.portfolio_id, NEW.object_type, NEW.object_id,"
                    " NEW.personal_digest, NEW.previous_hash, NEW.hash)"
                    " IS NOT DISTINCT FROM (OLD.id, OLD.chain, OLD.sequence, OLD.version,"
                    " OLD.created_at, OLD.actor_id, OLD.action, OLD.portfolio_id,"
                    " OLD.object_type, OLD.object_id, OLD.personal_digest, OLD.previous_hash,"
                    " OLD.hash))"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.sequence} {self.summary}"

    @property
    def is_erased(self) -> bool:
        return self.actor_label == ERASED and self.summary == ERASED and self.data == {}


class AuditHead(models.Model):
    """The last entry of one chain, sealed with the key; its row is locked while an entry is
    appended, so the chain never forks."""

    chain = models.CharField(max_length=40, unique=True)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    seal = models.CharField(max_length=64, help_text="HMAC-SHA256 of chain, sequence and hash.")

    class Meta:
        db_table = "assessments_audithead"

    def __str__(self) -> str:
        return f"audit chain {self.chain} at entry {self.sequence}"
