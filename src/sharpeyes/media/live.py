"""Low-latency live view: one fMP4 fragment per frame for Media Source Extensions in the browser, from the
latest keyframe on (see ``fragments``)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.fragments import Fragmenter, RelayFollower
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.relay import PacketRelay


@dataclass(frozen=True, slots=True)
class LiveStart:
    """Sent before the fragments of each (re)connected stream: what the browser's SourceBuffer needs."""

    mime: str
    width: int
    height: int
    init: bytes


LiveItem = LiveStart | bytes
"""A new stream's description, or one fMP4 fragment (moof + mdat)."""


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


class LiveFeed(RelayFollower):
    """One viewer's feed, produced on its own thread and handed out through ``deliver``."""

    def __init__(
        self, relay: PacketRelay, deliver: Callable[[LiveItem | None], None], painter: FramePainter | None = None
    ) -> None:
        super().__init__(relay, "live-viewer", painter)
        self._deliver = deliver

    def new_stream(self, info: StreamInfo) -> Fragmenter:
        fragmenter = Fragmenter(info)
        self._deliver(LiveStart(mime_type(info), info.width, info.height, fragmenter.init))
        return fragmenter

    def packet(self, fragmenter: Fragmenter, packet: EncodedPacket) -> None:
        fragment = fragmenter.push(packet)
        if fragment:
            self._deliver(fragment)

    def ended(self) -> None:
        self._deliver(None)
