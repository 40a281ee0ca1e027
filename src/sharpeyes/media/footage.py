"""Sample footage for the demo: found on disk, unpacked from Debian's opencv-doc, or generated."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

OPENCV_DOC_CLIP = "usr/share/doc/opencv-doc/examples/data/vtest.avi"


def extract_opencv_doc_clip(dest: Path, *, timeout_s: float = 300.0) -> Path | None:
    """PETS 2009 S2.L1 (``vtest.avi``) from Debian's ``opencv-doc`` package; ``apt-get download`` needs no root.

    Returns None (and logs why) when the package cannot be had.
    """
    if dest.exists():
        return dest
    apt, dpkg = shutil.which("apt-get"), shutil.which("dpkg-deb")
    if apt is None or dpkg is None:
        logger.info("no apt-get/dpkg-deb here: cannot unpack opencv-doc")
        return None
    with tempfile.TemporaryDirectory(prefix="sharpeyes-opencv-doc-") as tmp:
        try:
            fetch = [apt, "download", "opencv-doc"]
            subprocess.run(fetch, cwd=tmp, check=True, capture_output=True, timeout=timeout_s)  # noqa: S603 - fixed argv
            debs = sorted(Path(tmp).glob("opencv-doc_*.deb"))
            if not debs:
                return None
            unpacked = Path(tmp) / "unpacked"
            unpack = [dpkg, "-x", str(debs[0]), str(unpacked)]
            subprocess.run(unpack, check=True, capture_output=True, timeout=timeout_s)  # noqa: S603 - fixed argv
        except (subprocess.SubprocessError, OSError) as err:
            logger.info("could not download opencv-doc: %s", err)
            return None
        clip = unpacked / OPENCV_DOC_CLIP
        if not clip.is_file():
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, dest)
    return dest


def generate_scene(dest: Path, *, seed: int, duration_s: float = 20.0, fps: int = 10) -> Path:
    """A synthetic street: coloured walkers crossing a gradient road, with a running clock. H.264, 640x360."""
    width, height = 640, 360
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial.mp4")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "g": str(fps * 2)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        background = _background(width, height, seed)
        for index in range(int(duration_s * fps)):
            image = background.copy()
            _draw_walkers(ImageDraw.Draw(image), index, width, height, seed)
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(dest)
    return dest


def _background(width: int, height: int, seed: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = 60 + (y * 120) // height
        draw.line([(0, y), (width, y)], fill=(shade, shade + (seed * 17) % 40, shade))
    draw.rectangle([0, height // 2 - 30, width, height // 2 + 30], fill=(90, 90, 95))
    return image


def _draw_walkers(draw: ImageDraw.ImageDraw, index: int, width: int, height: int, seed: int) -> None:
    colours = [(200, 40, 40), (40, 80, 200), (230, 200, 40), (240, 240, 240)]
    for walker in range(3 + seed % 3):
        speed = 2 + (walker + seed) % 4
        x = (index * speed + walker * 150) % (width + 40) - 20
        y = height // 2 - 60 + walker * 25
        colour = colours[(walker + seed) % len(colours)]
        draw.rectangle([x, y, x + 14, y + 40], fill=colour)
        draw.ellipse([x + 2, y - 12, x + 12, y - 2], fill=(230, 190, 160))
    seconds = index // 10
    draw.text((10, 10), f"SHARP EYES DEMO  {seconds // 60:02d}:{seconds % 60:02d}", fill=(255, 255, 255))
