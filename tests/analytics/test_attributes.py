"""Named colours of people and vehicles, on real footage (PETS09 ground-truth boxes; the parking lot's cars)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sharpeyes.analytics.attributes import dominant_colour, object_colours
from sharpeyes.analytics.mot import read_mot
from sharpeyes.core.tracks import COLOURS, COLOURS_ZH
from tests.conftest import DATA


def _frames(clip: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """0-based frame index → BGR picture."""
    if not clip.exists():
        pytest.skip(f"{clip} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    found = {}
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = frame.to_ndarray(format="bgr24")
            if index >= max(wanted):
                break
    return found


def test_plain_colours_are_named_and_a_shadow_keeps_its_hue() -> None:
    def patch(bgr: tuple[int, int, int]) -> np.ndarray:
        return np.full((20, 20, 3), bgr, np.uint8)

    assert dominant_colour(patch((30, 30, 200))) == "red"
    assert dominant_colour(patch((15, 15, 90))) == "red", "a red top in shadow is still red"
    assert dominant_colour(patch((200, 80, 30))) == "blue"
    assert dominant_colour(patch((240, 240, 240))) == "white"
    assert dominant_colour(patch((128, 128, 128))) == "grey"
    assert dominant_colour(patch((20, 20, 20))) == "black"
    assert dominant_colour(patch((30, 200, 230))) == "yellow"
    assert dominant_colour(np.zeros((0, 0, 3), np.uint8)) is None
    assert set(COLOURS_ZH) == set(COLOURS)


def test_people_in_pets09_get_the_colours_they_wear() -> None:
    pets = DATA / "pets09-s2l1"
    truth = read_mot(pets / "gt" / "gt.txt", min_confidence=1)
    # Watched: in MOT frame 450, person 10 wears a red top and jeans, person 9 a dark coat and jeans;
    # in MOT frame 600 person 3 wears a red top and dark trousers.
    wanted = {(450, 10): ("red", "blue"), (450, 9): ("black", "blue"), (600, 3): ("red", "black")}
    frames = _frames(pets / "pets09-s2l1.mp4", {frame - 1 for frame, _ in wanted})
    for row in truth:
        expected = wanted.get((row.frame, row.track_id))
        if expected is None:
            continue
        image = frames[row.frame - 1]
        pad_x, pad_y = row.w / 10, row.h / 10
        top, left = int(max(0, row.y - pad_y)), int(max(0, row.x - pad_x))
        crop = image[top : int(row.y + row.h + pad_y), left : int(row.x + row.w + pad_x)]
        colours = object_colours(crop, person=True)
        assert (colours.upper, colours.lower) == expected, (row.frame, row.track_id)


def test_cars_in_the_parking_lot_get_their_body_colour() -> None:
    # Watched: frame 90 shows the first white car at the top, left of the middle; frame 216 the red car beside it.
    frames = _frames(DATA / "clips" / "car-detection.mp4", {90, 216})
    white = frames[90][0:180, 260:410]
    red = frames[216][30:280, 300:460]
    assert object_colours(white, person=False).upper == "white"
    assert object_colours(red, person=False).upper == "red"
    assert object_colours(red, person=False).lower is None
