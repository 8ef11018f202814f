"""The figures of a period read from storage: the reports received in it with their facts, the
reports still open or held, the period's disputes and their answers, grouped and ranked by
`zones.figures`. No Flask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from api.persistence.models import Report, Transition
from zones import figures
from zones.errors import InvalidInputError
from zones.figures import COLUMNS, GROUPINGS, Ranking
from zones.layer import ZoneLayer
from zones.workflow import OPEN_STATES, Action, State
from zones.worktime import TIMEZONE

#: The figures that count (the rest are rates, hours and scores: none without reports).
COUNTS = frozenset(c for c in COLUMNS if not c.endswith(("_rate", "_hours")))
#: The report's columns each grouping key comes from (the campaign group is its category's).
KEY_COLUMNS = (Report.unit_id, Report.area_id, Report.category, Report.source)
FACTS = (Report.state, Report.deadline_at, Report.dispatched_at, Report.rectified_at, Report.fixed_at, Report.fixed_on_time, Report.rectify_hours,
         Report.reworks, Report.extensions)
MOMENTS = ("deadline_at", "dispatched_at", "rectified_at", "fixed_at")


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
    def week_of(cls, day: date) -> Period:
        """The week (Monday to Sunday) holding ``day``."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

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


def _frame(session: Session, query: Select[Any], columns: list[str], groups: dict[str, str]) -> pd.DataFrame:
    """The query's rows as a frame: the campaign group beside the category, moments in UTC."""
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    for name in MOMENTS:
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["group"] = frame["category"].map(groups)
    frame["district"] = figures.DISTRICT
    return frame


def frames(session: Session, layer: ZoneLayer, period: Period) -> dict[str, pd.DataFrame]:
    """The inputs of `zones.figures.figures` for ``period``."""
    groups = {code: c.group for code, c in layer.category_table.items() if c.group}
    keys = [c.key for c in KEY_COLUMNS]
    received = _frame(session, select(*KEY_COLUMNS, *FACTS).where(Report.created_at >= period.start, Report.created_at < period.end),
                      [*keys, *(c.key for c in FACTS)], groups)
    current = [s.value for s in OPEN_STATES] + [State.HELD.value]
    backlog = _frame(session, select(*KEY_COLUMNS, Report.state, Report.deadline_at).where(Report.state.in_(current)),
                     [*keys, "state", "deadline_at"], groups)
    answer = aliased(Transition)
    following = (select(answer.id).where(answer.report_id == Transition.report_id, answer.id > Transition.id)
                 .order_by(answer.id).limit(1).scalar_subquery())
    answered = aliased(Transition)
    disputes = _frame(session, select(Transition.unit_id, Report.area_id, Report.category, Report.source, answered.action, answered.unit_id)
                      .join(Report, Report.id == Transition.report_id).outerjoin(answered, answered.id == following)
                      .where(Transition.action == Action.DISPUTE.value, Transition.at >= period.start, Transition.at < period.end),
                      [*keys, "answer", "answer_unit"], groups)
    return {"received": received, "backlog": backlog, "disputes": disputes}


def keys_of(layer: ZoneLayer, by: str) -> list[str]:
    """Every key of the grouping the layer knows, so that none is left out for having no reports:
    its units, sub-districts or campaign groups (sources are the reports' own)."""
    if by == "unit":
        return list(layer.known_units)
    if by == "area":
        areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
        return [str(a) for a in areas["area_id"]]
    if by == "group":
        return list(dict.fromkeys(c.group for c in layer.category_table.values() if c.group))
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
        return found or {"key": key, **{c: 0 if c in COUNTS else None for c in (*self.rows.columns,)}}


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
    rows = figures.figures(**frames(session, layer, period), by=by, now=now, keys=keys_of(layer, by))
    if by != "unit":
        return FigureTable(by, period, rows, [], [], ranking.minimum_due)
    ranked = figures.rank(rows, ranking)
    red, black = figures.boards(ranked, ranking)
    return FigureTable(by, period, ranked, red, black, ranking.minimum_due)


def all_time(today: date) -> Period:
    """Every day up to ``today``."""
    return Period(EPOCH, today)


#: The first day figures of all time start from.
EPOCH = date(2000, 1, 1)
