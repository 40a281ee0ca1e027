"""Sources read through PyAV: RTSP/HTTP cameras and files posing as cameras (paced, looped)."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import av
import av.error
from av.container import InputContainer
from av.video.stream import VideoStream

from sharpeyes.core.errors import (
    SourceAuthError,
    SourceEndedError,
    SourceError,
    SourceStalledError,
    SourceUnreachableError,
    SourceUnsupportedError,
)
from sharpeyes.core.media import FRAGMENTED_MP4_OPTIONS, EncodedPacket, StreamInfo
from sharpeyes.core.nal import is_annexb, length_prefixed, mp4_config
from sharpeyes.core.urls import redact_text
from sharpeyes.protocols.sources import SourceOptions

_LONGEST_PACING_SLEEP_S = 1.0
_PROBE_US = 1_000_000
_PROBE_BYTES = 1_000_000


class _AvSource:
    """Shared open/demux logic; subclasses say how to open and how to turn demuxing into packets."""

    def __init__(self) -> None:
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._stream_info: StreamInfo | None = None
        self._to_mp4_layout = False

    def _open_container(
        self,
        target: str | io.RawIOBase,
        options: dict[str, str],
        timeout: tuple[float, float] | None,
        *,
        container_format: str | None = None,
    ) -> None:
        """Open ``target`` (a path or URL, or a stream of bytes from the network read through ``container_format``)."""
        try:
            container = av.open(target, mode="r", format=container_format, options=options, timeout=timeout)
        except Exception as err:
            network = timeout is not None or not isinstance(target, str)  # files open without a timeout
            raise classify_error(err, opening=True, timeout_s=timeout[0] if timeout else None, network=network) from err
        if not container.streams.video:
            container.close()
            raise SourceUnsupportedError("no video track: the source carries no video stream", code="no_video")
        self._container = container
        self._stream = container.streams.video[0]

    def _info(self) -> StreamInfo:
        if self._stream_info is None:
            stream = self._require_stream()
            ctx = stream.codec_context
            mp4_init = _mp4_init(stream)
            config = mp4_config(ctx.name, mp4_init)
            self._to_mp4_layout = config is not None and ctx.extradata is not None and is_annexb(ctx.extradata)
            self._stream_info = StreamInfo(
                codec=ctx.name,
                width=ctx.width,
                height=ctx.height,
                time_base=stream.time_base or Fraction(1, 90000),
                extradata=config if self._to_mp4_layout else ctx.extradata,
                mp4_init=mp4_init,
            )
        return self._stream_info

    def _packet(self, packet: Any, time_base: Fraction, pts_offset: int = 0) -> EncodedPacket:
        """A demuxed packet as a plain value, NAL units length-prefixed (see ``core.nal``)."""
        data = bytes(packet)
        if self._to_mp4_layout and is_annexb(data):
            data = length_prefixed(data)
        return EncodedPacket(
            data=data,
            pts=None if packet.pts is None else packet.pts + pts_offset,
            dts=None if packet.dts is None else packet.dts + pts_offset,
            time_base=time_base,
            keyframe=bool(packet.is_keyframe),
            received_s=time.monotonic(),
        )

    def _require_stream(self) -> VideoStream:
        if self._stream is None:
            raise RuntimeError("source used before open()")
        return self._stream

    def _demux(self, read_timeout_s: float | None) -> Iterator[Any]:
        container, stream = self._container, self._require_stream()
        assert container is not None
        try:
            for packet in container.demux(stream):
                if packet.size:
                    yield packet
        except SourceError:
            raise
        except Exception as err:
            raise classify_error(err, opening=False, timeout_s=read_timeout_s) from err

    def close(self) -> None:
        if self._container is not None:
            container, self._container, self._stream = self._container, None, None
            with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing is lost
                container.close()


def _mp4_init(stream: VideoStream) -> bytes | None:
    """The fMP4 header a muxer writes for ``stream``: later remuxers use it as their stream template."""
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="mp4", options=FRAGMENTED_MP4_OPTIONS) as output:
            output.add_stream_from_template(stream)
            output.start_encoding()
            return buffer.getvalue()
    except (av.FFmpegError, ValueError):
        return None  # e.g. a codec MP4 cannot carry: the stream can be watched but not recorded as MP4


class NetworkSource(_AvSource):
    """An RTSP or HTTP camera."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        super().__init__()
        self._url = url
        self._options = options

    def open(self) -> StreamInfo:
        # Cameras announce their codec parameters; a short probe makes (re)connecting quick.
        opts = {"analyzeduration": str(_PROBE_US), "probesize": str(_PROBE_BYTES)}
        if self._url.lower().startswith("rtsp"):
            opts["rtsp_transport"] = self._options.rtsp_transport
        self._open_container(self._url, opts, (self._options.open_timeout_s, self._options.read_timeout_s))
        return self._info()

    def packets(self) -> Iterator[EncodedPacket]:
        time_base = self._info().time_base
        for packet in self._demux(self._options.read_timeout_s):
            yield self._packet(packet, time_base)
        raise SourceEndedError("the camera closed the stream", code="stream_ended")


