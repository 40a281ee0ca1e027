"""Live HLS: the relay's packets cut into short fMP4 segments kept in memory, for players that want a playlist
(the browser's own ``<video>``, hls.js, VLC). Each segment starts on a keyframe and is the per-frame fragments of
the low-latency path put end to end, so nothing is decoded or re-encoded. A reconnect starts a new
initialisation segment, marked in the playlist with a discontinuity."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from sharpeyes.core.errors import NotFoundError
from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.fragments import Fragmenter, RelayFollower
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.relay import PacketRelay

READY_SEGMENTS = 3
"""Segments a live playlist has before it is first handed out: players start three target durations from its end
(RFC 8216, section 6.3.3), and Chromium's own player refuses a live playlist shorter than that."""


@dataclass(frozen=True, slots=True)
class LiveSegment:
    sequence: int
    generation: int
    """Grows at each upstream (re)connection: the segment belongs to that generation's initialisation."""
    duration_s: float
    data: bytes


class _Open:
    """The segment being filled."""

    def __init__(self, first: EncodedPacket) -> None:
        self.start_s = _seconds(first)
        self.last_s = self.start_s
        self.chunks: list[bytes] = []

    def add(self, fragment: bytes) -> None:
        if fragment:
            self.chunks.append(fragment)


class LiveHls(RelayFollower):
    """One camera's live playlist, produced on its own thread from the relay for as long as it is asked for."""

    def __init__(
        self, relay: PacketRelay, *, segment_s: float, window: int, painter: FramePainter | None = None
    ) -> None:
        """``painter``: the playlist of the stream with privacy masks painted in (re-encoded)."""
        super().__init__(relay, "live-hls", painter)
        self._segment_s = segment_s
        self._window = window
        self._lock = threading.Condition()
        self._segments: deque[LiveSegment] = deque()
        self._inits: dict[int, bytes] = {}
        self._sequence = 0
        self._generation = -1
        self._dropped_discontinuities = 0
        self._target_s = max(1, math.ceil(segment_s))
        self._current: _Open | None = None
        """The segment being filled (only the follower's thread touches it)."""

    def wait_ready(self, timeout_s: float, segments: int = READY_SEGMENTS) -> bool:
        """Wait until the playlist has ``segments`` segments; False when they did not come in time (or the stream
        ended)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(self._segments) < min(segments, self._window):
                left = deadline - time.monotonic()
                if left <= 0 or not self.running:
                    return False
                self._lock.wait(min(left, 0.2))
            return True

    def playlist(self, query: str = "", prefix: str = "live", *, event: bool = False) -> str:
        """The media playlist; ``query`` (e.g. ``?access_token=…``) is added to every URI in it, which are
        ``prefix/…`` relative to the playlist. ``event``: a recording being played, whose playlist only grows
        (players start at its beginning). Once the stream has ended the playlist says so (``#EXT-X-ENDLIST``)."""
        with self._lock:
            segments = list(self._segments)
            first_discontinuity = self._dropped_discontinuities
            target_s = self._target_s
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{target_s}",
            f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence if segments else 0}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{first_discontinuity}",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        if event:
            lines.insert(2, "#EXT-X-PLAYLIST-TYPE:EVENT")
        generation = None
        for segment in segments:
            if segment.generation != generation:
                if generation is not None:
                    lines.append("#EXT-X-DISCONTINUITY")
                lines.append(f'#EXT-X-MAP:URI="{prefix}/init-{segment.generation}.mp4{query}"')
                generation = segment.generation
            lines.append(f"#EXTINF:{segment.duration_s:.3f},")
            lines.append(f"{prefix}/{segment.sequence}.m4s{query}")
        if not self.running:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def init(self, generation: int) -> bytes:
        with self._lock:
            data = self._inits.get(generation)
        if data is None:
            raise NotFoundError(f"no live initialisation segment {generation} (the stream has moved on)", code="gone")
        return data

    def segment(self, sequence: int) -> bytes:
        with self._lock:
            for segment in self._segments:
                if segment.sequence == sequence:
                    return segment.data
        raise NotFoundError(f"no live segment {sequence} (too old, or not yet made)", code="gone")

    # -- on the thread ---------------------------------------------------------------------------------------

    def new_stream(self, info: StreamInfo) -> Fragmenter:
        self._close(None)
        self._current = None
        fragmenter = Fragmenter(info)
        with self._lock:
            self._generation += 1
            self._inits[self._generation] = fragmenter.init
        return fragmenter

    def packet(self, fragmenter: Fragmenter, packet: EncodedPacket) -> None:
        current = self._current
        if current is not None:
            current.add(fragmenter.push(packet))
        else:
            fragmenter.push(packet)  # before the first keyframe: nothing to keep
        if packet.keyframe and (current is None or _seconds(packet) - current.start_s >= self._segment_s):
            self._close(packet)
            current = self._current = _Open(packet)
        if current is not None:
            current.last_s = max(current.last_s, _seconds(packet))

    def ended(self) -> None:
        self._close(None)  # the last segment is whole: the stream ended after it
        with self._lock:
            self._lock.notify_all()

    def _close(self, next_first: EncodedPacket | None) -> None:
        """Publish the open segment; it lasts until the next one starts (or its last frame, at a reconnect)."""
        current = self._current
        if current is None or not current.chunks:
            return
        end_s = _seconds(next_first) if next_first is not None else current.last_s
        duration_s = max(end_s - current.start_s, 0.001)
        with self._lock:
            self._sequence += 1
            self._segments.append(LiveSegment(self._sequence, self._generation, duration_s, b"".join(current.chunks)))
            self._target_s = max(self._target_s, math.ceil(duration_s))
            while len(self._segments) > self._window:
                dropped = self._segments.popleft()
                if self._segments and self._segments[0].generation != dropped.generation:
                    self._dropped_discontinuities += 1
                    self._inits.pop(dropped.generation, None)
            self._lock.notify_all()


def _seconds(packet: EncodedPacket) -> float:
    ts = packet.pts if packet.pts is not None else packet.dts or 0
    return float(ts * packet.time_base)
