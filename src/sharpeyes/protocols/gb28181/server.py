"""The SIP server GB/T 28181 devices and lower platforms register to, over UDP and TCP: REGISTER with MD5 digest
(401 to challenge; 403, never a second challenge, for a wrong password or an id that is not a device's), keepalive
MESSAGEs, and each device's state (online until it misses its keepalives or its registration runs out).

A message that cannot be read is logged with where it came from and dropped (on TCP the connection is closed, since
the stream can no longer be cut into messages); nothing else is disturbed."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import digest, manscdp
from sharpeyes.protocols.gb28181.sip import (
    SipError,
    SipMessage,
    parameters,
    parse,
    response,
    split_stream,
    user_of,
)

logger = logging.getLogger(__name__)

DEFAULT_EXPIRES = 3600
NONCE_LIFETIME_S = 300.0
MOST_NONCES = 10_000
"""Challenges outstanding at once (the oldest are forgotten beyond this: a flood of REGISTERs stays bounded)."""
SWEEP_TICK_S = 0.1
SWEPT_AT_ONCE = 5_000
"""Devices looked at per sweep tick: 420,000 are all seen every 8.4 s, each tick a millisecond or two."""
SOCKET_BUFFER = 4 << 20
"""Bytes the UDP socket may queue each way (the kernel may cap it: net.core.rmem_max)."""
_DEVICE_ID = re.compile(r"^\d{20}$")

Send = Callable[[bytes], None]


@dataclass(slots=True)
class Device:
    device_id: str
    host: str
    port: int
    transport: str
    """UDP or TCP."""
    registered_at: float
    expires_at: float
    last_keepalive: float | None = None
    online: bool = True


class DeviceListener(Protocol):
    def device_changed(self, device: Device, change: str) -> None:
        """``change``: registered, unregistered, expired, online, offline."""
        ...


class SipServer:
    def __init__(
        self,
        settings: Gb28181Settings,
        listener: DeviceListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._listener = listener
        self.clock = clock
        """Seconds on the clock the devices' times are on."""
        self._devices: dict[str, Device] = {}
        self._nonces: dict[str, float] = {}
        self._round: list[str] = []
        """Device ids still to be looked at in this round of sweeping."""
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.port = settings.port
        """The port it listens on (the one asked for, or the one given for port 0)."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self._settings.host, self._settings.port
        self._tcp = await asyncio.start_server(self._serve_tcp, host, port)
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), local_addr=(host, self.port))
        sock = self._udp.get_extra_info("socket")
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):  # a burst of registrations after an outage waits, not lost
            sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="gb28181-sweep")
        logger.info("GB/T 28181 SIP server on %s:%d (UDP and TCP), id %s", host, self.port, self._settings.server_id)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def devices(self) -> list[Device]:
        return sorted(self._devices.values(), key=lambda device: device.device_id)

    def handle(self, data: bytes, host: str, port: int, transport: str, send: Send) -> None:
        """One message from ``host:port``; answers go through ``send``."""
        try:
            message = parse(data)
        except SipError as err:
            logger.warning("SIP from %s:%d over %s dropped: %s", host, port, transport, err)
            return
        if not message.is_request:
            return  # answers to our requests: nothing is asked of devices yet
        answer = self._answer(message, host, port, transport)
        _via_received(answer, host, port)
        send(answer.encode())

    def sweep(self, most: int | None = None) -> None:
        """Devices whose registration ran out go; those that missed their keepalives are offline. With ``most``,
        only that many devices are looked at, carrying on from the last call (the loop never stalls on a long
        list); without, all of them."""
        now = self.clock()
        limit = self._settings.keepalive_s * self._settings.keepalive_missed
        if most is None or not self._round:
            self._round = list(self._devices)  # a new round over the devices registered now
        ids, self._round = (self._round, []) if most is None else (self._round[:most], self._round[most:])
        for device_id in ids:
            device = self._devices.get(device_id)
            if device is None:
                continue
            if now >= device.expires_at:
                del self._devices[device_id]
                self._changed(device, "expired")
            elif device.online and now - (device.last_keepalive or device.registered_at) > limit:
                device.online = False
                self._changed(device, "offline")
        if not self._round:
            stale = [nonce for nonce, issued in self._nonces.items() if now - issued > NONCE_LIFETIME_S]
            for nonce in stale:
                del self._nonces[nonce]

    def _answer(self, request: SipMessage, host: str, port: int, transport: str) -> SipMessage:
        tag = secrets.token_hex(4)
        if request.method == "REGISTER":
            return self._register(request, host, port, transport, tag)
        if request.method == "MESSAGE":
            return self._message(request, tag)
        if request.method == "OPTIONS":
            return response(request, 200, "OK", to_tag=tag)
        answer = response(request, 405, "Method Not Allowed", to_tag=tag)
        answer.set("Allow", "REGISTER, MESSAGE, OPTIONS")
        return answer

    def _register(self, request: SipMessage, host: str, port: int, transport: str, tag: str) -> SipMessage:
        device_id = user_of(request.get("To")) or user_of(request.get("From"))
        if not _DEVICE_ID.match(device_id):
            logger.warning("REGISTER from %s:%d refused: %r is not a 20-digit device id", host, port, device_id)
            return response(request, 403, "Forbidden", to_tag=tag)
        given = digest.credentials(request.get("Authorization"))
        if not given or given.get("nonce") not in self._nonces:
            return self._challenge(request, tag)
        password = self._settings.passwords.get(device_id, self._settings.password)
        if password is None or given.get("username") != device_id or not digest.verify(given, "REGISTER", password):
            logger.warning("REGISTER of device %s from %s:%d refused: wrong credentials", device_id, host, port)
            return response(request, 403, "Forbidden", to_tag=tag)
        asked = request.get("Expires") or parameters(request.get("Contact")).get("expires", "")
        expires = int(asked) if asked.isdigit() else DEFAULT_EXPIRES
        answer = response(request, 200, "OK", to_tag=tag)
        answer.set("Date", datetime.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3])  # the device's clock is local
        if expires == 0:
            gone = self._devices.pop(device_id, None)
            if gone is not None:
                self._changed(gone, "unregistered")
            answer.set("Expires", "0")
            return answer
        expires = min(max(expires, self._settings.min_expires), self._settings.max_expires)
        now = self.clock()
        device = Device(device_id, host, port, transport, now, now + expires)
        self._devices[device_id] = device
        self._changed(device, "registered")
        answer.set("Expires", str(expires))
        if request.get("Contact"):
            answer.set("Contact", request.get("Contact"))
        return answer

    def _challenge(self, request: SipMessage, tag: str) -> SipMessage:
        nonce, value = digest.challenge(self._settings.domain)
        if len(self._nonces) >= MOST_NONCES:
            del self._nonces[next(iter(self._nonces))]
        self._nonces[nonce] = self.clock()
        answer = response(request, 401, "Unauthorized", to_tag=tag)
        answer.set("WWW-Authenticate", value)
        return answer

    def _message(self, request: SipMessage, tag: str) -> SipMessage:
        sender = user_of(request.get("From"))
        device = self._devices.get(sender)
        if device is None:
            logger.info("MESSAGE from %s, which is not registered: refused", sender or "an unknown sender")
            return response(request, 403, "Forbidden", to_tag=tag)
        try:
            body = manscdp.parse(request.body)
        except manscdp.ManscdpError as err:
            logger.warning("device %s: MESSAGE body refused: %s", sender, err)
            return response(request, 400, "Bad Request", to_tag=tag)
        if body.cmd_type == "Keepalive":
            device.last_keepalive = self.clock()
            if not device.online:
                device.online = True
                self._changed(device, "online")
        return response(request, 200, "OK", to_tag=tag)

    def _changed(self, device: Device, change: str) -> None:
        logger.info(
            "GB/T 28181 device %s %s (%s:%d over %s)",
            device.device_id,
            change,
            device.host,
            device.port,
            device.transport,
        )
        if self._listener is not None:
            self._listener.device_changed(device, change)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_TICK_S)
            self.sweep(SWEPT_AT_ONCE)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        buffer = bytearray()
        try:
            while chunk := await reader.read(65_536):
                buffer += chunk
                while (data := split_stream(buffer)) is not None:
                    self.handle(data, host, port, "TCP", writer.write)
        except SipError as err:
            logger.warning("SIP over TCP from %s:%d closed: %s", host, port, err)
        except ConnectionError:
            pass
        finally:
            writer.close()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: SipServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host, port = str(addr[0]), int(str(addr[1]))
        transport = self._transport
        if transport is not None:
            self._server.handle(data, host, port, "UDP", lambda answer: transport.sendto(answer, (host, port)))


def _via_received(answer: SipMessage, host: str, port: int) -> None:
    """Tell the device where its request came from (``received``/``rport``): behind NAT it learns its outside
    address, and answers go there (RFC 3581)."""
    vias = [(key, value) for key, value in answer.headers if key.lower() in ("via", "v")]
    if not vias:
        return
    key, top = vias[0]
    marked = re.sub(r";rport(?=;|$)", f";rport={port}", top)
    if ";received=" not in marked:
        marked += f";received={host}"
    index = answer.headers.index((key, top))
    answer.headers[index] = (key, marked)
