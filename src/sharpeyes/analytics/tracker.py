"""Multi-object tracking in the manner of ByteTrack: a constant-velocity Kalman filter per track, confident
detections associated first, then weak ones to the tracks still unmatched (they carry objects through occlusion
and blur), new tracks only from confident unmatched detections, and lost tracks kept for ``lost_s`` before they
end. Association is by IoU with the predicted boxes, per class.

The detector need not look at the whole frame each time: ``update`` is told which regions it looked at. Tracks
outside them are neither matched nor missed; they coast on their motion model and are reported at their predicted
box while their last look found them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from sharpeyes.analytics.detections import Detections, iou_matrix
from sharpeyes.analytics.regions import Box

APPEARANCE_MEMORY = 0.8
_OBSERVE = np.eye(4, 8)
_POSITION_NOISE = 1.0 / 20
_VELOCITY_NOISE = 1.0 / 40


def _to_xyah(box: np.ndarray) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w / max(h, 1e-6), h], np.float64)


def _to_xyxy(state: np.ndarray) -> np.ndarray:
    cx, cy, a, h = state[:4]
    w = a * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


class KalmanBox:
    """State (cx, cy, aspect, height) and their velocities; noise scales with the box height."""

    def __init__(self, box: np.ndarray) -> None:
        measured = _to_xyah(box)
        self.mean = np.concatenate([measured, np.zeros(4)])
        h = measured[3]
        std = [
            2 * _POSITION_NOISE * h,
            2 * _POSITION_NOISE * h,
            1e-2,
            2 * _POSITION_NOISE * h,
            10 * _VELOCITY_NOISE * h,
            10 * _VELOCITY_NOISE * h,
            1e-5,
            10 * _VELOCITY_NOISE * h,
        ]
        self.covariance = np.diag(np.square(std))

    def predict(self, steps: float = 1.0) -> None:
        motion = np.eye(8)
        motion[:4, 4:] = np.eye(4) * steps
        h = self.mean[3]
        std = [_POSITION_NOISE * h, _POSITION_NOISE * h, 1e-2, _POSITION_NOISE * h]
        std += [_VELOCITY_NOISE * h, _VELOCITY_NOISE * h, 1e-5, _VELOCITY_NOISE * h]
        noise = np.diag(np.square(std)) * steps
        self.mean = motion @ self.mean
        self.covariance = motion @ self.covariance @ motion.T + noise

    def update(self, box: np.ndarray) -> None:
        h = self.mean[3]
        std = [_POSITION_NOISE * h, _POSITION_NOISE * h, 1e-1, _POSITION_NOISE * h]
        projected = _OBSERVE @ self.covariance @ _OBSERVE.T + np.diag(np.square(std))
        gain = self.covariance @ _OBSERVE.T @ np.linalg.inv(projected)
        self.mean = self.mean + gain @ (_to_xyah(box) - _OBSERVE @ self.mean)
        self.covariance = (np.eye(8) - gain @ _OBSERVE) @ self.covariance

    def hold(self) -> None:
        """The object is known not to move: no velocity."""
        self.mean[4:] = 0.0

    @property
    def box(self) -> np.ndarray:
        return _to_xyxy(self.mean)


@dataclass(slots=True)
class Track:
    track_id: int
    class_id: int
    filter: KalmanBox
    score: float
    start_s: float
    last_seen_s: float
    hits: int = 1
    confirmed: bool = False
    box: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    """The last associated detection's box (what the track reports for the frame)."""
    best_score: float = 0.0
    best_box: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    best_at_s: float = 0.0
    """The most confident sighting."""
    best_crop: np.ndarray | None = None
    """The picture of the object at its most confident sighting (BGR, long side at most ``BEST_CROP_PX``)."""
    feature: np.ndarray | None = None
    """Appearance, a running blend of the matched detections' signatures."""
    looked_s: float = 0.0
    """When the detector last looked where the track was expected."""
    first_box: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    carried: set[int] = field(default_factory=set)
    """Classes of bags seen with the object (a person's)."""


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    high_score: float = 0.45
    low_score: float = 0.15
    new_track_score: float = 0.5
    match_iou: float = 0.1
    """Smallest IoU between a predicted track box and a detection for them to be matched (first stage)."""
    low_match_iou: float = 0.3
    """The same for the weak detections of the second stage."""
    confirm_hits: int = 2
    lost_s: float = 3.0
    forget_s: float = 30.0
    """A track not seen for this long ends even if nobody looked for it (nothing vouches for it any more)."""
    max_centre_distance: float = 0.5
    """Centre distance, in box heights, close enough to match even without overlap (fast objects, low rates)."""
    distance_weight: float = 0.5
    appearance_weight: float = 1.0
    """How much a different colour signature costs a match (0: position alone)."""


