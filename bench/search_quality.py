"""Search quality on real footage: index the shared clips as four cameras with the live analysis code (5 fps,
the structured classes), then run a fixed set of Chinese and English queries whose right answers were stated by
watching the footage, and print precision@5 and recall@20 per query and overall.

Right answers: on the campus road (PETS09-S2L1) the people are named by their ground-truth ids (what each wears
was read from the footage, per id) and a kept track counts as that person when most of its boxes overlap that
id's (IoU ≥ 0.5); elsewhere (parking lot, service-hall kiosk, road junction: one object or person at a time) a
track counts when it overlaps a stated time window of the right camera. P@5 is the right tracks among the first
five over min(5, right tracks in the index), so a perfect ranking scores 1 whatever the count; R@20 the right tracks
among the first twenty over all right tracks. Target: overall P@5 ≥ 0.8.

    .venv/bin/python bench/search_quality.py [--data ../shared/data] [--models-dir .models]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sharpeyes.analytics.detections import COCO_CLASSES, iou_matrix
from sharpeyes.analytics.mot import MotRow, read_mot
from sharpeyes.analytics.offline import analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.structuring import describe
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.core.tracks import STRUCTURED_CLASSES
from sharpeyes.services.cameras import CameraDraft
from sharpeyes.services.models import ModelService
from sharpeyes.services.search import SearchRequest

ROOT = Path(__file__).resolve().parents[1]
CLIPS = {
    "campus": "pets09-s2l1/pets09-s2l1.mp4",
    "parking": "clips/car-detection.mp4",
    "kiosk": "clips/one-by-one-person-detection.mp4",
    "junction": "clips/person-bicycle-car-detection-short.mp4",
}
# Watched: the six visitors of the kiosk (seconds) and what they wear on top.
KIOSK_GREY = [(6.5, 20.0), (95.0, 120.0), (123.0, 137.0)]  # grey cardigan, grey top, grey shirt
KIOSK_BLACK = [(23.5, 45.0), (51.0, 70.0), (75.0, 86.0)]  # black tops
PARKING_WHITE = [(4.4, 8.2), (25.4, 28.0)]
PARKING_RED = [(15.8, 18.9)]
PARKING_SILVER = [(14.9, 18.6)]
JUNCTION_ALL = [(0.0, 3.5)]  # the silver car and the cyclist are in the whole clip
# Watched: PETS09 ground-truth ids by what they wear.
RED_TOPS = {3, 4, 6, 10}  # red tops or red-and-navy jackets
RED_TOP_JEANS = {6, 10}
BLUE_TOPS = {7, 11, 16, 17}  # light blue jackets, navy jackets
BLACK_TOPS = {1, 2, 8, 9, 12, 13, 14, 15, 18, 19}
BLACK_TROUSERS = {1, 8, 14, 15, 18, 19}
GREY_TROUSERS = {7}
BLUE_JEANS = {2, 6, 9, 10, 13, 16, 17}


@dataclass(frozen=True, slots=True)
class Truth:
    campus_ids: frozenset[int] = frozenset()
    windows: tuple[tuple[str, float, float], ...] = ()
    """(camera, from s, to s)."""
    not_classes: frozenset[str] = frozenset()
    """Tracks of these classes in the windows are something else (the cyclist beside the car)."""


def _windows(camera: str, spans: list[tuple[float, float]]) -> tuple[tuple[str, float, float], ...]:
    return tuple((camera, a, b) for a, b in spans)


PEOPLE = frozenset({"person", "bicycle", "backpack", "handbag", "suitcase", "umbrella"})
VEHICLES = frozenset({"car", "truck", "bus", "cell phone"})
QUERIES: list[tuple[str, tuple[str, ...], Truth]] = [
    ("穿红衣服的人", ("campus",), Truth(frozenset(RED_TOPS))),
    ("person in a red jacket", ("campus",), Truth(frozenset(RED_TOPS))),
    ("穿红衣服蓝裤子的人", ("campus",), Truth(frozenset(RED_TOP_JEANS))),
    ("red top and blue jeans", ("campus",), Truth(frozenset(RED_TOP_JEANS))),
    ("穿蓝色衣服的人", ("campus",), Truth(frozenset(BLUE_TOPS))),
    ("blue jacket", ("campus",), Truth(frozenset(BLUE_TOPS))),
    ("穿黑衣服的人", ("campus",), Truth(frozenset(BLACK_TOPS))),
    ("black coat", ("campus",), Truth(frozenset(BLACK_TOPS))),
    ("穿黑裤子的人", ("campus",), Truth(frozenset(BLACK_TROUSERS))),
    ("grey trousers", ("campus",), Truth(frozenset(GREY_TROUSERS))),
    ("蓝色牛仔裤", ("campus",), Truth(frozenset(BLUE_JEANS))),
    ("红色汽车", (), Truth(windows=_windows("parking", PARKING_RED), not_classes=PEOPLE)),
    ("red car", (), Truth(windows=_windows("parking", PARKING_RED), not_classes=PEOPLE)),
    ("白色汽车", (), Truth(windows=_windows("parking", PARKING_WHITE), not_classes=PEOPLE)),
    ("white car", (), Truth(windows=_windows("parking", PARKING_WHITE), not_classes=PEOPLE)),
    (
        "银色汽车",
        (),
        Truth(windows=_windows("parking", PARKING_SILVER) + _windows("junction", JUNCTION_ALL), not_classes=PEOPLE),
    ),
    (
        "汽车",
        (),
        Truth(windows=_windows("parking", [(4.4, 28.0)]) + _windows("junction", JUNCTION_ALL), not_classes=PEOPLE),
    ),
    ("自行车", (), Truth(windows=_windows("junction", JUNCTION_ALL), not_classes=VEHICLES)),
    ("cyclist", (), Truth(windows=_windows("junction", JUNCTION_ALL), not_classes=VEHICLES)),
    ("穿灰色衣服的人", ("kiosk",), Truth(windows=_windows("kiosk", KIOSK_GREY), not_classes=VEHICLES)),
    ("man in a grey shirt", ("kiosk",), Truth(windows=_windows("kiosk", KIOSK_GREY), not_classes=VEHICLES)),
    ("穿黑色上衣的人", ("kiosk",), Truth(windows=_windows("kiosk", KIOSK_BLACK), not_classes=VEHICLES)),
]


def _ground_truth_id(rows: list[MotRow], truth: dict[int, list[MotRow]]) -> int | None:
    """The ground-truth id most of a track's boxes overlap (IoU ≥ 0.5), if any."""
    votes: Counter[int] = Counter()
    for row in rows:
        others = truth.get(row.frame, [])
        if not others:
            continue
        box = np.array([[row.x, row.y, row.x + row.w, row.y + row.h]], np.float32)
        boxes = np.array([[o.x, o.y, o.x + o.w, o.y + o.h] for o in others], np.float32)
        overlaps = iou_matrix(box, boxes)[0]
        if overlaps.max() >= 0.5:
            votes[others[int(overlaps.argmax())].track_id] += 1
    if not votes:
        return None
    best, count = votes.most_common(1)[0]
    return best if count >= len(rows) / 2 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("SHARPEYES_TEST_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".models")
    args = parser.parse_args()
    for name in CLIPS.values():
        if not (args.data / name).exists():
            raise SystemExit(f"{args.data / name} not found: give --data (the shared data folder)")
    os.environ["SHARPEYES_ANALYTICS__MODELS_DIR"] = str(args.models_dir)
    detector = ModelService(args.models_dir).detector(AnalyticsSettings(detector_threads=1), score_threshold=0.15)
    classes = frozenset(COCO_CLASSES.index(name) for name in STRUCTURED_CLASSES)
    origin = datetime.now(UTC) - timedelta(hours=3)
    gt_by_frame: dict[int, list[MotRow]] = defaultdict(list)
    for row in read_mot(args.data / "pets09-s2l1" / "gt" / "gt.txt", min_confidence=1):
        gt_by_frame[row.frame].append(row)
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-search-") as tmp:
        runtime = build_runtime(load_settings(None, data_dir=Path(tmp)), with_streams=False)
        cameras: dict[str, str] = {}
        campus_ids: dict[int, int | None] = {}  # kept track id → ground-truth id
        spans: dict[int, tuple[str, str, float, float]] = {}  # kept track id → (camera, class, from s, to s)
        for camera, name in CLIPS.items():
            cameras[camera] = runtime.services.cameras.add(CameraDraft(camera, (args.data / name).as_uri())).id
            analyzer = Analyzer(detector, AnalyzerConfig(fps=5, classes=classes, min_height_px=20))
            result = analyze_file(args.data / name, analyzer, 5.0)
            rows_by_track: dict[int, list[MotRow]] = defaultdict(list)
            for row in result.rows:
                rows_by_track[row.track_id].append(row)
            for track in result.tracks:
                kept = runtime.services.tracks.keep(*describe(track, cameras[camera], origin))
                spans[kept] = (camera, COCO_CLASSES[track.class_id], track.start_s, track.last_seen_s)
                if camera == "campus":
                    campus_ids[kept] = _ground_truth_id(rows_by_track[track.track_id], gt_by_frame)
            print(f"{camera:9s} {len(result.tracks):3d} tracks kept")
        p5s, r20s = [], []
        for text, only, truth in QUERIES:
            right = {kept for kept in spans if _right(kept, truth, spans, campus_ids)}
            request = SearchRequest(
                text=text,
                camera_ids=tuple(cameras[c] for c in only),
                start=origin - timedelta(hours=1),
                end=origin + timedelta(hours=1),
                reason="search quality benchmark",
                limit=20,
            )
            found = [hit.record.id for hit in runtime.services.search.search("bench", request).results]
            at5 = sum(1 for track in found[:5] if track in right)
            at20 = sum(1 for track in found[:20] if track in right)
            p5 = at5 / min(5, len(right)) if right else 0.0
            r20 = at20 / len(right) if right else 0.0
            p5s.append(p5)
            r20s.append(r20)
            print(f"{text:28s} right {len(right):3d}  found {len(found):3d}  P@5 {p5:.2f}  R@20 {r20:.2f}")
        overall = float(np.mean(p5s))
        print(f"overall ({len(QUERIES)} queries): P@5 {overall:.3f}, R@20 {float(np.mean(r20s)):.3f}")
        print(f"target P@5 ≥ 0.8: {'met' if overall >= 0.8 else 'MISSED'}")
        runtime.engine.dispose()


def _right(
    kept: int, truth: Truth, spans: dict[int, tuple[str, str, float, float]], campus: dict[int, int | None]
) -> bool:
    camera, class_name, start, end = spans[kept]
    if truth.campus_ids:
        return camera == "campus" and campus.get(kept) in truth.campus_ids
    if class_name in truth.not_classes:
        return False
    return any(camera == c and start <= b and end >= a for c, a, b in truth.windows)


if __name__ == "__main__":
    main()
