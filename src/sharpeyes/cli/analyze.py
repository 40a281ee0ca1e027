"""``sharpeyes analyze``: tracks in a video file (evaluation, or footage handed in), by the live analysis code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sharpeyes.analytics.detections import COCO_CLASSES
from sharpeyes.analytics.mot import write_mot
from sharpeyes.analytics.offline import analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.cli.models import ModelsDirOption
from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, settings_from
from sharpeyes.core.errors import SharpEyesError
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
    try:
        detector = ModelService(models_dir or settings.models_dir).detector(
            settings.analytics, score_threshold=TRACKING_THRESHOLD
        )
        analyzer = Analyzer(detector, AnalyzerConfig(fps=fps or 25.0, min_height_px=min_height, classes=wanted))
        columns = (TextColumn("analysing / 分析"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("frames", total=None)
            result = analyze_file(
                video, analyzer, fps, lambda done, total: progress.update(task, completed=done, total=total)
            )
    except SharpEyesError as err:
        fail(err.message)
    rows = write_mot(mot, result.rows)
    stats = result.stats
    tracks = len({row.track_id for row in result.rows})
    console.print(
        f"{stats.frames} frames analysed, {tracks} tracks, {rows} rows → {mot}; "
        f"{stats.detector_calls / max(1, stats.frames):.2f} detector calls per frame",
        highlight=False,
    )
