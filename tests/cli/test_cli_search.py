"""``sharpeyes search`` against a data directory with kept tracks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from sharpeyes.cli.main import app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.tracks import TrackRecord
from sharpeyes.services.cameras import CameraDraft

runner = CliRunner()


def test_search_from_the_command_line_is_bound_to_a_purpose_and_audited(tmp_path: Path) -> None:
    runtime = build_runtime(load_settings(None, data_dir=tmp_path), with_streams=False)
    camera = runtime.services.cameras.add(CameraDraft(name="school gate", source_url="rtsp://127.0.0.1:1/x"))
    start = datetime.now(UTC) - timedelta(hours=2)
    runtime.services.tracks.keep(
        TrackRecord(camera.id, "person", start, start + timedelta(seconds=9), "red", "blue", ("backpack",)), None
    )
    runtime.services.tracks.keep(TrackRecord(camera.id, "car", start, start + timedelta(seconds=4), "white"), None)
    args = ["search", "--data-dir", str(tmp_path)]

    refused = runner.invoke(app, [*args, "穿红衣服背书包的小孩"])
    assert refused.exit_code == 2
    assert "case_id" in refused.output
    found = runner.invoke(app, [*args, "穿红衣服背书包的小孩", "--reason", "lost child 走失儿童", "--json"])
    assert found.exit_code == 0, found.output
    answer = json.loads(found.output)
    assert [(r["class"], r["upper_colour"], r["carried"]) for r in answer["results"]] == [
        ("person", "red", ["backpack"])
    ]
    table = runner.invoke(app, [*args, "white van", "--case-id", "A-2026-7", "--camera", camera.id])
    assert table.exit_code == 0, table.output
    assert "car" in table.output
    assert "1 tracks" in table.output
    naive = runner.invoke(app, [*args, "white car", "--case-id", "A-1", "--start", "2026-11-28T15:00"])
    assert naive.exit_code == 2
    assert "+08:00" in naive.output
    audit = runtime.services.search.audit()
    assert [entry.outcome for entry in reversed(audit)] == ["refused", "ok", "ok"], "bad options never search"
    assert audit[0].username.startswith("cli:")
    assert audit[0].data["case_id"] == "A-2026-7"
    runtime.engine.dispose()
