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
from sharpeyes.media.relay import PacketRelay

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
        self._decoder: av.VideoCodecContext | None = None
        self._next_s = 0.0
        try:
            last_sent = 0.0
            gop = self._relay.gop()
            if gop is not None:  # from the latest keyframe, then the live packets after it
                self._decoder = _decoder(gop.info)
                for packet in gop.packets:
                    yield from self._decode(packet)
                last_sent = gop.packets[-1].received_s
            while not self._stop.is_set():
                item = subscription.get(0.5)
                self.dropped_packets = subscription.dropped
                if item is None:
                    if self._relay.closed:
                        return
                elif isinstance(item, StreamInfo):
                    self._decoder = _decoder(item)
                elif item.received_s > last_sent:  # not already decoded from the GOP
                    yield from self._decode(item)
        finally:
            self._relay.unsubscribe(subscription)

    def _decode(self, packet: EncodedPacket) -> Iterator[tuple[float, np.ndarray]]:
        if self._decoder is None:
            return
        try:
            frames = self._decoder.decode(av.Packet(packet.data))
        except (av.FFmpegError, ValueError):
            self.decode_errors += 1
            return
        at_s = packet.received_s
        for frame in frames:
            if at_s + 1e-6 < self._next_s:
                continue
            self._next_s = max(self._next_s + self._interval_s, at_s + self._interval_s / 2)
            yield at_s, frame.to_ndarray(format="bgr24")


def _decoder(info: StreamInfo) -> av.VideoCodecContext:
    decoder = cast(av.VideoCodecContext, av.CodecContext.create(info.codec, "r"))
    if info.extradata:
        decoder.extradata = info.extradata
    # No FFmpeg frame threads: their start-up can log through PyAV's callback, which needs the interpreter lock the
    # opening thread holds (a deadlock seen here); sub-streams decode fast enough on one thread.
    return decoder
