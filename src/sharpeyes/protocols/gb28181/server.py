"""The SIP server GB/T 28181 devices and lower platforms register to, over UDP and TCP: REGISTER with MD5 digest
(401 to challenge; 403, never a second challenge, for a wrong password or an id that is not a device's), keepalive
MESSAGEs, and each device's state (online until it misses its keepalives or its registration runs out). Through it
the platform asks devices (queries whose answers may come in several MESSAGEs, controls, INVITE/BYE), and hears
their notifications (alarms, catalog changes).

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

from sharpeyes.core.gb_devices import SuperiorPlatform
from sharpeyes.core.gb_ids import ascii_digits
from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import digest, manscdp, sdp
from sharpeyes.protocols.gb28181.requests import Dialog, NoAnswer, Peer, Requests
from sharpeyes.protocols.gb28181.sip import (
    SipError,
    SipMessage,
    parameters,
    parse,
    read_stream,
    response,
    user_of,
)
from sharpeyes.protocols.gb28181.upward import Cascade, SuperiorLink

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
_DEVICE_ID = re.compile(r"^[0-9]{20}$")

ANSWER_GAP_S = 5.0
"""Seconds to wait for the next part of an answer spread over several MESSAGEs before giving up on the rest."""
REQUEST_TIMEOUT_S = 8.0

Send = Callable[[bytes], None]


class DeviceAbsent(LookupError):
    """The device is not registered (or its connection is gone): nothing can be asked of it."""


class Refused(RuntimeError):
    """The device answered a request with an error status."""

    def __init__(self, what: str, status: int, reason: str) -> None:
        super().__init__(f"{what}: the device answered {status} {reason}".strip())
        self.status = status


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
    contact: tuple[str, int] | None = None
    """Where the device asked to be sent requests (its REGISTER's Contact)."""
    send: Send | None = None
    """Its TCP connection's writer (UDP devices are sent to through the server's socket)."""


@dataclass(slots=True)
class Answer:
    """A device's answer to one query: its parts, and whether every item that ``SumNum`` announced arrived."""

    parts: list[manscdp.Manscdp]
    complete: bool


class DeviceListener(Protocol):
    def device_changed(self, device: Device, change: str) -> None:
        """``change``: registered, unregistered, expired, online, offline."""
        ...

    def notified(self, device: Device, body: manscdp.Manscdp) -> None:
        """A Notify other than Keepalive (Alarm, a catalog change, a media status…)."""
        ...


@dataclass(slots=True)
class _Collecting:
    """The parts of one answer gathered so far (items counted across its list element)."""

    parts: list[manscdp.Manscdp]
    items: int = 0
    total: int | None = None
    arrived: asyncio.Event | None = None


class SipServer:
    def __init__(
        self,
        settings: Gb28181Settings,
        listener: DeviceListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self.listener = listener
        """Told of registrations, state changes and notifications (may be set after construction)."""
        self.clock = clock
        """Seconds on the clock the devices' times are on."""
        self._devices: dict[str, Device] = {}
        self._nonces: dict[str, float] = {}
        self._round: list[str] = []
        """Device ids still to be looked at in this round of sweeping."""
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._requests = Requests(settings.server_id, settings.domain)
        self._collecting: dict[tuple[str, str], _Collecting] = {}
        self._superiors: dict[str, SuperiorLink] = {}
        self._on_connection: dict[tuple[str, int], str] = {}
        """The device registered over each open TCP connection."""
        self._sn = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop it runs on (threads ask it through ``asyncio.run_coroutine_threadsafe``)."""
        self.port = settings.port
        """The port it listens on (the one asked for, or the one given for port 0)."""

    async def start(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
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
        for superior_id in list(self._superiors):
            await self.remove_superior(superior_id)
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    @property
    def bind_host(self) -> str:
        """The interface SIP listens on (media is received on it too)."""
        return self._settings.host

    @property
    def domain(self) -> str:
        return self._settings.domain

    def devices(self) -> list[Device]:
        return sorted(self._devices.values(), key=lambda device: device.device_id)

    def device(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    # -- superiors (cascade up) ------------------------------------------------------------------------------

    def add_superior(self, superior: SuperiorPlatform, cascade: Cascade) -> SuperiorLink:
        """Register with ``superior`` (and keep doing so) from now on; call on the server's loop."""
        link = SuperiorLink(
            superior,
            cascade,
            self._requests,
            self._settings.server_id,
            self._settings.domain,
            lambda towards: (self.local_host(towards), self.port),
            self._udp_send,
        )
        link.handle_incoming = self.handle
        self._superiors[superior.superior_id] = link
        link.start()
        return link

    async def remove_superior(self, superior_id: str) -> None:
        link = self._superiors.pop(superior_id, None)
        if link is not None:
            await link.stop()

    def superiors(self) -> list[SuperiorLink]:
        return [self._superiors[key] for key in sorted(self._superiors)]

    def _udp_send(self, data: bytes, address: tuple[str, int]) -> None:
        if self._udp is None:
            raise OSError("the SIP server is not running")
        self._udp.sendto(data, address)

    # -- asking devices ----------------------------------------------------------------------------------------

    async def query(
        self,
        device_id: str,
        cmd_type: str,
        extra: dict[str, str] | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
        *,
        to: str | None = None,
    ) -> Answer:
        """Send a Query (about ``to``, one of its channels, or the device itself) and gather its Response parts:
        all of them, or those that came before a gap of ``ANSWER_GAP_S`` (``complete`` False). ``NoAnswer`` when
        no part came within ``timeout_s``."""
        peer = self._peer(device_id)
        self._sn = self._sn % 999_999 + 1
        sn = str(self._sn)
        key = (device_id, sn)
        collecting = self._collecting[key] = _Collecting([], arrived=asyncio.Event())
        try:
            body = manscdp.write("Query", cmd_type, sn, to or device_id, extra)
            await self._ask(self._requests.new("MESSAGE", peer, self._local(peer), body=body), peer, cmd_type)
            wait_s = timeout_s
            while collecting.total is None or collecting.items < collecting.total:
                assert collecting.arrived is not None
                try:
                    await asyncio.wait_for(collecting.arrived.wait(), wait_s)
                except TimeoutError:
                    if not collecting.parts:
                        raise NoAnswer(f"{device_id} accepted the {cmd_type} query but sent no answer") from None
                    logger.warning(
                        "device %s: %s answer incomplete, %d of %s items",
                        device_id,
                        cmd_type,
                        collecting.items,
                        collecting.total,
                    )
                    return Answer(collecting.parts, complete=False)
                collecting.arrived.clear()
                if collecting.total is None and collecting.parts:
                    break  # an answer without SumNum comes in one part
                wait_s = ANSWER_GAP_S
            return Answer(collecting.parts, complete=True)
        finally:
            del self._collecting[key]

    async def control(self, device_id: str, channel_id: str, extra: dict[str, str]) -> None:
        """Send a DeviceControl (PTZ, record, guard…) for ``channel_id``; returns once the device accepted it."""
        peer = self._peer(device_id)
        self._sn = self._sn % 999_999 + 1
        body = manscdp.write("Control", "DeviceControl", str(self._sn), channel_id, extra)
        await self._ask(self._requests.new("MESSAGE", peer, self._local(peer), body=body), peer, "DeviceControl")

    async def invite(self, device_id: str, media: sdp.MediaOffer, timeout_s: float) -> Dialog:
        """Ask ``device_id`` for ``media.channel_id``'s media; the dialog once it answered 200 (and was ACKed)."""
        peer = self._peer(device_id)
        local = self._local(peer)
        request = self._requests.new(
            "INVITE", peer, local, to_id=media.channel_id, body=sdp.offer(media, self._settings.server_id),
            content_type="Application/SDP",
        )  # fmt: skip
        request.set("Contact", f"<sip:{self._settings.server_id}@{local[0]}:{local[1]}>")
        request.set("Subject", f"{media.channel_id}:{media.ssrc},{self._settings.server_id}:0")
        answer = await self._requests.send(request, peer, timeout_s)
        if answer.status >= 300:
            raise Refused(f"INVITE for {media.channel_id}", answer.status, answer.reason)
        contact = answer.get("Contact")
        uri = contact.strip().strip("<>").split(">")[0] if contact else request.uri
        dialog = Dialog(peer, uri, request.get("Call-ID"), request.get("From"), answer.get("To"), request.cseq[0],
                        answer, local)  # fmt: skip
        peer.send(self._requests.in_dialog("ACK", dialog).encode())
        return dialog

    async def bye(self, dialog: Dialog, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        """End ``dialog`` (once; a device gone or silent is logged, not raised)."""
        if dialog.closed:
            return
        dialog.closed = True
        try:
            answer = await self._requests.send(self._requests.in_dialog("BYE", dialog), dialog.peer, timeout_s)
            if answer.status >= 300:
                logger.info("device %s answered BYE with %d", dialog.peer.device_id, answer.status)
        except NoAnswer as err:
            logger.info("%s", err)

    async def info(self, dialog: Dialog, body: bytes, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        """An INFO in ``dialog`` (MANSRTSP for playback control)."""
        answer = await self._requests.send(
            self._requests.in_dialog("INFO", dialog, body=body, content_type="Application/MANSRTSP"),
            dialog.peer,
            timeout_s,
        )
        if answer.status >= 300:
            raise Refused("INFO", answer.status, answer.reason)

    async def _ask(self, request: SipMessage, peer: Peer, what: str) -> None:
        answer = await self._requests.send(request, peer, REQUEST_TIMEOUT_S)
        if answer.status >= 300:
            raise Refused(what, answer.status, answer.reason)

    def _peer(self, device_id: str) -> Peer:
        device = self._devices.get(device_id)
        if device is None:
            raise DeviceAbsent(f"device {device_id} is not registered")
        if device.transport == "TCP":
            if device.send is None:
                raise DeviceAbsent(f"device {device_id}: its TCP connection is closed")
            return Peer(device_id, device.host, device.port, "TCP", device.send)
        udp = self._udp
        if udp is None:
            raise DeviceAbsent("the SIP server is not running")
        # Behind NAT only the address its requests came from reaches it; on the same host, its Contact is right.
        same_host = device.contact is not None and device.contact[0] == device.host
        host, port = device.contact if device.contact is not None and same_host else (device.host, device.port)
        return Peer(device_id, host, port, "UDP", lambda data: udp.sendto(data, (host, port)))

    def _local(self, peer: Peer) -> tuple[str, int]:
        """This platform's address as ``peer`` reaches it."""
        return (self.local_host(peer.host), self.port)

    def local_host(self, towards: str) -> str:
        """The address a device at ``towards`` reaches this platform at: ``external_host``, the address listened
        on, or the one the system routes to ``towards`` from."""
        if self._settings.external_host:
            return self._settings.external_host
        if self._settings.host not in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising the wildcard, not binding
            return self._settings.host
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((towards, 9))  # nothing is sent: the system only picks the route
            return str(probe.getsockname()[0])

    def handle(self, data: bytes, host: str, port: int, transport: str, send: Send) -> None:
        """One message from ``host:port``; answers go through ``send``."""
        try:
            message = parse(data)
        except SipError as err:
            logger.warning("SIP from %s:%d over %s dropped: %s", host, port, transport, err)
            return
        if not message.is_request:
            if not self._requests.answered(message):
                logger.debug("SIP answer from %s:%d matches no request (late or repeated)", host, port)
            return
        link = self._superiors.get(user_of(message.get("From")))
        if link is not None:
            handled = link.handle(message, send)
            if handled is not None:
                _via_received(handled, host, port)
                send(handled.encode())
            return
        if message.method == "ACK":
            return  # nothing answers an ACK
        answer = self._answer(message, host, port, transport, send)
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

    def _answer(self, request: SipMessage, host: str, port: int, transport: str, send: Send) -> SipMessage:
        tag = secrets.token_hex(4)
        if request.method == "REGISTER":
            return self._register(request, host, port, transport, tag, send)
        if request.method == "MESSAGE":
            return self._message(request, tag)
        if request.method in ("OPTIONS", "BYE"):
            return response(request, 200, "OK", to_tag=tag)  # a device ending a stream: its session sees the end
        answer = response(request, 405, "Method Not Allowed", to_tag=tag)
        answer.set("Allow", "REGISTER, MESSAGE, OPTIONS, BYE")
        return answer

    def _register(self, request: SipMessage, host: str, port: int, transport: str, tag: str, send: Send) -> SipMessage:
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
        expires = int(asked) if ascii_digits(asked) else DEFAULT_EXPIRES
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
        device = Device(device_id, host, port, transport, now, now + expires, contact=_contact(request))
        if transport == "TCP":
            device.send = send
            self._on_connection[(host, port)] = device_id
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
        elif body.kind == "Response":
            self._collect(sender, body)
        elif body.kind == "Notify" and self.listener is not None:
            try:
                self.listener.notified(device, body)
            except Exception:  # a listener's bug must not cost the device its answer
                logger.exception("device %s: handling its %s notification failed", sender, body.cmd_type)
        return response(request, 200, "OK", to_tag=tag)

    def _collect(self, device_id: str, body: manscdp.Manscdp) -> None:
        collecting = self._collecting.get((device_id, body.sn))
        if collecting is None:
            logger.info("device %s: %s answer %s came after it was given up on", device_id, body.cmd_type, body.sn)
            return
        collecting.parts.append(body)
        listed = next((child for child in body.root or () if len(child) > 0), None)
        collecting.items += len(listed) if listed is not None else 0
        total = body.fields.get("SumNum", "")
        if ascii_digits(total):
            collecting.total = int(total)
        if collecting.arrived is not None:
            collecting.arrived.set()

    def _changed(self, device: Device, change: str) -> None:
        logger.info(
            "GB/T 28181 device %s %s (%s:%d over %s)",
            device.device_id,
            change,
            device.host,
            device.port,
            device.transport,
        )
        if self.listener is not None:
            self.listener.device_changed(device, change)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_TICK_S)
            self.sweep(SWEPT_AT_ONCE)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        try:
            await read_stream(reader, lambda data: self.handle(data, host, port, "TCP", writer.write))
        except SipError as err:
            logger.warning("SIP over TCP from %s:%d closed: %s", host, port, err)
        except ConnectionError:
            pass
        finally:
            writer.close()
            device = self._devices.get(self._on_connection.pop((host, port), ""))
            if device is not None and (device.host, device.port) == (host, port):
                device.send = None  # requests to it fail at once until it connects and registers again


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


def _contact(request: SipMessage) -> tuple[str, int] | None:
    match = re.search(r"sips?:[^@;>\s]+@([0-9A-Za-z.\-]+)(?::([0-9]{1,5}))?", request.get("Contact"))
    return (match.group(1), int(match.group(2) or 5060)) if match else None


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
