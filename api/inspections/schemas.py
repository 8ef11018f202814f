"""What the inspection endpoints take and answer: request models parse the bodies, and with the
answers they make the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.inspections.rounds import LEVELS, MAX_POINTS
from api.inspections.trend import BY, EVERY
from api.persistence.models import CODE_LENGTH
from api.reports.schemas import Accuracy, Latitude, Longitude
from api.web.parsing import Day, Finite, Refs, Text, Timestamp
from zones.checklists import ItemKind, Owner, Result
from zones.enums import TestPointType


class ChecklistItem(BaseModel):
    """One item of a point type's checklist."""

    point_type: str
    code: str
    text: str
    kind: Literal[tuple(ItemKind.values())]
    minimum: float | None = Field(description="count: at least this many; ratio: at least this share (0-1)")
    weight: float = Field(description="Points the item is worth")
    category: str = Field(description="The report category a failure becomes")
    owner: Literal[tuple(Owner.values())] = Field(description="zone: the unit the router gives the spot; adopter: the point's adopting unit")
    clause: str = Field(description="The clause of the evaluation it comes from")


class Checklists(BaseModel):
    """The checklists of one version."""

    version: str
    items: list[ChecklistItem]


class NewScope(BaseModel):
    """Which test points a round takes."""

    model_config = ConfigDict(extra="forbid")

    types: list[Literal[tuple(TestPointType.values())]] = Field(default_factory=list, description="default: every type with a checklist")
    areas: list[Text(CODE_LENGTH, required=True)] = Field(default_factory=list, description="Sub-district ids; default: all")
    sample: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = Field(None, description="A random sample of this many points (default: all)")
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(None, description="The sample's seed: the same seed draws the same points")


class NewRound(BaseModel):
    """A round to make."""

    model_config = ConfigDict(extra="forbid")

    name: Text(200, required=True)
    level: Literal[LEVELS] = Field(description="The \"4+1\" level: the source of every case the round opens")
    first_day: Day
    last_day: Day
    scope: NewScope = Field(default_factory=NewScope)
    inspectors: list[Text(64, required=True)] = Field(default_factory=list, description="Usernames; the points are shared among them in turn")


class NewRecheck(BaseModel):
    """A re-inspection (回头看) of a round's failed items."""

    model_config = ConfigDict(extra="forbid")

    first_day: Day
    last_day: Day


class RoundPoint(BaseModel):
    """A point of a round and where it stands."""

    point_id: str
    name: str
    point_type: str
    unit_id: str
    area_id: str
    inspector: str | None
    codes: list[str] | None = Field(description="A re-inspection's items (null: the whole checklist)")
    inspected: bool
    failed: int
    rate: float | None = Field(description="得分率 of its latest inspection")
    lon: float
    lat: float


class Round(BaseModel):
    """A round with its points."""

    id: int
    name: str
    level: str
    kind: Literal["regular", "self_check", "recheck"]
    first_day: dt.date
    last_day: dt.date
    scope: dict
    checklist_version: str
    layer_version: str
    unit_id: str | None
    parent_id: int | None
    created_by: str
    points: list[RoundPoint] | None = None


class RoundList(BaseModel):
    """Rounds, newest first."""

    items: list[Round]


class NewItem(BaseModel):
    """One item as found."""

    model_config = ConfigDict(extra="forbid")

    code: Text(CODE_LENGTH, required=True)
    result: Literal[tuple(Result.values())] | None = Field(None, description="A count or ratio item may give only its value")
    value: Finite | None = None
    note: Text(500) = None
    photos: Refs = Field(default_factory=list, description="Of the problem: required when it failed or was fixed on the spot")
    after_photos: Refs = Field(default_factory=list, description="Of the fix on the spot (立行立改): required then")


class NewInspection(BaseModel):
    """One point's inspection; send it with an Idempotency-Key (a retry is stored once)."""

    model_config = ConfigDict(extra="forbid")

    point_id: Text(CODE_LENGTH, required=True)
    at: Timestamp | None = Field(None, description="When it was recorded (default: when received)")
    lon: Longitude | None = None
    lat: Latitude | None = None
    accuracy_m: Accuracy = None
    items: list[NewItem] = Field(max_length=200)


class InspectionItem(BaseModel):
    """An item's result as stored."""

    code: str
    result: str
    value: float | None
    note: str | None
    photos: list[str]
    after_photos: list[str]
    report_id: int | None = Field(description="The case the failure opened (or a re-inspection closed)")
    repeated: bool = Field(description="Failed again at this point on a re-inspection: it cost double")
    points: float = Field(description="Points the item cost")


class Inspection(BaseModel):
    """One point's inspection as stored."""

    id: int
    round_id: int
    point_id: str
    inspector: str
    at: str
    lon: float | None
    lat: float | None
    distance_m: float | None
    far: bool = Field(description="Recorded farther from the point than the configured distance (a warning, kept)")
    possible: float
    score: float
    rate: float | None
    items: list[InspectionItem]


class InspectionList(BaseModel):
    """A round's inspections, in the order recorded."""

    items: list[Inspection]


class ScoreGroup(BaseModel):
    """Scores summed over a group of points."""

    key: str
    points: int
    inspected: int
    failed_points: int
    possible: float
    score: float
    rate: float | None


class WorstItem(BaseModel):
    """An item that cost points across the round."""

    point_type: str
    code: str
    text: str
    clause: str
    failures: int
    repeated: int
    points: float


class Scores(BaseModel):
    """A round's scores, recomputed from its inspections."""

    round_id: int
    total: ScoreGroup
    by_type: list[ScoreGroup]
    by_unit: list[ScoreGroup]
    by_area: list[ScoreGroup]
    points: list[RoundPoint]
    worst: list[WorstItem]


class NewAssignment(BaseModel):
    """Points of a round given to an inspector."""

    model_config = ConfigDict(extra="forbid")

    inspector: Text(64) = Field(None, description="An active inspector's username; null: anyone on the round")
    point_ids: Annotated[list[Text(CODE_LENGTH, required=True)], Field(min_length=1, max_length=MAX_POINTS)]


class TrendCell(BaseModel):
    """A group's score in one period."""

    inspected: int = Field(description="Points inspected in the period (each by its latest inspection)")
    score: float
    possible: float
    rate: float | None


class TrendRow(BaseModel):
    """A group's cells, oldest period first."""

    key: str
    name: str
    cells: list[TrendCell]
    latest: float | None = Field(description="The rate of the latest period that has one")
    change: float | None = Field(description="The latest rate less the one before it")


class TrendPeriod(BaseModel):
    """A period of the trend, both days included."""

    first_day: dt.date
    last_day: dt.date


class Trend(BaseModel):
    """The weekly scoring: score rates period by period, worst latest rate first, and the district's."""

    by: Literal[BY]
    every: Literal[EVERY]
    levels: list[str]
    periods: list[TrendPeriod]
    total: TrendRow
    items: list[TrendRow]
