from __future__ import annotations

import struct

from sharpeyes.core.nal import is_annexb, length_prefixed, mp4_config

SPS = bytes.fromhex("6742c00bd9")
PPS = bytes.fromhex("68ce3c80")
SLICE = bytes.fromhex("65888400") + b"\x10\x00\x00\x03\x01"  # an emulation-prevented 00 00 03 01 inside


def _prefixed(*units: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(unit)) + unit for unit in units)


def test_annexb_units_get_length_prefixes_whatever_the_start_code_length() -> None:
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + SLICE
    assert is_annexb(data)
    assert length_prefixed(data) == _prefixed(SPS, PPS, SLICE)
    assert not is_annexb(length_prefixed(data))


def test_trailing_zeros_before_a_start_code_are_not_part_of_the_unit() -> None:
    data = b"\x00\x00\x01" + SPS + b"\x00\x00" + b"\x00\x00\x00\x01" + PPS
    assert length_prefixed(data) == _prefixed(SPS, PPS)


def test_the_config_record_is_read_from_an_mp4_header() -> None:
    record = bytes.fromhex("0142c00bffe1")
    init = b"\x00\x00\x00\x08ftyp" + struct.pack(">I", 8 + len(record)) + b"avcC" + record + b"\x00\x00\x00\x08free"
    assert mp4_config("h264", init) == record
    assert mp4_config("hevc", init) is None, "an hvcC record is looked for in H.265 streams"
    assert mp4_config("mjpeg", init) is None
    assert mp4_config("h264", None) is None
