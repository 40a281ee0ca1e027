"""Zones and rules over tracks, in normalised picture coordinates (0–1, origin top left), judged at each object's
foot point (bottom centre of its box):

- ``intrusion``: an object of the given classes enters the zone (optionally only within a daily time window);
- ``loitering``: it stays in the zone longer than ``seconds``;
- ``crowd``: at least ``min_count`` of them are in the zone at once (raised when reached, again only after the
  count has stayed below for ``CROWD_CALM_S``: one person hidden for a moment does not make a new crowd);
- ``left_object``: a bag or suitcase stays put for ``seconds`` with no person within ``person_distance``;
- ``line_crossing``: an object crosses the line, in the given direction — ``left_to_right`` or ``right_to_left``
  as seen walking the line from its first point to its second; crossings are counted per direction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

import numpy as np

from sharpeyes.analytics.detections import CLASS_NAMES_ZH, COCO_CLASSES, PERSON
from sharpeyes.analytics.tracker import TrackedObject
from sharpeyes.core.errors import InvalidInputError

Point = tuple[float, float]
INSIDE = 0.9999
"""The largest foot-point coordinate (0–1): a zone drawn to the picture's edge holds objects cut by it."""
CROWD_CALM_S = 5.0
"""How long a crowd must have thinned out before reaching the count again raises a new one."""
RuleKind = Literal["intrusion", "loitering", "crowd", "left_object", "line_crossing"]
BAGS = frozenset({COCO_CLASSES.index("backpack"), COCO_CLASSES.index("handbag"), COCO_CLASSES.index("suitcase")})
FORGET_S = 10.0
"""Seconds an object may go unseen before its timers (loitering, left object) start again."""
VISITS_KEPT_S = 300.0
"""Seconds the zones a track entered are kept for it after it was last seen, waiting for it to end."""
LINE_MARGIN = 0.02
"""How far past a line (share of the picture) an object must be for its side to count."""
STILL_SHARE = 0.03
"""A left object may drift this much (share of the picture) and still count as staying put."""


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    polygon: tuple[Point, ...]

    def __post_init__(self) -> None:
        check_polygon(self.polygon, f"zone {self.id}")

    def contains(self, point: Point) -> bool:
        """Even-odd rule."""
        x, y = point
        inside = False
        corners = self.polygon
        for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: RuleKind
    zone: Zone | None = None
    line: tuple[Point, Point] | None = None
    classes: frozenset[int] = frozenset({PERSON})
    seconds: float = 0.0
    min_count: int = 0
    direction: Literal["left_to_right", "right_to_left", "both"] = "both"
    window: tuple[time, time] | None = None
    """Daily local time window (an end before the start runs past midnight); None: always."""
    person_distance: float = 0.1

    def __post_init__(self) -> None:
        needs_zone = self.kind in ("intrusion", "loitering", "crowd")
        if needs_zone and self.zone is None:
            raise InvalidInputError(f"rule {self.id}: a {self.kind} rule needs a zone", code="bad_rule")
        if self.kind == "line_crossing":
            if self.line is None:
                raise InvalidInputError(f"rule {self.id}: a line_crossing rule needs a line", code="bad_rule")
            for point in self.line:
                _check_point(point, f"rule {self.id} line")
            if self.line[0] == self.line[1]:
                raise InvalidInputError(f"rule {self.id}: the line's two ends are the same point", code="bad_rule")
        if self.kind in ("loitering", "left_object") and self.seconds <= 0:
            raise InvalidInputError(f"rule {self.id}: give seconds > 0", code="bad_rule")
        if self.kind == "crowd" and self.min_count < 2:
            raise InvalidInputError(f"rule {self.id}: a crowd needs min_count ≥ 2", code="bad_rule")

    def active_at(self, clock: time | None) -> bool:
        if self.window is None or clock is None:
            return True
        start, end = self.window
        return start <= clock < end if start <= end else clock >= start or clock < end


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule_id: str
    kind: RuleKind
    at_s: float
    track_ids: tuple[int, ...]
    detail: str
    data: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class _Seen:
    inside: dict[str, float] = field(default_factory=dict)
    """zone id → when the track entered it."""
    foot: Point | None = None
    still_since: float | None = None
    still_at: Point | None = None
    last_s: float = 0.0


