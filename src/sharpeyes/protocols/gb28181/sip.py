"""SIP messages as GB/T 28181 uses them (RFC 3261's syntax, the subset devices send): parsing with limits, and
writing. A message that cannot be read raises ``SipError`` saying why; nothing in it is trusted beyond that."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sharpeyes.core.gb_ids import ascii_digits

MAX_MESSAGE = 65_536
"""Bytes a message may take, headers and body (a Catalog part is a few kilobytes)."""
MAX_HEADERS = 100
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}
CANONICAL = {
    "via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq", "contact": "Contact",
    "content-length": "Content-Length", "content-type": "Content-Type", "max-forwards": "Max-Forwards",
    "www-authenticate": "WWW-Authenticate", "authorization": "Authorization", "user-agent": "User-Agent",
    "expires": "Expires", "date": "Date", "subject": "Subject", "allow": "Allow",
}  # fmt: skip
_REQUEST = re.compile(r"^([A-Z]{3,16}) (\S{1,512}) SIP/2\.0$")
_RESPONSE = re.compile(r"^SIP/2\.0 ([1-6][0-9][0-9]) ?(.{0,200})$")
_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]{1,64}$")


class SipError(ValueError):
    """A message that is not SIP, or breaks a limit."""


@dataclass(slots=True)
class SipMessage:
    method: str | None = None
    """A request's method (REGISTER, MESSAGE…); None for a response."""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str, default: str = "") -> str:
        """The first value of a header (any case, compact forms too)."""
        wanted = _name(name)
        return next((value for key, value in self.headers if _name(key) == wanted), default)

    def get_all(self, name: str) -> list[str]:
        wanted = _name(name)
        return [value for key, value in self.headers if _name(key) == wanted]

    def set(self, name: str, value: str) -> None:
        wanted = _name(name)
        self.headers = [(k, v) for k, v in self.headers if _name(k) != wanted] + [(_canonical(name), value)]

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.get("CSeq").partition(" ")
        if not ascii_digits(number):
            raise SipError("CSeq is not a number")
        return int(number), method.strip()

    def encode(self) -> bytes:
        start = f"{self.method} {self.uri} SIP/2.0" if self.method else f"SIP/2.0 {self.status} {self.reason}"
        lines = [start] + [f"{_canonical(k)}: {v}" for k, v in self.headers if _name(k) != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def parse(data: bytes) -> SipMessage:
    """One whole message (a UDP datagram, or what ``split_stream`` cut from TCP)."""
    if len(data) > MAX_MESSAGE:
        raise SipError(f"message of {len(data)} bytes; at most {MAX_MESSAGE}")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
        if not separator:
            raise SipError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("gb18030", errors="replace")  # some devices write their names in the From header
    lines = text.replace("\r\n", "\n").split("\n")
    message = _start(lines[0].strip())
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and message.headers:  # folded onto the previous header
            key, value = message.headers[-1]
            message.headers[-1] = (key, f"{value} {line.strip()}")
            continue
        key, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(key.strip()):
            raise SipError(f"not a header line: {line[:60]!r}")
        message.headers.append((key.strip(), value.strip()))
        if len(message.headers) > MAX_HEADERS:
            raise SipError(f"more than {MAX_HEADERS} headers")
    length = message.get("Content-Length")
    if length:
        if not ascii_digits(length):
            raise SipError("Content-Length is not a number")
        if int(length) > len(body):
            raise SipError(f"body shorter ({len(body)} bytes) than its Content-Length ({length})")
        body = body[: int(length)]
    message.body = body
    for needed in ("Via", "From", "To", "Call-ID", "CSeq"):
        if not message.get(needed):
            raise SipError(f"no {needed} header")
    message.cseq  # noqa: B018  # a CSeq that is not a number is refused here, not later
    return message


def split_stream(buffer: bytearray) -> bytes | None:
    """The first whole message in a TCP stream's ``buffer`` (taken out of it), or None while it is incomplete;
    ``SipError`` when the stream cannot be SIP (no end of headers within the limit)."""
    while buffer[:2] == b"\r\n":  # keep-alive blank lines between messages
        del buffer[:2]
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_MESSAGE:
            raise SipError(f"no end of headers within {MAX_MESSAGE} bytes")
        return None
    match = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d{1,6})[ \t]*$", bytes(buffer[:end]))
    length = int(match.group(1)) if match else 0
    total = end + 4 + length
    if total > MAX_MESSAGE:
        raise SipError(f"message of {total} bytes; at most {MAX_MESSAGE}")
    if len(buffer) < total:
        return None
    message = bytes(buffer[:total])
    del buffer[:total]
    return message


async def read_stream(reader: asyncio.StreamReader, deliver: Callable[[bytes], None]) -> None:
    """Cut what ``reader`` brings into whole messages, each handed to ``deliver``, until the other side closes;
    ``SipError`` when the stream can no longer be cut (the caller closes the connection)."""
    buffer = bytearray()
    while chunk := await reader.read(65_536):
        buffer += chunk
        while (data := split_stream(buffer)) is not None:
            deliver(data)


def response(request: SipMessage, status: int, reason: str, *, to_tag: str | None = None) -> SipMessage:
    """A response to ``request`` carrying its Via, From, To (tagged), Call-ID and CSeq, as RFC 3261 asks."""
    answer = SipMessage(status=status, reason=reason)
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in request.get_all(name):
            if name == "To" and to_tag and ";tag=" not in value:
                value = f"{value};tag={to_tag}"
            answer.headers.append((name, value))
    return answer


def parameters(value: str) -> dict[str, str]:
    """``;key=value`` parameters of a header value (lower-case keys; a bare key maps to "")."""
    found: dict[str, str] = {}
    for part in value.split(";")[1:]:
        key, _, item = part.partition("=")
        found[key.strip().lower()] = item.strip().strip('"')
    return found


def user_of(value: str) -> str:
    """The user part of a From/To/Contact value (``<sip:34020000001320000001@3402000000>`` → the id)."""
    match = re.search(r"sips?:([^@;>\s]+)@", value)
    return match.group(1) if match else ""


def _start(line: str) -> SipMessage:
    request = _REQUEST.match(line)
    if request:
        return SipMessage(method=request.group(1), uri=request.group(2))
    answer = _RESPONSE.match(line)
    if answer:
        return SipMessage(status=int(answer.group(1)), reason=answer.group(2))
    raise SipError(f"not a SIP start line: {line[:60]!r}")


@functools.lru_cache(maxsize=512)  # a few dozen names, looked up for every header of every message
def _name(name: str) -> str:
    lowered = name.strip().lower()
    return COMPACT.get(lowered, lowered)


@functools.lru_cache(maxsize=512)
def _canonical(name: str) -> str:
    lowered = _name(name)
    return CANONICAL.get(lowered, name.strip())
