"""When planned activities and progress reviews fall due, paused by breaks in learning."""

import datetime

import pytest

from assessments.schedule import Pause, Timing, activity_due, paused_due, review_due

D = datetime.date


def test_a_date_with_no_break_stays_as_set():
    assert paused_due(D(2026, 3, 31), D(2026, 1, 5), []) == D(2026, 3, 31)


def test_a_break_moves_the_date_on_by_each_of_its_days_across_a_month_end():
    # Ten days off, 25 January to 3 February: a target of 31 January becomes 10 February.
    pause = Pause(D(2026, 1, 25), D(2026, 2, 3))

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [pause]) == D(2026, 2, 10)


def test_a_break_before_the_date_was_set_moves_nothing():
    pause = Pause(D(2025, 12, 1), D(2025, 12, 20))

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [pause]) == D(2026, 1, 31)


def test_a_break_going_on_when_the_date_was_set_counts_from_that_day():
    pause = Pause(D(2026, 1, 1), D(2026, 1, 10))  # set on the 5th: six days of it remain

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [pause]) == D(2026, 2, 6)


def test_a_break_after_the_date_moves_nothing():
    pause = Pause(D(2026, 2, 1), D(2026, 2, 10))

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [pause]) == D(2026, 1, 31)


def test_a_later_break_reached_by_the_moved_date_moves_it_again():
    first = Pause(D(2026, 1, 20), D(2026, 1, 29))  # ten days: 31 Jan -> 10 Feb
    second = Pause(D(2026, 2, 5), D(2026, 2, 9))  # five more, reached only after the first

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [second, first]) == D(2026, 2, 15)


def test_nothing_falls_due_while_a_break_goes_on():
    pause = Pause(D(2026, 1, 20), None)

    assert paused_due(D(2026, 1, 31), D(2026, 1, 5), [pause]) is None
    due = activity_due(
        target_date=D(2026, 1, 31), since=D(2026, 1, 5), done=False, pauses=[pause],
        today=D(2026, 3, 1),
    )  # fmt: skip
    assert due.timing == Timing.PAUSED


@pytest.mark.parametrize(
    ("today", "timing"),
    [(D(2026, 1, 31), Timing.DUE), (D(2026, 2, 1), Timing.OVERDUE)],
)
def test_an_activity_is_overdue_the_day_after_its_date(today, timing):
    due = activity_due(
        target_date=D(2026, 1, 31), since=D(2026, 1, 5), done=False, pauses=[], today=today
    )

    assert due.timing == timing
    assert due.days_overdue(today) == (1 if timing == Timing.OVERDUE else 0)


def test_an_activity_done_is_never_overdue():
    due = activity_due(
        target_date=D(2026, 1, 31), since=D(2026, 1, 5), done=True, pauses=[], today=D(2026, 6, 1)
    )

    assert due.timing == Timing.DONE


def test_a_review_falls_due_twelve_weeks_on_across_a_month_end(settings):
    settings.REVIEW_DUE_SOON_DAYS = 14
    last = D(2026, 11, 30)  # twelve weeks later is 22 February 2027

    assert review_due(last=last, weeks=12, pauses=[], today=D(2027, 2, 7)).timing == Timing.DUE
    soon = review_due(last=last, weeks=12, pauses=[], today=D(2027, 2, 8))
    assert (soon.timing, soon.due_on) == (Timing.DUE_SOON, D(2027, 2, 22))
    assert review_due(last=last, weeks=12, pauses=[], today=D(2027, 2, 22)).timing == (
        Timing.DUE_SOON
    )
    assert review_due(last=last, weeks=12, pauses=[], today=D(2027, 2, 23)).timing == (
        Timing.OVERDUE
    )


def test_a_break_in_learning_moves_the_review_on():
    last = D(2026, 1, 1)  # due 26 March without the break
    pause = Pause(D(2026, 2, 27), D(2026, 3, 5))  # seven days, across February's end

    due = review_due(last=last, weeks=12, pauses=[pause], today=D(2026, 3, 30))

    assert (due.timing, due.due_on) == (Timing.DUE_SOON, D(2026, 4, 2))
    assert review_due(last=last, weeks=12, pauses=[Pause(D(2026, 2, 27), None)],
                      today=D(2026, 9, 1)).timing == Timing.PAUSED  # fmt: skip
