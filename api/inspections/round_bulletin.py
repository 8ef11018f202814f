"""A round's 通报 as an Excel workbook: the round's score, then one sheet per grouping (point
type, adopting unit, sub-district), the points one by one, and the items that cost the most; the
headers as given (the view passes them in Chinese). No Flask."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from api.figures.bulletin import RATE_FORMAT, safe_cell
from api.inspections.scores import Scores

HEAD = PatternFill("solid", fgColor="DCEFEA")


def _sheet(book: Workbook, title: str, heading: str, headers: list[str], rows: list[list[Any]], rates: set[int], first: bool = False) -> None:
    sheet = book.active if first else book.create_sheet(title[:31])
    sheet.title = title[:31]
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font, cell.fill = Font(bold=True), HEAD
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
        for column in rates:
            sheet.cell(sheet.max_row, column).number_format = RATE_FORMAT
    for letter, width in zip("ABCDEFGHIJ", (30, 14, 12, 12, 12, 12, 12, 12, 12, 12), strict=True):
        sheet.column_dimensions[letter].width = width


def workbook(title: str, result: Scores, text: Mapping[str, str], names: Mapping[str, Callable[[str], str]]) -> bytes:
    """The round's bulletin: ``text`` holds the sheet names and headers; ``names`` gives each
    grouping's key (and point types) its name."""
    book = Workbook()
    group_head = [text["group"], text["points"], text["inspected"], text["failed_points"], text["possible"], text["score"], text["rate"]]

    def group_rows(groups: list[dict[str, Any]], name: Callable[[str], str]) -> list[list[Any]]:
        return [[name(g["key"]) or g["key"] or "—", g["points"], g["inspected"], g["failed_points"], g["possible"], g["score"], g["rate"]] for g in groups]

    _sheet(book, text["summary_sheet"], title, group_head, group_rows([{**result.total, "key": text["round"]}], str), {7}, first=True)
    for grouping in ("type", "unit", "area"):
        _sheet(book, text[f"by_{grouping}"], title, group_head, group_rows(result.groups[grouping], names[grouping]), {7})
    points = [[p.name, p.point_id, names["type"](p.point_type), names["unit"](p.unit_id), names["area"](p.area_id),
               text["yes"] if p.inspected else text["no"], p.failed, p.possible, p.score, p.rate] for p in result.points]
    _sheet(book, text["points_sheet"], title, [text["point"], text["code"], text["type"], text["unit"], text["area"], text["inspected"],
                                               text["failed_items"], text["possible"], text["score"], text["rate"]], points, {10})
    worst = [[w["text"], w["code"], names["type"](w["point_type"]), w["clause"], w["failures"], w["repeated"], w["points"]] for w in result.worst]
    _sheet(book, text["worst_sheet"], title, [text["item"], text["code"], text["type"], text["clause"], text["failures"], text["repeated"], text["lost"]],
           worst, set())
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
