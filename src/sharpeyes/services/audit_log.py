"""The audit trail: every record appended to a hash chain, each anchored by a signature of the platform's key, and
the chain's head kept signed beside the database; auditors read it, and ``verify`` finds the first record that was
edited, deleted, inserted or reordered, or the place the log was cut short.

What each kind of tampering breaks: an edited field, its own hash; a deleted row, the sequence and the next row's
link; a reordered row, the links; an inserted or appended row, the anchors (forging one needs the private key); a
cut tail, the signed head."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.audit import GENESIS, AuditEntry, entry_hash
from sharpeyes.core.clock import utcnow
from sharpeyes.store.audit import AuditRepository
from sharpeyes.store.keys import PlatformKey, verify

logger = logging.getLogger(__name__)

AUDIT_HEAD = "audit-head.json"
"""The signed head's file name in the data directory."""
VIEW_GAP_S = 300.0
"""A repeated view (snapshots, playlists) unseen this long is a new view when it comes again."""
MOST_VIEWS = 100_000
ATTEMPTS = 8
"""Appends tried when another process takes the same place in the chain at the same moment."""


@dataclass(frozen=True, slots=True)
class AuditCheck:
    records: int
    anchors: int
    problem: str | None = None
    """The first thing wrong, naming the record; None: intact."""
    seq: int | None = None
    """The first broken record's place in the chain."""

    @property
    def intact(self) -> bool:
        return self.problem is None


