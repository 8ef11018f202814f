"""Working time: the district's calendar (holidays and make-up working days over a Monday–Friday
week) and its working hours, and deadlines counted in calendar hours, working hours or working
days, as 数字城管 counts 处置时限.

A limit of N working hours ends once N hours of working time have passed from the moment it
starts (a moment outside working time starts at the next working moment); N working days are N
times a working day's hours, so "1 working day" from Monday 10:00 ends on Tuesday at 10:00, and
from Friday evening at the close of Monday. Days outside the calendar's range count as Monday to
Friday; the calendar says which range it knows (`WorkCalendar.known`) so callers can warn.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from zones.enums import StrEnumChecked
from zones.errors import InvalidInputError

TIMEZONE = ZoneInfo("Asia/Shanghai")
#: The working hours of a working day when none are configured: 08:30-12:00 and 13:30-17:30.
WORKING_HOURS = "08:30-12:00,13:30-17:30"


class DeadlineUnit(StrEnumChecked):
    """What a category's ``deadline`` counts."""

    HOURS = "hours"  # calendar hours, nights and holidays included
    WORK_HOURS = "work_hours"  # 工作时: hours of working time
    WORK_DAYS = "work_days"  # 工作日: working days of working time


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"08:30-12:00,13:30-17:30"`` as ordered, non-overlapping (start, end) pairs; `InvalidInputError` otherwise."""
    spans = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            start, end = (time.fromisoformat(v.strip()) for v in part.split("-"))
        except ValueError:
            msg = f"working hours {text!r}: {part!r} is not HH:MM-HH:MM"
            raise InvalidInputError(msg, field="WORKING_HOURS") from None
        spans.append((start, end))
    if not spans or any(s >= e for s, e in spans) or any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
        msg = f"working hours {text!r}: give ordered, non-overlapping spans within a day, e.g. {WORKING_HOURS}"
        raise InvalidInputError(msg, field="WORKING_HOURS")
    return tuple(spans)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days and the working hours of each, in the district's time zone."""

    days: Mapping[date, bool] = field(default_factory=dict)  # a holiday (False) or a make-up working day (True)
    hours: tuple[tuple[time, time], ...] = parse_hours(WORKING_HOURS)
    tz: ZoneInfo = TIMEZONE

    @property
    def known(self) -> tuple[date, date] | None:
        """The first and last day the calendar lists (past them, weeks count Monday to Friday)."""
        return (min(self.days), max(self.days)) if self.days else None

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day."""
        return sum((datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in self.hours), timedelta())

    def is_workday(self, day: date) -> bool:
        """True for a working day: listed as one, or a Monday to Friday not listed as a holiday."""
        return self.days.get(day, day.weekday() < 5)

    def spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working spans that end after ``start``, in order, as aware moments (forever)."""
        local = start.astimezone(self.tz)
        day = local.date()
        while True:
            if self.is_workday(day):
                for s, e in self.hours:
                    end = datetime.combine(day, e, self.tz)
                    if end > local:
                        yield datetime.combine(day, s, self.tz), end
            day += timedelta(days=1)

    def closing(self, day: date) -> datetime:
        """The end of the working day ``day`` (of the next working day when it is none), in UTC: what
        a deadline given as a date means."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.hours[-1][1], self.tz).astimezone(ZoneInfo("UTC"))

    def due(self, start: datetime, amount: float, unit: DeadlineUnit | str) -> datetime:
        """The moment a limit of ``amount`` ``unit`` that starts at ``start`` (aware) ends, in UTC."""
        unit = DeadlineUnit(unit)
        if amount <= 0:
            msg = f"a deadline must be positive, got {amount}"
            raise InvalidInputError(msg, field="deadline")
        if unit == DeadlineUnit.HOURS:
            return (start + timedelta(hours=amount)).astimezone(ZoneInfo("UTC"))
        left = timedelta(hours=amount) if unit == DeadlineUnit.WORK_HOURS else self.day_length * amount
        for span_start, span_end in self.spans(start):
            begin = max(span_start, start)
            if left <= span_end - begin:
                return (begin + left).astimezone(ZoneInfo("UTC"))
            left -= span_end - begin
        raise AssertionError("unreachable: spans never end")  # pragma: no cover

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two moments (zero when ``end`` is not after ``start``)."""
        total = timedelta()
        if end <= start:
            return total
        for span_start, span_end in self.spans(start):
            if span_start >= end:
                return total
            total += min(span_end, end) - max(span_start, start)
        raise AssertionError("unreachable")  # pragma: no cover
