"""What the reports' JSON endpoints take and answer: the request models parse the bodies
(`api.web.parsing.body`), and with the answers they make the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from api.figures.schemas import Figures
from api.persistence.models import CODE_LENGTH, CONTACT_LENGTH, KEY_LENGTH, MAX_ID
from api.reports.services import NEEDS_DATE, NEEDS_NOTE
from api.web.contract import CATEGORIES
from api.web.parsing import Documented, Finite, Refs, Text, Timestamp
from geodata.crs import InputCRS
from zones.config import CHINA_LAT, CHINA_LON
from zones.decision import Decision
from zones.enums import ReportSource
from zones.intake import MAX_ACCURACY_M
from zones.workflow import Action, State

# The place's range is `zones.intake`'s to enforce (naming a swapped pair); the document says it.
Longitude = Annotated[Finite, Documented({"minimum": CHINA_LON[0], "maximum": CHINA_LON[1]})]
Latitude = Annotated[Finite, Documented({"minimum": CHINA_LAT[0], "maximum": CHINA_LAT[1]})]
Accuracy = Annotated[Finite | None, Documented({"minimum": 0, "maximum": MAX_ACCURACY_M})]


class NewReport(BaseModel):
    """A report to submit."""

    model_config = ConfigDict(extra="forbid")

    lon: Longitude
    lat: Latitude
    crs: Literal[tuple(InputCRS.values())] | None = None
    accuracy_m: Accuracy = None
    category: Annotated[Text(CODE_LENGTH, required=True), Documented(CATEGORIES)]
    description: Text() = None
    photos: Refs | None = None
    source: Literal[tuple(ReportSource.values())] | None = None
    reporter_contact: Text(CONTACT_LENGTH) = None
    client_ref: Text(KEY_LENGTH) = None

    def location_fields(self) -> dict[str, Any]:
        """The place as `api.web.parsing.location` reads it."""
        return {"lon": self.lon, "lat": self.lat, "crs": self.crs, "accuracy_m": self.accuracy_m}


NOTED = tuple(a.value for a in NEEDS_NOTE if a != Action.MARK_DUPLICATE and a not in NEEDS_DATE)
PLAIN = tuple(a for a in Action.values() if a not in {*NOTED, *NEEDS_DATE, Action.MARK_DUPLICATE.value, Action.REASSIGN.value, Action.PUBLISH.value})
Note = Text(required=True)
UnitId = Text(CODE_LENGTH)
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text() = None
    evidence: Refs | None = None
    unit_id: UnitId = None


class PlainMove(_Move):
    """An action that needs nothing more (dispatch may name the unit)."""

    action: Literal[PLAIN]


class NotedMove(_Move):
    """An action that needs a reason."""

    action: Literal[NOTED]
    note: Note


class DuplicateMove(_Move):
    """Mark a duplicate: the original takes this one's reporter and +1s."""

    action: Literal["mark_duplicate"]
    note: Note
    duplicate_of: RecordId | None = None


class ReassignMove(_Move):
    """Send the report to another unit."""

    action: Literal["reassign"]
    unit_id: Text(CODE_LENGTH, required=True)


class PublishMove(_Move):
    """Publish the result; which photos the public board shows (default: the rectification evidence)."""

    action: Literal["publish"]
    public_photos: Refs | None = None


class ExtensionRequest(_Move):
    """A unit asks for a later deadline, saying why; a dispatcher approves (the deadline moves) or refuses."""

    action: Literal["request_extension"]
    note: Note
    deadline_at: Timestamp


class HoldMove(_Move):
    """Park the report (挂账), saying why and when it is looked at again: it is not overdue while held."""

    action: Literal["hold"]
    note: Note
    review_at: Timestamp


Transition = TypeAliasType("Transition", Annotated[PlainMove | NotedMove | DuplicateMove | ReassignMove | PublishMove | ExtensionRequest | HoldMove,
                                                   Field(discriminator="action")])


class Report(BaseModel):
    """A report as its reader may see it (the reporter's contact: dispatchers only)."""

    id: int
    state: Literal[tuple(State.values())]
    category: str
    description: str = ""
    unit_id: str | None = None
    deadline_at: str | None = None
    extension_until: str | None = Field(None, description="The deadline the unit asked for, while it waits for the answer")
    possible_duplicate_of: int | None = Field(None, description="An open report of its campaign group close by when it came in (never merged by itself)")
    review_at: str | None = Field(None, description="A held report's review date")
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    overdue: bool = False
    allowed_actions: list[str] = []
    decision: Decision


class NearbyReport(BaseModel):
    """An open report of the same campaign group near a report."""

    id: int
    state: Literal[tuple(State.values())]
    category: str
    distance_m: float
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    possible_duplicate_of: int | None = None
    supporters: int = 0


class NearbyReports(BaseModel):
    """Open reports near a report, nearest first."""

    items: list[NearbyReport]


class Merge(BaseModel):
    """Reports to merge into this one as duplicates (default: those flagged as its possible duplicates)."""

    model_config = ConfigDict(extra="forbid")

    report_ids: Annotated[list[RecordId], Field(max_length=500)] | None = None


class ReportPage(BaseModel):
    """One page of reports."""

    items: list[Report]
    limit: int
    offset: int
    next: str = ""


class RoutedPoint(BaseModel):
    """Where the decision was made, in WGS84."""

    lon: float
    lat: float


class Photo(BaseModel):
    """A stored photo."""

    id: str
    url: str
    content_type: str
    width: int = 0
    height: int = 0
    bytes: int = 0


class Unit(BaseModel):
    """A unit's zones, test points, reports and figures."""

    unit_id: str
    zones: list[dict[str, Any]]
    test_points: list[dict[str, Any]] = []
    reports: list[Report]
    figures: Figures


class BoardItem(BaseModel):
    """A published case, without personal data."""

    id: int = 0
    category: str = ""
    reported_on: str = Field(json_schema_extra={"format": "date"})


class Board(BaseModel):
    """The public board."""

    items: list[BoardItem]
    limit: int = 0
    offset: int = 0
