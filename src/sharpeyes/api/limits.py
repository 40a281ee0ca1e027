"""Request body limits: a body past its route's limit is answered 413 before the app reads it all.

A declared ``Content-Length`` past the limit is refused without reading a byte; a body sent without one (chunked)
is counted as it arrives and refused as soon as it passes the limit, whatever the route was doing with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharpeyes.api.problems import problem_response

MIB = 1024 * 1024
JSON_BODY_BYTES = 4 * MIB
"""Every JSON request: room for a superior offered 100 000 cameras (about 2.3 MB)."""
SEARCH_BODY_BYTES = 16 * MIB
"""A search carries its example picture as base64 (at most 14 000 000 characters)."""
MULTIPART_OVERHEAD_BYTES = MIB
"""Room for the multipart framing around an uploaded file."""
UPLOAD_PATHS = ("/api/v1/cameras/import", "/api/v1/areas/import", "/api/v1/sites/import")
"""The routes that take a spreadsheet (``check_upload`` in ``uploads.py``)."""


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Most bytes a request body may have: ``by_path`` for the routes named there, ``default_bytes`` elsewhere."""

    default_bytes: int
    by_path: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_upload_limit(cls, max_upload_mb: int) -> BodyLimits:
        """The platform's limits, spreadsheet uploads allowed ``max_upload_mb`` (``imports.max_upload_mb``)."""
        upload_bytes = max_upload_mb * MIB + MULTIPART_OVERHEAD_BYTES
        by_path = {path: upload_bytes for path in UPLOAD_PATHS} | {"/api/v1/search": SEARCH_BODY_BYTES}
        return cls(JSON_BODY_BYTES, by_path)

    def for_path(self, path: str) -> int:
        return self.by_path.get(path.rstrip("/") or "/", self.default_bytes)


class BodyLimitMiddleware:
    """ASGI middleware answering 413 (a problem document) to a request whose body passes its limit."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refusal(scope, declared, limit)(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError(received, limit)
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app makes of the cut-off body, the answer is 413
                if not started:
                    started = True
                    await _refusal(scope, received, limit)(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refusal(scope, received, limit)(scope, receive, send)


class BodyTooLargeError(Exception):
    """Raised to the app reading a body that has just passed its limit."""

    def __init__(self, received: int, limit: int) -> None:
        super().__init__(f"request body past {limit} bytes ({received} read)")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _refusal(scope: Scope, size: int, limit: int) -> ASGIApp:
    detail = (
        f"the request body has {size / MIB:.1f} MB or more; this route takes at most {limit / MIB:.1f} MB / 请求体过大"
    )
    return problem_response(413, "body_too_large", detail, instance=scope["path"], headers={"Connection": "close"})
