"""Zone rules on real footage, through ``analyze_file`` (the live analysis code). What should happen is stated from
watching the clips (frame numbers of the file, 0-based, at its own rate), or, for PETS09, computed from the ground
truth tracks with the same rule engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sharpeyes.analytics.mot import read_mot
from sharpeyes.analytics.offline import OfflineEvent, analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.rules import RuleEngine, parse_rules
from sharpeyes.analytics.tracker import TrackedObject
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.services.models import ModelService
from tests.conftest import DATA

CAR, PERSON = 2, 0


def _clip(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    return path


def _events(
    model: Path, clip: Path, document: dict[str, object], classes: set[int], min_height_px: int = 0
) -> list[OfflineEvent]:
    detector = ModelService(model.parent).detector(AnalyticsSettings(detector_threads=1), score_threshold=0.15)
    analyzer = Analyzer(detector, AnalyzerConfig(fps=5, classes=frozenset(classes), min_height_px=min_height_px))
    return analyze_file(clip, analyzer, 5.0, rules=parse_rules(document)).events


def _in(windows: list[tuple[int, int]], events: list[OfflineEvent]) -> list[int]:
    """How many events fall in each window of (first, last) 0-based frames."""
    return [sum(1 for e in events if first <= e.frame - 1 <= last) for first, last in windows]


def test_a_car_driving_into_a_drawn_zone_is_reported_once(nanodet_model: Path) -> None:
    # A parking lot seen at an angle from above: a car comes up from the bottom left and turns left (its foot point
    # is in the lane on the left from about frame 8 on); a cyclist rides along the top right; the bottom right
    # stays empty. (In the straight-down parking-lot clip, car-detection.mp4, NanoDet-m calls the cars "cell
    # phone": a COCO detector has seen few cars from directly above.)
    document: dict[str, object] = {
        "zones": [
            {"id": "lane", "polygon": [[0, 0.3], [0.4, 0.3], [0.4, 0.8], [0, 0.8]]},
            {"id": "bay", "polygon": [[0.6, 0.6], [1, 0.6], [1, 1], [0.6, 1]]},
        ],
        "rules": [
            {"id": "entry", "type": "intrusion", "zone": "lane", "classes": ["car", "truck"]},
            {"id": "empty", "type": "intrusion", "zone": "bay", "classes": ["car", "truck", "person", "bicycle"]},
        ],
    }
    clip = _clip("clips/person-bicycle-car-detection-short.mp4")
    events = _events(nanodet_model, clip, document, {PERSON, 1, CAR, 7})
    assert [e.hit.rule_id for e in events] == ["entry"], [(e.hit.rule_id, e.frame) for e in events]
    assert 5 <= events[0].frame - 1 <= 25
    assert events[0].hit.kind == "intrusion"


def test_people_standing_at_the_kiosk_are_reported_for_loitering_once_each(nanodet_model: Path) -> None:
    # An indoor kiosk (a standing table in the middle of the picture): six people come one at a time, stand at it
    # for 8–20 s and leave. Loitering after 6 s must be raised once for each, while they stand there.
    document: dict[str, object] = {
        "zones": [{"id": "kiosk", "polygon": [[0.3, 0.55], [0.75, 0.55], [0.75, 1], [0.3, 1]]}],
        "rules": [{"id": "stay", "type": "loitering", "zone": "kiosk", "seconds": 6, "classes": ["person"]}],
    }
    events = _events(nanodet_model, _clip("clips/one-by-one-person-detection.mp4"), document, {PERSON})
    visits = [(110, 210), (290, 460), (560, 720), (800, 880), (990, 1220), (1280, 1370)]
    assert _in(visits, events) == [1] * 6, [e.frame for e in events]
    assert len(events) == 6


def test_crowds_found_from_tracks_agree_with_the_ground_truth(nanodet_model: Path) -> None:
    pets = DATA / "pets09-s2l1"
    clip = _clip("pets09-s2l1/pets09-s2l1.mp4")
    document: dict[str, object] = {
        "zones": [{"id": "road", "polygon": [[0, 0.3], [1, 0.3], [1, 1], [0, 1]]}],
        "rules": [{"id": "gathering", "type": "crowd", "zone": "road", "min_count": 5, "classes": ["person"]}],
    }
    events = _events(nanodet_model, clip, document, {PERSON}, min_height_px=50)
    truth = RuleEngine(parse_rules(document), 768, 576)
    by_frame: dict[int, list[TrackedObject]] = {}
    for row in read_mot(pets / "gt" / "gt.txt", min_confidence=1):
        if row.frame % 2 == 1:  # the frames sampled at 5 fps (every other frame of the 10 fps clip)
            box = np.array([row.x, row.y, row.x + row.w, row.y + row.h], np.float32)
            by_frame.setdefault(row.frame, []).append(TrackedObject(row.track_id, PERSON, box, 1.0))
    expected = [frame for frame in sorted(by_frame) if truth.update(by_frame[frame], (frame - 1) / 10)]
    assert len(expected) >= 2
    assert abs(len(events) - len(expected)) <= max(1, len(expected) // 3), ([e.frame for e in events], expected)
    first = min(e.frame for e in events)
    assert abs(first - expected[0]) <= 20, "the first crowd is raised within 2 s of the ground truth's"
