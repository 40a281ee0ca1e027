"""Analysis of one camera's sampled frames — the same code for live cameras and for files handed in.

The detector is the costly part, so it looks only where something can be found, in crops as small as the objects
allow (its cost follows the crop's area), at full resolution for small objects and scaled down for large ones:

- motion that no track explains (something new), unless a look at the same place just found nothing;
- where each track is expected, at every sampled frame (with ``track_look_s``, a confirmed track is looked at less
  often and coasts on its motion model in between, reported at its predicted box); a track with no motion near it
  for ``still_s`` has stopped: it stays where it is, unlooked at, until something moves there;
- the whole frame (at the detector's input size) in two consecutive frames every ``refresh_s``, so objects that
  never moved are found and confirmed too.

The detections of all crops are merged and the tracker turns them into tracks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from sharpeyes.analytics.appearance import colour_signatures
from sharpeyes.analytics.detections import COCO_CLASSES, PERSON, Detections, nms
from sharpeyes.analytics.detector import Detector
from sharpeyes.analytics.regions import Box, MotionConfig, MotionDetector, area, plan_crops
from sharpeyes.analytics.tracker import Track, TrackedObject, Tracker, TrackerConfig
from sharpeyes.core.tracks import CARRIED_CLASSES

CARRIED = frozenset(COCO_CLASSES.index(name) for name in CARRIED_CLASSES)
EDGE_PX = 3
"""A box this close to a crop edge inside the frame was cut by the crop."""
EXPLAINED_SHARE = 0.6
"""Motion this much inside the boxes where tracks are expected is theirs."""
SEEN_WELL_PX = 96
"""An object this tall is found as well as a larger one: a crop of larger objects only is scaled down to it."""
SMALLEST_FOUND_PX = 16
"""Objects shorter than this, as the detector sees them, may be missed: a look that small does not count as a miss."""
BEST_CROP_PX = 256
"""A track's best picture is kept at most this large (long side)."""


