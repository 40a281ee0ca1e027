"""Privacy masks (隐私遮挡): polygons over parts of a camera's picture that viewers without ``mask.lift`` never see
— a window of a home, a school's changing-room door. Coordinates are normalised (0..1 of width and height) so one
mask fits the main and the sub-stream alike."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sharpeyes.core.errors import InvalidInputError

MAX_POLYGONS = 32
MAX_POINTS = 64


@dataclass(frozen=True, slots=True)
class MaskPolygon:
    points: tuple[tuple[float, float], ...]
    """Corners in order, x then y, each 0..1 (0, 0 the top left)."""
    name: str = ""


def checked_polygons(raw: Iterable[tuple[Sequence[Sequence[float]], str]]) -> tuple[MaskPolygon, ...]:
    """Polygons from ``(points, name)`` pairs, refused with the number of the first bad one: each needs 3 to 64
    finite points within 0..1 and a non-zero area; a camera has at most 32."""
    polygons: list[MaskPolygon] = []
    for number, (points, name) in enumerate(raw, start=1):
        if number > MAX_POLYGONS:
            raise InvalidInputError(f"a camera has at most {MAX_POLYGONS} privacy masks", code="too_many_masks")
        corners: list[tuple[float, float]] = []
        for point in points:
            if len(point) != 2 or not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in point):
                raise InvalidInputError(
                    f"mask {number}: every point is [x, y] with both between 0 and 1 (fractions of the picture)",
                    code="bad_mask",
                    field="polygons",
                )
            corners.append((float(point[0]), float(point[1])))
        if not 3 <= len(corners) <= MAX_POINTS:
            raise InvalidInputError(
                f"mask {number}: a polygon has 3 to {MAX_POINTS} points", code="bad_mask", field="polygons"
            )
        if _area(corners) < 1e-6:
            raise InvalidInputError(f"mask {number}: the polygon covers nothing", code="bad_mask", field="polygons")
        polygons.append(MaskPolygon(tuple(corners), name.strip()[:100]))
    return tuple(polygons)


def _area(corners: Sequence[tuple[float, float]]) -> float:
    """The shoelace area (absolute)."""
    twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(corners, [*corners[1:], corners[0]], strict=True))
    return abs(twice) / 2
