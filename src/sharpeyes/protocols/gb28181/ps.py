"""MPEG-2 program streams (ISO/IEC 13818-1) as GB/T 28181 carries video in them: one pack per access unit, a system
header and stream map before each keyframe, the access unit in PES packets of at most 64 KB with its PTS.

``mux`` writes what devices send (ffmpeg cannot write H.264 in a program stream that reads back correctly, and
cascading sends our cameras up in it); ``PsDemuxer`` reads it back into access units, resynchronising on the next
pack after garbage or loss."""

from __future__ import annotations

import struct
from dataclasses import dataclass

PACK = b"\x00\x00\x01\xba"
SYSTEM_HEADER = b"\x00\x00\x01\xbb"
STREAM_MAP = b"\x00\x00\x01\xbc"
VIDEO = 0xE0
STREAM_TYPES = {"h264": 0x1B, "hevc": 0x24}
CODECS = {value: key for key, value in STREAM_TYPES.items()}
PES_PAYLOAD = 65_535 - 8
"""Bytes of an access unit in one PES packet (the length field counts 16 bits; 8 go to the header with a PTS)."""
MAX_ACCESS_UNIT = 8 << 20
"""An access unit larger than this (8 MB) is garbage: it is dropped and the demuxer waits for the next pack."""
MUX_RATE = 0x3FFFFF


@dataclass(frozen=True, slots=True)
class AccessUnit:
    pts: int
    """90 kHz."""
    data: bytes
    """Annex B."""
    codec: str


def mux(data: bytes, pts: int, *, keyframe: bool, codec: str = "h264") -> bytes:
    """One access unit (Annex B) as a pack: pack header, then on a keyframe the system header and the stream map,
    then its PES packets (the first carries the PTS)."""
    out = bytearray(_pack_header(pts))
    if keyframe:
        out += _system_header() + _stream_map(STREAM_TYPES[codec])
    for offset in range(0, max(1, len(data)), PES_PAYLOAD):
        out += _pes(data[offset : offset + PES_PAYLOAD], pts if offset == 0 else None)
    return bytes(out)


class PsDemuxer:
    """Feed it program-stream bytes as they come (any cut); it gives back whole access units."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._codec = "h264"
        self._pts: int | None = None
        self._unit = bytearray()
        self.dropped = 0
        """Bytes skipped as unreadable."""

    def feed(self, data: bytes) -> list[AccessUnit]:
        self._buffer += data
        done: list[AccessUnit] = []
        while True:
            at = self._buffer.find(b"\x00\x00\x01")
            if at < 0:
                keep = min(len(self._buffer), 2)
                self.dropped += len(self._buffer) - keep
                del self._buffer[: len(self._buffer) - keep]
                return done
            if at:
                self.dropped += at
                del self._buffer[:at]
            if len(self._buffer) < 6:
                return done
            code = self._buffer[3]
            size = self._size(code)
            if size is None:  # not a start code of ours: skip it
                self.dropped += 3
                del self._buffer[:3]
                continue
            if code != 0xBA and size > 0:
                cut = self._buffer.find(PACK, 6, size)
                if cut > 0:  # a pack starts inside it: its length was wrong (a start code cannot occur in video)
                    self.dropped += cut
                    del self._buffer[:cut]
                    continue
            if size < 0 or len(self._buffer) < size:
                return done  # the rest has not come yet
            packet = bytes(self._buffer[:size])
            del self._buffer[:size]
            if code == 0xBA:
                done += self._flush()
            elif code == 0xBC:
                self._read_map(packet)
            elif code == VIDEO:
                done += self._read_pes(packet)

    def flush(self) -> list[AccessUnit]:
        """The access unit still being gathered (at the end of the stream)."""
        return self._flush()

    def _size(self, code: int) -> int | None:
        """Bytes of the packet at the buffer's start, -1 while its length is not known yet, None: not ours."""
        buffer = self._buffer
        if code == 0xBA:
            if len(buffer) < 14:
                return -1
            return 14 + (buffer[13] & 0x07)
        if code in (0xBB, 0xBC, 0xBD, 0xBE, 0xBF) or 0xC0 <= code <= 0xEF:
            length: int = struct.unpack_from(">H", buffer, 4)[0]
            return 6 + length
        return None

    def _read_map(self, packet: bytes) -> None:
        if len(packet) < 12:
            return
        info = struct.unpack_from(">H", packet, 8)[0]
        if 12 + info > len(packet):  # lengths that point past the packet: a damaged map, read no further
            return
        at = 10 + info + 2
        end = min(len(packet) - 4, 12 + info + struct.unpack_from(">H", packet, 10 + info)[0])
        while at + 4 <= end:
            stream_type, stream_id, extra = packet[at], packet[at + 1], struct.unpack_from(">H", packet, at + 2)[0]
            if stream_id == VIDEO and stream_type in CODECS:
                self._codec = CODECS[stream_type]
            at += 4 + extra

    def _read_pes(self, packet: bytes) -> list[AccessUnit]:
        if len(packet) < 9 or packet[6] & 0xC0 != 0x80:  # not an MPEG-2 PES header
            self.dropped += len(packet)
            return []
        header = packet[8]
        if 9 + header > len(packet):  # a header longer than its packet
            self.dropped += len(packet)
            return []
        payload = packet[9 + header :]
        done: list[AccessUnit] = []
        if packet[7] & 0x80 and header >= 5:  # a PTS: a new access unit starts here
            pts = _timestamp(packet[9:14])
            if self._pts is not None and pts != self._pts:
                done = self._flush()
            self._pts = pts
        if self._pts is None:
            return done  # the middle of a unit whose start was lost
        self._unit += payload
        if len(self._unit) > MAX_ACCESS_UNIT:
            self.dropped += len(self._unit)
            self._unit.clear()
            self._pts = None
        return done

    def _flush(self) -> list[AccessUnit]:
        if self._pts is None or not self._unit:
            return []
        unit = AccessUnit(self._pts, bytes(self._unit), self._codec)
        self._unit.clear()
        self._pts = None
        return [unit]


