"""Low-latency live view: the relay's packets remuxed into one fMP4 fragment per frame, for Media Source
Extensions in the browser. A viewer starts at the latest keyframe (from the relay's GOP), so the picture
appears at once, then follows the live packets. Nothing is decoded or re-encoded."""

from __future__ import annotations

import contextlib
import io
import logging
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.relay import PacketRelay

logger = logging.getLogger(__name__)

LIVE_OPTIONS = {"movflags": "empty_moov+default_base_moof+frag_every_frame"}


@dataclass(frozen=True, slots=True)
class LiveStart:
    """Sent before the fragments of each (re)connected stream: what the browser's SourceBuffer needs."""

    mime: str
    width: int
    height: int
    init: bytes


LiveItem = LiveStart | bytes
"""A new stream's description, or one fMP4 fragment (moof + mdat)."""


class _Capture(io.RawIOBase):
    """A write-only file that hands out what the muxer wrote since the last call."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


class _Fragmenter:
    def __init__(self, info: StreamInfo) -> None:
        assert info.mp4_init is not None
        self.info = info
        self._capture = _Capture()
        template = av.open(io.BytesIO(info.mp4_init))
        self._output = av.open(self._capture, "w", format="mp4", options=LIVE_OPTIONS)
        self._stream = self._output.add_stream_from_template(template.streams.video[0])
        template.close()
        self._output.start_encoding()
        self.init = self._capture.take()
        self._shift: int | None = None

    def push(self, packet: EncodedPacket) -> bytes:
        """Mux one packet; returns the bytes of any fragment completed by it."""
        ts = packet.dts if packet.dts is not None else packet.pts or 0
        if self._shift is None:
            self._shift = -ts  # the browser's timeline starts at zero
        out = av.Packet(packet.data)
        out.dts = ts + self._shift
        out.pts = (packet.pts if packet.pts is not None else ts) + self._shift
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._output.mux(out)
        return self._capture.take()

    def close(self) -> None:
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._output.close()


def mime_type(info: StreamInfo) -> str:
    """The MSE type for the stream, e.g. ``video/mp4; codecs="avc1.64001f"``, from the avcC in the init."""
    init = info.mp4_init or b""
    at = init.find(b"avcC")
    if info.codec == "h264" and at > 0 and len(init) >= at + 8:
        profile, compat, level = struct.unpack("BBB", init[at + 5 : at + 8])
        return f'video/mp4; codecs="avc1.{profile:02x}{compat:02x}{level:02x}"'
    if info.codec == "hevc":
        return 'video/mp4; codecs="hvc1.1.6.L93.B0"'
    return f'video/mp4; codecs="{info.codec}"'


class LiveFeed:
    """One viewer's feed, produced on its own thread and handed out through ``deliver``."""

    def __init__(self, relay: PacketRelay, deliver: Callable[[LiveItem | None], None]) -> None:
        self._relay = relay
        self._deliver = deliver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        subscription = self._relay.subscribe("live-viewer")
        fragmenter: _Fragmenter | None = None
        try:
            gop = self._relay.gop()
            if gop is not None and gop.info.mp4_init is not None:
                fragmenter = self._begin(gop.info)
                for packet in gop.packets:
                    self._send(fragmenter.push(packet))
                last_sent = gop.packets[-1].received_s
            else:
                last_sent = 0.0
            while not self._stop.is_set():
                item = subscription.get(0.5)
                if item is None:
                    if self._relay.closed:
                        break  # the session ended: the viewer reconnects to its successor
                    continue
                if isinstance(item, StreamInfo):
                    if fragmenter is None or item is not fragmenter.info:  # each connection restarts the timeline
                        if fragmenter is not None:
                            fragmenter.close()
                        fragmenter = self._begin(item) if item.mp4_init is not None else None
                    continue
                if fragmenter is None or item.received_s <= last_sent:
                    continue  # before the stream is known, or already sent from the GOP
                self._send(fragmenter.push(item))
        except Exception:
            logger.exception("live feed failed")
        finally:
            self._relay.unsubscribe(subscription)
            if fragmenter is not None:
                fragmenter.close()
            self._deliver(None)

    def _begin(self, info: StreamInfo) -> _Fragmenter:
        fragmenter = _Fragmenter(info)
        self._deliver(LiveStart(mime_type(info), info.width, info.height, fragmenter.init))
        return fragmenter

    def _send(self, fragment: bytes) -> None:
        if fragment:
            self._deliver(fragment)
