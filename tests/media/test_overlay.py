"""Painting masks and a watermark into decoded pictures: exactly the masked area changes, the rest of every frame
stays as the camera sent it (the decoder's reference pictures are never painted), and odd sizes are handled."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from sharpeyes.core.errors import InvalidInputError
from sharpeyes.core.masks import MaskPolygon, checked_polygons
from sharpeyes.media.overlay import MASK_LUMA, FramePainter, paint_jpeg
from sharpeyes.media.repaint import repaint_file

TOP_LEFT = MaskPolygon(((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)))


def _luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray").astype(int) for frame in container.decode(video=0)]


def test_only_the_masked_area_changes_in_every_frame(clip: Path, tmp_path: Path) -> None:
    source = tmp_path / "source.mp4"
    with av.open(str(clip)) as reader, av.open(str(source), "w") as writer:  # the first 3 s: 30 frames, 3 GOPs
        stream = reader.streams.video[0]
        assert stream.time_base is not None
        out = writer.add_stream_from_template(stream)
        for packet in reader.demux(stream):
            if packet.dts is not None and packet.dts * stream.time_base >= 3:
                break
            if packet.size:
                packet.stream = out
                writer.mux(packet)
    painted = tmp_path / "painted.mp4"
    assert repaint_file(source, painted, FramePainter([TOP_LEFT])) == 30
    before, after = _luma(source), _luma(painted)
    assert len(before) == len(after) == 30
    for index, (original, masked) in enumerate(zip(before, after, strict=True)):
        height, width = original.shape
        inside = masked[: height // 2 - 2, : width // 2 - 2]
        assert abs(inside.mean() - MASK_LUMA) < 4, f"frame {index}: the mask is painted"
        assert inside.std() < 2, f"frame {index}: nothing of the scene shows through"
        outside = np.abs(masked[height // 2 + 4 :, :] - original[height // 2 + 4 :, :]).mean()
        assert outside < 3, f"frame {index}: the rest of the picture is the camera's ({outside:.1f} apart)"


def test_odd_sizes_and_other_pixel_formats_are_painted() -> None:
    frame = av.VideoFrame.from_ndarray(np.full((101, 75, 3), 200, np.uint8), format="rgb24")
    frame.pts = 7
    painted = FramePainter([TOP_LEFT], "admin 2026-11-29 08:00 UTC").paint(frame)
    assert (painted.width, painted.height, painted.format.name, painted.pts) == (74, 100, "yuv420p", 7)
    luma = painted.to_ndarray(format="gray")
    assert abs(int(luma[10, 10]) - MASK_LUMA) < 6  # limited-range Y read back as full-range grey
    assert luma[60:, 40:].mean() > 150, "outside the mask and the watermark the picture is untouched"


def test_a_jpeg_is_masked() -> None:
    buffer = BytesIO()
    Image.new("RGB", (64, 48), (250, 250, 250)).save(buffer, format="JPEG")
    masked = np.asarray(Image.open(BytesIO(paint_jpeg(buffer.getvalue(), [TOP_LEFT]))).convert("L"))
    assert abs(int(masked[5, 5]) - MASK_LUMA) < 4
    assert masked[40, 50] > 240


@pytest.mark.parametrize(
    "points",
    [
        [[0.1, 0.1], [0.2, 0.2]],
        [[0.1, 0.1], [0.2, float("nan")], [0.3, 0.1]],
        [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]],
        [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]] * 17,
    ],
)
def test_bad_polygons_are_refused_with_their_number(points: list[list[float]]) -> None:
    with pytest.raises(InvalidInputError, match="mask 2"):
        checked_polygons([([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], "ok"), (points, "bad")])
