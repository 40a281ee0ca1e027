"""HTTP digest authentication as SIP REGISTER uses it (RFC 2617 MD5, with or without ``qop=auth``), which GB/T
28181 prescribes. MD5 is the standard's choice, not ours: it proves a device knows its password without sending it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def challenge(realm: str) -> tuple[str, str]:
    """A fresh nonce and the ``WWW-Authenticate`` value that carries it."""
    nonce = secrets.token_hex(16)
    return nonce, f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5'


def credentials(value: str) -> dict[str, str]:
    """The parameters of an ``Authorization: Digest …`` value (empty when it is not Digest)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    return {key.lower(): quoted if quoted else bare for key, quoted, bare in _PARAM.findall(rest)}


def expected(given: dict[str, str], method: str, password: str) -> str:
    """The response a device that knows ``password`` sends for these parameters."""
    first = _md5(f"{given.get('username', '')}:{given.get('realm', '')}:{password}")
    second = _md5(f"{method}:{given.get('uri', '')}")
    if given.get("qop", "").lower() == "auth":
        return _md5(f"{first}:{given.get('nonce', '')}:{given.get('nc', '')}:{given.get('cnonce', '')}:auth:{second}")
    return _md5(f"{first}:{given.get('nonce', '')}:{second}")


def verify(given: dict[str, str], method: str, password: str) -> bool:
    return hmac.compare_digest(expected(given, method, password), given.get("response", "").lower())


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
