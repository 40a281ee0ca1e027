"""Analysis of one camera's sampled frames — the same code for live cameras and for files handed in: motion decides
where the detector looks (plus where tracked objects are expected), a full look in tiles every ``refresh_s``
keeps still objects, the detections of all crops are merged, and the tracker turns them into tracks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sharpeyes.analytics.appearance import colour_signatures
from sharpeyes.analytics.detections import Detections, nms
from sharpeyes.analytics.detector import Detector
from sharpeyes.analytics.regions import Box, MotionConfig, MotionDetector, plan_crops, tiles
from sharpeyes.analytics.tracker import TrackedObject, Tracker, TrackerConfig

EDGE_PX = 3
"""A box this close to a crop edge inside the frame was cut by the crop."""


@dataclass(frozen=True, slots=True)
class AnalyzerConfig:
    fps: float = 5.0
    refresh_s: float = 6.0
    """Seconds between looks at the whole frame (so objects that stopped moving are not lost)."""
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
    detector_calls: int = 0
    full_looks: int = 0


class Analyzer:
    def __init__(self, detector: Detector, config: AnalyzerConfig | None = None) -> None:
        self._detector = detector
        self._config = config or AnalyzerConfig()
        self._motion = MotionDetector(self._config.motion)
        self.tracker = Tracker(self._config.tracker)
        self._last_full_s: float | None = None
        self.stats = AnalyzerStats()

    def process(self, image: np.ndarray, at_s: float) -> list[TrackedObject]:
        """One sampled frame (H × W × 3 BGR) at ``at_s`` seconds: the tracked objects seen in it."""
        height, width = image.shape[:2]
        size = self._detector.input_size
        moved = self._motion.update(image)
        full = self._last_full_s is None or at_s - self._last_full_s >= self._config.refresh_s
        if self._config.whole_frames:
            crops = [(0, 0, width, height)]
        elif full:
            crops = tiles(width, height, size)
            self._last_full_s = at_s
            self.stats.full_looks += 1
        else:
            expected: list[Box] = [_box(t.filter.box, width, height) for t in self.tracker.tracks]
            crops = plan_crops(width, height, moved + expected, size) if moved or expected else []
        detections = self._detect(image, crops) if crops else Detections.empty()
        self.stats.frames += 1
        self.stats.detector_calls += len(crops)
        return self.tracker.update(detections, at_s, frame_interval_s=1.0 / self._config.fps)

    def _wanted(self, detections: Detections) -> np.ndarray:
        keep = (detections.xyxy[:, 3] - detections.xyxy[:, 1]) >= self._config.min_height_px
        if self._config.classes is not None:
            keep &= np.isin(detections.class_id, list(self._config.classes))
        return np.asarray(keep)

    def _detect(self, image: np.ndarray, crops: list[Box]) -> Detections:
        height, width = image.shape[:2]
        found = self._detector.detect([image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops])
        parts, cut_parts = [], []
        for (x1, y1, x2, y2), detections in zip(crops, found, strict=True):
            if len(detections) == 0:
                continue
            boxes = detections.xyxy
            cut = np.zeros(len(detections), bool)
            if x1 > 0:
                cut |= boxes[:, 0] <= EDGE_PX
            if y1 > 0:
                cut |= boxes[:, 1] <= EDGE_PX
            if x2 < width:
                cut |= boxes[:, 2] >= (x2 - x1) - EDGE_PX
            if y2 < height:
                cut |= boxes[:, 3] >= (y2 - y1) - EDGE_PX
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


def _box(xyxy: np.ndarray, width: int, height: int) -> Box:
    x1, y1, x2, y2 = (int(v) for v in xyxy)
    return (max(0, x1), max(0, y1), min(width, max(x1 + 1, x2)), min(height, max(y1 + 1, y2)))
