"""Privacy masks: what painting them in costs, since a masked view must be decoded and encoded again.

For each clip (a 1080p simulated camera, generated once; the shared real ``car-detection.mp4`` when present):
- a clip download: masked (decode, paint, x264 ``veryfast``) against the unmasked clip, which is remuxed
  (the baseline, measured in the same run on the same file);
- a live viewer: masked (decode, paint, x264 ``ultrafast``/zero-latency, as the live path does) against the same
  re-encoding without masks (so the painting's own share shows) and against decoding alone; frames per second
  on this machine (all its cores, as the codecs thread) become "real-time masked viewers per machine".

    .venv/bin/python bench/privacy_masks.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from footage import make_camera_clip

from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.repaint import repaint_file
from sharpeyes.media.segments import SegmentPiece, write_clip
from sharpeyes.media.transcode import BrowserTranscoder

MASKS = (
    MaskPolygon(((0.05, 0.05), (0.35, 0.05), (0.35, 0.4), (0.05, 0.4)), "window"),
    MaskPolygon(((0.6, 0.5), (0.9, 0.55), (0.85, 0.95), (0.55, 0.9), (0.5, 0.7)), "door"),
)
DATA = Path(os.environ.get("SHARPEYES_TEST_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of the simulated 1080p camera clip")
    args = parser.parse_args()
    clips = [make_camera_clip(Path(tempfile.gettempdir()) / "sharpeyes-bench-1080p.mp4", seconds=args.seconds)]
    real = DATA / "clips" / "car-detection.mp4"
    if real.exists():
        clips.append(real)
    else:
        print(f"({real} not found: set SHARPEYES_TEST_DATA for the real clip)")
    for clip in clips:
        measure(clip)


def measure(clip: Path) -> None:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        duration_s = float(stream.frames / stream.average_rate) if stream.frames and stream.average_rate else 0.0
        fps = float(stream.average_rate or 25)
    print(f"\n{clip.name}: {width}x{height}, {duration_s:.1f} s at {fps:g} fps")
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-masks-") as work:
        started = time.perf_counter()
        write_clip([SegmentPiece(clip, datetime(2026, 1, 1, tzinfo=UTC))], _EARLY, _LATE, Path(work) / "plain.mp4")
        remux_s = time.perf_counter() - started
        started = time.perf_counter()
        frames = repaint_file(clip, Path(work) / "masked.mp4", FramePainter(MASKS))
        masked_s = time.perf_counter() - started
    print(f"  clip download: remuxed (baseline) {remux_s * 1000:.0f} ms; masked {masked_s:.2f} s "
          f"({frames / masked_s:.0f} fps, {duration_s / masked_s:.1f}x real time) = {masked_s / remux_s:.0f}x the "
          f"remux")  # fmt: skip

    decode_fps = _decode_fps(clip)
    plain_fps = _live_fps(clip, None)
    masked_fps = _live_fps(clip, FramePainter(MASKS))
    print(f"  live, {os.cpu_count()} cores: decode only {decode_fps:.0f} fps; re-encoded without masks "
          f"{plain_fps:.0f} fps; masked {masked_fps:.0f} fps (painting costs "
          f"{(plain_fps / masked_fps - 1) * 100:.0f}% over the re-encoding)")  # fmt: skip
    print(f"  => about {masked_fps / fps:.1f} masked real-time live viewers on this machine at {fps:g} fps "
          f"(unmasked viewers cost no encoding: they share the camera's packets)")  # fmt: skip


_EARLY = datetime(2000, 1, 1, tzinfo=UTC)
_LATE = datetime(2100, 1, 1, tzinfo=UTC)


def _packets(clip: Path) -> tuple[StreamInfo, list[EncodedPacket]]:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90000)
        context = stream.codec_context
        info = StreamInfo(stream.codec_context.name, context.width, context.height, time_base, context.extradata)
        packets = [
            EncodedPacket(bytes(p), p.pts, p.dts, time_base, bool(p.is_keyframe), 0.0)
            for p in container.demux(stream)
            if p.size
        ]
    return info, packets


def _decode_fps(clip: Path) -> float:
    info, packets = _packets(clip)
    decoder = cast(av.VideoCodecContext, av.CodecContext.create(info.codec, "r"))
    decoder.extradata = info.extradata
    started, frames = time.perf_counter(), 0
    for packet in packets:
        frames += len(decoder.decode(av.Packet(packet.data)))
    return frames / (time.perf_counter() - started)


def _live_fps(clip: Path, painter: FramePainter | None) -> float:
    """Frames a second one transcoder turns out (``painter`` None: re-encoded as is)."""
    info, packets = _packets(clip)
    transcoder = BrowserTranscoder(info, painter)
    started, frames = time.perf_counter(), 0
    for packet in packets:
        frames += len(transcoder.push(packet))
    transcoder.close()
    return frames / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
