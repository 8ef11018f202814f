"""The figures leaders run the campaign by (晾晒, 红黑榜, 通报): what each report's history says
about it (its *facts*, kept with the report as it moves), the figures of a period per unit,
sub-district, campaign group or source, and the ranking.

A report's facts follow from its steps alone (`CaseFacts.after`, folded over the history by
`facts_of`). The figures of a period are those of the reports *received* in it:

- ``received``: reports received; ``dispatched``: of them, those a unit was given.
- ``fixed`` (结案): fixes a dispatcher verified. ``due`` (应结案): fixed, plus those whose unit is
  still at work past the deadline. ``closure_rate`` (结案率) is fixed / due and ``on_time_rate``
  (按期结案率) fixed by the deadline (an approved extension moves it) / due.
- ``rework_rate`` (返工率): reports sent back at least once / reports rectified at least once;
  ``extension_rate`` (延期率): reports given an extension / dispatched.
- ``disputes_upheld`` / ``disputes_refused``: the group's disputes in the period answered by sending
  the report elsewhere (reassigned or dispatched to another unit, rejected, a duplicate) or back
  (overruled, dispatched to the same unit); a unit's are those it raised.
- ``mean_hours`` / ``median_hours``: working hours from the unit's clock start (dispatch,
  reassignment, release of a hold, overruled dispute) to the first rectification (the median to
  the quarter hour).
- ``open``, ``overdue`` and ``held`` are *now*, whatever the period: the unit still at work, past
  the deadline, and held (挂账, never overdue).

A report counts for its present unit, sub-district, campaign group and national class (大类 of its
category's ``std_code``) and source,
and for the whole district (the ``district`` grouping, one row). The database counts (`COUNTS`):
`figures` makes the rates and the ranking of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from zones.workflow import Action
from zones.worktime import WorkCalendar

#: Groupings the figures are read by → the report's column that holds the key.
GROUPINGS = {"unit": "unit_id", "area": "area_id", "group": "group", "std": "std_class", "source": "source", "district": "district"}
#: The one key of the ``district`` grouping: the whole district's figures.
DISTRICT = "district"
#: The figures' columns, in the order tables show them.
COLUMNS = ("received", "dispatched", "fixed", "due", "closure_rate", "on_time_rate", "rework_rate", "extension_rate", "disputes_upheld",
           "disputes_refused", "mean_hours", "median_hours", "open", "overdue", "held")
#: The steps that start the unit's clock (and count the deadline again).
CLOCK_STARTS = frozenset({Action.DISPATCH.value, Action.REASSIGN.value, Action.RELEASE.value, Action.OVERRULE.value})
#: How a dispute was answered, by the action that answered it.
UPHELD = frozenset({Action.REASSIGN.value, Action.REJECT.value, Action.MARK_DUPLICATE.value})
REFUSED = frozenset({Action.OVERRULE.value})


@dataclass(frozen=True)
class CaseFacts:
    """What the figures need of one report, kept up to date with each step."""

    dispatched_at: datetime | None = None  # the first time a unit was given the report
    clock_at: datetime | None = None  # when the present unit's clock started
    rectified_at: datetime | None = None  # the latest rectification
    rectify_hours: float | None = None  # working hours from the clock's start to the first rectification
    fixed_at: datetime | None = None  # when a dispatcher verified the fix
    fixed_on_time: bool | None = None  # the verified rectification came by the deadline
    reworks: int = 0
    extensions: int = 0

    def after(self, action: str, at: datetime, *, unit_id: str | None, deadline: datetime | None, calendar: WorkCalendar) -> CaseFacts:
        """The facts once ``action`` happened at ``at`` (the report then with ``unit_id`` and ``deadline``)."""
        if action in CLOCK_STARTS and unit_id:
            return replace(self, dispatched_at=self.dispatched_at or at, clock_at=at)
        if action == Action.RECTIFY.value:
            hours = self.rectify_hours
            if hours is None and self.clock_at is not None:
                hours = calendar.working_time(self.clock_at, at).total_seconds() / 3600
            return replace(self, rectified_at=at, rectify_hours=hours)
        if action == Action.VERIFY.value:
            on_time = deadline is None or (self.rectified_at is not None and self.rectified_at <= deadline)
            return replace(self, fixed_at=at, fixed_on_time=on_time)
        if action == Action.REWORK.value:
            return replace(self, reworks=self.reworks + 1)
        if action == Action.REOPEN.value:  # the fix did not hold: not fixed until verified again
            return replace(self, fixed_at=None, fixed_on_time=None)
        if action == Action.APPROVE_EXTENSION.value:
            return replace(self, extensions=self.extensions + 1)
        return self

    def as_row(self) -> dict[str, object]:
        """The facts as the report's columns hold them."""
        return {name: getattr(self, name) for name in FACT_COLUMNS}


