"""An audit entry: who did what, when, with which outcome and parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    username: str
    action: str
    """What was done, e.g. ``search``."""
    outcome: str
    """``ok``, ``refused``…"""
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = field(default=None, compare=False)
