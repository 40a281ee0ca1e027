"""The SDP of GB/T 28181 media sessions: the platform's offer (``s=Play`` for live, ``s=Playback`` with the time
range for a device's recordings; PS/90000 as payload 96; ``y=`` the 10-digit SSRC) and what the device's answer
says about where its media comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sharpeyes.protocols.gb28181.sip import SipError


@dataclass(frozen=True, slots=True)
class MediaOffer:
    kind: str
    """Play or Playback."""
    channel_id: str
    host: str
    port: int
    transport: str
    """UDP, or TCP with this platform waiting for the device to connect (passive)."""
    ssrc: str
    start: int = 0
    """Playback: Unix seconds of the range asked for (0 0 for live)."""
    end: int = 0


@dataclass(frozen=True, slots=True)
class Described:
    """What an offer or an answer says: the session kind, where media goes to or comes from, the SSRC, and for
    TCP who connects (``setup``: active connects, passive waits)."""

    kind: str
    host: str
    port: int
    transport: str
    ssrc: str
    setup: str
    start: int
    end: int


def offer(media: MediaOffer, owner_id: str) -> bytes:
    lines = [
        "v=0",
        f"o={owner_id} 0 0 IN IP4 {media.host}",
        f"s={media.kind}",
    ]
    if media.kind == "Playback":
        lines.append(f"u={media.channel_id}:0")
    lines += [f"c=IN IP4 {media.host}", f"t={media.start} {media.end}"]
    profile = "TCP/RTP/AVP" if media.transport == "TCP" else "RTP/AVP"
    lines += [f"m=video {media.port} {profile} 96 98", "a=recvonly", "a=rtpmap:96 PS/90000", "a=rtpmap:98 H264/90000"]
    if media.transport == "TCP":
        lines += ["a=setup:passive", "a=connection:new"]
    lines.append(f"y={media.ssrc}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def read(body: bytes) -> Described:
    """Read an offer or an answer; ``SipError`` when it names no video address."""
    text = body.decode("utf-8", "replace")
    connection = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    media = re.search(r"^m=video ([0-9]{1,5}) (\S+)", text, re.M)
    if connection is None or media is None:
        raise SipError("the SDP names no video address (c= and m=video)")
    kind = re.search(r"^s=(\S+)", text, re.M)
    ssrc = re.search(r"^y=([0-9]{1,10})", text, re.M)
    setup = re.search(r"^a=setup:(\w+)", text, re.M)
    times = re.search(r"^t=([0-9]{1,12}) ([0-9]{1,12})", text, re.M)
    return Described(
        kind=kind.group(1) if kind else "Play",
        host=connection.group(1),
        port=int(media.group(1)),
        transport="TCP" if "TCP" in media.group(2).upper() else "UDP",
        ssrc=ssrc.group(1) if ssrc else "",
        setup=setup.group(1).lower() if setup else "",
        start=int(times.group(1)) if times else 0,
        end=int(times.group(2)) if times else 0,
    )


def ssrc(domain: str, *, playback: bool, serial: int) -> str:
    """The 10-digit SSRC: 0 live / 1 playback, the domain's 4th–8th digits, a 4-digit serial."""
    return f"{1 if playback else 0}{domain[3:8]}{serial % 10_000:04d}"
