"""``sharpeyes analyze``: tracks in a video file (evaluation, or footage handed in), by the live analysis code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from PIL import Image
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sharpeyes.analytics.detections import COCO_CLASSES
from sharpeyes.analytics.mot import write_mot
from sharpeyes.analytics.offline import analyze_file, frame_rate
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.rules import parse_rules
from sharpeyes.cli.models import ModelsDirOption
from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, settings_from
from sharpeyes.core.errors import InvalidInputError, SharpEyesError
from sharpeyes.services.models import ModelService

TRACKING_THRESHOLD = 0.15
"""Detections this weak still feed the tracker's second stage (they only extend existing tracks)."""


def analyze(
    video: Annotated[Path, typer.Argument(help="A video file.", exists=True, dir_okay=False)],
    mot: Annotated[Path, typer.Option("--mot", help="Write the tracks here, MOTChallenge format (1-based frames).")],
    fps: Annotated[
        float | None, typer.Option("--fps", min=0.1, help="Frames analysed per second (default all).")
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Comma-separated COCO classes to track, e.g. person,car (default all)."),
    ] = None,
    min_height: Annotated[int, typer.Option("--min-height", min=0, help="Ignore objects shorter than this (px).")] = 0,
    rules_file: Annotated[
        Path | None,
        typer.Option("--rules", exists=True, dir_okay=False, help="Zones and rules (JSON or YAML), as a camera's."),
    ] = None,
    events: Annotated[
        Path | None, typer.Option("--events", help="Write the rules' events here (JSON); needs --rules.")
    ] = None,
    crops: Annotated[
        Path | None,
        typer.Option("--crops", file_okay=False, help="Write each track's best picture here (TRACK-CLASS.jpg)."),
    ] = None,
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Detect and track objects in VIDEO; write MOTChallenge rows. 离线视频分析。"""
    settings = settings_from(config, data_dir)
    wanted = None
    if classes:
        names = [name.strip() for name in classes.split(",") if name.strip()]
        unknown = [name for name in names if name not in COCO_CLASSES]
        if unknown:
            fail(f"--classes: unknown {', '.join(unknown)} (COCO names such as person, car, bicycle)", 2)
        wanted = frozenset(COCO_CLASSES.index(name) for name in names)
    if events is not None and rules_file is None:
        fail("--events needs --rules (the zones and rules to judge)", 2)
    try:
        rules = parse_rules(_document(rules_file)) if rules_file is not None else None
        detector = ModelService(models_dir or settings.models_dir).detector(
            settings.analytics, score_threshold=TRACKING_THRESHOLD
        )
        rate = fps or frame_rate(video)  # the tracker's motion model steps at the rate frames arrive
        analyzer = Analyzer(detector, AnalyzerConfig(fps=rate, min_height_px=min_height, classes=wanted))
        columns = (TextColumn("analysing / 分析"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("frames", total=None)
            result = analyze_file(
                video,
                analyzer,
                fps,
                lambda done, total: progress.update(task, completed=done, total=total),
                rules=rules,
            )
    except SharpEyesError as err:
        fail(err.message)
    rows = write_mot(mot, result.rows)
    if events is not None:
        listed = [
            {"frame": e.frame, "at_s": round(e.hit.at_s, 3), "rule": e.hit.rule_id, "type": e.hit.kind}
            | {"track_ids": list(e.hit.track_ids), "detail": e.hit.detail, "data": e.hit.data}
            for e in result.events
        ]
        events.write_text(json.dumps(listed, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        console.print(f"{len(listed)} events → {events}", highlight=False)
    if crops is not None:
        crops.mkdir(parents=True, exist_ok=True)
        written = 0
        for track in result.tracks:
            if track.best_crop is not None:
                name = f"{track.track_id:05d}-{COCO_CLASSES[track.class_id].replace(' ', '_')}.jpg"
                Image.fromarray(track.best_crop[:, :, ::-1]).save(crops / name, quality=90)
                written += 1
        console.print(f"{written} track pictures → {crops}", highlight=False)
    stats = result.stats
    tracks = len({row.track_id for row in result.rows})
    console.print(
        f"{stats.frames} frames analysed, {tracks} tracks, {rows} rows → {mot}; "
        f"{stats.detector_calls / max(1, stats.frames):.2f} detector calls per frame",
        highlight=False,
    )


def _document(path: Path) -> dict[str, object]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInputError(f"{path.name}: cannot be read ({err})", code="bad_rule") from err
    if not isinstance(loaded, dict):
        raise InvalidInputError(f'{path.name}: expected {{"zones": [...], "rules": [...]}}', code="bad_rule")
    return loaded
