"""GB/T 28181 signalling capacity: simulated devices register (digest) to the platform's SIP server, running in a
process of its own, over UDP, then keep alive at one keepalive a minute each; the keepalive rate that many devices
make is sent for a while and every answer timed. Steps of 10,000, 50,000, 100,000 and 420,000 devices (a city's
cameras: about 7,000 keepalives a second at the last) show where the curve bends. The baseline is a bare asyncio
UDP echo process at the same rates, measured in the same run: the floor this machine and Python put under any
answer. Target: 420,000 devices held, keepalive p99 < 50 ms.

    .venv/bin/python bench/gb_signalling.py [--steps 10000,50000,100000,420000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np

from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import digest, manscdp
from sharpeyes.protocols.gb28181.server import SipServer

PASSWORD = "bench-password"  # noqa: S105  # the simulated devices' own
SETTINGS = Gb28181Settings(enabled=True, port=0, password=PASSWORD, keepalive_s=60.0)
KEEPALIVE = manscdp.write("Notify", "Keepalive", "1", "0" * 20)
TICK_S = 0.01
REGISTER_RATE = 2000
"""Registrations started a second (each is two requests: the challenge and the answer)."""


def _serve(kind: str, ready: Connection) -> None:
    async def main() -> None:
        if kind == "sip":
            server = SipServer(SETTINGS)
            await server.start()
            ready.send(server.port)
        else:
            loop = asyncio.get_running_loop()

            class Echo(asyncio.DatagramProtocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    self.transport = transport

                def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
                    self.transport.sendto(data, addr)  # type: ignore[attr-defined]

            transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
            ready.send(transport.get_extra_info("sockname")[1])
        await asyncio.Event().wait()

    asyncio.run(main())


def _device(number: int) -> str:
    return f"34020000001320{number:06d}"


def _request(method: str, device: str, cseq: int, headers: str = "", body: bytes = b"") -> bytes:
    target = "34020000002000000001" if method == "MESSAGE" else device
    text = (
        f"{method} sip:34020000002000000001@3402000000 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK{device}{cseq}\r\n"
        f"From: <sip:{device}@3402000000>;tag={device}\r\nTo: <sip:{target}@3402000000>\r\n"
        f"Call-ID: {device}-{cseq}\r\nCSeq: {cseq} {method}\r\nExpires: 3600\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return text.encode() + body


class Client(asyncio.DatagramProtocol):
    """One socket for every simulated device; answers are matched by Call-ID."""

    def __init__(self) -> None:
        self.waiting: dict[str, tuple[float, Callable[[bytes], None] | None]] = {}
        self.latencies: list[float] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        at = data.find(b"Call-ID: ")
        if at < 0:
            return
        call = data[at + 9 : data.find(b"\r\n", at)].decode()
        sent = self.waiting.pop(call, None)
        if sent is None:
            return
        self.latencies.append(time.perf_counter() - sent[0])
        if sent[1] is not None:
            sent[1](data)

    def send(self, data: bytes, call: str, port: int, then: Callable[[bytes], None] | None = None) -> None:
        assert self.transport is not None
        self.waiting[call] = (time.perf_counter(), then)
        self.transport.sendto(data, ("127.0.0.1", port))


async def _register(client: Client, port: int, first: int, last: int, rate: float) -> int:
    """Register devices ``first``…``last - 1`` at about ``rate`` a second; how many got their 200."""
    registered = 0

    def answer_challenge(number: int) -> Callable[[bytes], None]:
        def respond(data: bytes) -> None:
            nonlocal registered
            if not data.startswith(b"SIP/2.0 401"):
                return
            line = next(line for line in data.decode().split("\r\n") if line.startswith("WWW-Authenticate"))
            nonce = digest.credentials(line.split(":", 1)[1])["nonce"]
            device = _device(number)
            given = {"username": device, "realm": SETTINGS.domain, "nonce": nonce, "uri": "sip:x@3402000000"}
            given["response"] = digest.expected(given, "REGISTER", PASSWORD)
            header = "Authorization: Digest " + ", ".join(f'{k}="{v}"' for k, v in given.items()) + "\r\n"
            client.send(_request("REGISTER", device, 2, header), f"{device}-2", port, counted)

        return respond

    def counted(data: bytes) -> None:
        nonlocal registered
        registered += data.startswith(b"SIP/2.0 200")

    per_tick = max(1, int(rate * TICK_S))
    for start in range(first, last, per_tick):
        for number in range(start, min(last, start + per_tick)):
            device = _device(number)
            client.send(_request("REGISTER", device, 1), f"{device}-1", port, answer_challenge(number))
        await asyncio.sleep(TICK_S)
    await asyncio.sleep(2.0)  # the last answers
    return registered


async def _keepalives(client: Client, port: int, devices: int, seconds: float) -> tuple[float, float, int]:
    """Send ``devices``/60 keepalives a second for ``seconds``; (p50 ms, p99 ms, unanswered)."""
    client.latencies.clear()
    rate = devices / SETTINGS.keepalive_s
    sent, cseq = 0, 1000
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        while sent < due:
            device = _device(sent % devices)
            cseq += 1
            body = KEEPALIVE.replace(b"0" * 20, device.encode())
            data = _request("MESSAGE", device, cseq, "Content-Type: Application/MANSCDP+xml\r\n", body)
            client.send(data, f"{device}-{cseq}", port)
            sent += 1
        await asyncio.sleep(TICK_S)
    await asyncio.sleep(1.0)
    unanswered = len(client.waiting)
    client.waiting.clear()
    values = np.array(client.latencies) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 99)), unanswered


async def _measure(kind: str, port: int, steps: list[int], seconds: float) -> list[tuple[int, float, float, int]]:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_datagram_endpoint(Client, local_addr=("127.0.0.1", 0))
    rows, held = [], 0
    for devices in steps:
        if kind == "sip":
            started = time.perf_counter()
            got = await _register(client, port, held, devices, rate=REGISTER_RATE)
            print(f"  registered {got:,} more devices in {time.perf_counter() - started:.0f} s ({devices:,} held)")
            client.waiting.clear()  # registrations left unanswered are counted above, not as keepalives
        held = devices
        p50, p99, lost = await _keepalives(client, port, devices, seconds)
        rows.append((devices, p50, p99, lost))
        print(
            f"  {kind:4s} {devices:>8,} devices ({devices / 60:,.0f}/s): p50 {p50:6.2f} ms  p99 {p99:7.2f} ms"
            f"  unanswered {lost}"
        )
    return rows


def _run(kind: str, steps: list[int], seconds: float) -> list[tuple[int, float, float, int]]:
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(kind, theirs), daemon=True)
    process.start()
    try:
        port = ours.recv()
        return asyncio.run(_measure(kind, port, steps, seconds))
    finally:
        process.terminate()
        process.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="10000,50000,100000,420000")
    parser.add_argument("--seconds", type=float, default=10.0, help="keepalive traffic measured per step")
    args = parser.parse_args()
    steps = [int(step) for step in args.steps.split(",")]
    print("baseline: a bare asyncio UDP echo process")
    echo = _run("echo", steps, args.seconds)
    print("the platform's SIP server")
    sip = _run("sip", steps, args.seconds)
    for (devices, _, echo_p99, _), (_, _, p99, lost) in zip(echo, sip, strict=True):
        print(
            f"{devices:>8,} devices: p99 {p99:.1f} ms = {p99 / max(echo_p99, 1e-3):.1f}× the echo's; unanswered {lost}"
        )
    worst = sip[-1]
    met = worst[2] < 50 and worst[3] == 0
    print(f"target ({steps[-1]:,} devices held, p99 < 50 ms): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
