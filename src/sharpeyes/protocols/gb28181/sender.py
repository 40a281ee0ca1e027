"""Sends one media stream the GB/T 28181 way: each access unit muxed into a program-stream pack, cut into RTP
packets (payload type 96, the SSRC the INVITE asked for), over UDP or over TCP (RFC 4571 framing, this side
connecting). Used when a superior platform plays one of this platform's channels, and by test devices."""

from __future__ import annotations

import contextlib
import socket

from sharpeyes.protocols.gb28181 import ps, rtp


class MediaSender:
    def __init__(
        self,
        host: str,
        port: int,
        transport: str,
        ssrc: int,
        *,
        bind_host: str = "",
        connect_timeout_s: float = 5.0,
    ) -> None:
        self._address = (host, port)
        self._transport = transport
        self._ssrc = ssrc
        self._sequence = 0
        if transport == "TCP":
            self._socket = socket.create_connection(self._address, timeout=connect_timeout_s)
        else:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.bind((bind_host, 0))
        self.local_port: int = self._socket.getsockname()[1]
        """The port media leaves from (named in the SDP answer)."""
        self.sent_bytes = 0

    def send(self, access_unit: bytes, pts: int, *, keyframe: bool, codec: str = "h264") -> None:
        """One access unit (Annex B) at ``pts`` (90 kHz). ``OSError`` when the receiver has gone (TCP)."""
        pack = ps.mux(access_unit, pts, keyframe=keyframe, codec=codec)
        packets = rtp.packetize(pack, sequence=self._sequence, timestamp=pts & 0xFFFFFFFF, ssrc=self._ssrc)
        self._sequence = (self._sequence + len(packets)) & 0xFFFF
        for packet in packets:
            if self._transport == "TCP":
                self._socket.sendall(rtp.tcp_frame(packet))
            else:
                self._socket.sendto(packet, self._address)
            self.sent_bytes += len(packet)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.close()
