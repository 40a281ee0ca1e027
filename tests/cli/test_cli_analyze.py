from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from sharpeyes.analytics.mot import read_mot
from sharpeyes.cli.main import app
from tests.conftest import DATA
from tests.support.clips import make_test_clip

runner = CliRunner()


def test_analyze_writes_mot_rows_for_a_video(tmp_path: Path, nanodet_model: Path) -> None:
    clip = make_test_clip(tmp_path / "bar.mp4", duration_s=8)
    out = tmp_path / "tracks.txt"
    args = ["analyze", str(clip), "--mot", str(out), "--fps", "2", "--models-dir", str(nanodet_model.parent)]
    args += ["--data-dir", str(tmp_path / "data")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "frames analysed" in result.output
    assert out.exists()
    assert read_mot(out) == [], "a moving bar is nobody: no tracks, and no error"
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "zones: [{id: all, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}]\nrules: [{type: intrusion, zone: all}]\n"
    )
    events = tmp_path / "events.json"
    with_rules = runner.invoke(app, [*args, "--rules", str(rules), "--events", str(events)])
    assert with_rules.exit_code == 0, with_rules.output
    assert json.loads(events.read_text()) == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{type: intrusion}]\n")
    refused = runner.invoke(app, [*args, "--rules", str(bad), "--events", str(events)])
    assert refused.exit_code == 1
    assert "needs a zone" in refused.output


def test_analyze_refuses_what_it_cannot_use(tmp_path: Path, audio_clip: Path, nanodet_model: Path) -> None:
    models = ["--models-dir", str(nanodet_model.parent), "--data-dir", str(tmp_path / "data")]
    no_video = runner.invoke(app, ["analyze", str(audio_clip), "--mot", str(tmp_path / "a.txt"), *models])
    assert no_video.exit_code == 1
    assert "no video track" in no_video.output
    unknown = runner.invoke(app, ["analyze", str(audio_clip), "--mot", "x.txt", "--classes", "person,dragon", *models])
    assert unknown.exit_code == 2
    assert "dragon" in unknown.output
    missing = runner.invoke(app, ["analyze", str(audio_clip), "--mot", "x.txt", "--models-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert "sharpeyes models install" in missing.output


def test_analyze_keeps_each_tracks_best_picture(tmp_path: Path, nanodet_model: Path) -> None:
    clip = DATA / "clips" / "person-bicycle-car-detection-short.mp4"
    if not clip.exists():
        pytest.skip(f"{clip} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    crops = tmp_path / "crops"
    args = ["analyze", str(clip), "--mot", str(tmp_path / "t.txt"), "--crops", str(crops), "--classes", "car"]
    result = runner.invoke(app, [*args, "--models-dir", str(nanodet_model.parent), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    pictures = sorted(crops.glob("*-car.jpg"))
    assert pictures, result.output
    with Image.open(pictures[0]) as picture:
        assert picture.format == "JPEG"
        assert 40 <= max(picture.size) <= 256
    rows = read_mot(tmp_path / "t.txt")
    assert {row.track_id for row in rows} >= {int(p.name.split("-")[0]) for p in pictures}
