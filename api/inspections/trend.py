"""The weekly scoring (周评分): the score rate (得分率) of every round's inspections period by period
(weeks from Monday, or months, in the district's time), per point type, adopting unit,
sub-district or point, and for the district, so the trend reads along each row. Within a period a
point counts once, by its latest inspection. Self-checks (自查) count only when asked for. No Flask."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.inspections import rounds
from api.persistence.models import Inspection, Round
from zones.enums import ReportSource
from zones.errors import InvalidInputError
from zones.layer import ZoneLayer
from zones.worktime import TIMEZONE

#: What the rows are.
BY = ("unit", "area", "type", "point")
#: How long a period is.
EVERY = ("week", "month")
#: The most periods one trend spans.
MOST_PERIODS = 26
#: The levels counted unless others are asked for: every level but a unit's own self-checks.
DISTRICT_LEVELS = tuple(level for level in rounds.LEVELS if level != ReportSource.SELF_CHECK.value)


@dataclass(frozen=True)
class Cell:
    """A group's score in one period: the points inspected, their scores summed."""

    inspected: int = 0
    score: float = 0.0
    possible: float = 0.0

    @property
    def rate(self) -> float | None:
        """得分率 (None when nothing was inspected, or nothing applied)."""
        return self.score / self.possible if self.possible else None


@dataclass(frozen=True)
class Row:
    """One group's cells, oldest period first."""

    key: str
    cells: list[Cell]

    @property
    def latest(self) -> float | None:
        """The rate of the latest period that has one."""
        return next((c.rate for c in reversed(self.cells) if c.rate is not None), None)

    @property
    def change(self) -> float | None:
        """The latest rate less the one before it (periods without inspections skipped)."""
        found = [c.rate for c in self.cells if c.rate is not None]
        return found[-1] - found[-2] if len(found) >= 2 else None


@dataclass(frozen=True)
class Trend:
    """The periods (their first days) and a row per group, worst latest rate first, and the district's."""

    by: str
    every: str
    levels: tuple[str, ...]
    periods: list[date]
    rows: list[Row]
    total: Row

    def last_day(self, index: int) -> date:
        """The last day of period ``index``."""
        return next_start(self.periods[index], self.every) - timedelta(days=1)


def period_start(day: date, every: str) -> date:
    """The first day of the period (a week from Monday, or a month) ``day`` falls in."""
    return day - timedelta(days=day.weekday()) if every == "week" else day.replace(day=1)


def next_start(start: date, every: str) -> date:
    """The first day of the period after the one starting on ``start``."""
    return start + timedelta(days=7) if every == "week" else period_start(start + timedelta(days=31), every)


def periods(until: date, every: str, count: int) -> list[date]:
    """The first days of the ``count`` periods up to the one holding ``until``, oldest first."""
    starts = [period_start(until, every)]
    while len(starts) < count:
        starts.append(period_start(starts[-1] - timedelta(days=1), every))
    return starts[::-1]


def of(session: Session, layer: ZoneLayer, by: str, every: str, count: int, until: date, levels: tuple[str, ...] = DISTRICT_LEVELS) -> Trend:
    """The trend of ``count`` periods up to the one holding ``until``, grouped ``by``, of the rounds of ``levels``."""
    for field, value, allowed in (("by", by, BY), ("every", every, EVERY)):
        if value not in allowed:
            raise InvalidInputError(f"{field}: one of {', '.join(allowed)}", field=field, problems=[f"one of {', '.join(allowed)}"])
    if not levels or any(level not in rounds.LEVELS for level in levels):
        raise InvalidInputError(f"level: one of {', '.join(rounds.LEVELS)}", field="level", problems=[f"one of {', '.join(rounds.LEVELS)}"])
    if not 1 <= count <= MOST_PERIODS:
        raise InvalidInputError(f"count: 1 to {MOST_PERIODS} periods", field="count", problems=[f"1 to {MOST_PERIODS}"])
    starts = periods(until, every, count)
    first = datetime.combine(starts[0], time.min, TIMEZONE)
    last = datetime.combine(next_start(starts[-1], every), time.min, TIMEZONE)
    rows = session.execute(select(Inspection.point_id, Inspection.at, Inspection.score, Inspection.possible)
                           .join(Round, Round.id == Inspection.round_id)
                           .where(Round.level.in_(levels), Inspection.at >= first, Inspection.at < last)
                           .order_by(Inspection.at, Inspection.id))
    index = {start: n for n, start in enumerate(starts)}
    latest: dict[tuple[str, int], tuple[float, float]] = {}
    for point, at, score, possible in rows:
        latest[(point, index[period_start(at.astimezone(TIMEZONE).date(), every)])] = (score, possible)
    group = _grouping(layer, by)
    sums: dict[str, list[Cell]] = defaultdict(lambda: [Cell() for _ in starts])
    total = [Cell() for _ in starts]
    for (point, n), (score, possible) in latest.items():
        for cells in (sums[group(point)], total):
            kept = cells[n]
            cells[n] = Cell(kept.inspected + 1, kept.score + score, kept.possible + possible)
    ordered = sorted((Row(key, cells) for key, cells in sums.items()), key=lambda r: (r.latest is None, r.latest or 0.0, r.key))
    return Trend(by, every, levels, starts, ordered, Row("total", total))


def _grouping(layer: ZoneLayer, by: str) -> Callable[[str], str]:
    """The row a point counts in under ``by`` ("" when the layer no longer knows the point)."""
    if by == "point":
        return lambda point: point
    table = layer.test_points
    if by == "area":
        found = rounds.point_areas(layer)
    else:
        found = {str(p): (str(v) if isinstance(v, str) else "") for p, v in zip(table["point_id"], table["unit_id" if by == "unit" else "type"], strict=True)}
    return lambda point: found.get(point, "")


def names(layer: ZoneLayer, by: str) -> Callable[[str], str]:
    """What a row of ``by`` is called in the layer: a unit's, sub-district's or point's name; a point type's own code."""
    if by == "unit":
        called = layer.unit_names
    elif by == "area":
        called = dict(zip(layer.areas["area_id"].astype(str), layer.areas["name"].astype(str), strict=True))
    elif by == "point":
        called = dict(zip(layer.test_points["point_id"].astype(str), layer.test_points["name"].astype(str), strict=True))
    else:
        called = {}
    return lambda key: called.get(key, key)
