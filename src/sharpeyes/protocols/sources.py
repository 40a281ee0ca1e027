"""The uniform shape of every camera source: open it, iterate compressed video packets, close it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sharpeyes.core.cameras import RtspTransport
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.core.media import EncodedPacket, StreamInfo

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
SCHEMES = NETWORK_SCHEMES | {"file"}


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
    if parts.scheme.lower() == "file" and not parts.path.startswith("/"):
        raise InvalidInputError("a file source needs an absolute path: file:///path/clip.mp4", code="bad_source_url")
    return url.strip()


def open_source(url: str, options: SourceOptions) -> PacketSource:
    """The source implementation for ``url`` (not yet opened)."""
    from sharpeyes.protocols.av_source import FileSource, NetworkSource

    url = check_source_url(url)
    if urlsplit(url).scheme.lower() == "file":
        return FileSource.from_url(url)
    return NetworkSource(url, options)