FACT_COLUMNS = tuple(CaseFacts.__dataclass_fields__)


@dataclass(frozen=True)
class Step:
    """One step of a report's history, as the facts read it."""

    action: str
    at: datetime
    unit_id: str | None
    due_at: datetime | None  # the deadline a step set (dispatch, reassignment, release, overrule, an approved extension)


def facts_of(steps: Iterable[Step], calendar: WorkCalendar) -> CaseFacts:
    """A report's facts from its whole history (in order)."""
    facts, deadline = CaseFacts(), None
    for step in steps:
        if step.due_at is not None and (step.action in CLOCK_STARTS or step.action == Action.APPROVE_EXTENSION.value):
            deadline = step.due_at
        facts = facts.after(step.action, step.at, unit_id=step.unit_id, deadline=deadline, calendar=calendar)
    return facts


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype(float)


#: What the figures are made of, counted per key over the period's reports (`api.figures.queries`
#: counts them in the database): reports received, given a unit, fixed, fixed by the deadline, due,
#: rectified at least once, sent back at least once, extended at least once, and the sum and number
#: of their working hours to the first rectification.
COUNTS = ("received", "dispatched", "fixed", "fixed_on_time", "due", "rectified", "reworked", "extended", "hours_sum", "hours_n")
#: What is counted now, whatever the period, per key: reports open, open past the deadline, held.
NOW_COUNTS = ("open", "overdue", "held")
#: The median's resolution: working hours to the first rectification are counted in quarters of an hour.
QUARTERS_PER_HOUR = 4


def median_of(histogram: pd.DataFrame) -> pd.Series:
    """Per ``key``, the median of the values a histogram counts (``bucket``: whole quarters of an
    hour, ``n`` reports in it), as the middle of the quarter that holds it."""
    if histogram.empty:
        return pd.Series(dtype=float)
    counted = histogram.groupby(["key", "bucket"], dropna=True)["n"].sum().reset_index().sort_values(["key", "bucket"])
    running = counted.groupby("key")["n"].cumsum()
    half = counted.groupby("key")["n"].transform("sum") / 2
    middle = counted[running >= half].groupby("key")["bucket"].first()
    return (middle.astype(float) + 0.5) / QUARTERS_PER_HOUR


