"""Video quality diagnosis (视频质量诊断) on a few decoded frames: each check gives a score and a verdict.

Checks, on frames a second or so apart:
- ``signal``: a uniform picture (black, blue or grey screen) — luma standard deviation;
- ``frozen``: no change at all between frames — mean absolute difference;
- ``blur``: detail lost to focus or a dirty lens — how much a 1-px blur removes relative to a 3-px blur
  (scale-free, so a plain scene is not taken for a blurred one);
- ``occlusion``: part of the view covered — share of a 4×4 grid with almost no texture;
- ``colour_cast``: one colour dominating — spread of the channel means over brightness;
- ``dark`` / ``bright``: mean luma out of range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from PIL import Image, ImageChops, ImageFilter, ImageStat


@dataclass(frozen=True, slots=True)
class QualityLimits:
    min_contrast: float = 6.0
    min_motion: float = 0.25
    min_sharpness: float = 0.12
    max_covered: float = 0.3
    max_cast: float = 0.45
    min_luma: float = 35.0
    max_luma: float = 225.0


@dataclass(frozen=True, slots=True)
class QualityCheck:
    name: str
    score: float
    passed: bool


ANALYSIS_WIDTH = 640


def diagnose(frames: Sequence[Image.Image], limits: QualityLimits) -> list[QualityCheck]:
    """All checks over ``frames`` (at least one; ``frozen`` needs two or more, else it passes)."""
    if not frames:
        raise ValueError("diagnosis needs at least one frame")
    pictures = [_prepare(frame) for frame in frames]
    luma = [picture.convert("L") for picture in pictures]
    last, last_rgb = luma[-1], pictures[-1]
    stat = ImageStat.Stat(last)
    contrast, brightness = stat.stddev[0], stat.mean[0]
    motion = max((_mean_difference(a, b) for a, b in pairwise(luma)), default=float("inf"))
    sharpness = _sharpness(last)
    covered = _covered_share(last)
    cast = _colour_cast(last_rgb, brightness)
    uniform = contrast < limits.min_contrast
    return [
        QualityCheck("signal", contrast, not uniform),
        QualityCheck("frozen", motion, motion >= limits.min_motion),
        QualityCheck("blur", sharpness, uniform or sharpness >= limits.min_sharpness),
        QualityCheck("occlusion", covered, uniform or covered <= limits.max_covered),
        QualityCheck("colour_cast", cast, cast <= limits.max_cast),
        QualityCheck("dark", brightness, brightness >= limits.min_luma),
        QualityCheck("bright", brightness, brightness <= limits.max_luma),
    ]


def _prepare(frame: Image.Image) -> Image.Image:
    picture = frame.convert("RGB")
    if picture.width > ANALYSIS_WIDTH:
        picture = picture.resize((ANALYSIS_WIDTH, max(1, picture.height * ANALYSIS_WIDTH // picture.width)))
    return picture


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])


def _sharpness(luma: Image.Image) -> float:
    fine = _mean_difference(luma, luma.filter(ImageFilter.GaussianBlur(1)))
    coarse = _mean_difference(luma, luma.filter(ImageFilter.GaussianBlur(3)))
    return fine / (coarse + 0.5)


def _covered_share(luma: Image.Image, grid: int = 4, textureless: float = 2.0) -> float:
    width, height = luma.size
    flat = 0
    for column in range(grid):
        for row in range(grid):
            box = (
                column * width // grid,
                row * height // grid,
                (column + 1) * width // grid,
                (row + 1) * height // grid,
            )
            if ImageStat.Stat(luma.crop(box)).stddev[0] < textureless:
                flat += 1
    return flat / grid**2


def _colour_cast(picture: Image.Image, brightness: float) -> float:
    red, green, blue = ImageStat.Stat(picture).mean[:3]
    return (max(red, green, blue) - min(red, green, blue)) / (brightness + 1.0)
