"""Where to look: motion between sampled frames, and the crops that cover the moving parts and the tracked objects.
Resizing a whole frame to the detector's input loses small people; crops at full resolution keep them, and small
crops cost little."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

Box = tuple[int, int, int, int]
"""x1, y1, x2, y2 in frame pixels."""
MERGE_SLACK = 1.25
"""Two overlapping crops become one when its area is at most this times theirs (one call instead of two)."""


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


def plan_crops(
    width: int, height: int, boxes: list[Box], size: int, *, margin: float = 0.25, min_side: int = 96
) -> list[Box]:
    """Crops covering every box grown by ``margin`` of its height each way (context the detector needs), each at
    least ``min_side`` square where the frame allows; boxes whose crops overlap share one while it fits in ``size``
    and costs little more. Crops are as small as that allows: the detector's cost follows their area. A crop larger
    than ``size`` holds a large object, which the detector can see scaled down."""
    grown = []
    for x1, y1, x2, y2 in boxes:
        pad = max(8, round(margin * (y2 - y1)))
        grown.append(_at_least(x1 - pad, y1 - pad, x2 + pad, y2 + pad, width, height, min_side))
    unique: list[Box] = []
    for crop in sorted(set(_merge(grown, size)), key=lambda c: -area(c)):
        if not any(_contains(other, crop) for other in unique):
            unique.append(crop)
    return unique


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _merge(boxes: list[Box], size: int) -> list[Box]:
    """Union overlapping boxes, repeatedly, while the union fits in one crop and costs little more than the two
    (``MERGE_SLACK``); the rest stay apart."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                fits = union[2] - union[0] <= size and union[3] - union[1] <= size
                if fits and _overlap(a, b) and area(union) <= MERGE_SLACK * (area(a) + area(b)):
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


def _at_least(x1: int, y1: int, x2: int, y2: int, width: int, height: int, side: int) -> Box:
    """The box, clamped to the frame and widened (about its centre, kept inside) to ``side`` each way."""
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
    if x2 - x1 < side:
        x1 = min(max(0, (x1 + x2 - side) // 2), max(0, width - side))
        x2 = min(width, x1 + side)
    if y2 - y1 < side:
        y1 = min(max(0, (y1 + y2 - side) // 2), max(0, height - side))
        y2 = min(height, y1 + side)
    return (x1, y1, x2, y2)
