"""Cascade upward (级联): this platform registers with a superior platform as a lower platform does, keeps alive,
and answers what the superior asks — its catalog (the channels chosen for it, in batches with ``SumNum``), device
info, PTZ to relay, and INVITE for a channel's live video, which the platform then sends as PS over RTP.

What the platform offers (which channels, how to send one, how to move one) comes from a ``Cascade``; the SIP
server hands this link the requests whose sender is the superior."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sharpeyes.core.clock import utcnow
from sharpeyes.core.gb_devices import GbChannel, SuperiorPlatform
from sharpeyes.core.gb_ids import ascii_digits
from sharpeyes.protocols.gb28181 import digest, manscdp, sdp
from sharpeyes.protocols.gb28181.requests import NoAnswer, Peer, Requests
from sharpeyes.protocols.gb28181.sip import SipError, SipMessage, read_stream, response, user_of

logger = logging.getLogger(__name__)

CATALOG_BATCH = 20
"""Catalog items per MESSAGE (each stays well under a UDP datagram)."""
RETRY_FIRST_S = 2.0
RETRY_MOST_S = 60.0
REQUEST_TIMEOUT_S = 8.0
Send = Callable[[bytes], None]
Stop = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Playing:
    """A channel this platform started sending: the port it sends from, and how to stop."""

    ssrc: str
    local_port: int
    stop: Stop


class Cascade(Protocol):
    """What this platform offers a superior (blocking calls: they run in a worker thread)."""

    def catalog(self, superior_id: str) -> list[GbChannel]: ...

    def play(self, superior_id: str, channel_id: str, target: sdp.Described) -> Playing:
        """Start sending ``channel_id`` where ``target`` says; ``LookupError`` when it is not offered to them."""
        ...

    def control(self, superior_id: str, channel_id: str, fields: dict[str, str]) -> None: ...


@dataclass(slots=True)
class LinkState:
    status: str = "registering"
    """registering, registered or failed."""
    reason: str = ""
    registered_at: datetime | None = None
    last_keepalive: datetime | None = None
    """The last keepalive the superior answered."""
    playing: dict[str, tuple[str, Stop]] = field(default_factory=dict)
    """Call-ID → (channel id, stop) of the channels being sent to the superior."""


class SuperiorLink:
    def __init__(
        self,
        superior: SuperiorPlatform,
        cascade: Cascade,
        requests: Requests,
        own_id: str,
        own_domain: str,
        local: Callable[[str], tuple[str, int]],
        udp_send: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        self.superior = superior
        self.state = LinkState()
        self._cascade = cascade
        self._requests = requests
        self._own_id = own_id
        self._own_domain = own_domain
        self._local = local
        self._udp_send = udp_send
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._sn = 0
        self._task: asyncio.Task[None] | None = None
        self.handle_incoming: Callable[[bytes, str, int, str, Send], None] | None = None
        """The SIP server's reader for what arrives on a TCP connection this link opened."""

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"gb-superior-{self.superior.superior_id}"
        )

    async def stop(self) -> None:
        for _, stop in self.state.playing.values():
            stop()
        self.state.playing.clear()
        if self._task is not None:
            self._task.cancel()
        if self.state.status == "registered":
            try:
                await asyncio.wait_for(self._register(expires=0), 3)
            except (NoAnswer, SipError, OSError, TimeoutError) as err:
                logger.info("superior %s: unregister not answered (%s)", self.superior.superior_id, err)
        for task in list(self._tasks):
            task.cancel()
        if self._writer is not None:
            self._writer.close()

    # -- registering and keeping alive -----------------------------------------------------------------------

    async def _run(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                granted = await self._register(self.superior.expires)
                self._set("registered", "")
                self.state.registered_at = utcnow()
                delay = RETRY_FIRST_S
                await self._keep_alive(until=time.monotonic() + granted * 0.8)
            except asyncio.CancelledError:
                raise
            except (NoAnswer, SipError, OSError, PermissionError) as err:
                self._set("failed", f"{str(err) or type(err).__name__} / 向上级平台注册失败")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST_S)

    async def _keep_alive(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(self.superior.keepalive_s, max(0.0, until - time.monotonic())))
            if time.monotonic() >= until:
                return
            body = manscdp.write("Notify", "Keepalive", self._next_sn(), self._own_id, {"Status": "OK"})
            answer = await self._send(self._request("MESSAGE", body))
            if answer.status >= 300:
                raise PermissionError(f"the superior refused a keepalive: {answer.status} {answer.reason}")
            self.state.last_keepalive = utcnow()

    async def _register(self, expires: int) -> int:
        """REGISTER (answering the digest challenge); the lifetime granted."""
        peer = await self._peer()
        request = self._request("REGISTER", to_self=True)
        request.set("Expires", str(expires))
        answer = await self._send(request)
        if answer.status == 401:
            given = digest.credentials(answer.get("WWW-Authenticate"))
            given |= {"username": self._own_id, "uri": request.uri}
            value = digest.expected(given, "REGISTER", self.superior.password)
            request = self._requests.again(request, peer, self._local(self.superior.host))
            request.set(
                "Authorization",
                f'Digest username="{self._own_id}", realm="{given.get("realm", "")}", nonce="{given.get("nonce", "")}"'
                f', uri="{request.uri}", response="{value}", algorithm=MD5',
            )
            answer = await self._send(request)
        if answer.status != 200:
            raise PermissionError(f"the superior refused registration: {answer.status} {answer.reason}")
        granted = answer.get("Expires")
        return int(granted) if ascii_digits(granted) else expires

    # -- what the superior asks ------------------------------------------------------------------------------

    def handle(self, request: SipMessage, send: Send) -> SipMessage | None:
        """A request from the superior; the answer to send now (None: it is sent later, from a task)."""
        tag = secrets.token_hex(4)
        if request.method == "MESSAGE":
            try:
                body = manscdp.parse(request.body)
            except manscdp.ManscdpError as err:
                logger.warning("superior %s: MESSAGE refused: %s", self.superior.superior_id, err)
                return response(request, 400, "Bad Request", to_tag=tag)
            if body.kind == "Query" and body.cmd_type in ("Catalog", "DeviceInfo", "DeviceStatus"):
                self._spawn(self._answer_query(body))
            elif body.kind == "Control" and body.cmd_type == "DeviceControl":
                self._spawn(
                    asyncio.to_thread(self._cascade.control, self.superior.superior_id, body.device_id, body.fields)
                )
            return response(request, 200, "OK", to_tag=tag)
        if request.method == "INVITE":
            send(response(request, 100, "Trying").encode())
            self._spawn(self._invite(request, send, tag))
            return None
        if request.method == "BYE":
            playing = self.state.playing.pop(request.get("Call-ID"), None)
            if playing is not None:
                playing[1]()
                logger.info("superior %s stopped channel %s", self.superior.superior_id, playing[0])
            return response(request, 200, "OK", to_tag=tag)
        if request.method == "ACK":
            return None
        return response(request, 405, "Method Not Allowed", to_tag=tag)

    async def _answer_query(self, query: manscdp.Manscdp) -> None:
        if query.cmd_type == "Catalog":
            channels = await asyncio.to_thread(self._cascade.catalog, self.superior.superior_id)
            for start in range(0, max(1, len(channels)), CATALOG_BATCH):
                part = channels[start : start + CATALOG_BATCH]
                await self._send(self._request("MESSAGE", _catalog(query.sn, self._own_id, len(channels), part)))
            return
        extra = (
            {"DeviceName": "Sharp Eyes", "Manufacturer": "Sharp Eyes", "Model": "platform", "Result": "OK"}
            if query.cmd_type == "DeviceInfo"
            else {"Result": "OK", "Online": "ONLINE", "Status": "OK"}
        )
        await self._send(
            self._request("MESSAGE", manscdp.write("Response", query.cmd_type, query.sn, self._own_id, extra))
        )

    async def _invite(self, request: SipMessage, send: Send, tag: str) -> None:
        channel_id = user_of(request.uri) or user_of(request.get("To"))
        try:
            target = sdp.read(request.body)
            if target.transport == "TCP" and target.setup == "active":
                raise LookupError("this platform connects to the superior for TCP media (setup:passive on its side)")
            playing = await asyncio.to_thread(self._cascade.play, self.superior.superior_id, channel_id, target)
        except (SipError, LookupError) as err:
            logger.warning("superior %s: INVITE for %s refused: %s", self.superior.superior_id, channel_id, err)
            send(response(request, 404 if isinstance(err, LookupError) else 488, "Not Here", to_tag=tag).encode())
            return
        except Exception as err:  # the stream could not be had (camera offline…)
            logger.warning("superior %s: INVITE for %s failed: %s", self.superior.superior_id, channel_id, err)
            send(response(request, 480, "Temporarily Unavailable", to_tag=tag).encode())
            return
        self.state.playing[request.get("Call-ID")] = (channel_id, playing.stop)
        host = self._local(self.superior.host)[0]
        profile = "TCP/RTP/AVP" if target.transport == "TCP" else "RTP/AVP"
        lines = [
            "v=0",
            f"o={channel_id} 0 0 IN IP4 {host}",
            f"s={target.kind}",
            f"c=IN IP4 {host}",
            f"t={target.start} {target.end}",
            f"m=video {playing.local_port} {profile} 96",
            "a=sendonly",
            "a=rtpmap:96 PS/90000",
        ]
        if target.transport == "TCP":
            lines += ["a=setup:active", "a=connection:new"]
        lines.append(f"y={playing.ssrc}")
        answer = response(request, 200, "OK", to_tag=tag)
        answer.set("Contact", f"<sip:{channel_id}@{host}:{self._local(self.superior.host)[1]}>")
        answer.set("Content-Type", "Application/SDP")
        answer.body = ("\r\n".join(lines) + "\r\n").encode("ascii")
        send(answer.encode())

    # -- sending ---------------------------------------------------------------------------------------------

    def _request(self, method: str, body: bytes = b"", *, to_self: bool = False) -> SipMessage:
        peer = self._peer_now()
        request = self._requests.new(
            method,
            peer,
            self._local(self.superior.host),
            to_id=self._own_id if to_self else self.superior.superior_id,
            body=body,
            to_domain=self._own_domain if to_self else self.superior.domain,
        )
        request.uri = f"sip:{self.superior.superior_id}@{self.superior.domain}"
        local = self._local(self.superior.host)
        request.set("Contact", f"<sip:{self._own_id}@{local[0]}:{local[1]}>")
        return request

    async def _send(self, request: SipMessage) -> SipMessage:
        return await self._requests.send(request, await self._peer(), REQUEST_TIMEOUT_S)

    async def _peer(self) -> Peer:
        if self.superior.transport == "TCP" and (self._writer is None or self._writer.is_closing()):
            reader, self._writer = await asyncio.open_connection(self.superior.host, self.superior.port)
            self._spawn(self._read(reader, self._writer))
        return self._peer_now()

    def _peer_now(self) -> Peer:
        superior = self.superior
        writer = self._writer
        if superior.transport == "TCP" and writer is not None:
            return Peer(superior.superior_id, superior.host, superior.port, "TCP", writer.write)
        address = (superior.host, superior.port)
        return Peer(
            superior.superior_id, superior.host, superior.port, "UDP", lambda data: self._udp_send(data, address)
        )

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        superior = self.superior

        def deliver(data: bytes) -> None:
            if self.handle_incoming is not None:
                self.handle_incoming(data, superior.host, superior.port, "TCP", writer.write)

        try:
            await read_stream(reader, deliver)
        except (SipError, ConnectionError) as err:
            logger.info("superior %s: TCP connection closed (%s)", self.superior.superior_id, err)
        finally:
            writer.close()

    def _set(self, status: str, reason: str) -> None:
        if (status, reason) != (self.state.status, self.state.reason):
            log = logger.info if status == "registered" else logger.warning
            log("superior %s at %s:%d: %s %s", self.superior.superior_id, self.superior.host, self.superior.port,
                status, reason)  # fmt: skip
        self.state.status, self.state.reason = status, reason

    def _spawn(self, work: object) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next_sn(self) -> str:
        self._sn += 1
        return str(self._sn)


def _catalog(sn: str, own_id: str, total: int, part: list[GbChannel]) -> bytes:
    """One Catalog answer MESSAGE holding ``part`` of ``total`` items."""
    items = []
    for channel in part:
        fields = {
            "DeviceID": channel.channel_id,
            "Name": channel.name,
            "Manufacturer": channel.manufacturer,
            "Model": channel.model,
            "CivilCode": channel.civil_code,
            "Address": channel.address,
            "ParentID": channel.parent_id,
            "Parental": "0",
            "Status": channel.status or "ON",
        }
        if channel.longitude is not None and channel.latitude is not None:
            fields |= {"Longitude": f"{channel.longitude:.6f}", "Latitude": f"{channel.latitude:.6f}"}
        items.append("<Item>" + "".join(f"<{k}>{manscdp.escape(v)}</{k}>" for k, v in fields.items()) + "</Item>")
    text = (
        f'<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>'
        f"{manscdp.escape(sn)}</SN>\r\n<DeviceID>{own_id}</DeviceID>\r\n<SumNum>{total}</SumNum>\r\n"
        f'<DeviceList Num="{len(part)}">\r\n' + "\r\n".join(items) + "\r\n</DeviceList>\r\n</Response>\r\n"
    )
    return text.encode("gb18030")
