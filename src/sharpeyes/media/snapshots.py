"""Still images from a live stream, decoded only when someone asks (from the last keyframe on)."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import av
from PIL import Image

from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import UnavailableError
from sharpeyes.media.relay import GopView


@dataclass(frozen=True, slots=True)
class Snapshot:
    jpeg: bytes
    width: int
    height: int
    received_s: float
    """Monotonic time the newest packet in the picture arrived."""
    frame_at: datetime
    """The same moment on the wall clock (fixed when the picture is taken, so it does not jitter)."""


class SnapshotTaker:
    """Decodes the current GOP on demand; viewers asking within ``reuse_s`` of each other share one decode."""

    def __init__(self, jpeg_quality: int, reuse_s: float = 0.25) -> None:
        self._quality = jpeg_quality
        self._reuse_s = reuse_s
        self._lock = threading.Lock()
        self._cached: tuple[int, float, Snapshot] | None = None

    def take(self, gop: GopView | None) -> Snapshot:
        if gop is None:
            raise UnavailableError("no picture yet: the camera has not sent a keyframe", code="no_frame")
        with self._lock:
            if self._cached is not None:
                serial, taken_s, cached = self._cached
                if serial == gop.serial or time.monotonic() - taken_s < self._reuse_s:
                    return cached
            snapshot = self._decode(gop)
            self._cached = (gop.serial, time.monotonic(), snapshot)
            return snapshot

    def _decode(self, gop: GopView) -> Snapshot:
        picture = latest_picture(gop)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=self._quality)
        received_s = gop.packets[-1].received_s
        frame_at = utcnow() - timedelta(seconds=max(0.0, time.monotonic() - received_s))
        return Snapshot(buffer.getvalue(), picture.width, picture.height, received_s, frame_at)


def latest_picture(gop: GopView | None) -> Image.Image:
    """Decode the GOP (from its keyframe) and return its newest frame as an RGB picture."""
    if gop is None:
        raise UnavailableError("no picture yet: the camera has not sent a keyframe", code="no_frame")
    try:
        ctx = cast(av.VideoCodecContext, av.CodecContext.create(gop.info.codec, "r"))
        if gop.info.extradata:
            ctx.extradata = gop.info.extradata
        last = None
        for packet in gop.packets:
            for frame in ctx.decode(av.Packet(packet.data)):
                last = frame
        for frame in ctx.decode(None):
            last = frame
    except (av.FFmpegError, ValueError) as err:
        raise UnavailableError(f"the latest picture could not be decoded: {err}", code="decode_failed") from err
    if not isinstance(last, av.VideoFrame):
        raise UnavailableError("no picture yet: the decoder produced no frame", code="no_frame")
    picture: Image.Image = last.to_image()  # type: ignore[no-untyped-call]
    return picture
