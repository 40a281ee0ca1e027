"""Recording without re-encoding: packets from the relay are remuxed into fragmented-MP4 segment files.

Each segment starts on a keyframe and is cut at the first keyframe after ``segment_s``. It is written under a
``.partial`` name and renamed when complete, so a crash loses at most the segment being written. When packets
stop (or the upstream reconnects) the open segment is closed at once and an interruption is reported; it ends
when the next segment starts.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av

from sharpeyes.core.clock import utcnow
from sharpeyes.core.media import FRAGMENTED_MP4_OPTIONS, EncodedPacket, StreamInfo
from sharpeyes.media.relay import PacketRelay

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True, slots=True)
class RecordedSegment:
    camera_id: str
    start: datetime
    end: datetime
    path: Path
    bytes: int
    codec: str


class RecordingSink(Protocol):
    """Where a recorder reports: each finished segment, and each interruption once recording resumes."""

    def segment_done(self, segment: RecordedSegment) -> None: ...

    def gap(self, camera_id: str, start: datetime, end: datetime, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    root: Path
    segment_s: float
    stall_s: float
    startup_grace_s: float = 5.0
    """Extra time allowed before the first segment, for the camera to answer (not yet a gap)."""


BATCH_S = 0.1
"""How long a recorder lets packets gather between writes (recording is not live view: a wake-up per frame of
every camera costs more CPU than the writing)."""


class _SegmentFile:
    """One open segment: an fMP4 file fed with packets, closed into place."""

    def __init__(self, path: Path, info: StreamInfo, first: EncodedPacket) -> None:
        assert info.mp4_init is not None
        self.path = path
        self.info = info
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self._first_ts = _timestamp(first)
        self._last_ts = self._first_ts
        self._frame_ticks = 0
        self._seconds_per_tick = float(info.time_base)
        self._anchor_s = first.received_s
        """Monotonic time of the first frame: the earliest arrival minus the media time before it (a camera's
        first second can arrive in one burst, so the first packet's own arrival is too late)."""
        with av.open(io.BytesIO(info.mp4_init)) as template:
            self._output = av.open(str(self.partial), "w", format="mp4", options=FRAGMENTED_MP4_OPTIONS)
            try:
                self._stream = self._output.add_stream_from_template(template.streams.video[0])
            except Exception:
                self._output.close()
                self.partial.unlink(missing_ok=True)
                raise

    def elapsed_s(self, packet: EncodedPacket) -> float:
        """Media time from the segment's first frame to ``packet`` (float maths: this runs for every packet)."""
        return (_timestamp(packet) - self._first_ts) * self._seconds_per_tick

    def write(self, packet: EncodedPacket) -> None:
        ts = _timestamp(packet)
        if ts > self._last_ts:
            self._frame_ticks = ts - self._last_ts
            self._last_ts = ts
        self._anchor_s = min(self._anchor_s, packet.received_s - self.elapsed_s(packet))
        out = av.Packet(packet.data)
        out.pts = packet.pts if packet.pts is not None else ts
        out.dts = packet.dts if packet.dts is not None else out.pts
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._output.mux(out)

    def close(self, camera_id: str) -> RecordedSegment:
        self._output.close()
        self.partial.replace(self.path)
        length = Fraction(self._last_ts - self._first_ts + self._frame_ticks) * self.info.time_base
        start = _wall_time(self._anchor_s)
        end = start + timedelta(seconds=float(length))
        return RecordedSegment(camera_id, start, end, self.path, self.path.stat().st_size, self.info.codec)

    def abandon(self) -> None:
        try:
            self._output.close()
        except (av.FFmpegError, OSError, ValueError):
            logger.warning("could not close broken segment %s", self.partial)
        self.partial.unlink(missing_ok=True)


class Recorder:
    """Records one camera's relay on its own thread until stopped."""

    def __init__(
        self,
        camera_id: str,
        relay: PacketRelay,
        config: RecorderConfig,
        sink: RecordingSink,
        outage_reason: Callable[[float], str],
    ) -> None:
        """``outage_reason(since_s)`` says why the camera stopped delivering video after monotonic ``since_s``."""
        self.camera_id = camera_id
        self._relay = relay
        self._config = config
        self._sink = sink
        self._outage_reason = outage_reason
        self._stop = threading.Event()
        self._segment: _SegmentFile | None = None
        self._segment_after_gap = False
        self._info: StreamInfo | None = None
        self._gap: tuple[datetime, float, str] | None = None
        """(wall start, monotonic start, known reason or "") of the interruption in progress."""
        self._dropped = 0
        self._write_error = ""
        self.last_write_s = time.monotonic()
        self._wrote = False
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"record-{camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        subscription = self._relay.subscribe(f"recorder-{self.camera_id}")
        try:
            while not self._stop.is_set():
                items = subscription.get_all(0.25)
                if subscription.dropped > self._dropped:  # frames are missing: what follows cannot decode
                    self._dropped = subscription.dropped
                    self._interrupt("the recorder fell behind and dropped packets")
                if not items:
                    self._check_stall()
                for item in items:
                    if isinstance(item, StreamInfo):
                        if self._segment is not None:
                            self._interrupt("")  # a new connection: the old one broke
                        self._info = item
                    else:
                        self._write(item)
                if items:
                    self._stop.wait(BATCH_S)  # let packets gather: one wake-up per batch, not per packet
            self._close_segment()
        except Exception as err:  # recording must report, not vanish: the reconciler restarts it
            self.failure = f"recorder failed: {err}"
            logger.exception("camera %s: recorder failed", self.camera_id)
            if self._segment is not None:
                self._segment.abandon()
        finally:
            self._relay.unsubscribe(subscription)

    def _write(self, packet: EncodedPacket) -> None:
        segment = self._segment
        if segment is not None and packet.keyframe and segment.elapsed_s(packet) >= self._config.segment_s:
            self._close_segment()
            segment = None
        info = self._info
        if segment is None and (not packet.keyframe or info is None or info.mp4_init is None):
            return  # a segment starts on a keyframe of a stream MP4 can carry
        try:
            if segment is None:
                assert info is not None
                segment = self._segment = _SegmentFile(self._segment_path(packet), info, packet)
                self._segment_after_gap = self._gap is not None
            segment.write(packet)
        except (av.FFmpegError, OSError) as err:  # a full or broken disk: keep trying at the next keyframe
            self._cannot_write(err)
            return
        self.last_write_s = time.monotonic()
        self._wrote = True
        self._write_error = ""

    def _cannot_write(self, err: Exception) -> None:
        reason = f"cannot write recordings: {getattr(err, 'strerror', None) or err}"
        if reason != self._write_error:
            logger.error("camera %s: %s", self.camera_id, reason)
            self._write_error = reason
        if self._segment is not None:
            self._segment.abandon()
            self._segment = None
        if self._gap is None:
            self._gap = (_wall_time(self.last_write_s), self.last_write_s, reason)

    def _check_stall(self) -> None:
        allowed_s = self._config.stall_s + (0.0 if self._wrote else self._config.startup_grace_s)
        if time.monotonic() - self.last_write_s >= allowed_s:
            self._interrupt("")

    def _interrupt(self, reason: str) -> None:
        """Close the open segment; an interruption runs from where it ended until the next segment."""
        end = self._close_segment()
        if self._gap is None:
            since = end or _wall_time(self.last_write_s)
            self._gap = (since, self.last_write_s, reason)

    def _close_segment(self) -> datetime | None:
        """Close the open segment (if any), report it (and the interruption before it), return where it ended."""
        segment, self._segment = self._segment, None
        if segment is None:
            return None
        try:
            done = segment.close(self.camera_id)
        except (av.FFmpegError, OSError) as err:  # e.g. a full disk: drop this segment, keep recording
            logger.error("camera %s: could not finish segment %s: %s", self.camera_id, segment.path.name, err)
            segment.abandon()
            return None
        try:
            if self._segment_after_gap and self._gap is not None:
                since, since_s, reason = self._gap
                self._gap = None
                reason = reason or self._outage_reason(since_s) or f"no video for {self._config.stall_s:g} s or more"
                self._sink.gap(self.camera_id, since, max(since, done.start), reason)
            self._sink.segment_done(done)
        except Exception:  # the file is safe on disk; `sharpeyes recordings check --repair` registers it
            logger.exception("camera %s: could not register segment %s", self.camera_id, done.path.name)
        self._segment_after_gap = False
        return done.end

    def _segment_path(self, packet: EncodedPacket) -> Path:
        start = _wall_time(packet.received_s)
        day = start.strftime("%Y-%m-%d")
        return self._config.root / self.camera_id / day / f"{start.strftime('%H%M%S.%f')}.mp4"


def _timestamp(packet: EncodedPacket) -> int:
    if packet.dts is not None:
        return packet.dts
    return packet.pts if packet.pts is not None else 0


def _wall_time(monotonic_s: float) -> datetime:
    return utcnow() - timedelta(seconds=max(0.0, time.monotonic() - monotonic_s))
