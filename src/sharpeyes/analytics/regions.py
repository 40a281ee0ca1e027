"""Where to look: motion between sampled frames, and the full-resolution crops (the detector's input size) that
cover the moving parts, or the whole frame in overlapping tiles. Resizing a whole frame to the detector's input
loses small people; crops at full resolution keep them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

Box = tuple[int, int, int, int]
"""x1, y1, x2, y2 in frame pixels."""


@dataclass(frozen=True, slots=True)
class MotionConfig:
    scale: int = 4
    """Motion is measured on every ``scale``-th pixel in each direction."""
    threshold: int = 25
    """Change of grey level (0–255) that counts as motion."""
    min_pixels: int = 20
    """Smallest moving blob, in sampled pixels."""


class MotionDetector:
    """Differences between consecutive sampled frames, as boxes around the changed blobs."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self._config = config or MotionConfig()
        self._previous: np.ndarray | None = None

    def update(self, image: np.ndarray) -> list[Box]:
        """Boxes (frame pixels) of what moved since the previous call; none for the first frame or a new size."""
        s = self._config.scale
        grey = image[::s, ::s, 1].astype(np.int16)  # the green channel carries most of the luma
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return []
        moving = np.abs(grey - previous) > self._config.threshold
        moving = ndimage.binary_dilation(moving, iterations=2)
        labels, count = ndimage.label(moving)
        if count == 0:
            return []
        boxes = []
        sizes = ndimage.sum_labels(moving, labels, index=np.arange(1, count + 1))
        for size, found in zip(sizes, ndimage.find_objects(labels), strict=True):
            if found is None or size < self._config.min_pixels:
                continue
            rows, columns = found
            boxes.append((columns.start * s, rows.start * s, columns.stop * s, rows.stop * s))
        return boxes


def tiles(width: int, height: int, size: int, overlap: int = 96) -> list[Box]:
    """Overlapping ``size`` squares covering the frame (one frame-sized box when the frame is smaller)."""
    return [
        (x, y, min(width, x + size), min(height, y + size))
        for y in _starts(height, size, overlap)
        for x in _starts(width, size, overlap)
    ]


def _starts(length: int, size: int, overlap: int) -> list[int]:
    if length <= size:
        return [0]
    count = math.ceil((length - overlap) / (size - overlap))
    return [round(i * (length - size) / (count - 1)) for i in range(count)] if count > 1 else [0]


def plan_crops(width: int, height: int, boxes: list[Box], size: int, margin: int = 24) -> list[Box]:
    """Crops of ``size`` (clamped to the frame) covering every box grown by ``margin``: nearby boxes share a
    crop, a box larger than a crop is tiled."""
    grown = [
        (max(0, x1 - margin), max(0, y1 - margin), min(width, x2 + margin), min(height, y2 + margin))
        for x1, y1, x2, y2 in boxes
    ]
    crops: list[Box] = []
    for x1, y1, x2, y2 in _merge(grown, size):
        if x2 - x1 <= size and y2 - y1 <= size:
            crops.append(_centred(x1, y1, x2, y2, width, height, size))
        else:
            crops.extend(
                _centred(tx1, ty1, tx2, ty2, width, height, size)
                for tx1, ty1, tx2, ty2 in _shifted(tiles(x2 - x1, y2 - y1, size), x1, y1)
            )
    unique: list[Box] = []
    for crop in sorted(set(crops)):
        if not any(_contains(other, crop) for other in unique):
            unique.append(crop)
    return unique


def _merge(boxes: list[Box], size: int) -> list[Box]:
    """Union boxes whose union still fits in one crop, repeatedly; the rest stay apart."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                fits = union[2] - union[0] <= size and union[3] - union[1] <= size
                if fits or _overlap(a, b):
                    merged[i] = union
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _shifted(boxes: list[Box], dx: int, dy: int) -> list[Box]:
    return [(x1 + dx, y1 + dy, x2 + dx, y2 + dy) for x1, y1, x2, y2 in boxes]


def _centred(x1: int, y1: int, x2: int, y2: int, width: int, height: int, size: int) -> Box:
    """The ``size`` square centred on the box, moved inside the frame."""
    w, h = min(size, width), min(size, height)
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    left = min(max(0, cx - w // 2), width - w)
    top = min(max(0, cy - h // 2), height - h)
    return (left, top, left + w, top + h)
