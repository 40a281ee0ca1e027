"""RTP as GB/T 28181 carries program streams in it (RFC 3550, payload type 96, 90 kHz): cutting a pack into
packets, framing them for TCP (RFC 4571: a 2-byte length before each), and on receipt putting them back in order
(duplicates dropped, a gap waited for a little, then given up), and gathering each timestamp's payloads."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

PAYLOAD_TYPE = 96
MTU_PAYLOAD = 1400
"""Payload bytes per packet: fits a 1500-byte Ethernet frame with the IP, UDP and RTP headers."""
REORDER_WINDOW = 64
"""Packets held while one is missing; past this the missing one is given up as lost."""
STARTING_WITH = 8
"""Packets gathered before the first is given out, to start from the lowest number among them."""


class RtpError(ValueError):
    """A datagram or frame that is not RTP version 2."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload_type: int
    payload: bytes


def packetize(data: bytes, *, sequence: int, timestamp: int, ssrc: int) -> list[bytes]:
    """``data`` (one pack) as RTP packets numbered from ``sequence``; the marker is on the last."""
    parts = [data[i : i + MTU_PAYLOAD] for i in range(0, max(1, len(data)), MTU_PAYLOAD)]
    out = []
    for index, part in enumerate(parts):
        marker = 0x80 if index == len(parts) - 1 else 0
        header = struct.pack(
            ">BBHII", 0x80, marker | PAYLOAD_TYPE, (sequence + index) & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc
        )
        out.append(header + part)
    return out


def parse(data: bytes) -> RtpPacket:
    if len(data) < 12 or data[0] >> 6 != 2:
        raise RtpError(f"not RTP version 2 ({len(data)} bytes)")
    first, second, sequence, timestamp, ssrc = struct.unpack_from(">BBHII", data)
    at = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # a header extension
        if len(data) < at + 4:
            raise RtpError("RTP header extension cut short")
        at += 4 + 4 * struct.unpack_from(">H", data, at + 2)[0]
    end = len(data)
    if first & 0x20:  # padding
        end -= data[-1]
    if at > end:
        raise RtpError("RTP header longer than the packet")
    return RtpPacket(sequence, timestamp, ssrc, bool(second & 0x80), second & 0x7F, data[at:end])


def tcp_frame(packet: bytes) -> bytes:
    return struct.pack(">H", len(packet)) + packet


def tcp_packets(buffer: bytearray) -> Iterator[bytes]:
    """The whole RFC 4571 frames at the start of ``buffer`` (taken out of it)."""
    while len(buffer) >= 2:
        length = struct.unpack_from(">H", buffer)[0]
        if len(buffer) < 2 + length:
            return
        packet = bytes(buffer[2 : 2 + length])
        del buffer[: 2 + length]
        yield packet


class Reorder:
    """Packets back in sequence order (16-bit numbers that wrap): the first ``STARTING_WITH`` are held to find the
    lowest, duplicates and late ones are dropped, a gap is held open for ``REORDER_WINDOW`` packets, then skipped
    (counted as lost)."""

    def __init__(self) -> None:
        self._next: int | None = None
        self._held: dict[int, RtpPacket] = {}
        self.lost = 0
        self.duplicates = 0

    def push(self, packet: RtpPacket) -> list[RtpPacket]:
        if packet.sequence in self._held:
            self.duplicates += 1
            return []
        if self._next is None:  # starting: the first to come need not be the first sent
            self._held[packet.sequence] = packet
            if len(self._held) < STARTING_WITH:
                return []
            first = next(iter(self._held))
            self._next = min(self._held, key=lambda number: ((number - first + 0x8000) & 0xFFFF) - 0x8000)
            return self._release()
        if (packet.sequence - self._next) & 0xFFFF >= 0x8000:  # behind what was given out already
            self.duplicates += 1
            return []
        self._held[packet.sequence] = packet
        return self._release()

    def flush(self) -> list[RtpPacket]:
        """What is held, in order (at the end of the stream)."""
        if self._next is None and self._held:
            first = next(iter(self._held))
            self._next = min(self._held, key=lambda number: ((number - first + 0x8000) & 0xFFFF) - 0x8000)
        out = []
        while self._held:
            out += self._release(force=True)
        return out

    def _release(self, *, force: bool = False) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        assert self._next is not None
        while True:
            while self._next in self._held:
                out.append(self._held.pop(self._next))
                self._next = (self._next + 1) & 0xFFFF
            if not self._held or (len(self._held) <= REORDER_WINDOW and not force):
                return out
            nearest = min(self._held, key=lambda number: (number - (self._next or 0)) & 0xFFFF)
            self.lost += (nearest - self._next) & 0xFFFF
            self._next = nearest


class Gatherer:
    """In-order packets → the payload of each timestamp (one pack), given out when the timestamp changes or the
    marker bit closes it."""

    def __init__(self) -> None:
        self._timestamp: int | None = None
        self._parts: list[bytes] = []

    def push(self, packet: RtpPacket) -> list[bytes]:
        done: list[bytes] = []
        if self._timestamp is not None and packet.timestamp != self._timestamp and self._parts:
            done.append(b"".join(self._parts))
            self._parts = []
        self._timestamp = packet.timestamp
        self._parts.append(packet.payload)
        if packet.marker:
            done.append(b"".join(self._parts))
            self._parts = []
        return done
