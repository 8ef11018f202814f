"""What the layers' JSON endpoints take and answer: the request models parse the bodies
(`api.web.parsing.body`), and with the answers they make the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.layers.drafts import DraftState
from api.layers.jobs import DraftStep
from api.persistence.models import CODE_LENGTH, MAX_ID
from api.web.parsing import Ref, Text

MAX_GAPS = 500  # gaps accepted into a draft at once
MAX_REASSIGNED = 10_000  # reports reassigned at once
GapId = Annotated[Ref, Field(max_length=32)]


class GapIds(BaseModel):
    """The draft's gaps whose suggestions become zones."""

    model_config = ConfigDict(extra="forbid")

    gap_ids: Annotated[list[GapId], Field(min_length=1, max_length=MAX_GAPS)]
    outline: dict[str, Any] | None = Field(None, description="one gap only: the zone's outline as a GeoJSON polygon (WGS84) instead of the gap's")
    unit_id: Text(CODE_LENGTH) = Field(None, description="one gap only: its owner instead of the suggested one")


class Note(BaseModel):
    """Why a version is published or brought back."""

    model_config = ConfigDict(extra="forbid")

    note: Text(required=True)


class ReportIds(BaseModel):
    """The open reports a publication moved that go to their new owners."""

    model_config = ConfigDict(extra="forbid")

    report_ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=MAX_REASSIGNED)]


class Layers(BaseModel):
    """The published versions."""

    current: str
    items: list[dict[str, Any]]


class Layer(BaseModel):
    """A version just published."""

    version: str
    created_at: str = ""
    summary: dict[str, Any] = {}


class Draft(BaseModel):
    """A draft layer: while its upload is processed (queued, processing: its step), then open (a
    layer with its comparison, when asked for one), refused (every error), published or discarded."""

    id: int
    version: str | None = Field(description="the layer's version, once processed")
    based_on: str
    state: DraftState
    step: DraftStep | None = Field(description="where its processing is, while queued or processing")
    sources: str
    warnings: list[dict[str, Any]]
    accepted_gaps: list[str]
    created_by: str
    created_at: str
    updated_at: str
    started_at: str | None = Field(description="when a worker process took it")
    finished_at: str | None = Field(description="when its processing ended")
    errors: list[dict[str, Any]] | None = Field(None, description="refused: every error by layer, row, feature and field")
    comparison: dict[str, Any] | None = Field(None, description="open: changes, coverage per sub-district before and after, open reports that would move")
