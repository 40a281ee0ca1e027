"""A million mutated inputs through everything that reads what GB/T 28181 devices send: the SIP parser and TCP framing,
the SIP server as a whole, MANSCDP bodies (with the catalogs read from them), SDP, the program-stream demuxer and RTP
reading and reordering. Each input is a well-formed one (``tests/protocols/gb28181_corpus.py``) with bytes flipped,
cut, spliced or repeated, or plain random bytes. A crash is any exception other than the module's own refusal; a hang
is an input that takes over a second. The baseline is the same number of plain random inputs, timed in the same run.

    .venv/bin/python bench/gb_fuzz.py [--inputs 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the corpus lives with the tests

from rich.progress import Progress
from tests.protocols.gb28181_corpus import MANSCDP, PS, RTP, SDP, SIP

from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import catalog, manscdp, ps, rtp, sdp
from sharpeyes.protocols.gb28181.server import SipServer
from sharpeyes.protocols.gb28181.sip import SipError, parse, split_stream

HANG_S = 1.0
SERVER = SipServer(Gb28181Settings(enabled=True, password="fuzz-password"))  # noqa: S106  # a test server


def _sip(data: bytes) -> None:
    with contextlib.suppress(SipError):
        parse(data).encode()
    buffer = bytearray(data)
    with contextlib.suppress(SipError):
        while split_stream(buffer) is not None:
            pass


def _server(data: bytes) -> None:
    SERVER.handle(data, "127.0.0.1", 5060, "UDP", lambda answer: None)


def _manscdp(data: bytes) -> None:
    with contextlib.suppress(manscdp.ManscdpError):
        catalog.items(manscdp.parse(data))


def _sdp(data: bytes) -> None:
    with contextlib.suppress(SipError):
        sdp.read(data)


def _ps(data: bytes) -> None:
    demuxer = ps.PsDemuxer()
    demuxer.feed(data[: len(data) // 2])
    demuxer.feed(data[len(data) // 2 :])
    demuxer.flush()


def _rtp(data: bytes) -> None:
    reorder = rtp.Reorder()
    with contextlib.suppress(rtp.RtpError):
        reorder.push(rtp.parse(data))
    list(rtp.tcp_packets(bytearray(data)))


TARGETS: dict[str, tuple[list[bytes], Callable[[bytes], None]]] = {
    "sip": (SIP, _sip),
    "server": (SIP, _server),
    "manscdp": (MANSCDP, _manscdp),
    "sdp": (SDP, _sdp),
    "ps": (PS, _ps),
    "rtp": (RTP, _rtp),
}


def mutate(chance: random.Random, corpus: list[bytes]) -> bytes:
    if chance.random() < 0.1:
        return chance.randbytes(chance.randint(0, 2000))
    data = bytearray(chance.choice(corpus))
    for _ in range(chance.randint(1, 8)):
        at = chance.randint(0, max(0, len(data) - 1))
        action = chance.randint(0, 3)
        if action == 0 and data:
            data[at] = chance.randint(0, 255)
        elif action == 1:
            del data[at : at + chance.randint(1, 64)]
        elif action == 2:
            data[at:at] = chance.randbytes(chance.randint(1, 64))
        else:
            data[at:at] = data[at : at + chance.randint(1, 200)]
    return bytes(data)


def run(inputs: int, chance: random.Random, make: Callable[[random.Random, list[bytes]], bytes], label: str) -> float:
    crashes: Counter[str] = Counter()
    slowest = 0.0
    started = time.perf_counter()
    names = list(TARGETS)
    with Progress() as progress:
        task = progress.add_task(label, total=inputs)
        for number in range(inputs):
            name = names[number % len(names)]
            corpus, target = TARGETS[name]
            data = make(chance, corpus)
            t0 = time.perf_counter()
            try:
                target(data)
            except Exception as err:  # any other exception is what the run looks for
                crashes[f"{name}: {type(err).__name__}: {err}"[:160]] += 1
            slowest = max(slowest, time.perf_counter() - t0)
            if number % 5000 == 0:
                progress.update(task, completed=number)
        progress.update(task, completed=inputs)
    elapsed = time.perf_counter() - started
    print(f"{label}: {inputs:,} inputs in {elapsed:.0f} s ({inputs / elapsed:,.0f}/s), slowest {slowest * 1000:.1f} ms")
    for crash, count in crashes.most_common(10):
        print(f"  CRASH ×{count}: {crash}")
    hangs = "none" if slowest < HANG_S else f"{slowest:.1f} s"
    print(f"  crashes: {sum(crashes.values())}, hangs (> {HANG_S:.0f} s): {hangs}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every refused input is logged; a million lines say nothing here
    chance = random.Random(args.seed)  # noqa: S311  # reproducible inputs, not secrets
    mutated = run(args.inputs, chance, mutate, "mutated")
    plain = run(args.inputs // 10, chance, lambda c, _: c.randbytes(c.randint(0, 2000)), "plain random")
    print(f"mutated inputs cost {mutated / args.inputs / (plain / (args.inputs // 10)):.1f}× plain random ones each")


if __name__ == "__main__":
    main()
