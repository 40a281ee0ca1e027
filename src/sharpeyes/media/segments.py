"""Reading recorded segment files: their fMP4 parts for HLS, clips cut on keyframes, and probing."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeAlias

import av

from sharpeyes.core.errors import UnavailableError


@dataclass(frozen=True, slots=True)
class SegmentPiece:
    """A segment file and the wall-clock time its first frame was captured."""

    path: Path
    start: datetime


def media_offset(path: Path) -> int:
    """Byte offset of the first ``moof`` box: before it the initialisation part (ftyp, moov), after it the media."""
    offset = 0
    with path.open("rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if kind == b"moof":
                return offset
            if size == 1:
                size = struct.unpack(">Q", handle.read(8))[0]
            if size < 8:
                break
            offset += size
            handle.seek(offset)
    raise ValueError(f"{path.name} is not a fragmented MP4 (no moof box)")


def probe_segment(path: Path) -> tuple[float, str] | None:
    """(duration in seconds, codec) of a complete segment file, None when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            first: int | None = None
            last = 0
            for packet in container.demux(stream):
                if packet.dts is None:
                    continue
                first = packet.dts if first is None else first
                last = max(last, packet.dts + (packet.duration or 0))
            if first is None or stream.time_base is None:
                return None
            return float((last - first) * stream.time_base), stream.codec_context.name
    except (av.FFmpegError, IndexError, OSError):
        return None


def write_clip(pieces: Sequence[SegmentPiece], start: datetime, end: datetime, out: Path) -> int:
    """Remux the frames from the keyframe at or before ``start`` to the first keyframe after ``end`` into one
    MP4 (no decoding); recording gaps are closed up. Returns the number of packets written."""
    try:
        return _write_clip(pieces, start, end, out)
    except av.FFmpegError as err:
        raise UnavailableError(f"the recording could not be read: {err}", code="segment_unreadable") from err


def _write_clip(pieces: Sequence[SegmentPiece], start: datetime, end: datetime, out: Path) -> int:
    written = 0
    output = av.open(str(out), "w", format="mp4", options={"movflags": "faststart"})  # faststart needs a file
    stream = None
    next_ts = 0
    try:
        for piece in pieces:
            with av.open(str(piece.path)) as source:
                video = source.streams.video[0]
                time_base = video.time_base or Fraction(1, 90000)
                if stream is None:
                    stream = output.add_stream_from_template(video)
                timed = [(p, p.dts) for p in source.demux(video) if p.dts is not None and p.size]
                chosen = _within(timed, piece.start, time_base, start, end)
                if not chosen:
                    continue
                shift = next_ts - chosen[0][1]
                for packet, dts in chosen:
                    pts = packet.pts if packet.pts is not None else dts
                    packet.dts, packet.pts = dts + shift, pts + shift
                    packet.stream = stream
                    output.mux(packet)
                    written += 1
                last_packet, last_dts = chosen[-1]
                next_ts = last_dts + shift + (last_packet.duration or 1)
    finally:
        output.close()
    return written


_Timed: TypeAlias = "list[tuple[av.Packet[Any], int]]"


def _within(timed: _Timed, piece_start: datetime, time_base: Fraction, start: datetime, end: datetime) -> _Timed:
    """The packets of one segment from the keyframe at or before ``start`` to the first keyframe after ``end``."""
    if not timed:
        return []
    first = timed[0][1]
    walls = [piece_start.timestamp() + float((dts - first) * time_base) for _packet, dts in timed]
    if walls[-1] < start.timestamp() or walls[0] > end.timestamp():
        return []
    begin = 0
    for index, (packet, _dts) in enumerate(timed):
        if packet.is_keyframe and walls[index] <= start.timestamp():
            begin = index
    stop = next(
        (i for i, (packet, _dts) in enumerate(timed) if packet.is_keyframe and walls[i] > end.timestamp()), len(timed)
    )
    return timed[begin:stop]
