"""A cheap appearance signature per box: colour histograms of the upper and lower half of the object's middle, for
telling apart tracks that cross (a red top from a dark coat) without a re-identification model."""

from __future__ import annotations

import numpy as np

LEVELS = 4
"""Levels per colour channel: 4 × 4 × 4 bins per half."""
SAMPLES = 16
"""Pixels sampled along each side of a half."""


def colour_signatures(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, 2 × LEVELS³) unit vectors for ``boxes`` (N, 4 xyxy) in ``image`` (H × W × 3 BGR)."""
    height, width = image.shape[:2]
    bins = LEVELS**3
    out = np.zeros((len(boxes), 2 * bins), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        w, h = x2 - x1, y2 - y1
        left, right = int(max(0, x1 + 0.2 * w)), int(min(width, x2 - 0.2 * w))
        top, bottom = int(max(0, y1 + 0.1 * h)), int(min(height, y2 - 0.1 * h))
        if right - left < 2 or bottom - top < 4:
            continue
        middle = (top + bottom) // 2
        for half, (a, b) in enumerate(((top, middle), (middle, bottom))):
            ys = np.linspace(a, b - 1, SAMPLES).astype(int)
            xs = np.linspace(left, right - 1, SAMPLES).astype(int)
            pixels = image[np.ix_(ys, xs)].reshape(-1, 3) // (256 // LEVELS)
            index = (pixels[:, 0] * LEVELS + pixels[:, 1]) * LEVELS + pixels[:, 2]
            out[i, half * bins : (half + 1) * bins] = np.bincount(index, minlength=bins)
    out = np.sqrt(out)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.asarray(out / np.maximum(norms, 1e-6), np.float32)
