"""GB/T 28181 media: H.264 access units from a real encoder, muxed into program-stream packs (read back by
ffmpeg's own demuxer, an independent check), carried in RTP over UDP-like disorder and over TCP framing, and
demuxed back into the same access units."""

from __future__ import annotations

import contextlib
import io
import random

import av
import pytest
from av.bitstream import BitStreamFilterContext

from sharpeyes.protocols.gb28181 import ps, rtp
from tests.support.clips import make_test_clip


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[bytes, int, bool]]:
    """(Annex B access unit, 90 kHz PTS, keyframe) of a 6 s clip with a keyframe every second."""
    clip = make_test_clip(tmp_path_factory.mktemp("gb") / "clip.mp4", duration_s=6.0, fps=10, gop=10)
    out = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        annexb = BitStreamFilterContext("h264_mp4toannexb", stream)
        for packet in container.demux(stream):
            for converted in annexb.filter(packet):
                pts = int((converted.pts or 0) * (stream.time_base or 0) * 90_000)
                out.append((bytes(converted), pts, bool(converted.is_keyframe)))
    assert len(out) == 60
    return out


def _program_stream(units: list[tuple[bytes, int, bool]]) -> bytes:
    return b"".join(ps.mux(data, pts, keyframe=key) for data, pts, key in units)


def test_ffmpeg_reads_our_program_stream_back_frame_for_frame(units: list[tuple[bytes, int, bool]]) -> None:
    with av.open(io.BytesIO(_program_stream(units)), "r", format="mpeg") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == len(units)
    assert (frames[0].width, frames[0].height) == (320, 240)


def test_a_large_access_unit_spans_several_pes_packets() -> None:
    big = b"\x00\x00\x00\x01\x65" + bytes(random.Random(1).randbytes(200_000)).replace(b"\x00\x00", b"\x00\x01")
    demuxer = ps.PsDemuxer()
    got = demuxer.feed(
        ps.mux(big, 9000, keyframe=True, codec="hevc") + ps.mux(b"\x00\x00\x01\x41", 12600, keyframe=False)
    )
    assert [(unit.pts, unit.data, unit.codec) for unit in got] == [(9000, big, "hevc")]


def test_rtp_out_of_order_with_duplicates_comes_back_whole(units: list[tuple[bytes, int, bool]]) -> None:
    packets: list[bytes] = []
    sequence = 65_500  # wraps past 65535 on the way
    for data, pts, key in units:
        cut = rtp.packetize(ps.mux(data, pts, keyframe=key), sequence=sequence, timestamp=pts, ssrc=123456789)
        packets += cut
        sequence += len(cut)
    shuffled = list(packets)
    chance = random.Random(7)
    for i in range(0, len(shuffled) - 8, 8):  # the network swaps neighbours and repeats some
        window = shuffled[i : i + 8]
        chance.shuffle(window)
        shuffled[i : i + 8] = window
    shuffled[20:20] = [shuffled[25], shuffled[3]]
    reorder, gatherer, demuxer = rtp.Reorder(), rtp.Gatherer(), ps.PsDemuxer()
    got: list[ps.AccessUnit] = []
    for raw in shuffled:
        for packet in reorder.push(rtp.parse(raw)):
            assert packet.payload_type == rtp.PAYLOAD_TYPE
            for pack in gatherer.push(packet):
                got += demuxer.feed(pack)
    got += demuxer.flush()
    assert reorder.duplicates == 2
    assert reorder.lost == 0
    assert [(unit.data, unit.pts) for unit in got] == [(data, pts) for data, pts, _ in units]


def test_tcp_framing_survives_any_cut(units: list[tuple[bytes, int, bool]]) -> None:
    stream = b"".join(
        rtp.tcp_frame(packet)
        for data, pts, key in units[:20]
        for packet in rtp.packetize(ps.mux(data, pts, keyframe=key), sequence=pts, timestamp=pts, ssrc=1)
    )
    buffer, demuxer, got = bytearray(), ps.PsDemuxer(), []
    chance = random.Random(3)
    at = 0
    while at < len(stream):
        step = chance.randint(1, 3000)
        buffer += stream[at : at + step]
        at += step
        for packet in rtp.tcp_packets(buffer):
            got += demuxer.feed(rtp.parse(packet).payload)
    got += demuxer.flush()
    assert [unit.data for unit in got] == [data for data, _, _ in units[:20]]


def test_garbage_and_loss_cost_only_what_they_touch(units: list[tuple[bytes, int, bool]]) -> None:
    packs = [ps.mux(data, pts, keyframe=key) for data, pts, key in units]
    garbage = b"\x00\x00\x01\xe0\xff\xff" + b"\x07" * 500  # a PES claiming 64 KB, its header not MPEG-2
    damaged = [*packs[:10], garbage, packs[10][: len(packs[10]) // 2], *packs[11:]]
    demuxer = ps.PsDemuxer()
    got = [unit for pack in damaged for unit in demuxer.feed(pack)] + demuxer.flush()
    whole = {unit.pts: unit.data for unit in got}
    assert all(whole.get(pts) == data for data, pts, _ in units[:10] + units[12:]), "the rest is intact"
    noise = random.Random(5)
    for _ in range(2000):  # random bytes never raise or hang
        junk = noise.randbytes(noise.randint(0, 300))
        ps.PsDemuxer().feed(junk)
        with contextlib.suppress(rtp.RtpError):
            rtp.parse(junk)


def test_a_pes_header_longer_than_its_packet_is_dropped() -> None:
    """Found by bench/gb_fuzz.py: a PES of 6 bytes claiming a 5-byte PTS."""
    unit = b"\x00\x00\x00\x01\x41\x01"
    demuxer = ps.PsDemuxer()
    got = demuxer.feed(b"\x00\x00\x01\xe0\x00\x06\x80\x80\x05\x21\x00\x01" + ps.mux(unit, 3600, keyframe=False))
    assert got + demuxer.flush() == [ps.AccessUnit(3600, unit, "h264")], "the damaged PES is dropped, the next read"
    assert demuxer.dropped > 0
