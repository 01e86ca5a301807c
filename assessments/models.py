"""Judgements and quality assurance of portfolios."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class EqaGrantQuerySet(models.QuerySet):
    def active(self) -> "EqaGrantQuerySet":
        return self.filter(expires_at__gt=timezone.now())


class EqaGrant(models.Model):
    """Read-only access for an external quality assurer, to chosen portfolios or the whole centre,
    until it expires."""

    eqa = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="eqa_grants",
        verbose_name="external quality assurer",
    )
    whole_centre = models.BooleanField(
        default=False, help_text="Every portfolio of the centre, including ones added later."
    )
    portfolios = models.ManyToManyField(
        "portfolio.Portfolio", blank=True, related_name="eqa_grants"
    )
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, help_text="For example the visit date.")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EqaGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-expires_at"]
        verbose_name = "EQA access grant"

    def __str__(self) -> str:
        scope = "the whole centre" if self.whole_centre else "chosen portfolios"
        return f"{self.eqa}: {scope} until {timezone.localtime(self.expires_at):%d %b %Y %H:%M}"

    def clean(self) -> None:
        if self.eqa_id and not self.eqa.is_eqa:
            raise ValidationError(
                {"eqa": f"{self.eqa} does not hold the external quality assurer role."}
            )

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
