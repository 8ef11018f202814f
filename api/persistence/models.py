"""Tables: reports with their routing decision, the transition history, citizens' +1s, API
tokens, staff accounts, the zone-layer versions, the notification outbox with the units' webhooks,
uploaded photos and the ones published on the public board, and the service's own settings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from zones.decision import DECISION_FIELDS, LIST_FIELDS, Decision


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and read back aware (in UTC) from every database: SQLite keeps no
    zone, so a naive value read back is UTC; a naive value is never stored."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """An aware moment, in UTC; a naive one is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"a naive datetime cannot be stored: {value!r}"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The stored moment, aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""

KEY_LENGTH = 200  # characters of a client_ref or an Idempotency-Key
CODE_LENGTH = 64  # characters of a code: a category, a unit, a zone, a test point, an area
CONTACT_LENGTH = 200  # characters of a reporter's contact
REPLY_LENGTH = 500  # characters of a reply template
MAX_ID = 2**31 - 1  # the largest row id (a 32-bit integer column on every database)
PUBLIC_REF_LENGTH = 14  # characters of a report's public reference, e.g. K7QH-3MXP-9D2A


class Report(Base):
    """A citizen's (or inspector's) report, its routing decision and its workflow state."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_ref: Mapped[str | None] = mapped_column(String(KEY_LENGTH), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    input_crs: Mapped[str] = mapped_column(String(16))
    input_lon: Mapped[float] = mapped_column(Float)
    input_lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(CODE_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))
    reporter_contact: Mapped[str | None] = mapped_column(String(CONTACT_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the deadline the unit asked for, while it waits for the answer
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a held report's review date
    possible_duplicate_of: Mapped[int | None] = mapped_column(Integer, index=True)  # an open report of its group this close when it came in
    # Its facts for the figures (`zones.figures.CaseFacts`), kept with each step.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clock_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rectify_hours: Mapped[float | None] = mapped_column(Float)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fixed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    route_status: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(16))
    zone_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    co_owner_unit_ids: Mapped[str] = mapped_column(String(400), default="")
    candidate_unit_ids: Mapped[str] = mapped_column(String(400), default="")
    distance_m: Mapped[float | None] = mapped_column(Float)
    test_point_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    area_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH), index=True)
    zone_version: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: concurrent moves conflict
    public_ref: Mapped[str] = mapped_column(String(PUBLIC_REF_LENGTH), unique=True)  # what the citizen follows it by: /r/<ref>
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the inspection round whose failed item it is

    transitions: Mapped[list[Transition]] = relationship(back_populates="report", order_by="Transition.id")

    __table_args__ = (Index("ix_reports_category_created", "category", "created_at"), Index("ix_reports_created", "created_at"),
                      Index("ix_reports_updated", "updated_at"))
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)

    @property
    def decision(self) -> Decision:
        """The routing decision stored with the report (its unit: the report's current one)."""
        return Decision.from_row({**{name: getattr(self, column) for name, column in STORED_DECISION.items()}, "unit_id": self.unit_id})


#: The decision's fields stored with a report → their columns. The unit is the report's own
#: column (dispatch and reassignment change it); the by-products a report does not keep are absent.
STORED_DECISION = {name: column for name in DECISION_FIELDS if name != "unit_id"
                   and (column := "route_status" if name == "status" else name) in Report.__table__.c}


def decision_values(decision: Decision) -> dict[str, Any]:
    """The columns of a new report holding ``decision`` (lists as ``;``-joined text)."""
    row = decision.as_row()
    return {column: row[name] or "" if name in LIST_FIELDS else row[name] for name, column in STORED_DECISION.items()}


class Transition(Base):
    """One step of a report's history: who did what, when and why."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the date the step set: a deadline, an extension asked for, a hold's review
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    report: Mapped[Report] = relationship(back_populates="transitions")

    __table_args__ = (Index("ix_transitions_action_at", "action", "at"),)


class Support(Base):
    """A "+1": someone else reported the same problem and joined this report instead of filing
    a new one."""

    __tablename__ = "supports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reporter_contact: Mapped[str | None] = mapped_column(String(CONTACT_LENGTH))  # private, erased after the retention age like a report's
    source: Mapped[str] = mapped_column(String(16))


class Token(Base):
    """An API token, stored as its SHA-256 digest only."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """A staff account: a dispatcher, a planner, a unit's member (with its unit) or an admin, who
    signs in to the pages with a password (stored as a salted scrypt hash)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """One sign-in of a staff account: its cookie names it by a random key (stored here only as a
    digest); it ends at sign-out, when the account is disabled or its password changes."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LayerVersion(Base):
    """An uploaded zone layer (zones, test points, areas in one GeoPackage, plus categories)."""

    __tablename__ = "layer_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    gpkg: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read when used: a 100k-zone layer is ~40 MB
    categories_csv: Mapped[str] = mapped_column(Text)
    units_csv: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    is_current: Mapped[bool] = mapped_column(Boolean, index=True)
    summary: Mapped[dict] = mapped_column(JSON)


class LayerDraft(Base):
    """A layer a planner uploaded (or revised by accepting gap-fill suggestions) that is not
    current yet: compared with the current version before anyone publishes it."""

    __tablename__ = "layer_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(32))  # the content's version, as it would be published
    based_on: Mapped[str] = mapped_column(String(32))  # the current version when it was uploaded
    gpkg: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read when used: a 100k-zone layer is ~40 MB
    categories_csv: Mapped[str] = mapped_column(Text)
    units_csv: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[str] = mapped_column(Text)  # the uploaded files' names, for people
    warnings: Mapped[list[dict]] = mapped_column(JSON, default=list)  # the validation's warnings (errors refuse the upload)
    accepted_gaps: Mapped[list[str]] = mapped_column(JSON, default=list)  # gap ids whose suggestions were added
    state: Mapped[str] = mapped_column(String(16), index=True)  # `DraftState`
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # also the heartbeat of the worker processing it
    step: Mapped[str | None] = mapped_column(String(16))  # `DraftStep` while processing
    problems: Mapped[list[dict] | None] = mapped_column(JSON)  # a refused upload's findings (errors, and warnings)
    worker: Mapped[str | None] = mapped_column(String(100))  # host:pid of the process that claimed it
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far (a worker that died is retried, a few times)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publish_note: Mapped[str | None] = mapped_column(Text)  # publish it once processed, with this note (an API client's direct upload)


class LayerUploadChunk(Base):
    """A piece of a file a planner uploaded, kept until its draft is processed (files are stored
    in pieces so that no process holds a whole upload in memory to store it)."""

    __tablename__ = "layer_upload_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("layer_drafts.id"), index=True)
    field: Mapped[str] = mapped_column(String(16))  # `api.layers.upload_reader.UPLOAD_FIELDS`
    name: Mapped[str] = mapped_column(String(255))  # the client's file name (it only gives the format)
    part: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LayerPublication(Base):
    """A version made current: by publishing a draft, by a direct upload, or by a rollback.
    ``affected`` lists the open reports the new version routes to another owner, for a
    dispatcher to reassign (``reassigned``: the ones that were)."""

    __tablename__ = "layer_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(32), index=True)
    previous_version: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # draft, upload, rollback, files
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("layer_drafts.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[dict] = mapped_column(JSON)
    affected: Mapped[list[dict]] = mapped_column(JSON, default=list)
    reassigned: Mapped[list[int] | None] = mapped_column(JSON)
    reassigned_by: Mapped[str | None] = mapped_column(String(100))
    reassigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PublicPhoto(Base):
    """A photo a dispatcher published with its report: the only photos anyone may read without
    signing in, and only while their report is published."""

    __tablename__ = "public_photos"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    photo_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(8))  # before (the reporter's) or after (the unit's rectification)


class Setting(Base):
    """A value the service keeps for itself, shared by every worker (the session signing key)."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OutboxMessage(Base):
    """A notification to a unit, written in the transaction that caused it and delivered later
    by ``zonemap deliver``; ``sent_at`` is set only after the receiver answered 2xx."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(32))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, sent, failed, no_webhook
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")


class ReplyTemplate(Base):
    """A reply the district keeps for an action's note (常用回复), offered beside the note field."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(String(REPLY_LENGTH))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChecklistVersion(Base):
    """A version of the inspection checklists (`zones.checklists`): its rows, kept for good, and
    whether it is the one new rounds use."""

    __tablename__ = "checklist_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Round(Base):
    """An inspection round (督查): a level of the "4+1" (the source of every case it opens), a
    period, the points in its scope with their inspectors, the checklist version it keeps."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # regular, self_check (a unit's own points) or recheck (回头看 of a round's failures)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # point types, sub-districts, sample size and seed, as asked
    checklist_version: Mapped[str] = mapped_column(String(32))
    layer_version: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))  # a self-check's unit
    parent_id: Mapped[int | None] = mapped_column(Integer)  # the round a recheck goes back to
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    points: Mapped[list[RoundPoint]] = relationship(back_populates="round", order_by="RoundPoint.id")


class RoundPoint(Base):
    """A test point a round inspects, who inspects it, and (a recheck) the items it looks at again."""

    __tablename__ = "round_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    point_id: Mapped[str] = mapped_column(String(CODE_LENGTH))
    point_type: Mapped[str] = mapped_column(String(32))
    inspector: Mapped[str | None] = mapped_column(String(64))  # a username; None: anyone on the round
    codes: Mapped[list[str] | None] = mapped_column(JSON)  # a recheck's items; None: the whole checklist

    round: Mapped[Round] = relationship(back_populates="points")

    __table_args__ = (UniqueConstraint("round_id", "point_id"),)


class Inspection(Base):
    """One point inspected in a round: where the inspector stood, each item's result with its
    photos and the case a failure opened, and the score. Sent once (its idempotency key)."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    point_id: Mapped[str] = mapped_column(String(CODE_LENGTH))
    inspector: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it was recorded (on the phone, perhaps offline)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)  # from the point
    far: Mapped[bool] = mapped_column(Boolean, default=False)  # farther than INSPECTION_DISTANCE_M: a warning, kept
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # code, result, value, note, photos, after_photos, report_id, repeated, points
    possible: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)


class Webhook(Base):
    """Where a unit receives its notifications."""

    __tablename__ = "webhooks"

    unit_id: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(CONTACT_LENGTH))  # signs each body (HMAC-SHA256) when set
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Photo(Base):
    """An uploaded photo, re-encoded without its metadata (EXIF, GPS); named by its content hash."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    thumb: Mapped[bytes | None] = mapped_column(LargeBinary)  # a small JPEG for lists; made on upload, or on first request for older photos
