"""Tables written for spreadsheet programs (CSV, Excel), safe to open: no cell becomes a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel and WPS (OWASP: CSV injection): a zone's name ``=HYPERLINK(...)`` from an uploaded layer
must reach a planner's download as text. In CSV such a cell is written after a single quote, in
Excel as a text cell.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _quoted(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def as_text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell a spreadsheet would read as a formula quoted."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_quoted)
    return out


def write_csv(frame: pd.DataFrame, target: str | Path | IO[str], *, bom: bool = True) -> None:
    """``frame`` as CSV (UTF-8, with a BOM so that spreadsheet programs read the Chinese)."""
    as_text_cells(frame).to_csv(target, index=False, encoding="utf-8-sig" if bom else "utf-8")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as the bytes of a CSV file (UTF-8 with a BOM)."""
    return as_text_cells(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """``frame`` as an Excel workbook of one sheet, every text cell a text cell (never a formula)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
        for row in writer.sheets[sheet].iter_rows():
            for cell in row:
                if cell.data_type == "f":  # pandas writes no formula: any is text that looked like one
                    cell.data_type = "s"
    return buffer.getvalue()
