"""Zone and line rules on made-up tracks (picture 1000 × 1000, so pixels / 1000 are the normalised coordinates)."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest

from sharpeyes.analytics.detections import COCO_CLASSES, PERSON
from sharpeyes.analytics.rules import RuleEngine, RuleHit, parse_rules
from sharpeyes.analytics.tracker import TrackedObject
from sharpeyes.core.errors import InvalidInputError

SUITCASE = COCO_CLASSES.index("suitcase")
YARD = {"id": "yard", "polygon": [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]}


def _at(track_id: int, foot_x: float, foot_y: float, class_id: int = PERSON) -> TrackedObject:
    """An object whose feet stand at (foot_x, foot_y) in pixels."""
    box = np.array([foot_x - 20, foot_y - 100, foot_x + 20, foot_y], np.float32)
    return TrackedObject(track_id, class_id, box, 0.9)


def _engine(rules: list[dict[str, object]], zones: list[dict[str, object]] | None = None) -> RuleEngine:
    return RuleEngine(parse_rules({"zones": zones if zones is not None else [YARD], "rules": rules}), 1000, 1000)


def _kinds(hits: list[RuleHit]) -> list[str]:
    return [hit.kind for hit in hits]


def test_intrusion_fires_once_when_a_person_enters_and_only_in_its_window() -> None:
    engine = _engine([{"id": "night", "type": "intrusion", "zone": "yard", "window": ["22:00", "06:00"]}])
    assert engine.update([_at(1, 300, 300)], 0.0, time(23, 0)) == []
    (hit,) = engine.update([_at(1, 700, 700)], 1.0, time(23, 0))
    assert (hit.kind, hit.track_ids) == ("intrusion", (1,))
    assert engine.update([_at(1, 710, 700)], 2.0, time(23, 0)) == [], "once per track"
    day = _engine([{"id": "night", "type": "intrusion", "zone": "yard", "window": ["22:00", "06:00"]}])
    day.update([_at(1, 300, 300)], 0.0, time(12, 0))
    assert day.update([_at(1, 700, 700)], 1.0, time(12, 0)) == [], "outside the window"


def test_the_zones_a_track_entered_are_handed_over_once_for_its_record() -> None:
    engine = _engine([{"id": "night", "type": "intrusion", "zone": "yard"}])
    engine.update([_at(1, 300, 300), _at(2, 100, 100)], 0.0)
    engine.update([_at(1, 700, 700), _at(2, 120, 100)], 1.0)
    engine.update([_at(1, 300, 300)], 2.0)
    assert engine.visited(1) == ("yard",), "entered, even though it left again"
    assert engine.visited(1) == (), "handed over once"
    assert engine.visited(2) == ()
    engine.update([_at(3, 700, 700)], 3.0)
    engine.update([], 400.0)
    assert engine.visited(3) == (), "a track never handed over is forgotten in time"


def test_loitering_after_the_given_seconds_in_the_zone() -> None:
    engine = _engine([{"id": "stay", "type": "loitering", "zone": "yard", "seconds": 10}])
    hits = []
    for second in range(15):
        hits += engine.update([_at(1, 700 + second, 700)], float(second))
    assert _kinds(hits) == ["loitering"]
    assert hits[0].at_s == 10.0
    flickering = _engine([{"id": "stay", "type": "loitering", "zone": "yard", "seconds": 10}])
    hits = []
    for second in range(15):  # the detector misses every third frame: the timer runs on
        seen = [] if second % 3 == 2 else [_at(1, 700, 700)]
        hits += flickering.update(seen, float(second))
    assert [hit.at_s for hit in hits] == [10.0]


def test_a_crowd_is_raised_when_reached_and_again_only_after_it_thinned() -> None:
    engine = _engine([{"id": "crowd", "type": "crowd", "zone": "yard", "min_count": 3}])
    two = [_at(1, 600, 600), _at(2, 700, 700)]
    three = [*two, _at(3, 800, 800)]
    assert engine.update(two, 0.0) == []
    (hit,) = engine.update(three, 1.0)
    assert hit.track_ids == (1, 2, 3)
    assert engine.update(three, 2.0) == []
    assert engine.update(two, 3.0) == []
    assert engine.update(three, 4.0) == [], "thinned for a moment only: the same crowd"
    assert engine.update(two, 5.0) == []
    assert engine.update(two, 9.0) == []
    assert engine.update(two, 10.0) == []
    assert _kinds(engine.update(three, 11.0)) == ["crowd"], "thinned out for 5 s: a new crowd"


def test_a_bag_left_alone_is_reported_but_not_one_with_its_owner() -> None:
    engine = _engine([{"id": "bag", "type": "left_object", "seconds": 5}])
    hits = []
    for second in range(4):  # the owner stands next to it
        hits += engine.update([_at(9, 500, 500, SUITCASE), _at(1, 530, 500)], float(second))
    for second in range(4, 12):  # and walks away
        hits += engine.update([_at(9, 500, 500, SUITCASE), _at(1, 530 + 100 * second, 500)], float(second))
    assert _kinds(hits) == ["left_object"]
    assert hits[0].at_s == 3 + 5, "five seconds after the owner was last beside it"


def test_line_crossings_are_counted_by_direction() -> None:
    rules: list[dict[str, object]] = [
        {"id": "gate", "type": "line_crossing", "line": [[0.0, 0.5], [1.0, 0.5]]},
        {"id": "in", "type": "line_crossing", "line": [[0.0, 0.5], [1.0, 0.5]], "direction": "left_to_right"},
    ]
    engine = _engine(rules, zones=[])
    hits = []
    for step, y in enumerate([300, 450, 550, 700, 600, 400]):  # down across the line, then back up
        hits += engine.update([_at(1, 500, y)], float(step))
    assert [(h.rule_id, h.data["direction"]) for h in hits] == [
        ("gate", "left_to_right"),
        ("in", "left_to_right"),
        ("gate", "right_to_left"),
    ]
    assert engine.counts["gate"] == {"left_to_right": 1, "right_to_left": 1}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"zones": [{"id": "z", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "crosses itself"),
        ({"zones": [{"id": "z", "polygon": [[0, 0], [1.5, 0], [1, 1]]}]}, "outside the picture"),
        ({"zones": [{"id": "z", "polygon": [[0, 0], [1, 0]]}]}, "at least 3 points"),
        ({"rules": [{"id": "r", "type": "intrusion"}]}, "needs a zone"),
        ({"rules": [{"id": "r", "type": "teleport"}]}, "unknown type"),
        ({"rules": [{"id": "r", "type": "intrusion", "zone": "nowhere"}]}, "no zone"),
        ({"rules": [{"id": "r", "type": "loitering", "zone": "yard"}]}, "seconds > 0"),
        ({"rules": [{"id": "r", "type": "line_crossing", "line": [[0, 0], [0, 0]]}]}, "same point"),
        ({"rules": [{"id": "r", "type": "intrusion", "zone": "yard", "classes": ["unicorn"]}]}, "unicorn"),
        ({"zones": [{"id": "east,west", "polygon": [[0, 0], [1, 0], [1, 1]]}]}, "without commas"),
    ],
)
def test_bad_zones_and_rules_say_what_is_wrong(document: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_rules({"zones": [YARD], **document})
    assert message in raised.value.message


def test_an_object_cut_by_the_bottom_edge_is_inside_a_zone_drawn_to_the_edge() -> None:
    engine = _engine([{"id": "entry", "type": "intrusion", "zone": "yard"}])
    (hit,) = engine.update([_at(1, 1000, 1000)], 0.0)  # foot point on the picture's bottom right corner
    assert hit.kind == "intrusion"
    assert "进入区域 yard" in hit.detail, "said in Chinese too"
