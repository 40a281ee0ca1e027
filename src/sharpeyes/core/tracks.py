"""Tracks as the platform keeps them for search (video structuring, 视频结构化): what was seen, where, when, and
what it looked like."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

COLOURS = ("black", "grey", "white", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
"""The fixed palette colours are named in."""
COLOURS_ZH = {
    "black": "黑", "grey": "灰", "white": "白", "red": "红", "orange": "橙", "yellow": "黄", "green": "绿",
    "blue": "蓝", "purple": "紫", "pink": "粉", "brown": "棕",
}  # fmt: skip
CARRIED_CLASSES = ("backpack", "handbag", "suitcase", "umbrella")
"""Things a person carries that are kept with the person's track."""
STRUCTURED_CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck", *CARRIED_CLASSES)
"""The classes whose tracks are kept for search."""
DIRECTIONS = ("left", "right", "up", "down", "still")
"""Direction of travel in the picture, from the track's first box to its last."""


@dataclass(frozen=True, slots=True)
class TrackRecord:
    camera_id: str
    class_name: str
    """COCO class name (person, car, bicycle, …)."""
    start: datetime
    end: datetime
    upper_colour: str | None = None
    """A person's upper-body colour, or a vehicle's body colour (``analytics.attributes.COLOURS``)."""
    lower_colour: str | None = None
    carried: tuple[str, ...] = ()
    """Bags seen with a person (backpack, handbag, suitcase)."""
    zones: tuple[str, ...] = ()
    """The camera's rule zones the object's feet entered."""
    height_px: int = 0
    """The object's height in the picture at its best sighting."""
    direction: str = "still"
    score: float = 0.0
    thumbnail: str | None = None
    """The best picture's file, relative to the tracks directory."""
    embedding: np.ndarray | None = field(default=None, compare=False)
    """Appearance of the best picture (unit vector), for search by example."""
    id: int | None = field(default=None, compare=False)

    @property
    def dwell_s(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class TrackFilter:
    """What a search asks of tracks; every field given must hold (an empty set asks nothing)."""

    start: datetime
    end: datetime
    classes: frozenset[str] = frozenset()
    upper_colours: frozenset[str] = frozenset()
    lower_colours: frozenset[str] = frozenset()
    any_colours: frozenset[str] = frozenset()
    """Colours the object has, upper or lower (a colour said without a garment)."""
    carried: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    """Rule zones the object entered (every one given)."""
    camera_ids: frozenset[str] | None = None
    """None: every camera (the caller's scope is applied by the service)."""
    area_code: str | None = None
    """Only cameras in this area or below it."""
    site_ids: frozenset[int] | None = None
    """Only cameras at these sites."""
    site_types: frozenset[str] = frozenset()
    """Only cameras at sites of these types (school, kindergarten…)."""
    limit: int = 50

    def looks_like(self, track: TrackRecord) -> bool:
        """Whether ``track`` has the colours, bags and zones asked for (what an appearance index does not check)."""
        colours = {track.upper_colour, track.lower_colour}
        return (
            (not self.upper_colours or track.upper_colour in self.upper_colours)
            and (not self.lower_colours or track.lower_colour in self.lower_colours)
            and self.any_colours <= colours
            and self.carried <= set(track.carried)
            and self.zones <= set(track.zones)
        )


@dataclass(frozen=True, slots=True)
class AppearanceFilter:
    """What an appearance index can check while it searches: the cheap, selective fields of a track."""

    start: datetime
    end: datetime
    classes: frozenset[str] = frozenset()
    camera_ids: frozenset[str] | None = None
    """None: every camera; an empty set: none."""


class AppearanceIndex(Protocol):
    """Appearance embeddings of tracks, searched by likeness under a filter: sqlite-vec (with an IVF index past a
    few hundred thousand) on one machine, pgvector at scale."""

    def add(self, tracks: Sequence[TrackRecord]) -> None:
        """Index these stored tracks (``id`` and ``embedding`` set) by their embeddings."""
        ...

    def newest(self) -> int:
        """The highest track id indexed (0: none), to catch up from after a restart."""
        ...

    def nearest(self, vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` (track id, likeness) pairs, most alike first; likeness is the cosine of the two vectors."""
        ...

    def close(self) -> None: ...
