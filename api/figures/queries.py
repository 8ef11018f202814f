"""The figures of a period counted by the database: over the reports received in it, their facts
(`zones.figures.COUNTS`) per key; over the reports not closed, what is open, overdue and held now;
the period's disputes with their answers; then rated and ranked by `zones.figures`. No Flask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from api.persistence.models import Report, Transition
from zones import figures
from zones.errors import InvalidInputError
from zones.figures import COLUMNS, GROUPINGS, Ranking
from zones.layer import ZoneLayer
from zones.workflow import OPEN_STATES, Action, State
from zones.worktime import TIMEZONE

#: The figures that count (the rest are rates, hours and scores: none without reports).
COUNTED = frozenset(c for c in COLUMNS if not c.endswith(("_rate", "_hours")))
OPEN = [s.value for s in OPEN_STATES]


def _key(by: str) -> ColumnElement[Any]:
    """The report's column a grouping is counted by (a campaign or a national class: its category, mapped after)."""
    columns: dict[str, ColumnElement[Any]] = {"unit": Report.unit_id, "area": Report.area_id, "group": Report.category, "std": Report.category,
                                              "source": Report.source, "district": literal(figures.DISTRICT)}
    return columns[by].label("key")


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` (both included), in the district's time zone."""

    first: date
    last: date

    @classmethod
    def month_of(cls, day: date) -> Period:
        """The calendar month holding ``day``."""
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return cls(start, following - timedelta(days=1))

    @classmethod
    def month_so_far(cls, day: date) -> Period:
        """The first of ``day``'s month up to ``day``."""
        return cls(day.replace(day=1), day)

    @classmethod
    def week_of(cls, day: date) -> Period:
        """The week (Monday to Sunday) holding ``day``."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    @classmethod
    def between(cls, one: date, other: date) -> Period:
        """The days from the earlier of two days to the later."""
        return cls(min(one, other), max(one, other))

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInputError(f"to: a period ends on or after its first day, not {self.first} to {self.last}", field="to",
                                    problems=[f"on or after {self.first}"])

    @property
    def start(self) -> datetime:
        """The period's first moment."""
        return datetime.combine(self.first, time(), TIMEZONE)

    @property
    def end(self) -> datetime:
        """The moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), TIMEZONE)

    def previous(self) -> Period:
        """The period of the same length just before."""
        length = self.last - self.first + timedelta(days=1)
        return Period(self.first - length, self.last - length)


def _rows(session: Session, query: Select[Any], columns: list[str], layer: ZoneLayer, by: str) -> pd.DataFrame:
    """The query's rows as a frame; a campaign's key is its category's group, a national class its category's."""
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    if by == "group":
        frame["key"] = frame["key"].map({code: c.group for code, c in layer.category_table.items() if c.group})
    elif by == "std":
        frame["key"] = frame["key"].map({code: c.std_class for code, c in layer.category_table.items() if c.std_class})
    return frame


def frames(session: Session, layer: ZoneLayer, by: str, period: Period, now: datetime, unit_id: str | None = None) -> dict[str, pd.DataFrame]:
    """The inputs of `zones.figures.figures` for ``period`` grouped ``by``, counted by the database
    (of one unit's reports only, with ``unit_id``)."""
    key = _key(by)
    mine = (Report.unit_id == unit_id,) if unit_id is not None else ()
    received = (Report.created_at >= period.start, Report.created_at < period.end, *mine)
    fixed, late = Report.fixed_at.is_not(None), and_(Report.state.in_(OPEN), Report.deadline_at < now)
    quarters = cast(func.floor(Report.rectify_hours * figures.QUARTERS_PER_HOUR), Integer)  # the median's histogram, in the same scan
    bucket = case((Report.rectify_hours.is_not(None), quarters)).label("bucket")
    counts = select(key, bucket, func.count(), _count(Report.dispatched_at.is_not(None)), _count(fixed), _count(and_(fixed, Report.fixed_on_time.is_(True))),
                    _count(or_(fixed, late)), _count(Report.rectified_at.is_not(None)), _count(Report.reworks > 0), _count(Report.extensions > 0),
                    func.coalesce(func.sum(Report.rectify_hours), 0.0), func.count(Report.rectify_hours)).where(*received).group_by(key, bucket)
    now_counts = (select(key, _count(Report.state.in_(OPEN)), _count(late), _count(Report.state == State.HELD.value))
                  .where(Report.state.in_([*OPEN, State.HELD.value]), *mine).group_by(key))
    answer = aliased(Transition)
    following = (select(answer.id).where(answer.report_id == Transition.report_id, answer.id > Transition.id)
                 .order_by(answer.id).limit(1).scalar_subquery())
    answered = aliased(Transition)
    dispute_key = Transition.unit_id.label("key") if by == "unit" else key
    disputes = (select(dispute_key, Transition.unit_id, answered.action, answered.unit_id).join(Report, Report.id == Transition.report_id)
                .outerjoin(answered, answered.id == following)
                .where(Transition.action == Action.DISPUTE.value, Transition.at >= period.start, Transition.at < period.end,
                       *((Transition.unit_id == unit_id,) if unit_id is not None else ())))
    counted = _rows(session, counts, ["key", "bucket", *figures.COUNTS], layer, by)
    return {"counts": counted, "hours": counted.dropna(subset=["bucket"]).rename(columns={"hours_n": "n"})[["key", "bucket", "n"]],
            "now_counts": _rows(session, now_counts, ["key", *figures.NOW_COUNTS], layer, by),
            "disputes": _rows(session, disputes, ["key", "unit_id", "answer", "answer_unit"], layer, by)}


def keys_of(layer: ZoneLayer, by: str) -> list[str]:
    """Every key of the grouping the layer knows, so that none is left out for having no reports:
    its units, sub-districts, campaign groups or national classes (sources are the reports' own)."""
    if by == "unit":
        return list(layer.known_units)
    if by == "area":
        areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
        return [str(a) for a in areas["area_id"]]
    if by == "group":
        return list(dict.fromkeys(c.group for c in layer.category_table.values() if c.group))
    if by == "std":
        return sorted({c.std_class for c in layer.category_table.values() if c.std_class})
    return [figures.DISTRICT] if by == "district" else []


@dataclass(frozen=True)
class FigureTable:
    """The figures of a period per group: ``rows`` indexed by key with `zones.figures.COLUMNS`
    (units: with ``score`` and ``rank``, best first), and the units' red and black lists."""

    by: str
    period: Period
    rows: pd.DataFrame
    red: list[str]
    black: list[str]
    minimum_due: int

    def records(self) -> list[dict[str, Any]]:
        """The rows as plain values (None for a rate without a denominator), key first."""
        frame = self.rows.astype(object).where(self.rows.notna(), None)
        return [{"key": str(key), **row} for key, row in zip(frame.index, frame.to_dict("records"), strict=True)]

    def row(self, key: str) -> dict[str, Any]:
        """One key's figures as plain values (zeros for a key the table does not hold)."""
        found = next((r for r in self.records() if r["key"] == key), None)
        return found or {"key": key, **{c: 0 if c in COUNTED else None for c in (*self.rows.columns,)}}


@dataclass(frozen=True)
class Standing:
    """A unit's figures beside the medians of the district's units that had work in the period."""

    unit: dict[str, Any]
    on_time_median: float | None
    overdue_median: float
    rework_median: float | None


def standing(result: FigureTable, unit_id: str) -> Standing:
    """``unit_id``'s figures and the district's medians (over the units with reports received or open)."""
    rows = result.rows
    active = rows[(rows["received"] > 0) | (rows["open"] > 0)]

    def median(column: str) -> float | None:
        values = active[column].dropna()
        return float(values.median()) if len(values) else None

    return Standing(result.row(unit_id), median("on_time_rate"), median("overdue") or 0.0, median("rework_rate"))


def table(session: Session, layer: ZoneLayer, by: str, period: Period, now: datetime, ranking: Ranking) -> FigureTable:
    """The figures of ``period`` per ``by`` (`zones.figures.GROUPINGS`), every key of the layer
    listed: units ranked, other groupings in the layer's order."""
    if by not in GROUPINGS:
        raise InvalidInputError(f"by: one of {', '.join(GROUPINGS)}, not {by!r}", field="by", problems=[f"one of {', '.join(GROUPINGS)}"])
    rows = figures.figures(**frames(session, layer, by, period, now), by=by, keys=keys_of(layer, by))
    if by != "unit":
        return FigureTable(by, period, rows, [], [], ranking.minimum_due)
    ranked = figures.rank(rows, ranking)
    red, black = figures.boards(ranked, ranking)
    return FigureTable(by, period, ranked, red, black, ranking.minimum_due)


def unit_figures(session: Session, layer: ZoneLayer, period: Period, now: datetime, unit_id: str) -> dict[str, Any]:
    """One unit's figures of ``period``, its reports alone counted (not ranked: that takes them all)."""
    rows = figures.figures(**frames(session, layer, "unit", period, now, unit_id), by="unit", keys=[unit_id])
    return FigureTable("unit", period, rows, [], [], 0).row(unit_id)


#: The days a unit's console compares it with the district over.
RECENT_DAYS = 30


def recent(today: date, days: int = RECENT_DAYS) -> Period:
    """The last ``days`` days up to ``today``: what a unit's standing beside the district is read over."""
    return Period(today - timedelta(days=days - 1), today)



def all_time(today: date) -> Period:
    """Every day up to ``today``."""
    return Period(EPOCH, today)


#: The first day figures of all time start from.
EPOCH = date(2000, 1, 1)
