"""Synthetic media files for tests, generated with PyAV only (no numpy needed).

``make_test_clip`` writes an H.264 MP4 whose frames visibly change from one frame to
the next: a bright bar sweeps across a horizontal gradient and a band along the top
edge encodes the frame number in binary (16 cells, most significant bit left).
``make_audio_only_clip`` writes a file with an audio track and no video at all.
"""

from __future__ import annotations

import array
import math
from fractions import Fraction
from pathlib import Path

import av
import av.error

# Tried in this order; only the ones this PyAV build knows about and can open are used.
H264_ENCODER_CANDIDATES: tuple[str, ...] = (
    "libx264",
    "libopenh264",
    "h264_nvenc",
    "h264_qsv",
    "h264_amf",
    "h264_vaapi",
    "h264_videotoolbox",
    "h264_mf",
    "h264_v4l2m2m",
)

FRAME_NUMBER_BITS = 16
FRAME_NUMBER_BAND_ROWS = 16
_DARK = 16
_BRIGHT = 235


class ClipGenerationError(RuntimeError):
    """Raised when a test clip cannot be produced on this machine."""


def _encoder_opens(name: str, width: int, height: int, fps: int) -> bool:
    try:
        ctx = av.CodecContext.create(name, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    if not isinstance(ctx, av.VideoCodecContext):
        return False
    ctx.width = width
    ctx.height = height
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, fps)
    try:
        ctx.open()
    except (av.error.FFmpegError, ValueError, OSError):
        return False
    return True


def pick_h264_encoder(width: int = 320, height: int = 240, fps: int = 10) -> str:
    """Return the name of the first usable H.264 encoder, or raise ``ClipGenerationError``."""
    available = av.codecs_available
    tried: list[str] = []
    for name in H264_ENCODER_CANDIDATES:
        if name not in available:
            continue
        tried.append(name)
        if _encoder_opens(name, width, height, fps):
            return name
    detail = f"tried {', '.join(tried)} but none could be opened" if tried else "none is compiled in"
    raise ClipGenerationError(
        f"PyAV {av.__version__} has no usable H.264 encoder ({detail}); "
        "install a PyAV wheel whose FFmpeg includes libx264"
    )


def _pad_row(row: bytes, line_size: int) -> bytes:
    if len(row) >= line_size:
        return row
    return row + bytes(line_size - len(row))


def _encoder_options(name: str, gop: int, constant_quality: bool = False) -> dict[str, str]:
    if name == "libx265":
        return {"preset": "ultrafast", "x265-params": f"keyint={gop}:min-keyint={gop}:bframes=0:log-level=error"}
    if name == "libx264":
        return {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
            + (":qp=20" if constant_quality else ""),
        }
    if name == "libopenh264":
        return {"allow_skip_frames": "0"}
    return {}


