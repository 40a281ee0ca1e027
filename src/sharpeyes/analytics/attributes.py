"""Searchable attributes of a tracked object from its picture: named colours (a fixed palette, in English and
Chinese) of a person's upper and lower body or of a vehicle's body.

Each pixel is named by hue when it has colour enough and by brightness when it has not; a shadow darkens a
colour but keeps its hue, so saturated dark pixels still count for their hue and only very dark ones are black.
The dominant colour is the most common name, except that a colour (not black, grey or white) wins with a third of
the pixels, and then white does: clothes have folds, straps and shadows in other greys, and shading turns white
grey, never the reverse. The picture's left and right edges show the
background (grass, road); its commonest name counts for little inside the object, where it shows between legs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sharpeyes.core.tracks import COLOURS

ACHROMATIC = frozenset({"black", "grey", "white"})
CHROMATIC_SHARE = 1 / 3
"""A colour this common in a region names it, even when black, grey or white pixels are more common."""
BACKGROUND_WEIGHT = 0.25
"""How much a pixel of the background's colour counts inside the object."""
DARK = 0.16
"""Below this brightness (0–1) a pixel is black whatever its hue."""
GREYISH = 0.22
"""Below this saturation a pixel is black, grey or white by its brightness."""


@dataclass(frozen=True, slots=True)
class Colours:
    upper: str | None
    """A person's upper body, or a vehicle's body."""
    lower: str | None
    """A person's lower body (None for other objects)."""


def object_colours(picture: np.ndarray, person: bool) -> Colours:
    """The named colours of an object's picture (H × W × 3 BGR, the object filling most of it)."""
    height, width = picture.shape[:2]
    if height < 8 or width < 4:
        return Colours(None, None)
    left, right = int(width * 0.25), max(int(width * 0.75), int(width * 0.25) + 1)
    edge = max(1, width // 12)
    border = np.concatenate([picture[:, :edge].reshape(-1, 3), picture[:, -edge:].reshape(-1, 3)])
    background = int(np.argmax(np.bincount(_pixel_names(border), minlength=len(COLOURS))))
    if not person:
        body = picture[int(height * 0.2) : int(height * 0.8), left:right]
        return Colours(dominant_colour(body, background), None)
    upper = picture[int(height * 0.18) : int(height * 0.48), left:right]
    lower = picture[int(height * 0.58) : int(height * 0.88), left:right]
    return Colours(dominant_colour(upper, background), dominant_colour(lower, background))


def dominant_colour(region: np.ndarray, background: int | None = None) -> str | None:
    """The palette name of a region (BGR), or None for an empty one; ``background`` (an index into ``COLOURS``)
    counts a quarter."""
    if region.size == 0:
        return None
    names = _pixel_names(region.reshape(-1, 3))
    counts = np.bincount(names, minlength=len(COLOURS)).astype(np.float64)
    if background is not None:
        counts[background] *= BACKGROUND_WEIGHT
    chromatic = [i for i, name in enumerate(COLOURS) if name not in ACHROMATIC]
    best_colour = max(chromatic, key=lambda i: counts[i])
    if counts[best_colour] >= CHROMATIC_SHARE * len(names):
        return COLOURS[best_colour]
    if counts[COLOURS.index("white")] >= CHROMATIC_SHARE * len(names):  # shading makes white grey, never the reverse
        return "white"
    return COLOURS[int(np.argmax(counts))]


def _pixel_names(bgr: np.ndarray) -> np.ndarray:
    """Index into ``COLOURS`` for each pixel (N × 3 uint8 BGR)."""
    rgb = bgr[:, ::-1].astype(np.float32) / 255.0
    value = rgb.max(axis=1)
    spread = value - rgb.min(axis=1)
    saturation = np.where(value > 0, spread / np.maximum(value, 1e-6), 0.0)
    hue = _hue(rgb, value, spread)
    names = np.full(len(rgb), COLOURS.index("grey"), np.int64)
    names[value >= 0.72] = COLOURS.index("white")
    names[value < 0.3] = COLOURS.index("black")
    coloured = (saturation >= GREYISH) & (value >= DARK)
    by_hue = np.select(
        [hue < 15, hue < 40, hue < 68, hue < 165, hue < 255, hue < 290, hue < 340],
        [COLOURS.index(n) for n in ("red", "orange", "yellow", "green", "blue", "purple", "pink")],
        COLOURS.index("red"),
    )
    # Orange and red that are dark are brown; light, weakly saturated red is pink.
    brownish = np.isin(by_hue, [COLOURS.index("orange"), COLOURS.index("red")]) & (value < 0.5) & (hue < 40)
    by_hue = np.where(brownish & (by_hue == COLOURS.index("orange")), COLOURS.index("brown"), by_hue)
    pinkish = (by_hue == COLOURS.index("red")) & (saturation < 0.45) & (value > 0.65)
    by_hue = np.where(pinkish, COLOURS.index("pink"), by_hue)
    names[coloured] = by_hue[coloured]
    names[value < DARK] = COLOURS.index("black")
    return names


def _hue(rgb: np.ndarray, value: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Hue in degrees (0–360) of RGB rows in 0–1."""
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    safe = np.maximum(spread, 1e-6)
    hue = np.where(value == r, ((g - b) / safe) % 6, np.where(value == g, (b - r) / safe + 2, (r - g) / safe + 4))
    return np.asarray(hue * 60.0)
