"""The bulletin (通报) as an Excel workbook: a title with the period, the district's headline
figures, the red and black lists, and one sheet per grouping with its headers as given (the view
passes them in the bulletin's language). No Flask."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from api.figures.queries import FigureTable

RATE_FORMAT = "0.0%"
HOURS_FORMAT = "0.0"
HEAD = PatternFill("solid", fgColor="DCEFEA")


def safe_cell(value: Any) -> Any:
    """A cell's value: text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def workbook(title: str, tables: Sequence[tuple[str, FigureTable, Mapping[str, str]]], headers: Mapping[str, str], summary: Sequence[tuple[str, Any]],
             boards: Sequence[tuple[str, Sequence[str]]]) -> bytes:
    """The bulletin: a first sheet with ``title``, the ``summary`` (label, value) and the
    ``boards`` (a title and the names it lists), then one sheet per (sheet name, table, names of
    its keys), its columns headed by ``headers`` (the key's column under ``headers["name"]``)."""
    book = Workbook()
    first = book.active
    first.title = headers.get("summary_sheet", "Summary")
    first.append([title])
    first["A1"].font = Font(bold=True, size=14)
    for label, value in summary:
        first.append([label, value])
        if isinstance(value, float):
            first.cell(first.max_row, 2).number_format = RATE_FORMAT
    for board_title, listed in boards:
        first.append([])
        first.append([board_title])
        first.cell(first.max_row, 1).font = Font(bold=True)
        for place, name in enumerate(listed, start=1):
            first.append([place, safe_cell(name)])
    first.column_dimensions["A"].width = 28
    first.column_dimensions["B"].width = 40
    for sheet_name, result, names in tables:
        sheet = book.create_sheet(sheet_name[:31])
        columns = [c for c in result.rows.columns if c in headers]
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([headers["name"], *(headers[c] for c in columns)])
        for cell in sheet[2]:
            cell.font, cell.fill, cell.alignment = Font(bold=True), HEAD, Alignment(wrap_text=True, vertical="top")
        for row in result.records():
            sheet.append([safe_cell(names.get(row["key"], row["key"])), *(row[c] for c in columns)])
        for index, column in enumerate(columns, start=2):
            letter = get_column_letter(index)
            number_format = RATE_FORMAT if column.endswith("_rate") else HOURS_FORMAT if column.endswith("_hours") else None
            sheet.column_dimensions[letter].width = 11
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                    cell.number_format = number_format
        sheet.column_dimensions["A"].width = 36
        sheet.freeze_panes = "B3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
