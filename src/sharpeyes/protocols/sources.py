"""The uniform shape of every camera source: open it, iterate compressed video packets, close it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sharpeyes.core.cameras import RtspTransport
from sharpeyes.core.errors import InvalidInputError, SourceUnsupportedError
from sharpeyes.core.media import EncodedPacket, StreamInfo

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
GB_SCHEME = "gb28181"
"""``gb28181://DEVICE_ID/CHANNEL_ID``: a channel of a device registered over GB/T 28181 (live), or with
``?start=UNIX&end=UNIX`` the device's own recording of that range (playback)."""
SCHEMES = NETWORK_SCHEMES | {"file", GB_SCHEME}
_GB_URL = re.compile(r"^gb28181://([0-9]{20})/([0-9]{20})/?(?:\?start=([0-9]{1,12})&end=([0-9]{1,12}))?$", re.I)


@dataclass(frozen=True, slots=True)
class SourceOptions:
    rtsp_transport: RtspTransport = "tcp"
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0


class PacketSource(Protocol):
    """A camera (or a file posing as one). Methods raise ``SourceError`` subclasses only."""

    def open(self) -> StreamInfo: ...

    def packets(self) -> Iterator[EncodedPacket]: ...

    def close(self) -> None: ...


def check_source_url(url: str) -> str:
    """Return ``url`` when the platform can open it, else raise ``InvalidInputError`` saying why."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise InvalidInputError("the source URL has an invalid port", code="bad_source_url") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInputError(
            f"unsupported source URL scheme {parts.scheme!r}: use one of {', '.join(sorted(SCHEMES))}",
            code="bad_source_url",
        )
    if parts.scheme.lower() in NETWORK_SCHEMES and not parts.hostname:
        raise InvalidInputError("the source URL has no host", code="bad_source_url")
    if parts.scheme.lower() == GB_SCHEME and gb_channel(url.strip()) is None:
        raise InvalidInputError(
            "a GB/T 28181 source is gb28181://DEVICE_ID/CHANNEL_ID, both 20 digits", code="bad_source_url"
        )
    if parts.scheme.lower() == "file" and not parts.path.startswith("/"):
        raise InvalidInputError("a file source needs an absolute path: file:///path/clip.mp4", code="bad_source_url")
    return url.strip()


def gb_channel(url: str) -> tuple[str, str] | None:
    """(device id, channel id) of a ``gb28181://`` URL, or None."""
    match = _GB_URL.match(url)
    return (match.group(1), match.group(2)) if match else None


def gb_range(url: str) -> tuple[int, int] | None:
    """(start, end) Unix seconds of a ``gb28181://`` playback URL; None for live."""
    match = _GB_URL.match(url)
    return (int(match.group(3)), int(match.group(4))) if match and match.group(3) else None


def gb_url(device_id: str, channel_id: str, playback: tuple[int, int] | None = None) -> str:
    suffix = f"?start={playback[0]}&end={playback[1]}" if playback else ""
    return f"{GB_SCHEME}://{device_id}/{channel_id}{suffix}"


SourceOpener = Callable[[str, SourceOptions], PacketSource]


def open_source(url: str, options: SourceOptions) -> PacketSource:
    """The source implementation for ``url`` (not yet opened). GB/T 28181 channels need the SIP server: its
    opener (``gb28181.source.opener``) wraps this one."""
    from sharpeyes.protocols.av_source import FileSource, NetworkSource

    url = check_source_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return FileSource.from_url(url)
    if scheme == GB_SCHEME:
        raise SourceUnsupportedError(
            "GB/T 28181 is off on this platform: set gb28181.enabled / 未启用国标接入", code="gb_off"
        )
    return NetworkSource(url, options)
