"""What the figures' JSON endpoints answer (and the OpenAPI document says)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from zones.figures import GROUPINGS


class Figures(BaseModel):
    """One group's figures for the period (`zones.figures` defines each)."""

    key: str = Field(description="The unit, sub-district, campaign group or source")
    name: str = ""
    received: int
    dispatched: int
    fixed: int = Field(description="结案: fixes a dispatcher verified")
    due: int = Field(description="应结案: fixed, plus those whose unit is still at work past the deadline")
    closure_rate: float | None = Field(description="结案率: fixed / due")
    on_time_rate: float | None = Field(description="按期结案率: fixed by the deadline / due")
    rework_rate: float | None = Field(description="返工率: sent back at least once / rectified at least once")
    extension_rate: float | None = Field(description="延期率: given an extension / dispatched")
    disputes_upheld: int
    disputes_refused: int
    mean_hours: float | None = Field(description="Mean working hours from the unit's clock start to the first rectification")
    median_hours: float | None
    open: int = Field(description="Now, whatever the period: the unit still at work")
    overdue: int = Field(description="Now: open past the deadline")
    held: int = Field(description="Now: on hold (挂账)")
    score: float | None = Field(None, description="Units: the ranking's score (0-100); null with fewer due reports than the minimum")
    rank: int | None = None


class FigureTable(BaseModel):
    """The figures of a period per group, every group of the layer listed (zeros included)."""

    by: Literal[tuple(GROUPINGS)]
    first_day: str = Field(json_schema_extra={"format": "date"})
    last_day: str = Field(json_schema_extra={"format": "date"})
    items: list[Figures]
    red: list[str] = Field(description="Units: the red list (红榜), best first")
    black: list[str] = Field(description="Units: the black list (黑榜), worst first")
    minimum_due: int = Field(description="Due reports a unit needs before it is ranked")
