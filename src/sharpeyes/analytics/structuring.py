"""Video structuring (视频结构化): an ended track turned into the record search reads — class, colours from its best
picture, bags carried, size, direction of travel, start and end — and that picture."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from sharpeyes.analytics.attributes import object_colours
from sharpeyes.analytics.detections import COCO_CLASSES, PERSON
from sharpeyes.analytics.tracker import Track
from sharpeyes.core.tracks import TrackRecord

STILL_SHARE = 0.5
"""A track whose box moved less than this many of its heights went nowhere."""


def describe(track: Track, camera_id: str, origin: datetime) -> tuple[TrackRecord, np.ndarray | None]:
    """The record of ``track`` (its times are seconds after ``origin``) and its best picture (BGR), if any."""
    colours = object_colours(track.best_crop, track.class_id == PERSON) if track.best_crop is not None else None
    record = TrackRecord(
        camera_id=camera_id,
        class_name=COCO_CLASSES[track.class_id],
        start=origin + timedelta(seconds=track.start_s),
        end=origin + timedelta(seconds=track.last_seen_s),
        upper_colour=colours.upper if colours else None,
        lower_colour=colours.lower if colours else None,
        carried=tuple(sorted(COCO_CLASSES[c] for c in track.carried)),
        height_px=int(track.best_box[3] - track.best_box[1]),
        direction=direction(track.first_box, track.box),
        score=round(track.best_score, 3),
    )
    return record, track.best_crop


def direction(first: np.ndarray, last: np.ndarray) -> str:
    """Where the object went in the picture: left, right, up (away, for most cameras), down, or still."""
    dx = float(last[0] + last[2] - first[0] - first[2]) / 2
    dy = float(last[3] - first[3])  # the feet: what the ground shows of the way taken
    height = max(1.0, float(first[3] - first[1]), float(last[3] - last[1]))
    if max(abs(dx), abs(dy)) < STILL_SHARE * height:
        return "still"
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"