@dataclass(frozen=True, slots=True)
class TrackedObject:
    track_id: int
    class_id: int
    xyxy: np.ndarray
    score: float
    predicted: bool = False
    """Not looked at in this frame: the box is where the motion model expects the object."""


class Tracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self._config = config or TrackerConfig()
        self._tracks: list[Track] = []
        self._next_id = 1
        self._last_s: float | None = None
        self.ended: list[Track] = []
        """Tracks that have ended since the caller last emptied this list."""

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def update(
        self,
        detections: Detections,
        at_s: float,
        *,
        frame_interval_s: float | None = None,
        looked: Sequence[Box] | None = None,
        frame: tuple[int, int] | None = None,
        too_small_px: Sequence[float] | None = None,
    ) -> list[TrackedObject]:
        """Associate the detections of the frame at ``at_s`` (seconds), found in the ``looked`` regions (the whole
        frame when None) of a ``frame`` (width, height); the confirmed tracks seen in this frame, and those expected
        where nobody looked. A track shorter than the ``too_small_px`` of the region it lies in (one per region) was
        too small to be found there: it may be matched but is not missed."""
        config = self._config
        step = 1.0
        if self._last_s is not None and frame_interval_s:
            step = max(1.0, (at_s - self._last_s) / frame_interval_s)
        self._last_s = at_s
        for track in self._tracks:
            track.filter.predict(step)
        # Tracks mostly inside a looked region were looked for (a miss counts); tracks partly inside may be matched
        # (a detection there is more likely theirs than a new object's) but are not missed.
        watched = [i for i, t in enumerate(self._tracks) if looked is None or _seen_in(t, looked, frame, too_small_px)]
        near = [i for i, t in enumerate(self._tracks) if looked is None or _inside(t.filter.box, looked, frame, 0.2)]
        coasting = {i for i, t in enumerate(self._tracks) if t.confirmed and t.last_seen_s >= t.looked_s} - set(watched)
        for i in watched:
            self._tracks[i].looked_s = at_s
        high = detections.select(detections.confidence >= config.high_score)
        low = detections.select(
            (detections.confidence >= config.low_score) & (detections.confidence < config.high_score)
        )
        unmatched_tracks, unmatched_high = self._associate(near, high, config.match_iou, at_s)
        confirmed_left = [i for i in unmatched_tracks if self._tracks[i].confirmed]
        self._associate(confirmed_left, low, config.low_match_iou, at_s)
        lost_tentative = {i for i in unmatched_tracks if not self._tracks[i].confirmed} & set(watched)
        keep: list[Track] = []
        for index, track in enumerate(self._tracks):
            missed = track.looked_s - track.last_seen_s > config.lost_s  # looked for, not found
            expired = missed or at_s - track.last_seen_s > config.forget_s
            if index in lost_tentative or expired:
                if track.confirmed:
                    self.ended.append(track)
                continue
            keep.append(track)
        expected = {id(t) for i, t in enumerate(self._tracks) if i in coasting and t.last_seen_s < at_s}
        for j in unmatched_high:
            if high.confidence[j] >= config.new_track_score:
                keep.append(self._new_track(high, j, at_s))
        self._tracks = keep
        seen = [
            TrackedObject(t.track_id, t.class_id, t.box.copy(), t.score)
            for t in keep
            if t.confirmed and t.last_seen_s == at_s
        ]
        predicted = [
            TrackedObject(t.track_id, t.class_id, t.filter.box, t.score, predicted=True)
            for t in keep
            if id(t) in expected and (frame is None or _centre_inside(t.filter.box, frame))
        ]
        return seen + predicted

    def hold(self, track_ids: set[int]) -> None:
        """These tracks' objects did not move (nothing changed around them): they stay where they are."""
        for track in self._tracks:
            if track.track_id in track_ids:
                track.filter.hold()

    def finish(self) -> list[Track]:
        """End every track (the video is over); returns all tracks ended, including earlier ones."""
        self.ended.extend(t for t in self._tracks if t.confirmed)
        self._tracks = []
        ended, self.ended = self.ended, []
        return ended

    def _associate(
        self, track_indices: list[int], detections: Detections, min_iou: float, at_s: float
    ) -> tuple[list[int], list[int]]:
        """Match tracks to detections of the same class; (unmatched track indices, unmatched detection indices)."""
        if not track_indices or len(detections) == 0:
            return track_indices, list(range(len(detections)))
        predicted = np.array([self._tracks[i].filter.box for i in track_indices], np.float32)
        overlaps = iou_matrix(predicted, detections.xyxy)
        distance = _centre_distance(predicted, detections.xyxy)
        classes = np.array([self._tracks[i].class_id for i in track_indices])
        near = (overlaps >= min_iou) | (distance <= self._config.max_centre_distance)
        allowed = near & (classes[:, None] == detections.class_id[None, :])
        cost = 1.0 - overlaps + self._config.distance_weight * distance
        if detections.features is not None and self._config.appearance_weight > 0:
            known = [self._tracks[i].feature for i in track_indices]
            if all(f is not None for f in known):
                similarity = np.array(known) @ detections.features.T
                cost = cost + self._config.appearance_weight * (1.0 - similarity)
        cost = np.where(allowed, cost, 1e6)
        rows, columns = linear_sum_assignment(cost)
        matched_tracks, matched_detections = set(), set()
        for r, c in zip(rows, columns, strict=True):
            if not allowed[r, c]:
                continue
            track = self._tracks[track_indices[r]]
            box = detections.xyxy[c]
            track.filter.update(box)
            track.box = box.copy()
            track.score = float(detections.confidence[c])
            if detections.features is not None:
                feature = detections.features[c]
                if track.feature is None:
                    track.feature = feature
                else:
                    blended = APPEARANCE_MEMORY * track.feature + (1 - APPEARANCE_MEMORY) * feature
                    track.feature = blended / max(1e-6, float(np.linalg.norm(blended)))
            track.last_seen_s = at_s
            track.hits += 1
            track.confirmed = track.confirmed or track.hits >= self._config.confirm_hits
            if track.score > track.best_score:
                track.best_score, track.best_box, track.best_at_s = track.score, box.copy(), at_s
            matched_tracks.add(r)
            matched_detections.add(c)
        return (
            [index for k, index in enumerate(track_indices) if k not in matched_tracks],
            [c for c in range(len(detections)) if c not in matched_detections],
        )

    def _new_track(self, detections: Detections, j: int, at_s: float) -> Track:
        box = detections.xyxy[j]
        score = float(detections.confidence[j])
        track = Track(
            track_id=self._next_id,
            class_id=int(detections.class_id[j]),
            filter=KalmanBox(box),
            score=score,
            start_s=at_s,
            last_seen_s=at_s,
            confirmed=self._config.confirm_hits <= 1,
            box=box.copy(),
            best_score=score,
            best_box=box.copy(),
            best_at_s=at_s,
            looked_s=at_s,
            first_box=box.copy(),
            feature=detections.features[j] if detections.features is not None else None,
        )
        self._next_id += 1
        return track


