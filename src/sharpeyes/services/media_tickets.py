"""Media tickets: what the URIs inside a playlist carry instead of the viewer's token. A ticket names one camera,
the login it was given to (its token's SHA-256, so signing out or revoking ends it), the address that asked, and an
expiry, signed with the platform key. It cannot be guessed or altered, opens nothing but that camera's media, and
is refused from another address — so a segment URL copied to someone else is of no use to them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time

from sharpeyes.core.errors import AuthenticationError
from sharpeyes.services.accounts import AccountService, User
from sharpeyes.store.keys import PlatformKey, verify

TICKET_TTL_S = 6 * 3600
"""How long a playlist's URIs stay usable (a live playlist hands out fresh ones at every refresh)."""
MAX_TICKET_LENGTH = 1024


class MediaTickets:
    def __init__(self, key: PlatformKey, accounts: AccountService) -> None:
        self._key = key
        self._public = key.public_pem()
        self._accounts = accounts

    def issue(self, token: str, camera_id: str, address: str, now_s: float | None = None) -> str:
        """A ticket for the media of ``camera_id``, for the holder of ``token`` asking from ``address``."""
        now_s = time.time() if now_s is None else now_s
        claims = {"c": camera_id, "t": hashlib.sha256(token.encode()).hexdigest(), "a": address,
                  "e": int(now_s + TICKET_TTL_S)}  # fmt: skip
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        signature = base64.b64decode(self._key.sign(payload))
        return f"{_encode(payload)}.{_encode(signature)}"

    def redeem(self, ticket: str, camera_id: str, address: str, now_s: float | None = None) -> User:
        """The user a ticket stands for, when it is the platform's, for this camera and address, unexpired, and its
        login still valid; otherwise ``bad_ticket`` (401)."""
        now_s = time.time() if now_s is None else now_s
        payload_part, _, signature_part = ticket.partition(".")
        try:
            if len(ticket) > MAX_TICKET_LENGTH:
                raise ValueError("too long")
            payload, signature = _decode(payload_part), _decode(signature_part)
            if not verify(self._public, payload, base64.b64encode(signature).decode("ascii")):
                raise ValueError("not signed by this platform")
            claims = json.loads(payload)
        except (ValueError, binascii.Error) as err:
            raise AuthenticationError(
                "the media ticket is not valid: open the playlist again", code="bad_ticket"
            ) from err
        if claims.get("c") != camera_id or claims.get("a") != address:
            raise AuthenticationError("the media ticket is for another camera or viewer", code="bad_ticket")
        if not isinstance(claims.get("e"), int) or claims["e"] < now_s:
            raise AuthenticationError("the media ticket has expired: open the playlist again", code="bad_ticket")
        return self._accounts.authenticate_digest(str(claims.get("t", "")))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
