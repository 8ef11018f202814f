"""Tables for spreadsheet programs: no cell becomes a formula, in CSV or in Excel."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from api.layers.coverage_tables import download
from geodata.spreadsheet import FORMULA_STARTS, as_text_cells, csv_bytes

NAMES = ["=HYPERLINK(\"http://x.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "城阳区菜市场", "-"]


def test_a_formula_from_a_layer_is_text_in_the_csv_and_the_workbook(app):
    frame = pd.DataFrame({"point_id": [f"TP{n}" for n in range(len(NAMES))], "name": NAMES, "count": range(len(NAMES))})
    text = csv_bytes(frame).decode("utf-8-sig")
    read = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert read["name"].tolist() == ["'" + n if n.startswith(FORMULA_STARTS) else n for n in NAMES]
    assert read["count"].tolist() == [str(n) for n in range(len(NAMES))]  # numbers stay numbers
    with app.test_request_context():
        workbook = openpyxl.load_workbook(io.BytesIO(download(frame, "test_points", "xlsx", "v1")[0]))
    cells = list(workbook["test_points"].iter_rows(min_row=2, min_col=2, max_col=2))
    assert [c[0].value for c in cells] == NAMES  # as written, not a quote added
    assert {c[0].data_type for c in cells} == {"s"}  # every one a text cell, none a formula
    with app.test_request_context():
        downloaded = download(frame, "test_points", "csv", "v1")[0].decode("utf-8-sig")
    assert "'=HYPERLINK" in downloaded and "\n=HYPERLINK" not in downloaded
    assert as_text_cells(pd.DataFrame({"name": ["\rCR"]}))["name"].tolist() == ["'\rCR"]