class FileSource(_AvSource):
    """A media file played like a camera: paced in real time and looped, unless told otherwise."""

    def __init__(self, path: str, *, realtime: bool = True, loop: bool = True) -> None:
        super().__init__()
        self._path = path
        self._realtime = realtime
        self._loop = loop

    @classmethod
    def from_url(cls, url: str) -> FileSource:
        """``file:///clip.mp4?loop=0&realtime=0`` turns looping or pacing off (both default on)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        return cls(
            unquote(parts.path),
            realtime=query.get("realtime", ["1"])[0] not in {"0", "false", "no"},
            loop=query.get("loop", ["1"])[0] not in {"0", "false", "no"},
        )

    def open(self) -> StreamInfo:
        self._open_container(self._path, {}, None)
        return self._info()

    def packets(self) -> Iterator[EncodedPacket]:
        time_base = self._info().time_base
        clock_start = time.monotonic()
        offset = 0
        first_ts: int | None = None
        while True:
            last_ts = first_ts or 0
            frame_ticks = self._nominal_frame_ticks(time_base)
            for packet in self._demux(None):
                ts = packet.dts if packet.dts is not None else packet.pts
                if ts is not None:
                    first_ts = ts if first_ts is None else first_ts
                    frame_ticks = packet.duration or (ts - last_ts if ts > last_ts else frame_ticks)
                    last_ts = ts
                    if self._realtime:
                        _sleep_until(clock_start + float((ts + offset - first_ts) * time_base))
                yield self._packet(packet, time_base, offset)
            if not self._loop:
                raise SourceEndedError("the file has ended", code="stream_ended")
            offset += last_ts - (first_ts or 0) + frame_ticks
            self._rewind()

    def _nominal_frame_ticks(self, time_base: Fraction) -> int:
        """One frame's duration in ``time_base`` ticks, from the stream's rate (25 fps when it has none)."""
        rate = self._require_stream().average_rate or Fraction(25)
        return max(1, round(1 / (rate * time_base)))

    def _rewind(self) -> None:
        container = self._container
        assert container is not None
        try:
            container.seek(0)
        except Exception as err:
            raise classify_error(err, opening=False, timeout_s=None) from err


def _sleep_until(deadline_s: float) -> None:
    delay = deadline_s - time.monotonic()
    if delay > 0:
        time.sleep(min(delay, _LONGEST_PACING_SLEEP_S))


def classify_error(err: Exception, *, opening: bool, timeout_s: float | None, network: bool = False) -> SourceError:
    """Turn a PyAV/OS error into the narrow source error a person can act on (credentials redacted)."""
    detail = redact_text(str(err))
    within = f" for {timeout_s:g} s" if timeout_s is not None else ""
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return SourceAuthError(
            "authentication failed: the camera refused the user name or password", code="auth_failed"
        )
    if isinstance(err, av.error.HTTPNotFoundError | FileNotFoundError):
        return SourceUnsupportedError(f"not found: the camera or file has no such stream ({detail})", code="not_found")
    if isinstance(err, PermissionError) and "://" not in str(err.filename or ""):
        return SourceUnsupportedError(f"permission denied: the platform may not read it ({detail})", code="denied")
    if isinstance(err, av.error.ExitError | TimeoutError):
        if opening:
            return SourceUnreachableError(f"no answer{within}", code="timeout")
        return SourceStalledError(f"stalled: no video{within}", code="stalled")
    if isinstance(err, ConnectionRefusedError):
        return SourceUnreachableError("unreachable: connection refused (is the camera on?)", code="refused")
    if isinstance(err, av.error.ProtocolNotFoundError | av.error.DecoderNotFoundError):
        return SourceUnsupportedError(f"not a video stream this platform can read ({detail})", code="unsupported")
    if isinstance(err, av.error.InvalidDataError):
        if opening and not network:
            return SourceUnsupportedError(f"not a video stream this platform can read ({detail})", code="unsupported")
        # A camera that goes away in the middle of its answer looks the same: try again, not in a minute.
        return SourceError(f"unreadable data from the camera ({detail})", code="corrupt")
    if isinstance(err, EOFError | av.error.EOFError):
        return SourceEndedError("the camera closed the stream", code="stream_ended")
    if isinstance(err, OSError):
        reason = err.strerror or detail
        return SourceUnreachableError(f"unreachable: {reason}", code="unreachable")
    return SourceError(f"source failed: {detail}")
