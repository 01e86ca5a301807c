"""Budgets on uploads: the megabytes and decoded photo pixels one save, and one person in any
24 hours, may add.

What a person has added in the last day is read from the database (``UploadUsage``, a row for
each file stored, kept for a day even if the file is deleted), so every web worker counts the
same; a file past a budget is refused, saying which file, what the budget is and when there
will be room for it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import formats, timezone

from portfolio.models import UploadUsage

DAY = timedelta(hours=24)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f} megapixels" if pixels >= 10**6 else f"{pixels:,} pixels"


_MEASURES = {
    # measure: (the UploadUsage field it is counted in, how an amount reads, what is counted)
    "size": ("size", filesizeformat, "files"),
    "pixels": ("pixels", _megapixels, "photos"),
}


@dataclass
class UploadBudget:
    """What is left to add in one save (one request) by the person ``person_id``; ``take`` each
    file as it is checked. Without a person only the budget of the save applies."""

    person_id: int | None = None
    used: dict[str, int] = field(default_factory=lambda: {"size": 0, "pixels": 0})
    _day: dict[str, int] | None = None
    _since: datetime | None = None

    def take(self, name: str, *, size: int = 0, pixels: int = 0) -> None:
        """Count a file of ``size`` bytes (and ``pixels`` decoded pixels, for a photo) against
        the budgets; raise ValidationError naming it if it does not fit."""
        amounts = {"size": size, "pixels": pixels}
        for measure, amount in amounts.items():
            if amount:
                self._check_request(name, measure, amount)
        if self.person_id is not None:
            for measure, amount in amounts.items():
                if amount:
                    self._check_day(name, measure, amount)
        for measure, amount in amounts.items():
            self.used[measure] += amount

    def _check_request(self, name: str, measure: str, amount: int) -> None:
        limit = {
            "size": settings.EVIDENCE_MAX_UPLOAD_BYTES_PER_REQUEST,
            "pixels": settings.EVIDENCE_MAX_PIXELS_PER_REQUEST,
        }[measure]
        total = self.used[measure] + amount
        if total <= limit:
            return
        _, shown, what = _MEASURES[measure]
        if self.used[measure]:
            reach = (
                f"{name} ({shown(amount)}) would bring the {what} of this save to {shown(total)}"
            )
            advice = f"Add {name} in a separate save, which you can do straight away."
        else:
            reach = f"{name} is {shown(amount)}"
            advice = f"Make {name} smaller (fewer pixels, or split it) and choose it again."
        raise ValidationError(
            f"{reach}; one save may add at most {shown(limit)} of {what}. {advice}",
            code="request_budget",
        )

    def _usage(self) -> dict[str, int]:
        """What the person added in the last 24 hours, read once per save."""
        if self._day is None:
            self._since = timezone.now() - DAY
            # What is over a day old counts no more: nothing needs it.
            UploadUsage.objects.filter(person_id=self.person_id, at__lt=self._since).delete()
            totals = self._recent().aggregate(size=Sum("size"), pixels=Sum("pixels"))
            self._day = {measure: totals[measure] or 0 for measure in _MEASURES}
        return self._day

    def _recent(self):
        return UploadUsage.objects.filter(
            person_id=self.person_id, at__gte=self._since or timezone.now() - DAY
        )

    def _check_day(self, name: str, measure: str, amount: int) -> None:
        limit = {
            "size": settings.EVIDENCE_MAX_UPLOAD_BYTES_PER_DAY,
            "pixels": settings.EVIDENCE_MAX_PIXELS_PER_DAY,
        }[measure]
        earlier = self._usage()[measure]
        total = earlier + self.used[measure] + amount
        if total <= limit:
            return
        column, shown, what = _MEASURES[measure]
        when = self._room_at(column, total - limit)
        if when is None:
            advice = (
                f"Even once the last day's uploads count no more, {name} and the other files of "
                "this save are more than that: add fewer files in one save."
            )
        else:
            moment = formats.date_format(timezone.localtime(when), "j F Y \\a\\t H:i")
            advice = f"There will be room for {name} from {moment}."
        raise ValidationError(
            f"{name} ({shown(amount)}) would bring the {what} you have added in the last 24 "
            f"hours to {shown(total)}; at most {shown(limit)} of {what} may be added in 24 "
            f"hours. {advice}",
            code="day_budget",
        )

    def _room_at(self, column: str, excess: int) -> datetime | None:
        """When enough of the last day's uploads will be over 24 hours old to leave ``excess``
        more room; None if they are not enough."""
        freed = 0
        rows = self._recent().exclude(**{f"{column}__isnull": True}).order_by("at")
        for at, amount in rows.values_list("at", column).iterator():
            freed += amount
            if freed >= excess:
                return at + DAY
        return None