def _pack_header(pts: int) -> bytes:
    scr = pts & ((1 << 33) - 1)
    value = (
        (0b01 << 46)
        | ((scr >> 30) & 0x7) << 43
        | 1 << 42
        | ((scr >> 15) & 0x7FFF) << 27
        | 1 << 26
        | (scr & 0x7FFF) << 11
        | 1 << 10
        | 1  # SCR extension 0, marker
    )
    rate = (MUX_RATE << 2) | 0b11
    return PACK + value.to_bytes(6, "big") + rate.to_bytes(3, "big") + b"\xf8"  # no stuffing


def _system_header() -> bytes:
    """Rate bound, one audio and one video stream at most, then the video stream's buffer bound (1 MB)."""
    body = ((1 << 23) | (MUX_RATE << 1) | 1).to_bytes(3, "big")
    body += bytes([0x04, 0xE1, 0x7F])  # audio bound 1, fixed/CSPS 0; locks, marker, video bound 1; no rate limit
    body += bytes([VIDEO]) + ((0b11 << 14) | (1 << 13) | 1024).to_bytes(2, "big")  # scale ×1024, 1024 of them
    return SYSTEM_HEADER + struct.pack(">H", len(body)) + body


def _stream_map(stream_type: int) -> bytes:
    entries = bytes([stream_type, VIDEO]) + struct.pack(">H", 0)
    body = bytes([0xE0, 0xFF]) + struct.pack(">H", 0) + struct.pack(">H", len(entries)) + entries
    crc = _crc32(STREAM_MAP + struct.pack(">H", len(body) + 4) + body)
    return STREAM_MAP + struct.pack(">H", len(body) + 4) + body + struct.pack(">I", crc)


def _pes(payload: bytes, pts: int | None) -> bytes:
    header = bytes([0x80, 0x00, 0x00]) if pts is None else bytes([0x80, 0x80, 0x05]) + _timestamp_bytes(0b0010, pts)
    return b"\x00\x00\x01" + bytes([VIDEO]) + struct.pack(">H", len(header) + len(payload)) + header + payload


def _timestamp_bytes(prefix: int, value: int) -> bytes:
    value &= (1 << 33) - 1
    return bytes(
        [
            (prefix << 4) | ((value >> 29) & 0x0E) | 1,
            (value >> 22) & 0xFF,
            ((value >> 14) & 0xFE) | 1,
            (value >> 7) & 0xFF,
            ((value << 1) & 0xFE) | 1,
        ]
    )


def _timestamp(data: bytes) -> int:
    return ((data[0] >> 1) & 0x07) << 30 | data[1] << 22 | (data[2] >> 1) << 15 | data[3] << 7 | data[4] >> 1


def _crc32(data: bytes) -> int:
    """CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection), as the stream map ends with."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc
