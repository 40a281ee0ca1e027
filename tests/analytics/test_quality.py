"""Quality diagnosis on real footage (../shared/data) with faults applied; clean footage must pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image, ImageFilter

from sharpeyes.analytics.quality import QualityLimits, diagnose
from tests.conftest import DATA

CLIPS = [
    "pets09-s2l1/pets09-s2l1.mp4",
    "clips/car-detection.mp4",
    "clips/one-by-one-person-detection.mp4",
    "clips/classroom-short.mp4",
    "clips/people-detection-short.mp4",
    "clips/store-aisle-detection-short.mp4",
    "clips/worker-zone-detection-short.mp4",
    "clips/person-bicycle-car-detection-short.mp4",
]
LIMITS = QualityLimits()
Fault = Callable[[list[Image.Image]], list[Image.Image]]


def _frames(path: Path, count: int = 3, step: int = 10) -> list[Image.Image]:
    frames: list[Image.Image] = []
    with av.open(str(path), "r") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % step == 0:
                frames.append(frame.to_image())  # type: ignore[no-untyped-call]
            if len(frames) == count:
                break
    return frames


def _real(clip: str) -> list[Image.Image]:
    path = DATA / clip
    if not path.is_file():
        pytest.skip(f"real footage not found at {path}: set SHARPEYES_TEST_DATA to the shared data folder")
    return _frames(path)


def _failed(frames: list[Image.Image]) -> set[str]:
    return {check.name for check in diagnose(frames, LIMITS) if not check.passed}


def _black(frames: list[Image.Image]) -> list[Image.Image]:
    return [Image.new("RGB", f.size, (0, 0, 0)) for f in frames]


def _blue(frames: list[Image.Image]) -> list[Image.Image]:
    return [Image.new("RGB", f.size, (0, 0, 200)) for f in frames]


def _blur(frames: list[Image.Image]) -> list[Image.Image]:
    return [f.filter(ImageFilter.GaussianBlur(3)) for f in frames]


def _frozen(frames: list[Image.Image]) -> list[Image.Image]:
    return [frames[0].copy() for _ in frames]


def _covered(frames: list[Image.Image]) -> list[Image.Image]:
    covered = []
    for frame in frames:
        copy = frame.copy()
        copy.paste((25, 22, 20), (0, 0, frame.width // 2, frame.height))
        covered.append(copy)
    return covered


def _colour_shift(frames: list[Image.Image]) -> list[Image.Image]:
    shifted = []
    for frame in frames:
        red, green, blue = frame.convert("RGB").split()
        shifted.append(
            Image.merge("RGB", (red.point(lambda v: min(255, int(v * 1.6))), green, blue.point(lambda v: int(v * 0.6))))
        )
    return shifted


def _dark(frames: list[Image.Image]) -> list[Image.Image]:
    return [f.point(lambda v: v // 5) for f in frames]


@pytest.mark.parametrize("clip", CLIPS)
def test_clean_footage_passes(clip: str) -> None:
    assert _failed(_real(clip)) == set()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (_black, {"signal", "dark", "frozen"}),
        (_blue, {"signal", "colour_cast", "frozen"}),
        (_blur, {"blur"}),
        (_frozen, {"frozen"}),
        (_covered, {"occlusion"}),
        (_colour_shift, {"colour_cast"}),
        (_dark, {"dark"}),
    ],
)
@pytest.mark.parametrize("clip", CLIPS)
def test_each_fault_is_named(clip: str, fault: Fault, expected: set[str]) -> None:
    assert expected <= _failed(fault(_real(clip)))


def test_no_frames_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        diagnose([], LIMITS)


def test_generated_scene_passes_and_its_faults_fail(clip: Path) -> None:
    """The same checks without shared data: the suite's own generated clip."""
    frames = _frames(clip)
    assert "frozen" not in _failed(frames)
    assert "signal" in _failed(_black(frames))
    assert "frozen" in _failed(_frozen(frames))
