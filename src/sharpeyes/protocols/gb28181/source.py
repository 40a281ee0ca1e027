"""A GB/T 28181 channel as a packet source: INVITE it through the SIP server, receive its program stream over
RTP (UDP, or TCP with the device connecting), and demux that like any other source, so recording, live view and
analysis use it unchanged. Two failures are told apart, each with its likely cause: the device never answered
the INVITE, and it answered but no media arrived."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from sharpeyes.core.cameras import CameraState, CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import (
    SourceEndedError,
    SourceError,
    SourceStalledError,
    SourceUnreachableError,
    SourceUnsupportedError,
)
from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.protocols.av_source import _AvSource
from sharpeyes.protocols.gb28181 import sdp
from sharpeyes.protocols.gb28181.receiver import MediaReceiver
from sharpeyes.protocols.gb28181.requests import Dialog, NoAnswer
from sharpeyes.protocols.gb28181.server import DeviceAbsent, Refused, SipServer
from sharpeyes.protocols.sources import (
    GB_SCHEME,
    PacketSource,
    SourceOpener,
    SourceOptions,
    gb_channel,
    gb_range,
    open_source,
)

logger = logging.getLogger(__name__)

_PROBE = {"probesize": "65536", "analyzeduration": "500000"}
_serials = itertools.count(1)
LONGEST_PAUSE_S = 600.0
"""A paused playback ends when it has been paused this long (its thread and media port are let go)."""
T = TypeVar("T")


class GbSource(_AvSource):
    def __init__(
        self,
        server: SipServer,
        device_id: str,
        channel_id: str,
        options: SourceOptions,
        *,
        invite_timeout_s: float,
        media_timeout_s: float,
        playback: tuple[int, int] | None = None,
    ) -> None:
        """``playback``: the (start, end) Unix seconds of the device's recording to play instead of live video."""
        super().__init__()
        self._server = server
        self._device_id = device_id
        self._channel_id = channel_id
        self._options = options
        self._invite_timeout_s = invite_timeout_s
        self._media_timeout_s = media_timeout_s
        self._receiver: MediaReceiver | None = None
        self._dialog: Dialog | None = None
        self._pipe: _Pipe | None = None
        self._playback = playback
        self._rtsp_cseq = 0
        self._paused = False

    def open(self) -> StreamInfo:
        device = self._server.device(self._device_id)
        if device is None:
            raise SourceUnreachableError(
                f"device {self._device_id} is not registered: it is off, or cannot reach this platform's SIP port",
                code="device_offline",
            )
        transport = "TCP" if self._options.rtsp_transport == "tcp" else "UDP"
        receiver = self._receiver = MediaReceiver(self._server.bind_host, transport, label=self._channel_id)
        host = self._server.local_host(device.host)
        start, end = self._playback or (0, 0)
        offer = sdp.MediaOffer(
            "Playback" if self._playback else "Play",
            self._channel_id,
            host,
            receiver.port,
            transport,
            sdp.ssrc(self._server.domain, playback=self._playback is not None, serial=next(_serials)),
            start,
            end,
        )
        self._dialog = self._invite(offer)
        first = receiver.read(self._media_timeout_s)
        if first is None:
            raise SourceStalledError(
                f"device {self._device_id} answered the INVITE for {self._channel_id} but no media arrived at "
                f"{host}:{receiver.port} over {transport} within {self._media_timeout_s:g} s: the device cannot "
                "reach that address (behind NAT set gb28181.external_host; let the media port through the firewall) "
                "or it sends elsewhere / 设备已应答但未收到媒体流",
                code="no_media",
            )
        self._pipe = _Pipe(receiver, first, self._options.read_timeout_s, lambda: self._paused)
        self._open_container(self._pipe, dict(_PROBE), None, container_format="mpeg")
        return self._info()

    def packets(self) -> Iterator[EncodedPacket]:
        time_base = self._info().time_base
        for packet in self._demux(self._options.read_timeout_s):
            yield self._packet(packet, time_base)
        if self._playback is not None:  # a device stops sending at the end of the range (then says MediaStatus 121)
            raise SourceEndedError(f"device {self._device_id} has sent the recording", code="stream_ended")
        if self._pipe is not None and self._pipe.silent:
            raise SourceStalledError(
                f"media from device {self._device_id} stopped: nothing for {self._options.read_timeout_s:g} s",
                code="stalled",
            )
        raise SourceEndedError(f"device {self._device_id} ended the stream", code="stream_ended")

    def control(self, command: str, header: str = "") -> None:
        """Steer a playback (MANSRTSP in an INFO): ``PLAY`` (resume, or with ``Range: npt=N-`` seek, or with
        ``Scale: 2.0`` speed) or ``PAUSE``. ``SourceError`` when the device refuses or is silent."""
        dialog = self._dialog
        if dialog is None or self._playback is None:
            raise SourceError("not a playback in progress", code="not_playing")
        self._rtsp_cseq += 1
        lines = [f"{command} RTSP/1.0", f"CSeq: {self._rtsp_cseq}"] + ([header] if header else [])
        body = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        try:
            self._run(self._server.info(dialog, body))
        except (NoAnswer, Refused, DeviceAbsent) as err:
            raise SourceError(f"the device did not take {command}: {err}", code="control_failed") from None
        self._paused = command == "PAUSE"  # a paused device sends nothing: silence is then no end

    def close(self) -> None:
        super().close()
        if self._receiver is not None:
            lost = self._receiver.lost
            if lost:
                logger.info("channel %s: %d RTP packets lost", self._channel_id, lost)
            self._receiver.close()
        dialog, self._dialog = self._dialog, None
        loop = self._server.loop
        if dialog is None or loop is None or not loop.is_running():
            return  # the platform is stopping: the device's session ends with its registration
        bye = self._server.bye(dialog)
        try:
            future = asyncio.run_coroutine_threadsafe(bye, loop)
        except RuntimeError:  # the loop closed meanwhile
            bye.close()
            return
        with contextlib.suppress(Exception):  # the device is told when it can be; the session ends anyway
            future.result(2.0)

    def _invite(self, offer: sdp.MediaOffer) -> Dialog:
        try:
            return self._run(self._server.invite(self._device_id, offer, self._invite_timeout_s))
        except NoAnswer:
            raise SourceUnreachableError(
                f"no answer to INVITE from device {self._device_id} for channel {self._channel_id} within "
                f"{self._invite_timeout_s:g} s: the device is busy or offline, or its SIP cannot reach back "
                "to this platform / 设备未应答点播请求",
                code="invite_timeout",
            ) from None
        except DeviceAbsent as err:
            raise SourceUnreachableError(str(err), code="device_offline") from None
        except Refused as err:
            if err.status in (403, 404):
                raise SourceUnsupportedError(
                    f"{err} (the channel id is wrong or not this device's)", code="invite_refused"
                ) from None
            raise SourceError(str(err), code="invite_refused") from None

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        loop = self._server.loop
        if loop is None:
            work.close()
            raise SourceUnreachableError("the GB/T 28181 SIP server is not running", code="gb_off")
        return asyncio.run_coroutine_threadsafe(work, loop).result(self._invite_timeout_s + 2.0)


