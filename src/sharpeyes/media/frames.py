"""Decoded pictures from a relay, a few a second, for analysis. Every packet is decoded (a P-frame needs its
predecessors), but only the frames due at the sampling rate are converted to BGR, which costs as much as the
decoding itself."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import cast

import av
import numpy as np

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.relay import PacketRelay, RelayItem

logger = logging.getLogger(__name__)


class FrameSampler:
    """Iterate over (monotonic seconds, BGR picture) at ``fps`` until ``stop`` or the relay closes."""

    def __init__(self, relay: PacketRelay, fps: float, name: str = "analysis") -> None:
        self._relay = relay
        self._interval_s = 1.0 / fps
        self._name = name
        self._stop = threading.Event()
        self.decode_errors = 0
        self.dropped_packets = 0
        """Packets the relay dropped because analysis fell behind (counted, never queued without bound)."""

    def stop(self) -> None:
        self._stop.set()

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        subscription = self._relay.subscribe(self._name)
        decoder: av.VideoCodecContext | None = None
        next_s = 0.0
        try:
            gop = self._relay.gop()
            backlog: list[RelayItem] = []
            last_sent = 0.0
            if gop is not None:
                decoder = _decoder(gop.info)
                backlog = list(gop.packets)
                last_sent = gop.packets[-1].received_s
            while not self._stop.is_set():
                item = backlog.pop(0) if backlog else subscription.get(0.5)
                self.dropped_packets = subscription.dropped
                if item is None:
                    if self._relay.closed:
                        return
                    continue
                if not backlog and isinstance(item, EncodedPacket) and item.received_s <= last_sent:
                    continue
                if isinstance(item, StreamInfo):
                    decoder = _decoder(item)
                    continue
                if decoder is None:
                    continue
                try:
                    frames = decoder.decode(av.Packet(item.data))
                except (av.FFmpegError, ValueError):
                    self.decode_errors += 1
                    continue
                at_s = item.received_s
                for frame in frames:
                    if at_s + 1e-6 < next_s:
                        continue
                    next_s = max(next_s + self._interval_s, at_s + self._interval_s / 2)
                    yield at_s, frame.to_ndarray(format="bgr24")
        finally:
            self._relay.unsubscribe(subscription)


def _decoder(info: StreamInfo) -> av.VideoCodecContext:
    decoder = cast(av.VideoCodecContext, av.CodecContext.create(info.codec, "r"))
    if info.extradata:
        decoder.extradata = info.extradata
    # No FFmpeg frame threads: their start-up can log through PyAV's callback, which needs the interpreter lock the
    # opening thread holds (a deadlock seen here); sub-streams decode fast enough on one thread.
    return decoder