class AuditTrail:
    def __init__(self, sessions: sessionmaker[Session], key: PlatformKey, head_path: Path) -> None:
        self._sessions = sessions
        self._key = key
        self._head_path = head_path
        self._lock = threading.Lock()
        self._repeating: dict[tuple[str, str, str, str], float] = {}

    def viewed(self, username: str, action: str, camera_id: str, data: dict[str, Any] | None = None) -> None:
        """A view that repeats while it lasts (a wall's snapshots every second, a live playlist every few): one
        record when it starts, none while the same user keeps viewing the same camera the same way, a new one after
        ``VIEW_GAP_S`` without."""
        way = str((data or {}).get("via", ""))
        self.repeated(username, action, "ok", f"{camera_id}\x00{way}", {"camera_id": camera_id, **(data or {})})

    def repeated(self, username: str, action: str, outcome: str, key: str, data: dict[str, Any]) -> None:
        """Something that repeats while it lasts: one record when it starts, none while ``key`` comes again within
        ``VIEW_GAP_S``, a new one after a gap that long."""
        slot, now = (username, action, outcome, key), time.monotonic()
        with self._lock:
            last = self._repeating.get(slot)
            self._repeating[slot] = now
            if len(self._repeating) > MOST_VIEWS:
                self._repeating = {k: v for k, v in self._repeating.items() if now - v < VIEW_GAP_S}
        if last is None or now - last >= VIEW_GAP_S:
            self.write(username, action, outcome, data)

    def write(self, username: str, action: str, outcome: str, data: dict[str, Any]) -> AuditEntry:
        """Append one record (who, what, outcome, particulars), anchored and with the head moved to it."""
        with self._lock:
            for attempt in range(ATTEMPTS):
                try:
                    with self._sessions.begin() as db:
                        repository = AuditRepository(db)
                        stored = repository.append(AuditEntry(utcnow(), username, action, outcome, data))
                        assert stored.seq is not None
                        repository.anchor(stored.seq, stored.hash, self._key.sign(_signed(stored.seq, stored.hash)),
                                          stored.at)  # fmt: skip
                    break
                except (IntegrityError, OperationalError):  # another process appended first: take the next place
                    if attempt == ATTEMPTS - 1:
                        raise
            self._write_head(stored.seq or 0, stored.hash)
        return stored

    def find(
        self,
        *,
        username: str | None = None,
        camera_id: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first; ``camera_id`` matches records naming that camera (``camera_id`` or in ``camera_ids``)."""
        with self._sessions() as db:
            if camera_id is None:
                return AuditRepository(db).find(username=username, action=action, start=start, end=end, limit=limit)
            found: list[AuditEntry] = []
            wider = limit
            while True:  # the camera is inside each record's particulars: widen the window until enough match
                batch = AuditRepository(db).find(username=username, action=action, start=start, end=end, limit=wider)
                found = [entry for entry in batch if _names_camera(entry.data, camera_id)]
                if len(found) >= limit or len(batch) < wider or wider >= 100 * limit:
                    return found[:limit]
                wider *= 4

    def verify(self, public_pem: bytes | None = None) -> AuditCheck:
        """Walk the whole chain and its anchors against the platform's public key (or ``public_pem``)."""
        public = public_pem or self._key.public_pem()
        head = self._read_head()
        if head is not None and not verify(public, _signed_head(head), head.signature):
            return AuditCheck(0, 0, f"the signed head ({self._head_path.name}) is not the platform's")
        with self._sessions() as db:
            repository = AuditRepository(db)
            anchors = repository.anchors()
            anchor = next(anchors, None)
            if head is None and anchor is not None:
                return AuditCheck(0, 0, f"the signed head ({self._head_path.name}) is missing")
            count = anchored = 0
            previous, expected = GENESIS, 1
            for entry in repository.chain():
                seq = entry.seq or 0
                count += 1
                if seq != expected:
                    return AuditCheck(count, anchored, f"record {expected} is missing (deleted)", expected)
                if entry.prev_hash != previous:
                    why = f"record {seq} does not follow record {seq - 1}: a record was inserted, deleted or moved"
                    return AuditCheck(count, anchored, why, seq)
                if entry_hash(seq, previous, entry) != entry.hash:
                    return AuditCheck(count, anchored, f"record {seq} was changed: it does not match its hash", seq)
                while anchor is not None and anchor[0] < seq:
                    anchor = next(anchors, None)
                if anchor is not None and anchor[0] == seq:
                    if anchor[1] != entry.hash or not verify(public, _signed(seq, anchor[1]), anchor[2]):
                        why = f"record {seq} is not what the platform signed when it was written"
                        return AuditCheck(count, anchored, why, seq)
                    anchored += 1
                elif head is not None and seq >= head.since:
                    why = f"record {seq} was not signed by the platform: added from outside"
                    return AuditCheck(count, anchored, why, seq)
                previous, expected = entry.hash, seq + 1
        if head is not None and head.seq >= expected:
            why = f"records {expected}–{head.seq} are missing: the log was cut short after record {expected - 1}"
            return AuditCheck(count, anchored, why, expected)
        return AuditCheck(count, anchored)

    def public_pem(self) -> bytes:
        return self._key.public_pem()

    def _write_head(self, seq: int, digest: str) -> None:
        """Move the signed head forward (never back: a slower writer in another process may come after). ``since``
        stays the first record written with anchors: every record from it on must have one."""
        current = self._read_head()
        if current is not None and current.seq >= seq:
            return
        head = _Head(seq, digest, current.since if current is not None else seq, "")
        body = {
            "seq": head.seq,
            "hash": head.hash,
            "since": head.since,
            "signature": self._key.sign(_signed_head(head)),
        }
        partial = self._head_path.with_suffix(".tmp")
        partial.write_text(json.dumps(body), encoding="utf-8")
        os.replace(partial, self._head_path)

    def _read_head(self) -> _Head | None:
        try:
            head = json.loads(self._head_path.read_text(encoding="utf-8"))
            return _Head(int(head["seq"]), str(head["hash"]), int(head["since"]), str(head["signature"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return _Head(0, "", 0, "")  # unreadable: reported as not the platform's


@dataclass(frozen=True, slots=True)
class _Head:
    """The chain's last record as signed beside the database (a cut tail shows against it)."""

    seq: int
    hash: str
    since: int
    signature: str


def _signed_head(head: _Head) -> bytes:
    return f"sharpeyes-audit-head:{head.seq}:{head.hash}:{head.since}".encode()


def _signed(seq: int, digest: str) -> bytes:
    return f"sharpeyes-audit:{seq}:{digest}".encode()


def _names_camera(data: dict[str, Any], camera_id: str) -> bool:
    return data.get("camera_id") == camera_id or camera_id in (data.get("camera_ids") or [])
