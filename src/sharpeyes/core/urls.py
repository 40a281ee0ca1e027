"""Credential redaction for anything a person or a log may see."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Userinfo runs to the last "@" before the path, as URL parsers (and ffmpeg) read it: passwords may hold "@".
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s'\"]+)@")
_SECRET_QUERY = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|key)=([^&\s'\"]+)")

REDACTED = "***"


def redact_url(url: str) -> str:
    """Replace the password of ``scheme://user:password@host`` (and secret query values) with ``***``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a well-formed URL: redact whatever looks like credentials in it
        return redact_text(url)
    if parts.password is None and parts.username is None:
        return redact_text(url)
    user = parts.username or ""
    netloc = f"{user}:{REDACTED}@{_hostport(parts.hostname, port)}" if parts.password is not None else parts.netloc
    return redact_text(urlunsplit(parts._replace(netloc=netloc)))


def redact_text(text: str) -> str:
    """Redact every URL userinfo password and ``password=`` style value inside free text."""
    text = _USERINFO.sub(_redact_userinfo, text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def _redact_userinfo(match: re.Match[str]) -> str:
    user, sep, _password = match.group("userinfo").partition(":")
    return f"{match.group('scheme')}{user}{':' + REDACTED if sep else ''}@"


def _hostport(hostname: str | None, port: int | None) -> str:
    host = hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host