@dataclass(frozen=True, slots=True)
class AnalyzerConfig:
    fps: float = 5.0
    refresh_s: float = 10.0
    """Seconds between looks at the whole frame (so objects that never moved, or stopped, are found)."""
    track_look_s: float = 0.0
    """Seconds between looks at a confirmed track; it coasts on its motion model in between. 0: every sampled
    frame (PETS09 at 5 fps: every frame MOTA 0.84; every 0.4 s 0.68 for a third less detector work — the motion model
    drifts on noisy boxes)."""
    still_s: float = 2.0
    """A track with no motion around it for this long has stopped: it stays where it is, unlooked at."""
    quiet_s: float = 1.0
    """Motion where a look found nothing is not looked at again for this long (leaves, shadows, noise)."""
    motion: MotionConfig = field(default_factory=MotionConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    nms_iou: float = 0.5
    min_height_px: int = 0
    """Objects shorter than this are ignored (far-away people too small to act on)."""
    classes: frozenset[int] | None = None
    """Only these classes are tracked (None: all)."""
    whole_frames: bool = False
    """Benchmark baseline: every sampled frame whole, resized to the detector's input, no motion gating."""


@dataclass(slots=True)
class AnalyzerStats:
    frames: int = 0
    moving_frames: int = 0
    """Frames in which something moved."""
    detector_calls: int = 0
    full_looks: int = 0
    detector_s: float = 0.0
    """Seconds spent waiting for the detector (wall clock: its threads are busy meanwhile)."""


class Analyzer:
    def __init__(self, detector: Detector, config: AnalyzerConfig | None = None) -> None:
        self._detector = detector
        self._config = config or AnalyzerConfig()
        self._motion = MotionDetector(self._config.motion)
        self.tracker = Tracker(self._config.tracker)
        self._last_full_s: float | None = None
        self._second_look = False
        """The next frame is looked at whole too: what the first look found is confirmed in the same view."""
        self._moved_s: dict[int, float] = {}
        """When something last moved around each track."""
        self._quiet: list[tuple[Box, float]] = []
        """Places where motion was looked at and nothing found, until when they stay unlooked."""
        self.stats = AnalyzerStats()

    def process(self, image: np.ndarray, at_s: float) -> list[TrackedObject]:
        """One sampled frame (H × W × 3 BGR) at ``at_s`` seconds: the tracked objects in it (seen, or predicted
        where the detector did not look)."""
        config = self._config
        height, width = image.shape[:2]
        moved = self._motion.update(image)
        full = self._second_look or self._last_full_s is None or at_s - self._last_full_s >= config.refresh_s
        self._second_look = full and not self._second_look
        fresh: list[Box] = []
        if config.whole_frames or full:  # the whole frame, resized so its long side is the detector's input size
            crops = [(0, 0, width, height)]
            scales = [min(1.0, self._detector.input_size / max(width, height))]
            if not config.whole_frames:
                self._last_full_s = at_s
                self.stats.full_looks += 1
        else:
            tracks = self.tracker.tracks
            fresh = self._unexplained(moved, width, height, at_s)
            stirring = self._stirring(moved, width, height, at_s)
            self.tracker.hold({t.track_id for t in tracks} - {t.track_id for t in stirring})
            moving = {t.track_id for t in stirring}
            looked_for = stirring + [t for t in tracks if not t.confirmed and t.track_id not in moving]
            due = [_box(t.filter.box, width, height) for t in looked_for if self._due(t, at_s)]
            crops = plan_crops(width, height, due + fresh, self._detector.input_size)
            scales = [_scale(crop, due + fresh) for crop in crops]
        detections = self._detect(image, crops, scales) if crops else Detections.empty()
        self._remember_quiet(fresh, detections, at_s)
        self.stats.frames += 1
        self.stats.moving_frames += bool(moved)
        self.stats.detector_calls += len(crops)
        seen = self.tracker.update(
            detections,
            at_s,
            frame_interval_s=1.0 / config.fps,
            looked=crops,
            frame=(width, height),
            too_small_px=[SMALLEST_FOUND_PX / scale for scale in scales],
        )
        tracks = self.tracker.tracks
        for track in tracks:
            if track.best_at_s == at_s and track.last_seen_s == at_s:  # seen better than ever: keep its picture
                track.best_crop = _best_crop(image, track.best_box)
        _note_carried(seen, tracks)
        return seen

    def _due(self, track: Track, at_s: float) -> bool:
        return not track.confirmed or at_s - track.looked_s >= self._config.track_look_s - 1e-6

    def _stirring(self, moved: list[Box], width: int, height: int, at_s: float) -> list[Track]:
        """The tracks with motion around them now or within ``still_s`` (the others have stopped)."""
        tracks = self.tracker.tracks
        for track in tracks:
            if track.track_id not in self._moved_s or _covered(_grown(track.filter.box, width, height), moved) > 0:
                self._moved_s[track.track_id] = at_s
        alive = {t.track_id for t in tracks}
        self._moved_s = {k: v for k, v in self._moved_s.items() if k in alive}
        return [t for t in tracks if at_s - self._moved_s[t.track_id] < self._config.still_s]

    def _unexplained(self, moved: list[Box], width: int, height: int, at_s: float) -> list[Box]:
        """The motion that no expected track box covers and no recent empty look covers."""
        self._quiet = [(box, until) for box, until in self._quiet if until > at_s]
        expected = [_grown(track.filter.box, width, height) for track in self.tracker.tracks]
        fresh = []
        for blob in moved:
            if _covered(blob, expected) >= EXPLAINED_SHARE:
                continue
            if any(_covered(blob, [quiet]) >= 0.8 for quiet, _ in self._quiet):
                continue
            fresh.append(blob)
        return fresh

    def _remember_quiet(self, fresh: list[Box], found: Detections, at_s: float) -> None:
        for blob in fresh:
            boxes = [(int(x1), int(y1), int(x2), int(y2)) for x1, y1, x2, y2 in found.xyxy]
            if _covered(blob, boxes) == 0:
                x1, y1, x2, y2 = blob
                pad = max(8, (y2 - y1) // 4)
                self._quiet.append(((x1 - pad, y1 - pad, x2 + pad, y2 + pad), at_s + self._config.quiet_s))

    def _wanted(self, detections: Detections) -> np.ndarray:
        keep = (detections.xyxy[:, 3] - detections.xyxy[:, 1]) >= self._config.min_height_px
        if self._config.classes is not None:
            keep &= np.isin(detections.class_id, list(self._config.classes))
        return np.asarray(keep)

    def _detect(self, image: np.ndarray, crops: list[Box], scales: list[float]) -> Detections:
        """Detections in the crops, each seen at its scale (large objects need no full resolution)."""
        height, width = image.shape[:2]
        pictures = [_scaled(image[y1:y2, x1:x2], scale) for (x1, y1, x2, y2), scale in zip(crops, scales, strict=True)]
        started = time.perf_counter()
        found = self._detector.detect(pictures)
        self.stats.detector_s += time.perf_counter() - started
        parts, cut_parts = [], []
        for (x1, y1, x2, y2), scale, detections in zip(crops, scales, found, strict=True):
            if len(detections) == 0:
                continue
            detections = detections.shifted(0.0, 0.0, 1.0 / scale)
            boxes = detections.xyxy
            edge = EDGE_PX / scale
            cut = np.zeros(len(detections), bool)
            if x1 > 0:
                cut |= boxes[:, 0] <= edge
            if y1 > 0:
                cut |= boxes[:, 1] <= edge
            if x2 < width:
                cut |= boxes[:, 2] >= (x2 - x1) - edge
            if y2 < height:
                cut |= boxes[:, 3] >= (y2 - y1) - edge
            parts.append(detections.select(~cut).shifted(x1, y1))
            cut_parts.append(detections.select(cut).shifted(x1, y1))
        whole = nms(Detections.concatenate(parts), self._config.nms_iou)
        partial = nms(Detections.concatenate(cut_parts), self._config.nms_iou)
        merged = Detections.concatenate([whole, _not_covered(partial, whole)])
        merged = merged.select(self._wanted(merged))  # before the signatures: they cost per box
        return merged.with_features(colour_signatures(image, merged.xyxy))


def _not_covered(cut: Detections, whole: Detections, share: float = 0.6) -> Detections:
    """The cut boxes that no whole box of the same class covers (for the rest, another crop saw the object)."""
    if len(cut) == 0 or len(whole) == 0:
        return cut
    keep = np.ones(len(cut), bool)
    for i, box in enumerate(cut.xyxy):
        same = whole.xyxy[whole.class_id == cut.class_id[i]]
        if len(same) == 0:
            continue
        ix1 = np.maximum(box[0], same[:, 0])
        iy1 = np.maximum(box[1], same[:, 1])
        ix2 = np.minimum(box[2], same[:, 2])
        iy2 = np.minimum(box[3], same[:, 3])
        inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
        area = max(1e-6, float((box[2] - box[0]) * (box[3] - box[1])))
        keep[i] = float(inter.max()) / area < share
    return cut.select(keep)


def _covered(box: Box, others: list[Box]) -> float:
    """The share of ``box`` inside the ``others`` (overlaps among them counted once per box, capped at 1)."""
    own = area(box)
    if own == 0:
        return 1.0
    inside = 0
    for other in others:
        inside += area((max(box[0], other[0]), max(box[1], other[1]), min(box[2], other[2]), min(box[3], other[3])))
    return min(1.0, inside / own)


def _note_carried(seen: list[TrackedObject], tracks: list[Track]) -> None:
    """Bags seen on a person (their centre inside the person's box, a little widened) are carried by that person."""
    people = [obj for obj in seen if obj.class_id == PERSON and not obj.predicted]
    bags = [obj for obj in seen if obj.class_id in CARRIED and not obj.predicted]
    if not people or not bags:
        return
    by_id = {track.track_id: track for track in tracks}
    for bag in bags:
        cx, cy = (bag.xyxy[0] + bag.xyxy[2]) / 2, (bag.xyxy[1] + bag.xyxy[3]) / 2
        for person in people:
            x1, y1, x2, y2 = (float(v) for v in person.xyxy)
            margin = (x2 - x1) * 0.2
            if x1 - margin <= cx <= x2 + margin and y1 <= cy <= y2 and person.track_id in by_id:
                by_id[person.track_id].carried.add(bag.class_id)
                break


def _best_crop(image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """The object with a tenth of its size around it, its long side at most ``BEST_CROP_PX``."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    pad_x, pad_y = (x2 - x1) / 10, (y2 - y1) / 10
    left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    right, bottom = min(width, int(x2 + pad_x) + 1), min(height, int(y2 + pad_y) + 1)
    picture = image[top:bottom, left:right]
    if picture.size == 0:
        return np.zeros((1, 1, 3), np.uint8)
    return _scaled(picture, min(1.0, BEST_CROP_PX / max(picture.shape[:2]))).copy()


def _scale(crop: Box, boxes: list[Box]) -> float:
    """How much a crop can be scaled down: until the smallest box (moving part or track) in it is ``SEEN_WELL_PX``."""
    heights = [
        b[3] - b[1]
        for b in boxes
        if crop[0] <= (b[0] + b[2]) / 2 <= crop[2] and crop[1] <= (b[1] + b[3]) / 2 <= crop[3]
    ]
    return min(1.0, SEEN_WELL_PX / max(1, min(heights))) if heights else 1.0


def _scaled(picture: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return picture
    height, width = picture.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(np.ascontiguousarray(picture)).resize(size, Image.Resampling.BILINEAR))


def _grown(xyxy: np.ndarray, width: int, height: int) -> Box:
    """A track's expected box with a quarter of its height around it (where its motion shows)."""
    x1, y1, x2, y2 = _box(xyxy, width, height)
    pad = (y2 - y1) // 4
    return (x1 - pad, y1 - pad, x2 + pad, y2 + pad)


def _box(xyxy: np.ndarray, width: int, height: int) -> Box:
    x1, y1, x2, y2 = (int(v) for v in xyxy)
    return (max(0, x1), max(0, y1), min(width, max(x1 + 1, x2)), min(height, max(y1 + 1, y2)))
