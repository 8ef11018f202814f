"""The district's working calendar as a file (``calendar.csv``: date, workday, name): the holidays
and make-up working days that differ from a Monday–Friday week. The demo's is generated from
``chinese-calendar``, which knows the State Council's schedule of each year it was released with
(2004–2026 for 1.11.0); a year it does not know is left out and said so, never guessed."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import chinese_calendar
import pandas as pd
import pyogrio

from geodata.io import list_layers
from zones.schema import ValidationReport

log = logging.getLogger(__name__)
COLUMNS = ("date", "workday", "name")
_CHINESE = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节", "Dragon Boat Festival": "端午节",
            "National Day": "国庆节", "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}
_TRUE, _FALSE = {"1", "true", "yes", "是", "班"}, {"0", "false", "no", "否", "休"}


def national_calendar(years: range) -> pd.DataFrame:
    """The national holidays and make-up working days of ``years`` that ``chinese-calendar`` knows
    (a weekday off, or a weekend day worked), as a calendar table; unknown years are left out."""
    rows = []
    for year in years:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            log.warning("chinese-calendar %s does not know the holidays of %d: the calendar leaves that year out", chinese_calendar.__version__, year)
            continue
        for day in pd.date_range(f"{year}-01-01", f"{year}-12-31").date:
            holiday, name = chinese_calendar.get_holiday_detail(day)
            workday = not holiday
            if workday != (day.weekday() < 5):
                rows.append({"date": day.isoformat(), "workday": int(workday), "name": _CHINESE.get(name, name or "") + ("调休上班" if workday else "")})
    return pd.DataFrame(rows, columns=list(COLUMNS))


#: Where a GeoPackage keeps its calendar: an attribute table of this name beside the layers.
LAYER = "calendar"


def has_calendar(path: Path) -> bool:
    """Whether a GeoPackage holds a calendar table."""
    return LAYER in list_layers(path)


def load_calendar(path: Path, *, strict: bool = True) -> tuple[pd.DataFrame, ValidationReport]:
    """A calendar file (CSV, or a GeoPackage's ``calendar`` table) as a table of days (``date``
    YYYY-MM-DD, ``workday`` 1 or 0, ``name``), with a report naming every bad row."""
    report = ValidationReport("calendar", path.name)
    if path.suffix.lower() == ".gpkg":
        frame = pyogrio.read_dataframe(path, layer=LAYER, read_geometry=False).astype(str)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("date", "workday") if c not in frame.columns]
    if missing:
        report.error("missing_columns", missing=missing, found=", ".join(frame.columns))
        frame = frame.iloc[0:0]
    rows = []
    names = frame["name"] if "name" in frame.columns else pd.Series([""] * len(frame))
    for pos, (text, flag, name) in enumerate(zip(frame.get("date", []), frame.get("workday", []), names, strict=True), start=1):
        try:
            day = date.fromisoformat(str(text).strip())
        except ValueError:
            report.error("as_written", text=f"date {text!r} is not YYYY-MM-DD", row=pos, field="date")
            continue
        value = str(flag).strip().lower()
        if value not in _TRUE | _FALSE:
            report.error("as_written", text=f"workday {flag!r} is not 1 or 0", row=pos, field="workday")
            continue
        rows.append({"date": day.isoformat(), "workday": int(value in _TRUE), "name": "" if name in ("nan", "None") else str(name)})
    if strict:
        report.raise_if_errors()
    return pd.DataFrame(rows, columns=list(COLUMNS)).drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True), report
