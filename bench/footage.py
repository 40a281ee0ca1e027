"""Camera-like footage for the benchmarks, generated once and cached."""

from __future__ import annotations

import random
from pathlib import Path

import av

FPS = 25


def make_camera_clip(path: Path, seconds: int) -> Path:
    """1080p with sensor-like noise over moving shapes, capped near 3 Mbit/s, a keyframe every 2 s."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial.mp4")
    rng = random.Random(3)  # noqa: S311 - test picture, not secrets
    noise = [bytes(rng.randrange(256) for _ in range(1920 * 64)) for _ in range(8)]
    options = {"preset": "ultrafast", "g": str(FPS * 2), "bf": "0", "maxrate": "3M", "bufsize": "3M", "b": "3M"}
    with av.open(str(partial), "w") as output:
        stream = output.add_stream("libx264", rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        for index in range(seconds * FPS):
            frame = av.VideoFrame(1920, 1080, "yuv420p")
            luma = bytearray(b"".join(noise[(index + row) % 8] for row in range(17)))[: 1920 * 1080]
            bar = (index * 16) % (1920 - 64)
            for row in range(200, 400):
                luma[row * 1920 + bar : row * 1920 + bar + 64] = b"\xff" * 64
            frame.planes[0].update(bytes(luma))
            frame.planes[1].update(bytes([128]) * (960 * 540))
            frame.planes[2].update(bytes([128]) * (960 * 540))
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    partial.replace(path)
    return path
