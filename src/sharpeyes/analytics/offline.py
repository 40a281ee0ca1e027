"""Analysis of a video file (evaluation, footage handed in by the public): frames sampled at ``fps`` of the file's
own time, run through the same ``Analyzer`` as live cameras, tracks out in MOTChallenge rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from sharpeyes.analytics.mot import MotRow
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerStats
from sharpeyes.analytics.rules import Rule, RuleEngine, RuleHit
from sharpeyes.analytics.tracker import Track
from sharpeyes.core.errors import InvalidInputError

Progress = Callable[[int, int | None], None]
"""(frames decoded, frames in the file if known)."""


@dataclass(frozen=True, slots=True)
class OfflineEvent:
    frame: int
    """1-based."""
    hit: RuleHit


@dataclass(frozen=True, slots=True)
class OfflineResult:
    rows: list[MotRow]
    events: list[OfflineEvent]
    sampled_frames: list[int]
    """1-based numbers of the frames analysed (all frames when no rate was given)."""
    stats: AnalyzerStats
    tracks: list[Track]
    """Every confirmed track, ended, with its start, end, class and best picture."""


def frame_rate(path: Path) -> float:
    """The file's own frames a second (what analysing every frame runs at)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidInputError(f"{path.name}: no video track", code="no_video")
            return float(container.streams.video[0].average_rate or 25)
    except (av.FFmpegError, OSError) as err:
        raise InvalidInputError(f"{path.name}: cannot be read as video ({err})", code="bad_video") from err


def sample_frames(
    path: Path, fps: float | None, progress: Progress | None = None, *, max_frames: int | None = None
) -> Iterator[tuple[int, float, np.ndarray]]:
    """(0-based frame index, seconds, BGR picture) of the frames at ``fps`` (every frame when None), from the first
    ``max_frames`` frames of the file (all when None)."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise InvalidInputError(f"{path.name}: cannot be read as video ({err})", code="bad_video") from err
    with container:
        if not container.streams.video:
            raise InvalidInputError(f"{path.name}: no video track", code="no_video")
        stream = container.streams.video[0]  # decoded on one thread (see media/frames.py)
        rate = float(stream.average_rate or 25)
        total = stream.frames or None
        next_s = 0.0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if max_frames is not None and index >= max_frames:
                    break
                at_s = float(frame.time) if frame.time is not None else index / rate
                if progress is not None:
                    progress(index + 1, total)
                if fps is not None and at_s + 1e-6 < next_s:
                    continue
                if fps is not None:
                    next_s = max(next_s + 1.0 / fps, at_s + 0.5 / fps)
                yield index, at_s, frame.to_ndarray(format="bgr24")
        except av.FFmpegError as err:
            raise InvalidInputError(f"{path.name}: the video is damaged ({err})", code="bad_video") from err


def analyze_file(
    path: Path,
    analyzer: Analyzer,
    fps: float | None,
    progress: Progress | None = None,
    *,
    max_frames: int | None = None,
    rules: list[Rule] | None = None,
) -> OfflineResult:
    """Tracks (and, with ``rules``, the rules they break) in the file."""
    rows: list[MotRow] = []
    events: list[OfflineEvent] = []
    sampled: list[int] = []
    engine: RuleEngine | None = None
    for index, at_s, image in sample_frames(path, fps, progress, max_frames=max_frames):
        sampled.append(index + 1)
        seen = analyzer.process(image, at_s)
        for obj in seen:
            x1, y1, x2, y2 = (float(v) for v in obj.xyxy)
            rows.append(MotRow(index + 1, obj.track_id, x1, y1, x2 - x1, y2 - y1, obj.score))
        if rules:
            engine = engine or RuleEngine(rules, image.shape[1], image.shape[0])
            events.extend(OfflineEvent(index + 1, hit) for hit in engine.update(seen, at_s))
    tracks = analyzer.tracker.finish()
    return OfflineResult(rows, events, sampled, analyzer.stats, tracks)
