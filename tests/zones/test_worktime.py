"""Working-time deadlines on the district's calendar: a Friday-evening report with a 4-working-hour
limit is due on Monday (or on a make-up Saturday); properties hold for any start and limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zones.errors import InvalidInputError
from zones.worktime import TIMEZONE, DeadlineUnit, WorkCalendar, parse_hours

# 2026: 1 January (Thursday) to 3 January are holidays, Sunday 4 January is a make-up working day.
CALENDAR = WorkCalendar({date(2026, 1, 1): False, date(2026, 1, 2): False, date(2026, 1, 3): False, date(2026, 1, 4): True,
                         date(2026, 2, 14): True, **{date(2026, 2, d): False for d in range(15, 24)}, date(2026, 2, 28): True})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TIMEZONE)


def test_a_friday_evening_report_is_due_on_monday():
    friday_evening = local(2026, 3, 6, 19, 0)
    assert CALENDAR.due(friday_evening, 4, "work_hours") == local(2026, 3, 9, 14, 0).astimezone(UTC)  # 08:30-12:00 and 13:30-14:00
    assert CALENDAR.due(friday_evening, 24, "hours") == local(2026, 3, 7, 19, 0).astimezone(UTC)  # calendar hours: Saturday
    assert CALENDAR.due(friday_evening, 1, "work_days") == local(2026, 3, 9, 17, 30).astimezone(UTC)  # the close of Monday
    assert CALENDAR.due(local(2026, 3, 9, 10, 0), 1, "work_days") == local(2026, 3, 10, 10, 0).astimezone(UTC)


def test_holidays_are_skipped_and_a_make_up_day_counts():
    before_new_year = local(2025, 12, 31, 17, 0)  # 30 minutes of the day left, then three holidays, then the make-up Sunday
    assert CALENDAR.due(before_new_year, 4, "work_hours") == local(2026, 1, 4, 12, 0).astimezone(UTC)
    friday_before_spring_festival = local(2026, 2, 13, 18, 0)  # Saturday 14 February is a working day, then nine days off
    assert CALENDAR.due(friday_before_spring_festival, 4, "work_hours") == local(2026, 2, 14, 14, 0).astimezone(UTC)
    assert CALENDAR.due(friday_before_spring_festival, 2, "work_days") == local(2026, 2, 24, 17, 30).astimezone(UTC)


def test_bad_limits_and_hours_are_refused():
    with pytest.raises(InvalidInputError):
        CALENDAR.due(local(2026, 3, 9, 10), 0, "work_hours")
    with pytest.raises(ValueError, match=r"fortnights"):
        CALENDAR.due(local(2026, 3, 9, 10), 1, "fortnights")
    for text in ("8:30-12", "12:00-08:30", "08:30-12:00,11:00-17:00", ""):
        with pytest.raises(InvalidInputError):
            parse_hours(text)
    assert CALENDAR.day_length == timedelta(hours=7, minutes=30)
    assert CALENDAR.known == (date(2026, 1, 1), date(2026, 2, 28))


moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 4, 1)).map(lambda d: d.replace(tzinfo=TIMEZONE))
limits = st.floats(min_value=0.25, max_value=200, allow_nan=False)


def _in_working_time(moment: datetime) -> bool:
    at = moment.astimezone(TIMEZONE)
    return CALENDAR.is_workday(at.date()) and any(s <= at.time() <= e for s, e in CALENDAR.hours)


@settings(max_examples=300, deadline=None)
@given(moments, limits, st.sampled_from([DeadlineUnit.WORK_HOURS, DeadlineUnit.WORK_DAYS]))
def test_a_deadline_is_in_working_time_and_holds_exactly_the_limit(start, amount, unit):
    due = CALENDAR.due(start, amount, unit)
    assert _in_working_time(due)
    wanted = timedelta(hours=amount) if unit == DeadlineUnit.WORK_HOURS else CALENDAR.day_length * amount
    assert abs(CALENDAR.working_time(start, due) - wanted) < timedelta(microseconds=10)


@settings(max_examples=300, deadline=None)
@given(moments, limits, limits, st.sampled_from(list(DeadlineUnit)))
def test_adding_more_never_ends_sooner(start, a, b, unit):
    small, large = sorted((a, b))
    assert CALENDAR.due(start, small, unit) <= CALENDAR.due(start, large, unit)


@settings(max_examples=200, deadline=None)
@given(moments, st.integers(min_value=1, max_value=30))
def test_n_working_days_span_exactly_n_workdays(start, n):
    """From the start of a working day, N working days end at the close of its N-th working day."""
    day = start.astimezone(TIMEZONE).date()
    while not CALENDAR.is_workday(day):
        day += timedelta(days=1)
    opening = datetime.combine(day, CALENDAR.hours[0][0], TIMEZONE)
    due = CALENDAR.due(opening, n, "work_days").astimezone(TIMEZONE)
    spanned = [day + timedelta(days=k) for k in range((due.date() - day).days + 1)]
    assert sum(CALENDAR.is_workday(d) for d in spanned) == n
    assert due.time() == CALENDAR.hours[-1][1]