def figures(counts: pd.DataFrame, hours: pd.DataFrame, now_counts: pd.DataFrame, disputes: pd.DataFrame, by: str, *,
            keys: Sequence[str] = ()) -> pd.DataFrame:
    """The figures per ``by`` (a `GROUPINGS` name), one row per key: those of ``keys`` first (every
    unit of the layer, say, zeros included), then any other the reports name.

    ``counts``: `COUNTS` per ``key`` (a key may come in several rows, summed); ``hours``: how many
    rectified reports (``n``) took each ``bucket`` of working hours (`median_of`) by ``key``; ``now_counts``: `NOW_COUNTS` per
    ``key``; ``disputes``: the period's disputes by ``key``, with the disputing ``unit_id``, the
    action that answered each and the unit it left the report with (``answer``, ``answer_unit``:
    empty while unanswered).
    """
    sums = counts.groupby("key", dropna=True)[list(COUNTS)].sum()
    now_rows = now_counts.groupby("key", dropna=True)[list(NOW_COUNTS)].sum()
    dispatched_to = disputes["answer"] == Action.DISPATCH.value  # dispatched again: to another unit (upheld) or the same (refused)
    same_unit = disputes["answer_unit"] == disputes["unit_id"]
    answered = pd.DataFrame({"key": disputes["key"], "disputes_upheld": (disputes["answer"].isin(UPHELD) | (dispatched_to & ~same_unit)).astype(int),
                             "disputes_refused": (disputes["answer"].isin(REFUSED) | (dispatched_to & same_unit)).astype(int)}
                            ).groupby("key", dropna=True).sum()
    order = list(dict.fromkeys([*keys, *sums.index, *now_rows.index, *answered.index]))
    table = pd.DataFrame(index=pd.Index(order, name=by)).join(sums).join(now_rows).join(answered)
    table = table.fillna(0)
    table["closure_rate"] = _rate(table["fixed"], table["due"])
    table["on_time_rate"] = _rate(table["fixed_on_time"], table["due"])
    table["rework_rate"] = _rate(table["reworked"], table["rectified"])
    table["extension_rate"] = _rate(table["extended"], table["dispatched"])
    table["mean_hours"] = _rate(table["hours_sum"], table["hours_n"])
    table["median_hours"] = median_of(hours).reindex(table.index).astype(float)
    counted = [c for c in COLUMNS if not c.endswith(("_rate", "_hours"))]
    table[counted] = table[counted].astype(int)
    return table[list(COLUMNS)]


@dataclass(frozen=True)
class Ranking:
    """How units are ranked: a score of 0–100 from weighted rates, and the least number of due
    reports before a unit is ranked at all (one fast case does not top the table)."""

    weights: Mapping[str, float]  # on_time_rate, closure_rate, and rework_rate / extension_rate counted as their complement
    minimum_due: int = 5
    board: int = 3  # how many units the red and the black list each name

    def __post_init__(self) -> None:
        unknown = set(self.weights) - RANKED_RATES
        if unknown or not self.weights or any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            msg = f"ranking weights name rates among {sorted(RANKED_RATES)}, none negative, not all zero; got {dict(self.weights)}"
            raise ValueError(msg)


def parse_weights(text: str) -> dict[str, float]:
    """``"on_time_rate=0.5,closure_rate=0.3,rework_rate=0.2"`` as a mapping; ValueError names the bad part."""
    weights = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            msg = f"ranking weights {text!r}: {part!r} is not rate=number"
            raise ValueError(msg) from None
    return weights


#: The rates a ranking may weigh; the lower the better for those in `COMPLEMENTED`.
RANKED_RATES = frozenset({"on_time_rate", "closure_rate", "rework_rate", "extension_rate"})
COMPLEMENTED = frozenset({"rework_rate", "extension_rate"})
#: The default weights: on time counts most, then closure, then work that needed no rework.
DEFAULT_WEIGHTS = "on_time_rate=0.5,closure_rate=0.3,rework_rate=0.2"


def rank(table: pd.DataFrame, ranking: Ranking) -> pd.DataFrame:
    """``table`` with ``score`` (0–100, or NaN when the unit has fewer due reports than the
    minimum) and ``rank`` (1 for the best; ties share a rank), best first, the unranked last."""
    total = sum(ranking.weights.values())
    score = pd.Series(0.0, index=table.index)
    for rate, weight in ranking.weights.items():  # a rate without cases (nothing rectified, say) earns nothing
        value = table[rate] if rate not in COMPLEMENTED else 1 - table[rate]
        score += weight * value.fillna(0.0)
    ranked = table.assign(score=(100 * score / total).round(1).where(table["due"] >= ranking.minimum_due))
    ranked["rank"] = ranked["score"].rank(method="min", ascending=False).astype("Int64")
    return ranked.sort_values(["score", "due"], ascending=[False, False], na_position="last", kind="stable")


def boards(ranked: pd.DataFrame, ranking: Ranking) -> tuple[list[str], list[str]]:
    """The red list (红榜: the best ranked) and the black list (黑榜: the worst), without overlap."""
    scored = [str(key) for key in ranked.index[ranked["score"].notna()]]
    size = min(ranking.board, len(scored) // 2)
    return scored[:size], list(reversed(scored[-size:])) if size else []