class RuleEngine:
    def __init__(self, rules: list[Rule], width: int, height: int) -> None:
        self._rules = rules
        self._size = np.array([width, height], np.float64)
        self._seen: dict[int, _Seen] = defaultdict(_Seen)
        self._fired: set[tuple[str, int]] = set()
        self._crowded: dict[str, float | None] = {}
        """Crowd rules raised: since when the count has been below (None while it is not)."""
        self._sides: dict[tuple[str, int], int] = {}
        self._visited: dict[int, set[str]] = defaultdict(set)
        """Track id → the zones it has entered, kept until the track is handed over (``visited``) or long gone."""
        self._last_seen: dict[int, float] = {}
        self.counts: dict[str, dict[str, int]] = {
            r.id: {"left_to_right": 0, "right_to_left": 0} for r in rules if r.line
        }

    def update(self, objects: list[TrackedObject], at_s: float, clock: time | None = None) -> list[RuleHit]:
        """The rules broken by what is seen at ``at_s`` (``clock``: local time of day, for windows)."""
        hits: list[RuleHit] = []
        feet = {obj.track_id: self._foot(obj) for obj in objects}
        classes = {obj.track_id: obj.class_id for obj in objects}
        for rule in self._rules:
            if not rule.active_at(clock):
                continue
            wanted = [tid for tid in feet if classes[tid] in rule.classes]
            if rule.kind == "intrusion":
                hits += self._intrusion(rule, wanted, feet, at_s)
            elif rule.kind == "loitering":
                hits += self._loitering(rule, wanted, feet, at_s)
            elif rule.kind == "crowd":
                hits += self._crowd(rule, wanted, feet, at_s)
            elif rule.kind == "left_object":
                people = [feet[tid] for tid in feet if classes[tid] == PERSON]
                hits += self._left(rule, wanted, feet, people, at_s)
            else:
                hits += self._crossing(rule, wanted, feet, at_s)
        for tid, foot in feet.items():
            state = self._seen[tid]
            state.foot, state.last_s = foot, at_s
            self._last_seen[tid] = at_s
            for rule in self._rules:
                if rule.zone is not None:
                    if rule.zone.contains(foot):
                        state.inside.setdefault(rule.zone.id, at_s)
                        self._visited[tid].add(rule.zone.id)
                    else:
                        state.inside.pop(rule.zone.id, None)
        for tid in [tid for tid, last in self._last_seen.items() if at_s - last > VISITS_KEPT_S]:
            self._last_seen.pop(tid)  # never handed over (a track that was never confirmed)
            self._visited.pop(tid, None)
        gone = {tid for tid, state in self._seen.items() if at_s - state.last_s > FORGET_S}
        for tid in gone:  # an object missed for a frame or two keeps its timers; one long gone is forgotten
            del self._seen[tid]
        if gone:
            self._fired = {key for key in self._fired if key[1] not in gone}
            self._sides = {key: side for key, side in self._sides.items() if key[1] not in gone}
        return hits

    def visited(self, track_id: int) -> tuple[str, ...]:
        """The zones a track entered, once: for the record kept when it ends."""
        self._last_seen.pop(track_id, None)
        return tuple(sorted(self._visited.pop(track_id, ())))

    def _foot(self, obj: TrackedObject) -> Point:
        x1, _y1, x2, y2 = (float(v) for v in obj.xyxy)
        # Kept just inside the picture: a box cut by the bottom edge stands on the edge, which a zone drawn to the
        # edge must hold.
        return (min((x1 + x2) / 2 / self._size[0], INSIDE), min(y2 / self._size[1], INSIDE))

    def _once(self, rule: Rule, tid: int) -> bool:
        key = (rule.id, tid)
        if key in self._fired:
            return False
        self._fired.add(key)
        return True

    def _intrusion(self, rule: Rule, tids: list[int], feet: dict[int, Point], at_s: float) -> list[RuleHit]:
        assert rule.zone is not None
        hits = []
        for tid in tids:
            was_inside = rule.zone.id in self._seen[tid].inside if tid in self._seen else False
            if rule.zone.contains(feet[tid]) and not was_inside and self._once(rule, tid):
                detail = f"{_name(rule)} entered zone {rule.zone.id} / {_name_zh(rule)}进入区域 {rule.zone.id}"
                hits.append(RuleHit(rule.id, "intrusion", at_s, (tid,), detail))
        return hits

    def _loitering(self, rule: Rule, tids: list[int], feet: dict[int, Point], at_s: float) -> list[RuleHit]:
        assert rule.zone is not None
        hits = []
        for tid in tids:
            since = self._seen[tid].inside.get(rule.zone.id) if tid in self._seen else None
            long_enough = since is not None and at_s - since >= rule.seconds
            if since is not None and long_enough and rule.zone.contains(feet[tid]) and self._once(rule, tid):
                stayed = f"{at_s - since:.0f}"
                detail = (
                    f"{_name(rule)} in zone {rule.zone.id} for {stayed} s / "
                    f"{_name_zh(rule)}在区域 {rule.zone.id} 停留 {stayed} 秒"
                )
                hits.append(RuleHit(rule.id, "loitering", at_s, (tid,), detail, {"seconds": at_s - since}))
        return hits

    def _crowd(self, rule: Rule, tids: list[int], feet: dict[int, Point], at_s: float) -> list[RuleHit]:
        assert rule.zone is not None
        inside = tuple(sorted(tid for tid in tids if rule.zone.contains(feet[tid])))
        raised = rule.id in self._crowded
        if len(inside) < rule.min_count:
            if raised:
                thinned_s = self._crowded[rule.id]
                if thinned_s is None:
                    self._crowded[rule.id] = at_s
                elif at_s - thinned_s >= CROWD_CALM_S:
                    del self._crowded[rule.id]
            return []
        if raised:
            self._crowded[rule.id] = None
            return []
        self._crowded[rule.id] = None
        detail = (
            f"{len(inside)} {_name(rule)} in zone {rule.zone.id} (≥ {rule.min_count}) / "
            f"区域 {rule.zone.id} 内{_name_zh(rule)} {len(inside)} 个（≥ {rule.min_count}）"
        )
        return [RuleHit(rule.id, "crowd", at_s, inside, detail, {"count": len(inside)})]

    def _left(
        self, rule: Rule, tids: list[int], feet: dict[int, Point], people: list[Point], at_s: float
    ) -> list[RuleHit]:
        hits = []
        for tid in tids:
            foot = feet[tid]
            if rule.zone is not None and not rule.zone.contains(foot):
                continue
            state = self._seen[tid]
            if (
                state.still_at is None
                or np.hypot(foot[0] - state.still_at[0], foot[1] - state.still_at[1]) > STILL_SHARE
            ):
                state.still_at, state.still_since = foot, at_s
                continue
            attended = any(np.hypot(foot[0] - p[0], foot[1] - p[1]) <= rule.person_distance for p in people)
            if attended:
                state.still_since = at_s
                continue
            assert state.still_since is not None
            if at_s - state.still_since >= rule.seconds and self._once(rule, tid):
                alone = f"{at_s - state.still_since:.0f}"
                detail = f"{_name(rule)} left unattended for {alone} s / {_name_zh(rule)}无人看管 {alone} 秒"
                hits.append(RuleHit(rule.id, "left_object", at_s, (tid,), detail))
        return hits

    def _crossing(self, rule: Rule, tids: list[int], feet: dict[int, Point], at_s: float) -> list[RuleHit]:
        """A crossing is a change of side, each side reached by more than ``LINE_MARGIN`` (feet jitter near the
        line, and a box's foot point with it), within the line's extent."""
        assert rule.line is not None
        a, b = rule.line
        length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
        hits = []
        for tid in tids:
            foot = feet[tid]
            distance = _side(a, b, foot) / length
            if abs(distance) < LINE_MARGIN or not _within(a, b, foot):
                continue
            side = -1 if distance < 0 else 1
            previous = self._sides.get((rule.id, tid))
            self._sides[(rule.id, tid)] = side
            if previous is None or previous == side:
                continue
            direction = "left_to_right" if previous < 0 else "right_to_left"  # image y points down
            self.counts[rule.id][direction] += 1
            if rule.direction in ("both", direction):
                data = {"direction": direction, **self.counts[rule.id]}
                way = "从左到右" if direction == "left_to_right" else "从右到左"
                detail = f"{_name(rule)} crossed {direction} / {_name_zh(rule)}越线（{way}）"
                hits.append(RuleHit(rule.id, "line_crossing", at_s, (tid,), detail, data))
        return hits


