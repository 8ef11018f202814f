"""The figures as JSON: ``GET /api/v1/figures`` (a period, any grouping) and ``GET /api/v1/units``
(every unit of the layer, ranked)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from api.auth.callers import require
from api.auth.roles import Role
from api.figures import queries, schemas
from api.figures.queries import FigureTable, Period
from api.layers.live import current_layer
from api.persistence.clock import now
from api.web import contract, parsing
from zones.figures import GROUPINGS
from zones.layer import ZoneLayer
from zones.worktime import TIMEZONE

bp = Blueprint("figures", __name__, url_prefix="/api/v1")
#: Who reads the figures.
READERS = (Role.DISPATCHER, Role.PLANNER, Role.LEADER)
PERIOD = (contract.query("from", format="date", description="The period's first day (default: the first of this month; from and to in either order)"),
          contract.query("to", format="date", description="The period's last day, included (default: today)"))


def period_of(args: Any, default: Period) -> Period:
    """The period ``from`` and ``to`` name (days, both included, in either order; one not given: ``default``'s)."""
    first, last = parsing.day(args.get("from"), "from"), parsing.day(args.get("to"), "to")
    return Period.between(first or default.first, last or default.last)


def today() -> date:
    """Today in the district."""
    return now().astimezone(TIMEZONE).date()


def names(layer: ZoneLayer, by: str) -> dict[str, str]:
    """What each key of ``by`` is called in the layer (units, sub-districts; groups and sources are their own names)."""
    if by == "unit":
        return layer.unit_names
    if by == "area":
        return dict(zip(layer.areas["area_id"].astype(str), layer.areas["name"].astype(str), strict=True))
    return {}


def table_json(result: FigureTable, layer: ZoneLayer) -> dict[str, Any]:
    """A figure table as the API answers it."""
    called = names(layer, result.by)
    return {"by": result.by, "first_day": result.period.first.isoformat(), "last_day": result.period.last.isoformat(),
            "items": [{**row, "name": called.get(row["key"], row["key"])} for row in result.records()],
            "red": result.red, "black": result.black, "minimum_due": result.minimum_due}


@bp.get("/figures")
@contract.operation("The figures of a period per unit, sub-district, campaign group or source, every one of the layer listed (units ranked)",
                    answer=schemas.FigureTable, errors=("401", "403"),
                    params=[contract.query("by", enum=list(GROUPINGS), description="default: unit"), *PERIOD])
def figures() -> ResponseReturnValue:
    """The figures of the period (default: this month so far) grouped ``by``."""
    require(*READERS)
    period = period_of(request.args, Period.month_so_far(today()))
    result = queries.table(g.db, current_layer(), request.args.get("by", "unit"), period, now(), current_app.config["RANKING"])
    return jsonify(table_json(result, current_layer()))


@bp.get("/units")
@contract.operation("Every unit of the layer with its figures (of all time, or of a period), ranked", answer=schemas.FigureTable,
                    errors=("401", "403"), params=list(PERIOD))
def units() -> ResponseReturnValue:
    """Every unit of the layer, zeros included, ranked by the configured score."""
    require(*READERS)
    period = period_of(request.args, queries.all_time(today()))
    return jsonify(table_json(queries.table(g.db, current_layer(), "unit", period, now(), current_app.config["RANKING"]), current_layer()))