class _Pipe(io.RawIOBase):
    """The program stream as a file PyAV reads; silence past the timeout ends it (``silent`` tells why), unless
    ``paused`` says the device was asked to pause."""

    def __init__(self, receiver: MediaReceiver, first: bytes, timeout_s: float, paused: Callable[[], bool]) -> None:
        super().__init__()
        self._receiver = receiver
        self._pending = first
        self._timeout_s = timeout_s
        self._paused = paused
        self._quiet_since = time.monotonic()
        self.silent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self.silent:
                return 0
            data = self._receiver.read(self._timeout_s)
            if data is None and self._paused() and time.monotonic() - self._quiet_since < LONGEST_PAUSE_S:
                continue
            self._quiet_since = time.monotonic()
            if data is None:
                self.silent = True
                return 0
            self._pending = data
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def opener(server: SipServer | None, invite_timeout_s: float, media_timeout_s: float) -> SourceOpener:
    """Opens ``gb28181://`` channels through ``server``, everything else as usual."""

    def open_any(url: str, options: SourceOptions) -> PacketSource:
        ids = gb_channel(url) if url.lower().startswith(GB_SCHEME) else None
        if server is None or ids is None:
            return open_source(url, options)
        return GbSource(server, *ids, options, invite_timeout_s=invite_timeout_s, media_timeout_s=media_timeout_s,
                        playback=gb_range(url))  # fmt: skip

    return open_any


def prober(server: SipServer | None) -> Callable[[str], CameraState | None]:
    """What a ``gb28181://`` channel's status is without asking for its video: its device's (online while it keeps
    alive). Checking idle channels by INVITE would send a lower platform thousands of them."""

    def probe(url: str) -> CameraState | None:
        ids = gb_channel(url) if server is not None and url.lower().startswith(GB_SCHEME) else None
        if server is None or ids is None or gb_range(url) is not None:
            return None
        device = server.device(ids[0])
        if device is None:
            reason = f"its GB/T 28181 device {ids[0]} is not registered / 设备未注册"
            return CameraState(CameraStatus.OFFLINE, reason, utcnow())
        if not device.online:
            reason = f"its GB/T 28181 device {ids[0]} missed its keepalives / 设备离线"
            return CameraState(CameraStatus.OFFLINE, reason, utcnow())
        return CameraState(CameraStatus.ONLINE, f"its GB/T 28181 device {ids[0]} is online / 设备在线", utcnow())

    return probe
