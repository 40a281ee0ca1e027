"""Recording plans: when a camera records, how long recordings are kept, who goes first when space runs out."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sharpeyes.core.errors import InvalidInputError


class RecordingMode(enum.StrEnum):
    CONTINUOUS = "continuous"
    SCHEDULED = "scheduled"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class RecordingWindow:
    """Every ``days`` (ISO weekdays, 1 = Monday) from ``start`` to ``end`` local time; ``end`` before ``start``
    runs past midnight."""

    days: frozenset[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        now = local.time()
        if self.start <= self.end:
            return local.isoweekday() in self.days and self.start <= now < self.end
        if now >= self.start:
            return local.isoweekday() in self.days
        yesterday = 7 if local.isoweekday() == 1 else local.isoweekday() - 1
        return now < self.end and yesterday in self.days


@dataclass(frozen=True, slots=True)
class RecordingPlan:
    mode: RecordingMode = RecordingMode.OFF
    windows: tuple[RecordingWindow, ...] = field(default_factory=tuple)
    retention_days: int | None = None
    """None: the global default."""
    priority: int = 0
    """When the disk fills, the lowest priority loses its oldest recordings first."""
    since: datetime | None = None
    """When the plan took effect (set by the store)."""

    def planned_seconds(self, start: datetime, end: datetime, zone: ZoneInfo, step_s: int = 60) -> float:
        """Seconds of [start, end) (after ``since``) the plan asks to record, sampled every ``step_s``."""
        begin = max(start, self.since) if self.since is not None else start
        if begin >= end or self.mode is RecordingMode.OFF:
            return 0.0
        total = (end - begin).total_seconds()
        if self.mode is RecordingMode.CONTINUOUS:
            return total
        steps = max(1, int(total // step_s))
        active = sum(1 for n in range(steps) if self.active_at(begin + timedelta(seconds=n * step_s), zone))
        return total * active / steps

    def active_at(self, moment: datetime, zone: ZoneInfo) -> bool:
        if self.mode is RecordingMode.CONTINUOUS:
            return True
        if self.mode is RecordingMode.SCHEDULED:
            local = moment.astimezone(zone)
            return any(window.contains(local) for window in self.windows)
        return False


def parse_window(days: list[int], start: str, end: str) -> RecordingWindow:
    """A window from its JSON form; ``InvalidInputError`` naming the field when it is wrong."""
    if not days or any(day not in range(1, 8) for day in days):
        raise InvalidInputError("recording.windows.days: ISO weekdays 1 (Monday) to 7", field="recording.windows")
    try:
        begins, ends = time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise InvalidInputError("recording.windows: start and end as HH:MM", field="recording.windows") from None
    if begins == ends:
        raise InvalidInputError("recording.windows: start and end must differ", field="recording.windows")
    return RecordingWindow(frozenset(days), begins, ends)
