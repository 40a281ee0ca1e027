"""Tables of the metadata store. Change them only together with a migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scope_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_sites: Mapped[list[int]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(default=False, doc="kept for the audit trail; refused at sign-in")


class ApiKeyRow(Base):
    """A key for automation: a role and scope of its own; only its SHA-256 is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    scope_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_sites: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)


class AccessTokenRow(Base):
    __tablename__ = "access_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)


class AreaRow(Base):
    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    boundary: Mapped[str | None] = mapped_column(Text, doc="GeoJSON geometry")


class SiteRow(Base):
    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("area_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)


class CameraRow(Base):
    __tablename__ = "cameras"
    __table_args__ = (
        UniqueConstraint("area_code", "name"),
        Index("ix_cameras_area_code_source_url", "area_code", "source_url"),
        Index("ix_cameras_longitude_latitude", "longitude", "latitude"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    source_url: Mapped[str | None] = mapped_column(String(2000), doc="None: built but not networked")
    rtsp_transport: Mapped[str] = mapped_column(String(8), default="tcp")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    sub_source_url: Mapped[str | None] = mapped_column(String(2000), doc="the sub-stream (子码流), if any")


class PrivacyMaskRow(Base):
    """A camera's privacy masks: JSON list of {"points": [[x, y], ...], "name"} in picture fractions."""

    __tablename__ = "privacy_masks"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    polygons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CoverageDailyRow(Base):
    """One day's coverage figures of one area, for trend charts."""

    __tablename__ = "coverage_daily"

    area_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    cameras: Mapped[int]
    networked: Mapped[int]
    online: Mapped[int]


class RecordingPlanRow(Base):
    __tablename__ = "recording_plans"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    windows: Mapped[str] = mapped_column(Text, doc="JSON list of weekly windows")
    retention_days: Mapped[int | None]
    priority: Mapped[int] = mapped_column(default=0)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), doc="When this plan took effect")


class AnalysisPlanRow(Base):
    __tablename__ = "analysis_plans"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    fps: Mapped[float] = mapped_column(Float, default=5.0)
    min_height_px: Mapped[int] = mapped_column(default=0)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, doc="zones and rules as written")


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_id_start", "camera_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float, doc="Duration; summed for recording completeness")
    codec: Mapped[str] = mapped_column(String(32))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    legal_hold: Mapped[bool] = mapped_column(default=False)


class RecordingGapRow(Base):
    __tablename__ = "recording_gaps"
    __table_args__ = (Index("ix_recording_gaps_camera_id_start", "camera_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(500))


class CameraStatusEventRow(Base):
    """One change of a camera's stream status, for its health history."""

    __tablename__ = "camera_status_events"
    __table_args__ = (Index("ix_camera_status_events_camera_id_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))


class HealthAlertRow(Base):
    """A standing problem with a camera (e.g. flapping), raised once and cleared once."""

    __tablename__ = "health_alerts"
    __table_args__ = (Index("ix_health_alerts_camera_id_raised_at", "camera_id", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(String(500))


class EventRow(Base):
    """One event of the platform's timeline (``core.events``)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_at", "at"),
        Index("ix_events_camera_id_at", "camera_id", "at"),
        Index("ix_events_type_at", "type", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class TrackRow(Base):
    """A track kept for search (``core.tracks``)."""

    __tablename__ = "tracks"
    __table_args__ = (
        Index("ix_tracks_start", "start"),
        Index("ix_tracks_camera_id_start", "camera_id", "start"),
        Index("ix_tracks_class_name_start", "class_name", "start"),
        Index("ix_tracks_upper_colour", "upper_colour"),
        Index("ix_tracks_lower_colour", "lower_colour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    class_name: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    upper_colour: Mapped[str | None] = mapped_column(String(16))
    lower_colour: Mapped[str | None] = mapped_column(String(16))
    carried: Mapped[str] = mapped_column(String(100), default="", doc="comma-separated bag classes")
    zones: Mapped[str] = mapped_column(
        String(400), default="", server_default="", doc="rule zones entered, each between commas: ,east-gate,"
    )
    height_px: Mapped[int] = mapped_column(default=0)
    direction: Mapped[str] = mapped_column(String(8), default="still")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    thumbnail: Mapped[str | None] = mapped_column(String(200))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, doc="appearance, float16 unit vector")


class AuditRow(Base):
    """Who did what (a search with its purpose, an export…), for auditors: append-only, each row hash-chained to
    the one before it (``core.audit``)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_username_at", "username", "at"),
        UniqueConstraint("seq", name="uq_audit_log_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the request's parameters, purpose and result size")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchorRow(Base):
    """A signature by the platform's key over the chain's hash at one entry: the chain up to it cannot be rewritten
    without the key."""

    __tablename__ = "audit_anchors"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GbDeviceRow(Base):
    """A GB/T 28181 device or lower platform that has registered (kept while it is away)."""

    __tablename__ = "gb_devices"

    device_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    manufacturer: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    firmware: Mapped[str] = mapped_column(String(64))
    transport: Mapped[str] = mapped_column(String(3))
    address: Mapped[str] = mapped_column(String(80))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GbChannelRow(Base):
    """One item of a device's catalog, as it last reported it."""

    __tablename__ = "gb_channels"
    __table_args__ = (Index("ix_gb_channels_device_id", "device_id"),)

    device_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[str] = mapped_column(String(200))
    civil_code: Mapped[str] = mapped_column(String(20))
    business_group_id: Mapped[str] = mapped_column(String(20))
    manufacturer: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    ptz_type: Mapped[int | None] = mapped_column()


class GbSuperiorRow(Base):
    """A superior platform this platform registers with (cascade up), and the cameras offered to it."""

    __tablename__ = "gb_superiors"

    superior_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    domain: Mapped[str] = mapped_column(String(10))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column()
    transport: Mapped[str] = mapped_column(String(3))
    password: Mapped[str] = mapped_column(String(128))
    expires: Mapped[int] = mapped_column()
    keepalive_s: Mapped[float] = mapped_column(Float)
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    area_codes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