def _seen_in(
    track: Track, regions: Sequence[Box], frame: tuple[int, int] | None, too_small_px: Sequence[float] | None
) -> bool:
    """Whether the track was looked for: mostly inside a region that sees objects of its height (as last seen: a
    coasting filter's height can drift)."""
    height = float(track.box[3] - track.box[1])
    return any(
        too_small_px is None or index < 0 or height >= too_small_px[index]
        for index in _containing(track.filter.box, regions, frame, 0.8)
    )


def _inside(box: np.ndarray, regions: Sequence[Box], frame: tuple[int, int] | None, share: float = 0.8) -> bool:
    """Whether ``share`` of the box (of its part inside the frame) lies in one of the regions."""
    return bool(_containing(box, regions, frame, share))


def _containing(box: np.ndarray, regions: Sequence[Box], frame: tuple[int, int] | None, share: float) -> list[int]:
    """The regions holding ``share`` of the box (of its part inside the frame; all of them for a box gone from the
    frame: a look anywhere shows it is not there)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if frame is not None:
        x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(frame[0]), x2), min(float(frame[1]), y2)
        if x2 <= x1 or y2 <= y1:
            return list(range(len(regions))) or [-1]
    own = max(1e-6, (x2 - x1) * (y2 - y1))
    found = []
    for index, (rx1, ry1, rx2, ry2) in enumerate(regions):
        inter = max(0.0, min(x2, rx2) - max(x1, rx1)) * max(0.0, min(y2, ry2) - max(y1, ry1))
        if inter >= share * own:
            found.append(index)
    return found


def _centre_inside(box: np.ndarray, frame: tuple[int, int]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(0 <= cx < frame[0] and 0 <= cy < frame[1])


def _centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between the centres of every pair of boxes, in heights of the ``a`` box."""
    ca = (a[:, :2] + a[:, 2:]) / 2
    cb = (b[:, :2] + b[:, 2:]) / 2
    heights = np.maximum(a[:, 3] - a[:, 1], 1.0)
    return np.asarray(np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2) / heights[:, None])
