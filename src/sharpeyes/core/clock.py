"""The one place that reads the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sharpeyes.core.errors import InvalidInputError


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Stores such as SQLite hand back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_range(start: datetime, end: datetime) -> None:
    """A period asked for by a person: both ends with a UTC offset, the end after the start."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInputError("start and end need a UTC offset, e.g. 2026-11-29T08:00:00+08:00", code="bad_range")
    if end <= start:
        raise InvalidInputError("end must come after start", code="bad_range")
