"""The tracker and the region planner on made-up detections and pictures; the pipeline on real footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sharpeyes.analytics.detections import Detections
from sharpeyes.analytics.mot import evaluate, read_mot
from sharpeyes.analytics.offline import analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.regions import MotionDetector, plan_crops
from sharpeyes.analytics.rules import RuleEngine, parse_rules
from sharpeyes.analytics.tracker import TrackedObject, Tracker
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.services.models import ModelService
from tests.conftest import DATA


def _people(boxes: list[tuple[float, float]], colours: list[int], score: float = 0.9) -> Detections:
    xyxy = np.array([[x, y, x + 40, y + 100] for x, y in boxes], np.float32).reshape(-1, 4)
    features = np.zeros((len(boxes), 8), np.float32)
    for i, colour in enumerate(colours):
        features[i, colour] = 1.0
    return Detections(xyxy, np.full(len(boxes), score, np.float32), np.zeros(len(boxes), np.int64), features)


def test_two_people_crossing_keep_their_ids() -> None:
    tracker = Tracker()
    ids_by_colour: dict[int, set[int]] = {0: set(), 1: set()}
    for step in range(30):
        a, b = 100 + 10 * step, 400 - 10 * step  # they pass each other at step 15
        seen = tracker.update(_people([(a, 200), (b, 205)], [0, 1]), step * 0.2, frame_interval_s=0.2)
        for obj in seen:
            colour = 0 if abs(obj.xyxy[0] - a) < abs(obj.xyxy[0] - b) else 1
            if abs(a - b) > 30:  # while apart, the position tells who is who
                ids_by_colour[colour].add(obj.track_id)
    assert ids_by_colour == {0: {1}, 1: {2}}


def test_a_person_unseen_for_a_while_comes_back_with_the_same_id() -> None:
    tracker = Tracker()
    for step in range(10):
        tracker.update(_people([(100 + 5 * step, 200)], [0]), step * 0.2, frame_interval_s=0.2)
    for step in range(10, 15):  # hidden for a second
        assert tracker.update(Detections.empty(), step * 0.2, frame_interval_s=0.2) == []
    back = tracker.update(_people([(100 + 5 * 15, 200)], [0]), 15 * 0.2, frame_interval_s=0.2)
    assert [obj.track_id for obj in back] == [1]
    ended = tracker.finish()
    assert [t.track_id for t in ended] == [1]
    assert ended[0].best_score == pytest.approx(0.9)


def test_a_single_flash_never_becomes_a_track() -> None:
    tracker = Tracker()
    assert tracker.update(_people([(50, 50)], [0]), 0.0) == []
    assert tracker.update(Detections.empty(), 0.2) == []
    assert tracker.finish() == []


def test_crops_are_small_and_cover_what_moved() -> None:
    width, height, size = 1920, 1080, 416
    boxes = [(100, 100, 140, 200), (150, 110, 190, 210), (1800, 1000, 1900, 1080), (900, 500, 940, 600)]
    crops = plan_crops(width, height, boxes, size)
    assert len(crops) == 3, "overlapping neighbours share a crop, distant boxes do not"
    for x1, y1, x2, y2 in boxes:
        assert any(c[0] <= x1 and c[1] <= y1 and c[2] >= x2 and c[3] >= y2 for c in crops), "each box is inside one"
    assert all(0 <= c[0] < c[2] <= width and 0 <= c[1] < c[3] <= height for c in crops)
    assert all(96 <= c[2] - c[0] <= size and 96 <= c[3] - c[1] <= size for c in crops), "small, never tiny"
    assert sum((c[2] - c[0]) * (c[3] - c[1]) for c in crops) < 0.05 * width * height
    (big,) = plan_crops(width, height, [(0, 0, 1200, 900)], size)
    assert big[:2] == (0, 0), "a large object is one crop (seen scaled down)"
    assert big[2] >= 1200
    assert big[3] >= 900


def test_tracks_nobody_looked_at_coast_and_are_not_lost() -> None:
    tracker = Tracker()
    for step in range(5):  # walking right 10 px a frame, looked at every frame
        tracker.update(_people([(100 + 10 * step, 200)], [0]), step * 0.2, frame_interval_s=0.2)
    elsewhere = [(600, 0, 800, 200)]
    for step in range(5, 25):  # four seconds looking elsewhere: longer than lost_s, yet nothing says it left
        (seen,) = tracker.update(Detections.empty(), step * 0.2, frame_interval_s=0.2, looked=elsewhere)
        assert seen.predicted
        assert seen.track_id == 1
        assert abs(float(seen.xyxy[0]) - (100 + 10 * step)) < 10, "predicted where it walks"
    (back,) = tracker.update(_people([(100 + 10 * 25, 200)], [0]), 5.0, frame_interval_s=0.2, looked=[(0, 0, 800, 600)])
    assert (back.track_id, back.predicted) == (1, False)
    looked = [(0, 0, 800, 600)]
    for step in range(26, 60):  # looked for where it should be and not found: it ends after lost_s
        tracker.update(Detections.empty(), step * 0.2, frame_interval_s=0.2, looked=looked)
    assert [t.track_id for t in tracker.finish()] == [1]
    assert tracker.finish() == []


def test_a_held_track_stays_where_it_stopped() -> None:
    tracker = Tracker()
    for step in range(5):
        tracker.update(_people([(100 + 10 * step, 200)], [0]), step * 0.2, frame_interval_s=0.2)
    tracker.hold({1})
    (seen,) = tracker.update(Detections.empty(), 1.0, frame_interval_s=0.2, looked=[])
    assert seen.predicted
    assert abs(float(seen.xyxy[0]) - 140) < 3


def test_motion_is_found_where_something_moved() -> None:
    motion = MotionDetector()
    still = np.full((240, 320, 3), 90, np.uint8)
    assert motion.update(still) == []
    moved = still.copy()
    moved[100:140, 200:230] = 220
    (box,) = motion.update(moved)
    x1, y1, x2, y2 = box
    assert x1 <= 200
    assert y1 <= 100
    assert x2 >= 230
    assert y2 >= 140
    assert x2 - x1 < 80
    assert y2 - y1 < 80
    assert motion.update(moved) == [], "no change, no motion"


def test_people_are_tracked_in_real_footage(nanodet_model: Path) -> None:
    pets = DATA / "pets09-s2l1"
    if not pets.exists():
        pytest.skip(f"{pets} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    clip = pets / "pets09-s2l1.mp4"
    detector = ModelService(nanodet_model.parent).detector(AnalyticsSettings(), score_threshold=0.15)
    analyzer = Analyzer(detector, AnalyzerConfig(fps=5, min_height_px=50, classes=frozenset({0})))
    result = analyze_file(clip, analyzer, 5.0, max_frames=200)
    frames = set(result.sampled_frames)
    assert 90 <= len(frames) <= 110, "5 of the clip's 10 frames a second"
    truth = [row for row in read_mot(pets / "gt" / "gt.txt", min_confidence=1) if row.frame in frames]
    scores = evaluate(truth, result.rows)
    assert scores.recall >= 0.75
    assert scores.precision >= 0.65
    assert scores.mota >= 0.35  # the first 20 s; bench/accuracy.py scores the whole clip
    assert analyzer.stats.moving_frames >= 0.9 * len(frames), "people walk all the time"
    assert analyzer.stats.full_looks <= 2 * (len(frames) // 50 + 1), "the whole frame only every 10 s (twice)"


def test_line_crossings_counted_from_tracks_agree_with_the_ground_truth(nanodet_model: Path) -> None:
    pets = DATA / "pets09-s2l1"
    if not pets.exists():
        pytest.skip(f"{pets} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    document: dict[str, object] = {
        "rules": [{"id": "middle", "type": "line_crossing", "line": [[0.5, 0.0], [0.5, 1.0]], "classes": ["person"]}]
    }
    detector = ModelService(nanodet_model.parent).detector(AnalyticsSettings(), score_threshold=0.15)
    analyzer = Analyzer(detector, AnalyzerConfig(fps=5, min_height_px=50, classes=frozenset({0})))
    result = analyze_file(pets / "pets09-s2l1.mp4", analyzer, 5.0, max_frames=300, rules=parse_rules(document))
    frames = set(result.sampled_frames)
    truth = RuleEngine(parse_rules(document), 768, 576)
    by_frame: dict[int, list[TrackedObject]] = {}
    for row in read_mot(pets / "gt" / "gt.txt", min_confidence=1):
        if row.frame in frames:
            box = np.array([row.x, row.y, row.x + row.w, row.y + row.h], np.float32)
            by_frame.setdefault(row.frame, []).append(TrackedObject(row.track_id, 0, box, 1.0))
    for frame in sorted(frames):
        truth.update(by_frame.get(frame, []), frame / 10)
    expected = sum(truth.counts["middle"].values())
    counted = len([e for e in result.events if e.hit.rule_id == "middle"])
    assert expected >= 5
    assert abs(counted - expected) <= max(2, expected // 4), (counted, expected)


def test_a_look_too_coarse_to_see_a_small_object_does_not_lose_it() -> None:
    tracker = Tracker()
    for step in range(3):
        tracker.update(_people([(100, 200)], [0]), step * 0.2, frame_interval_s=0.2)
    tracker.hold({1})
    whole = [(0, 0, 1920, 1080)]
    for step in range(3, 40):  # eight seconds of whole-frame looks that cannot see 100-px people
        tracker.update(Detections.empty(), step * 0.2, frame_interval_s=0.2, looked=whole, too_small_px=[150])
    (seen,) = tracker.update(_people([(100, 200)], [0]), 8.0, frame_interval_s=0.2, looked=whole)
    assert (seen.track_id, seen.predicted) == (1, False)