def _name(rule: Rule) -> str:
    return "/".join(sorted(COCO_CLASSES[c] for c in rule.classes))


def _name_zh(rule: Rule) -> str:
    return "/".join(sorted(CLASS_NAMES_ZH.get(COCO_CLASSES[c], COCO_CLASSES[c]) for c in rule.classes))


def _side(a: Point, b: Point, p: Point) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _within(a: Point, b: Point, p: Point) -> bool:
    """The point's projection falls on the segment (a crossing beyond the line's ends is no crossing)."""
    ab = (b[0] - a[0], b[1] - a[1])
    t = ((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / (ab[0] ** 2 + ab[1] ** 2)
    return 0.0 <= t <= 1.0


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _side(q1, q2, p1), _side(q1, q2, p2)
    d3, d4 = _side(p1, p2, q1), _side(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _check_point(point: Point, what: str) -> None:
    x, y = point
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InvalidInputError(f"{what}: point {point} lies outside the picture (0–1)", code="bad_zone")


def check_polygon(polygon: tuple[Point, ...], what: str) -> None:
    """At least three points inside the picture, edges not crossing each other."""
    if len(polygon) < 3:
        raise InvalidInputError(f"{what}: a zone needs at least 3 points", code="bad_zone")
    for point in polygon:
        _check_point(point, what)
    edges = list(zip(polygon, polygon[1:] + polygon[:1], strict=True))
    for i, (p1, p2) in enumerate(edges):
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue  # neighbours through the closing edge
            q1, q2 = edges[j]
            if _segments_cross(p1, p2, q1, q2):
                raise InvalidInputError(
                    f"{what}: the outline crosses itself (edges {i + 1} and {j + 1})", code="bad_zone"
                )


def parse_rules(document: dict[str, object]) -> list[Rule]:
    """``{"zones": [{"id", "polygon": [[x, y], …]}], "rules": [{"id", "type", "zone"?, "line"?, "classes"?,
    "seconds"?, "min_count"?, "direction"?, "window"?: ["22:00", "06:00"], "person_distance"?}]}`` → rules;
    ``InvalidInputError`` names the zone or rule at fault."""
    zones: dict[str, Zone] = {}
    for index, raw in enumerate(_list(document.get("zones", []), "zones")):
        zone_id = str(raw.get("id", f"zone{index + 1}")).strip()
        if not zone_id or "," in zone_id or len(zone_id) > 40:
            raise InvalidInputError(f"zone {zone_id!r}: a name of 1–40 characters without commas", code="bad_zone")
        try:
            polygon = tuple((float(x), float(y)) for x, y in raw["polygon"])
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInputError(f"zone {zone_id}: polygon must be [[x, y], …]", code="bad_zone") from err
        zones[zone_id] = Zone(zone_id, polygon)
    rules = []
    for index, raw in enumerate(_list(document.get("rules", []), "rules")):
        rule_id = str(raw.get("id", f"rule{index + 1}"))
        kind: Any = raw.get("type")
        if kind not in ("intrusion", "loitering", "crowd", "left_object", "line_crossing"):
            raise InvalidInputError(f"rule {rule_id}: unknown type {kind!r}", code="bad_rule")
        zone_ref = raw.get("zone")
        if zone_ref is not None and zone_ref not in zones:
            raise InvalidInputError(f"rule {rule_id}: no zone {zone_ref!r}", code="bad_rule")
        default_classes = [COCO_CLASSES[c] for c in sorted(BAGS)] if kind == "left_object" else ["person"]
        names = raw.get("classes") or default_classes
        unknown = [name for name in names if name not in COCO_CLASSES]
        if unknown:
            raise InvalidInputError(f"rule {rule_id}: unknown classes {', '.join(unknown)}", code="bad_rule")
        try:
            line = raw.get("line")
            rules.append(
                Rule(
                    id=rule_id,
                    kind=kind,
                    zone=zones[zone_ref] if zone_ref is not None else None,
                    line=((float(line[0][0]), float(line[0][1])), (float(line[1][0]), float(line[1][1])))
                    if line
                    else None,
                    classes=frozenset(COCO_CLASSES.index(name) for name in names),
                    seconds=float(raw.get("seconds", 0)),
                    min_count=int(raw.get("min_count", 0)),
                    direction=raw.get("direction", "both"),
                    window=_window(raw.get("window")) if raw.get("window") else None,
                    person_distance=float(raw.get("person_distance", 0.1)),
                )
            )
        except (TypeError, ValueError, IndexError) as err:
            raise InvalidInputError(f"rule {rule_id}: {err}", code="bad_rule") from err
    return rules


def _list(value: object, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidInputError(f"{what} must be a list of objects", code="bad_rule")
    return value


def _window(value: Any) -> tuple[time, time]:
    start, end = value
    return time.fromisoformat(str(start)), time.fromisoformat(str(end))
