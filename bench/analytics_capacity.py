"""Analysis capacity: how many cameras two cores analyse at 5 fps, with motion gating and full-resolution regions,
against the naive baseline with the same model and tracker — every sampled frame detected whole.

The mix of real clips (``../shared/data``): PETS09-S2L1 (pedestrians all the time), Intel's one-by-one people
(people now and then) and car-detection (a parking lot, empty most of the time, cars passing). For each, CPU
seconds per second of video (decoding every frame included, as a live camera's sub-stream must be decoded whole),
detector calls and seconds spent in the detector, and how many of the baseline's tracks the gated run also found
(a baseline track counts as found when at least half of its boxes are matched, IoU ≥ 0.5, by a gated box in the
same frame). The detector runs on one thread, as when many cameras share the cores. A gated call is a crop, often
small (its cost follows its area), so calls and detector work are both printed, with the share of sampled frames
in which anything moved (the most a gate on motion alone could skip is the rest).

Targets: ≥ 16 cameras on 2 cores; ≥ 5× fewer detector calls than the baseline; ≥ 0.97 of its tracks found.

    .venv/bin/python bench/analytics_capacity.py [--data ../shared/data] [--models-dir .models]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from sharpeyes.analytics.detections import iou_matrix
from sharpeyes.analytics.detector import Detector
from sharpeyes.analytics.mot import MotRow
from sharpeyes.analytics.offline import analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig, AnalyzerStats
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.services.models import ModelService

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ("pets09-s2l1/pets09-s2l1.mp4", "clips/one-by-one-person-detection.mp4", "clips/car-detection.mp4")
FPS = 5.0
CORES = 2


@dataclass(frozen=True, slots=True)
class Run:
    cpu_s: float
    video_s: float
    stats: AnalyzerStats
    rows: list[MotRow]


def run(clip: Path, detector: Detector, *, whole_frames: bool) -> Run:
    analyzer = Analyzer(detector, AnalyzerConfig(fps=FPS, whole_frames=whole_frames))
    with av.open(str(clip)) as probe:
        stream = probe.streams.video[0]
        video_s = float(probe.duration or 0) / 1e6 or float((stream.frames or 0) / (stream.average_rate or 25))
    started = time.process_time()
    result = analyze_file(clip, analyzer, FPS)
    return Run(time.process_time() - started, video_s, result.stats, result.rows)


def tracks_found(baseline: list[MotRow], gated: list[MotRow]) -> tuple[int, int]:
    by_frame: dict[int, list[MotRow]] = defaultdict(list)
    for row in gated:
        by_frame[row.frame].append(row)
    hits: dict[int, list[bool]] = defaultdict(list)
    for row in baseline:
        others = by_frame.get(row.frame, [])
        box = np.array([[row.x, row.y, row.x + row.w, row.y + row.h]])
        boxes = np.array([[o.x, o.y, o.x + o.w, o.y + o.h] for o in others]).reshape(-1, 4)
        hits[row.track_id].append(bool(len(boxes)) and float(iou_matrix(box, boxes).max()) >= 0.5)
    found = sum(1 for matched in hits.values() if sum(matched) >= len(matched) / 2)
    return found, len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = Path(os.environ.get("SHARPEYES_TEST_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".models")
    args = parser.parse_args()
    detector = ModelService(args.models_dir).detector(AnalyticsSettings(detector_threads=1), score_threshold=0.15)
    totals: dict[str, float] = defaultdict(float)
    found_all = tracks_all = 0
    for name in CLIPS:
        clip = args.data / name
        if not clip.exists():
            raise SystemExit(f"{clip} not found: give --data (the shared data folder)")
        gated = run(clip, detector, whole_frames=False)
        naive = run(clip, detector, whole_frames=True)
        found, tracks = tracks_found(naive.rows, gated.rows)
        found_all, tracks_all = found_all + found, tracks_all + tracks
        for label, result in (("gated", gated), ("naive", naive)):
            totals[f"{label}_cpu"] += result.cpu_s
            totals[f"{label}_calls"] += result.stats.detector_calls
            totals[f"{label}_detector"] += result.stats.detector_s
        totals["video"] += gated.video_s
        totals["frames"] += gated.stats.frames
        totals["moving"] += gated.stats.moving_frames
        print(
            f"{clip.name:34s} {gated.video_s:4.0f} s, motion in {gated.stats.moving_frames / gated.stats.frames:4.0%} "
            f"of frames | gated {gated.cpu_s / gated.video_s:.3f} CPU s/s, {gated.stats.detector_calls} calls, "
            f"detector {gated.stats.detector_s:5.1f} s | baseline {naive.cpu_s / naive.video_s:.3f} CPU s/s, "
            f"{naive.stats.detector_calls} calls, detector {naive.stats.detector_s:5.1f} s | "
            f"baseline tracks found {found}/{tracks}"
        )
    per_camera = totals["gated_cpu"] / totals["video"]
    baseline_per_camera = totals["naive_cpu"] / totals["video"]
    calls = totals["naive_calls"] / max(1, totals["gated_calls"])
    work = totals["naive_detector"] / max(1e-9, totals["gated_detector"])
    share = found_all / max(1, tracks_all)
    cameras = CORES / per_camera
    print(f"mix at {FPS:g} fps: {per_camera:.3f} CPU s per camera-second → {cameras:.1f} cameras on {CORES} cores")
    print(
        f"baseline (whole frames): {baseline_per_camera:.3f} CPU s per camera-second → "
        f"{CORES / baseline_per_camera:.1f}"
    )
    print(f"frames with motion: {totals['moving'] / totals['frames']:.0%} (a gate on motion alone passes these)")
    print(f"detector calls: baseline / gated = {calls:.2f}x (target ≥ 5x: {'met' if calls >= 5 else 'MISSED'})")
    print(f"detector work (seconds in the detector, one thread): baseline / gated = {work:.2f}x")
    print(f"baseline tracks found: {share:.3f} (target ≥ 0.97: {'met' if share >= 0.97 else 'MISSED'})")
    print(f"cameras on {CORES} cores: {cameras:.1f} (target ≥ 16: {'met' if cameras >= 16 else 'MISSED'})")


if __name__ == "__main__":
    main()
