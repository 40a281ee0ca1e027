"""``sharpeyes audit verify`` on a real trail, then on copies tampered with in each way an insider might try with
direct access to the database: an edited field, a deleted row, a forged row (its hash computed as the platform
would, but unsigned), two rows swapped, the tail cut off. Each is caught and named; the untouched trail passes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sharpeyes.cli.main import app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.audit import AuditEntry, entry_hash
from sharpeyes.core.clock import utcnow
from sharpeyes.core.config_file import load_settings

runner = CliRunner()
RECORDS = 12


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose trail holds twelve records written by the platform."""
    data_dir = tmp_path_factory.mktemp("audit") / "data"
    runtime = build_runtime(load_settings(None, data_dir=data_dir), with_streams=False)
    for number in range(RECORDS):
        runtime.services.audit.write("alice", "search", "ok", {"text": f"红色汽车 {number}", "camera_ids": ["c1"]})
    runtime.engine.dispose()
    return data_dir


def _tampered(trail: Path, tmp_path: Path, change: Callable[[sqlite3.Connection], None]) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(trail, copy)
    with sqlite3.connect(copy / "sharpeyes.db") as db:
        change(db)
    return copy


def _verify(data_dir: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_an_untouched_trail_is_intact(trail: Path) -> None:
    code, output = _verify(trail)
    assert code == 0, output
    assert "records: 12, signed: 12" in output
    assert "intact" in output


def _forge(db: sqlite3.Connection) -> None:
    """Append a record with the right chain hash (anyone can compute SHA-256), without the platform's key."""
    seq, digest = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    entry = AuditEntry(utcnow(), "mallory", "search", "ok", {"text": "nothing to see"})
    forged = entry_hash(seq + 1, digest, entry)
    db.execute(
        "INSERT INTO audit_log (seq, at, username, action, outcome, data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        (seq + 1, entry.at.isoformat(), "mallory", "search", "ok", '{"text": "nothing to see"}', digest, forged),
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda db: db.execute("UPDATE audit_log SET username = 'bob' WHERE seq = 5"), "record 5 was changed"),
        (lambda db: db.execute("UPDATE audit_log SET data = '{}' WHERE seq = 1"), "record 1 was changed"),
        (lambda db: db.execute("DELETE FROM audit_log WHERE seq = 7"), "record 7 is missing"),
        (_forge, "record 13 was not signed by the platform"),
        (
            lambda db: db.executescript(
                "UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;"
                " UPDATE audit_log SET seq = 4 WHERE seq = -1;"
            ),
            "record 3 does not follow record 2",
        ),
        (
            lambda db: db.executescript(
                "DELETE FROM audit_log WHERE seq > 9; DELETE FROM audit_anchors WHERE seq > 9;"
            ),
            "records 10–12 are missing: the log was cut short after record 9",
        ),
        (
            lambda db: db.execute("UPDATE audit_anchors SET hash = 'x' WHERE seq = 2"),
            "record 2 is not what the platform",
        ),
    ],
    ids=["edited-user", "edited-data", "deleted", "forged", "swapped", "truncated", "anchor-edited"],
)
def test_tampering_is_caught_and_named(
    trail: Path, tmp_path: Path, change: Callable[[sqlite3.Connection], None], named: str
) -> None:
    code, output = _verify(_tampered(trail, tmp_path, change))
    assert code == 1, output
    assert named in " ".join(output.split())


def test_a_head_signed_by_another_key_is_refused(trail: Path, tmp_path: Path) -> None:
    copy = _tampered(trail, tmp_path, lambda db: None)
    (copy / "keys" / "platform-ed25519.pem").unlink()
    (copy / "keys" / "platform-ed25519.pub.pem").unlink()
    code, output = _verify(copy)  # a fresh key is made: nothing the old one signed checks against it
    assert code == 1
    assert "not the platform's" in output


def test_the_key_is_readable_by_its_owner_only(trail: Path) -> None:
    key = trail / "keys" / "platform-ed25519.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (trail / "keys").stat().st_mode & 0o777 == 0o700