class _FramePainter:
    """Builds Y/U/V plane bytes for frame ``i`` cheaply from cached rows."""

    def __init__(self, width: int, height: int, fps: int, y_line: int, c_line: int) -> None:
        self.width = width
        self.height = height
        self.y_line = y_line
        self.band_rows = min(FRAME_NUMBER_BAND_ROWS, height // 4)
        self.body_rows = height - self.band_rows
        self.bar_width = max(2, width // 10)
        # The bar crosses the picture in about two seconds, so every frame differs.
        self.step = max(1, width // max(1, 2 * fps))
        self.cell_width = max(1, width // FRAME_NUMBER_BITS)
        span = _BRIGHT - 40 - _DARK
        self.gradient = bytes(_DARK + (x * span) // max(1, width - 1) for x in range(width))
        self._bar_rows: dict[int, bytes] = {}
        chroma_rows = (height + 1) // 2
        self.chroma = _pad_row(bytes([128]) * ((width + 1) // 2), c_line) * chroma_rows
        self._cells = (bytes([_DARK]) * self.cell_width, bytes([_BRIGHT]) * self.cell_width)

    def _bar_row(self, x0: int) -> bytes:
        row = self._bar_rows.get(x0)
        if row is None:
            buf = bytearray(self.gradient)
            end = min(self.width, x0 + self.bar_width)
            buf[x0:end] = bytes([_BRIGHT]) * (end - x0)
            row = _pad_row(bytes(buf), self.y_line)
            self._bar_rows[x0] = row
        return row

    def luma(self, index: int) -> bytes:
        bits = [(index >> (FRAME_NUMBER_BITS - 1 - b)) & 1 for b in range(FRAME_NUMBER_BITS)]
        band = b"".join(self._cells[bit] for bit in bits)
        band = band[: self.width] + bytes([_DARK]) * max(0, self.width - len(band))
        band_row = _pad_row(band, self.y_line)
        x0 = (index * self.step) % self.width
        return band_row * self.band_rows + self._bar_row(x0) * self.body_rows


def make_test_clip(
    path: Path,
    *,
    duration_s: float = 600.0,
    fps: int = 10,
    size_wh: tuple[int, int] = (320, 240),
    gop: int = 10,
    still: bool = False,
    codec: str = "h264",
) -> Path:
    """Write an H.264 (yuv420p, no B-frames, keyframe every ``gop`` frames) MP4 to ``path``; ``still``: the
    first picture throughout, every frame decoding to the same pixels (a frozen camera; libx264 only). ``codec``
    may name another encoder, e.g. ``libx265`` for an H.265 camera."""
    width, height = size_wh
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"size_wh must be positive and even, got {size_wh}")
    if fps <= 0 or gop <= 0 or duration_s <= 0:
        raise ValueError("fps, gop and duration_s must be positive")
    encoder = pick_h264_encoder(width, height, fps) if codec == "h264" else codec
    frame_count = max(1, round(duration_s * fps))
    path.parent.mkdir(parents=True, exist_ok=True)

    probe = av.VideoFrame(width, height, "yuv420p")
    painter = _FramePainter(width, height, fps, probe.planes[0].line_size, probe.planes[1].line_size)
    time_base = Fraction(1, fps)

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(encoder, rate=fps, options=_encoder_options(encoder, gop, still))
        if not isinstance(stream, av.VideoStream):
            raise ClipGenerationError(f"encoder {encoder} did not produce a video stream")
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = 0
        for index in range(frame_count):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(painter.luma(0 if still else index))
            frame.planes[1].update(painter.chroma)
            frame.planes[2].update(painter.chroma)
            frame.pts = index
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def make_audio_only_clip(path: Path, duration_s: float = 3.0) -> Path:
    """Write a 440 Hz mono tone with no video track.

    A ``.wav`` suffix gives PCM in WAV; any other suffix (``.m4a`` is the usual one)
    gives AAC in an MP4-family container.
    """
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    rate = 16000
    chunk = 1024
    total = max(1, round(duration_s * rate))
    wav = path.suffix.lower() == ".wav"
    codec, sample_format, typecode, scale = ("pcm_s16le", "s16", "h", 12000.0) if wav else ("aac", "fltp", "f", 0.4)
    container_format = "wav" if wav else "mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        if not isinstance(stream, av.AudioStream):
            raise ClipGenerationError(f"encoder {codec} did not produce an audio stream")
        stream.format = sample_format
        written = 0
        while written < total:
            count = min(chunk, total - written)
            values = (scale * math.sin(2 * math.pi * 440.0 * (written + k) / rate) for k in range(count))
            samples = array.array(typecode, (int(v) for v in values) if wav else values)
            frame = av.AudioFrame(format=sample_format, layout="mono", samples=count)
            frame.planes[0].update(samples.tobytes())
            frame.sample_rate = rate
            frame.pts = written
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
            written += count
        for packet in stream.encode(None):
            container.mux(packet)
    return path
