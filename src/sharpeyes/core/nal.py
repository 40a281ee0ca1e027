"""H.264/H.265 packet layouts. RTSP and MPEG-TS deliver "Annex B" (NAL units behind 00 00 01 start codes, the
parameter sets in-band or as extradata); MP4, Media Source Extensions and MP4-configured decoders want each NAL
unit behind its 4-byte length, with the parameter sets in an ``avcC``/``hvcC`` record. Everything past the
protocols layer uses the MP4 layout."""

from __future__ import annotations

import struct

_CONFIG_BOXES = {"h264": b"avcC", "hevc": b"hvcC"}


def is_annexb(data: bytes) -> bool:
    return data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01"))


def length_prefixed(data: bytes) -> bytes:
    """Annex B → 4-byte length prefixes. Start codes cannot occur inside a NAL unit (emulation prevention), so
    splitting on them is exact; the zero before a 4-byte start code belongs to the start code."""
    starts = []
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        starts.append(at)
        at = data.find(b"\x00\x00\x01", at + 3)
    parts = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        while end > start + 3 and data[end - 1] == 0:  # a 4-byte start code's first zero, or trailing zeros
            end -= 1
        unit = data[start + 3 : end]
        if unit:
            parts.append(struct.pack(">I", len(unit)) + unit)
    return b"".join(parts)


def mp4_config(codec: str, mp4_init: bytes | None) -> bytes | None:
    """The ``avcC``/``hvcC`` record inside an MP4 initialisation segment (the extradata MP4 decoders want)."""
    box = _CONFIG_BOXES.get(codec)
    if box is None or mp4_init is None:
        return None
    at = mp4_init.find(box)
    if at < 4:
        return None
    (size,) = struct.unpack(">I", mp4_init[at - 4 : at])
    record = mp4_init[at + 4 : at - 4 + size]
    return record if record else None


def annexb(data: bytes) -> bytes:
    """4-byte length prefixes → Annex B (4-byte start codes); Annex B comes back as it is."""
    if is_annexb(data):
        return data
    parts, at = [], 0
    while at + 4 <= len(data):
        (size,) = struct.unpack_from(">I", data, at)
        if size == 0 or at + 4 + size > len(data):
            break  # not length-prefixed after all, or cut short: keep what was whole
        parts.append(b"\x00\x00\x00\x01" + data[at + 4 : at + 4 + size])
        at += 4 + size
    return b"".join(parts)


def parameter_sets(codec: str, config: bytes | None) -> bytes:
    """The parameter sets (VPS/SPS/PPS) of an ``avcC``/``hvcC`` record in Annex B, to put before a keyframe for
    receivers that see only the stream (MPEG-PS); empty when there is no record or it cannot be read."""
    if config is None:
        return b""
    try:
        units = _avcc_units(config) if codec == "h264" else _hvcc_units(config) if codec == "hevc" else []
    except (IndexError, struct.error):
        return b""
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in units)


def _avcc_units(config: bytes) -> list[bytes]:
    units, at = [], 6
    for count_mask in (0x1F, 0xFF):  # sequence parameter sets, then picture parameter sets
        count = config[at - 1] & count_mask
        for _ in range(count):
            (size,) = struct.unpack_from(">H", config, at)
            units.append(config[at + 2 : at + 2 + size])
            at += 2 + size
        at += 1
    return units


def _hvcc_units(config: bytes) -> list[bytes]:
    units, at = [], 23
    for _ in range(config[22]):
        (count,) = struct.unpack_from(">H", config, at + 1)
        at += 3
        for _ in range(count):
            (size,) = struct.unpack_from(">H", config, at)
            units.append(config[at + 2 : at + 2 + size])
            at += 2 + size
    return units
