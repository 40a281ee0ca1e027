"""Recorded video for a viewer who may not see all of it: decoded, painted (privacy masks, a watermark) and encoded
again as H.264 — a clip, or one recorded segment for HLS playback. The stored recording is only read."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import av

from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.media import FRAGMENTED_MP4_OPTIONS
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.segments import media_offset

ENCODER_OPTIONS = {"preset": "veryfast", "crf": "21"}
"""Near the camera's own quality at a few times real time on one core (1080p)."""


def repaint_file(source: Path, out: Path, painter: FramePainter) -> int:
    """``source`` (an MP4 clip) encoded again into ``out`` (MP4 with its index first) with ``painter``'s marks;
    the number of frames written."""
    return _repaint(source, out, painter, {"movflags": "faststart"})


def repaint_segment(path: Path, painter: FramePainter) -> tuple[bytes, bytes]:
    """One recorded fMP4 segment encoded again with ``painter``'s marks: its initialisation and media parts."""
    with tempfile.TemporaryDirectory(prefix="sharpeyes-repaint-") as work:
        out = Path(work) / "segment.mp4"
        _repaint(path, out, painter, FRAGMENTED_MP4_OPTIONS)
        data = out.read_bytes()
        split = media_offset(out)
    return data[:split], data[split:]


def _repaint(source: Path, out: Path, painter: FramePainter, options: dict[str, str]) -> int:
    written = 0
    try:
        with av.open(str(source)) as reader, av.open(str(out), "w", format="mp4", options=options) as writer:
            video = reader.streams.video[0]
            time_base = video.time_base or Fraction(1, 90000)
            encoder: av.VideoStream | None = None
            for frame in reader.decode(video):
                picture = painter.paint(frame)
                if encoder is None:
                    encoder = writer.add_stream("libx264", rate=video.average_rate or 25, options=ENCODER_OPTIONS)
                    encoder.width, encoder.height, encoder.pix_fmt = picture.width, picture.height, "yuv420p"
                    encoder.time_base = time_base
                picture.pts, picture.time_base = frame.pts, time_base
                picture.pict_type = av.video.frame.PictureType.NONE
                writer.mux(encoder.encode(picture))
                written += 1
            if encoder is not None:
                writer.mux(encoder.encode(None))
    except av.FFmpegError as err:
        raise UnavailableError(f"the recording could not be re-encoded: {err}", code="segment_unreadable") from err
    return written
