"""Compressed media as it crosses from protocols to media: plain values, no library objects."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The video stream a source delivers."""

    codec: str
    width: int
    height: int
    time_base: Fraction
    extradata: bytes | None
    mp4_init: bytes | None = None
    """A fragmented-MP4 initialisation segment (ftyp + moov) describing the stream, for remuxing and MSE/HLS;
    None when the codec cannot go into MP4."""


FRAGMENTED_MP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One compressed video packet. ``pts``/``dts`` count ``time_base`` units; ``received_s`` is monotonic."""

    data: bytes
    pts: int | None
    dts: int | None
    time_base: Fraction
    keyframe: bool
    received_s: float
