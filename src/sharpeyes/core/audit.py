"""An audit entry: who did what, when, with which outcome and parameters; and the hash that chains each entry to
the one before it, so that an edited, deleted, inserted or reordered entry shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""The "previous hash" of the first entry."""


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
    seq: int | None = field(default=None, compare=False)
    """Its place in the chain (1, 2, 3… without gaps)."""
    prev_hash: str = field(default="", compare=False)
    hash: str = field(default="", compare=False)


def as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from the store (JSON: tuples become lists, keys strings)."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    return loaded


def entry_hash(seq: int, prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON (sorted keys, UTC time to the microsecond)."""
    body = {
        "seq": seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "username": entry.username,
        "action": entry.action,
        "outcome": entry.outcome,
        "data": entry.data,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}:{text}".encode()).hexdigest()
