"""Receives one GB/T 28181 media stream: RTP over UDP, or over TCP with the device connecting to this platform
(passive, RFC 4571 framing); packets put back in order, their payloads (the program stream) handed out as bytes.
Blocking, for the stream session's own thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import time

from sharpeyes.protocols.gb28181 import rtp

logger = logging.getLogger(__name__)

UDP_BUFFER = 4 << 20
"""Bytes the kernel may queue for one stream (a 4 Mbit/s camera's 8 s): a busy moment waits, not drops."""


class MediaReceiver:
    def __init__(self, host: str, transport: str, *, label: str = "") -> None:
        self.transport = transport
        self._label = label
        self._reorder = rtp.Reorder()
        self._buffer = bytearray()
        self._ready: list[bytes] = []
        self._connection: socket.socket | None = None
        self._sender: str | None = None
        if transport == "TCP":
            self._socket = socket.create_server((host, 0))
        else:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
            self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]

    def read(self, timeout_s: float) -> bytes | None:
        """The next program-stream bytes, or None when nothing came for ``timeout_s`` (or the device hung up)."""
        deadline = time.monotonic() + timeout_s
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                packets = self._receive(left)
            except (TimeoutError, BlockingIOError):
                return None
            except OSError as err:
                logger.info("media from %s ended: %s", self._label, err)
                return None
            if packets is None:
                return None
            for data in packets:
                try:
                    packet = rtp.parse(data)
                except rtp.RtpError as err:
                    logger.debug("media from %s: a packet dropped: %s", self._label, err)
                    continue
                self._ready += [ordered.payload for ordered in self._reorder.push(packet)]
        return self._ready.pop(0)

    @property
    def lost(self) -> int:
        return self._reorder.lost

    def close(self) -> None:
        for sock in (self._connection, self._socket):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def _receive(self, timeout_s: float) -> list[bytes] | None:
        if self.transport == "UDP":
            self._socket.settimeout(timeout_s)
            data, sender = self._socket.recvfrom(65_536)
            self._note_sender(f"{sender[0]}:{sender[1]}")
            return [data]
        if self._connection is None:
            self._socket.settimeout(timeout_s)
            self._connection, sender = self._socket.accept()
            self._note_sender(f"{sender[0]}:{sender[1]}")
        self._connection.settimeout(timeout_s)
        chunk = self._connection.recv(262_144)
        if not chunk:
            return None  # the device closed the connection
        self._buffer += chunk
        return list(rtp.tcp_packets(self._buffer))

    def _note_sender(self, sender: str) -> None:
        if self._sender is None:
            self._sender = sender
            logger.info("media for %s arriving from %s over %s", self._label, sender, self.transport)
