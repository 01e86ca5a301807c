"""When things fall due: the plan's activities and the progress reviews, paused by breaks in
learning. Plain date arithmetic on values, so the pages, the caseload, the daily reminders and
the PDF agree, and the tests can walk it across month ends and breaks without a database."""

import datetime
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Pause:
    """A break in learning as the schedule sees it: from its first day to its last (None while
    it lasts)."""

    starts_on: datetime.date
    ends_on: datetime.date | None

    @classmethod
    def of(cls, breaks: Iterable) -> list["Pause"]:
        """``BreakInLearning`` rows (or anything with ``starts_on`` and ``ends_on``), sorted."""
        return sorted(
            (cls(b.starts_on, b.ends_on) for b in breaks), key=lambda p: (p.starts_on, p.ends_on)
        )


def paused_due(
    nominal: datetime.date, since: datetime.date, pauses: Sequence[Pause]
) -> datetime.date | None:
    """``nominal`` (a date set on ``since``) moved on by every day of a break that falls from
    ``since`` up to the date as it moves: a break of ten days pushes it ten days later. None
    while a break that began before it is due is still going on: nothing falls due then."""
    due = nominal
    for pause in sorted(pauses, key=lambda p: p.starts_on):
        if pause.starts_on > due:
            break
        first = max(pause.starts_on, since)
        if pause.ends_on is None:
            return None
        if pause.ends_on < first:
            continue  # over before the date was set
        due += datetime.timedelta(days=(pause.ends_on - first).days + 1)
    return due


def on_break(day: datetime.date, pauses: Sequence[Pause]) -> Pause | None:
    """The break ``day`` falls in, if any."""
    for pause in pauses:
        if pause.starts_on <= day and (pause.ends_on is None or day <= pause.ends_on):
            return pause
    return None


class Timing(enum.StrEnum):
    """Where something planned stands on a day."""

    DONE = "done"
    DUE = "due"  # not yet due, or due within the warning period
    DUE_SOON = "due soon"
    OVERDUE = "overdue"
    PAUSED = "paused"  # a break in learning is going on


@dataclass(frozen=True)
class Due:
    timing: Timing
    due_on: datetime.date | None  # None while paused (or done with no date)

    @property
    def is_overdue(self) -> bool:
        return self.timing == Timing.OVERDUE

    def days_overdue(self, today: datetime.date) -> int:
        return (today - self.due_on).days if self.is_overdue else 0


def activity_due(
    *,
    target_date: datetime.date,
    since: datetime.date,
    done: bool,
    pauses: Sequence[Pause],
    today: datetime.date,
) -> Due:
    """A planned activity, set on ``since`` (the day its plan was issued) for ``target_date``:
    done once its evidence is accepted; otherwise due on its target date moved on by breaks, and
    overdue the day after."""
    due_on = paused_due(target_date, since, pauses)
    if done:
        return Due(Timing.DONE, due_on)
    if due_on is None:
        return Due(Timing.PAUSED, None)
    return Due(Timing.OVERDUE if today > due_on else Timing.DUE, due_on)


def review_weeks(qualification) -> int:
    """How often a learner is reviewed: as the centre set it for their qualification, or
    ``PROGRESS_REVIEW_WEEKS`` for single units."""
    if qualification is None:
        return settings.PROGRESS_REVIEW_WEEKS
    return qualification.review_weeks


def review_due(
    *,
    last: datetime.date,
    weeks: int,
    pauses: Sequence[Pause],
    today: datetime.date,
) -> Due:
    """The next progress review, ``weeks`` after ``last`` (the last review held, or the start of
    the enrolment) moved on by breaks: due soon ``REVIEW_DUE_SOON_DAYS`` before it, overdue the
    day after."""
    due_on = paused_due(last + datetime.timedelta(weeks=weeks), last, pauses)
    if due_on is None:
        return Due(Timing.PAUSED, None)
    if today > due_on:
        return Due(Timing.OVERDUE, due_on)
    if (due_on - today).days <= settings.REVIEW_DUE_SOON_DAYS:
        return Due(Timing.DUE_SOON, due_on)
    return Due(Timing.DUE, due_on)
