"""A short fuzz run over everything that reads what devices send (``bench/gb_fuzz.py`` runs a million inputs):
the SIP parser and TCP framing, the server as a whole, MANSCDP bodies and catalogs, SDP, the program-stream demuxer
and RTP. Any
input either reads or is refused with the module's own error; nothing else is raised, nothing hangs."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import catalog, manscdp, ps, rtp, sdp
from sharpeyes.protocols.gb28181.server import SipServer
from sharpeyes.protocols.gb28181.sip import SipError, parse, split_stream
from tests.protocols.gb28181_corpus import MANSCDP, PS, RTP, SDP, SIP

SHORT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A corpus entry with bytes flipped, cut, repeated or spliced in; or plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2000))
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.integers(0, 3))
        if action == 0 and data:
            data[at] = draw(st.integers(0, 255))
        elif action == 1:
            del data[at : at + draw(st.integers(1, 64))]
        elif action == 2:
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@SHORT
@given(mutated(SIP))
def test_sip_parsing(data: bytes) -> None:
    with contextlib.suppress(SipError):
        message = parse(data)
        message.encode()
    buffer = bytearray(data)
    with contextlib.suppress(SipError):
        while split_stream(buffer) is not None:
            pass


@SHORT
@given(st.lists(mutated(SIP), min_size=1, max_size=5), st.sampled_from(["UDP", "TCP"]))
def test_the_server_answers_or_drops_whatever_comes(messages: list[bytes], transport: str) -> None:
    server = SipServer(Gb28181Settings(enabled=True, password="fuzz-password"))
    answers: list[bytes] = []
    for data in messages:
        server.handle(data, "127.0.0.1", 5060, transport, answers.append)
    for answer in answers:  # whatever it answers is itself well-formed SIP
        parse(answer)
    server.sweep()


@SHORT
@given(mutated(MANSCDP))
def test_manscdp_parsing(data: bytes) -> None:
    with contextlib.suppress(manscdp.ManscdpError):
        catalog.items(manscdp.parse(data))


@SHORT
@given(mutated(SDP))
def test_sdp_reading(data: bytes) -> None:
    with contextlib.suppress(SipError):
        sdp.read(data)


@SHORT
@given(st.lists(mutated(PS), min_size=1, max_size=6))
def test_program_stream_demuxing(chunks: list[bytes]) -> None:
    demuxer = ps.PsDemuxer()
    for chunk in chunks:
        for unit in demuxer.feed(chunk):
            assert len(unit.data) <= ps.MAX_ACCESS_UNIT
    demuxer.flush()


@SHORT
@given(st.lists(mutated(RTP), min_size=1, max_size=40))
def test_rtp_reading_and_reordering(packets: list[bytes]) -> None:
    reorder, gatherer = rtp.Reorder(), rtp.Gatherer()
    for data in packets:
        with contextlib.suppress(rtp.RtpError):
            for packet in reorder.push(rtp.parse(data)):
                gatherer.push(packet)
    reorder.flush()
    framed = bytearray(b"".join(rtp.tcp_frame(packet) for packet in packets))
    assert list(rtp.tcp_packets(framed)) == packets
