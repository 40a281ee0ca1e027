"""Requests this platform sends (MESSAGE queries and controls, INVITE, ACK, BYE, INFO): written with fresh
branch, tag and Call-ID, sent again over UDP until answered (RFC 3261's timer A, doubling from 0.5 s), and matched
with their answers by Call-ID and CSeq."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sharpeyes.protocols.gb28181.sip import SipMessage

RETRANSMIT_FIRST_S = 0.5
RETRANSMIT_MOST_S = 4.0
MANSCDP = "Application/MANSCDP+xml"

Send = Callable[[bytes], None]


class NoAnswer(TimeoutError):
    """A request nobody answered in time."""


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a device is reached: the address to send to and how, and how it names itself."""

    device_id: str
    host: str
    port: int
    transport: str
    """UDP or TCP."""
    send: Send


@dataclass(slots=True)
class Dialog:
    """An INVITE that was answered: what ACK, INFO and BYE need."""

    peer: Peer
    uri: str
    call_id: str
    from_value: str
    to_value: str
    cseq: int
    answer: SipMessage
    local: tuple[str, int]
    closed: bool = False


class Requests:
    """The requests in flight from this platform, keyed by (Call-ID, CSeq number)."""

    def __init__(self, server_id: str, domain: str) -> None:
        self._server_id = server_id
        self._domain = domain
        self._cseq = itertools.count(1)
        self._waiting: dict[tuple[str, int], asyncio.Future[SipMessage]] = {}
        self._provisional: dict[tuple[str, int], asyncio.Event] = {}

    def new(
        self,
        method: str,
        peer: Peer,
        local: tuple[str, int],
        *,
        to_id: str | None = None,
        body: bytes = b"",
        content_type: str = MANSCDP,
        to_domain: str | None = None,
    ) -> SipMessage:
        """A request out of any dialog to ``to_id`` (default the device) at ``peer``, in ``to_domain`` (default
        this platform's)."""
        target = to_id or peer.device_id
        return _request(
            method,
            f"sip:{target}@{peer.host}:{peer.port}",
            _via(peer.transport, local),
            f"<sip:{self._server_id}@{self._domain}>;tag={secrets.token_hex(5)}",
            f"<sip:{target}@{to_domain or self._domain}>",
            f"{secrets.token_hex(10)}@{local[0]}",
            f"{next(self._cseq)} {method}",
            body,
            content_type,
        )

    def again(self, message: SipMessage, peer: Peer, local: tuple[str, int]) -> SipMessage:
        """``message`` sent anew (after a challenge): same Call-ID and tags, the next CSeq, a fresh branch."""
        method = message.method or ""
        copy = SipMessage(method=method, uri=message.uri, headers=list(message.headers), body=message.body)
        copy.set("Via", _via(peer.transport, local))
        copy.set("CSeq", f"{next(self._cseq)} {method}")
        return copy

    def in_dialog(self, method: str, dialog: Dialog, *, body: bytes = b"", content_type: str = "") -> SipMessage:
        """ACK, INFO or BYE inside ``dialog`` (ACK reuses the INVITE's CSeq number, the others take the next)."""
        if method != "ACK":
            dialog.cseq += 1
        via = _via(dialog.peer.transport, dialog.local)
        cseq = f"{dialog.cseq} {method}"
        return _request(method, dialog.uri, via, dialog.from_value, dialog.to_value, dialog.call_id, cseq, body,
                        content_type)  # fmt: skip

    async def send(self, message: SipMessage, peer: Peer, timeout_s: float) -> SipMessage:
        """Send ``message`` and wait for its final answer (an INVITE that hears "trying" or "ringing" stops being
        sent again and waits the whole ``timeout_s``); ``NoAnswer`` when none comes."""
        key = (message.get("Call-ID"), message.cseq[0])
        future: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        heard = asyncio.Event()
        self._waiting[key], self._provisional[key] = future, heard
        data = message.encode()
        try:
            peer.send(data)
            if peer.transport == "UDP":
                return await asyncio.wait_for(self._resend(future, heard, data, peer), timeout_s)
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            raise NoAnswer(f"no answer to {message.method} from {peer.device_id} within {timeout_s:g} s") from None
        finally:
            self._waiting.pop(key, None)
            self._provisional.pop(key, None)

    def answered(self, answer: SipMessage) -> bool:
        """Hand an answer to the request waiting for it; False when none is (a late or stray answer)."""
        try:
            key = (answer.get("Call-ID"), answer.cseq[0])
        except ValueError:
            return False
        future = self._waiting.get(key)
        if future is None or future.done():
            return False
        if answer.status < 200:
            self._provisional[key].set()
        else:
            future.set_result(answer)
        return True

    @staticmethod
    async def _resend(future: asyncio.Future[SipMessage], heard: asyncio.Event, data: bytes, peer: Peer) -> SipMessage:
        interval = RETRANSMIT_FIRST_S
        while True:
            done, _ = await asyncio.wait({future}, timeout=interval)
            if done:
                return future.result()
            if not heard.is_set():
                peer.send(data)
            interval = min(interval * 2, RETRANSMIT_MOST_S)


def _request(
    method: str, uri: str, via: str, sender: str, to: str, call_id: str, cseq: str, body: bytes, content_type: str
) -> SipMessage:
    message = SipMessage(method=method, uri=uri)
    message.headers += [("Via", via), ("From", sender), ("To", to), ("Call-ID", call_id), ("CSeq", cseq),
                        ("Max-Forwards", "70"), ("User-Agent", "SharpEyes")]  # fmt: skip
    if body:
        message.headers.append(("Content-Type", content_type))
        message.body = body
    return message


def _via(transport: str, local: tuple[str, int]) -> str:
    return f"SIP/2.0/{transport} {local[0]}:{local[1]};rport;branch=z9hG4bK{secrets.token_hex(8)}"
