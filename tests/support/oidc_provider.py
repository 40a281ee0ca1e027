"""A real OpenID Connect provider for tests: oidc-provider-mock's server on 127.0.0.1, in a thread, over HTTP.

The mock signs ID tokens with an RS256 key it makes at start, accepts any client id and secret and any redirect URI,
and lets a test sign a subject in by posting ``sub`` to its authorization endpoint (``action=deny`` refuses)."""

from __future__ import annotations

import io
import json
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
from werkzeug.serving import WSGIRequestHandler, make_server

with warnings.catch_warnings():  # the mock still imports authlib.jose, which authlib deprecates (loudly: "always")
    import authlib.deprecate  # type: ignore[import-untyped]

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    import oidc_provider_mock  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

STOP_TIMEOUT_S = 5.0


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Request lines would only clutter the test output."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the provider received: its path, query and form fields, and its Authorization header."""

    path: str
    fields: dict[str, str]
    authorization: str | None


class _Recorder:
    """Keeps what each request carried, then hands it on unchanged (but answers the keys with stale ones while a
    test has queued some)."""

    def __init__(self, app: WSGIApplication, seen: list[Seen], stale_keys: list[object]) -> None:
        self._app = app
        self._seen = seen
        self._stale_keys = stale_keys

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        form = body.decode() if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") else ""
        fields = dict(parse_qsl(environ.get("QUERY_STRING", ""))) | dict(parse_qsl(form))
        self._seen.append(Seen(environ["PATH_INFO"], fields, environ.get("HTTP_AUTHORIZATION")))
        if environ["PATH_INFO"] == "/jwks" and self._stale_keys:
            stale = json.dumps(self._stale_keys.pop(0)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(stale)))])
            return [stale]
        return self._app(environ, start_response)


@dataclass(frozen=True, slots=True)
class Provider:
    issuer: str
    seen: list[Seen] = field(default_factory=list)
    stale_keys: list[object] = field(default_factory=list)
    """Key sets served, one a request, instead of the provider's own (as if it had rotated its keys since)."""

    def set_user(self, subject: str, claims: dict[str, object]) -> None:
        """The claims the provider's ID tokens will carry for ``subject``."""
        answer = httpx.put(f"{self.issuer}/users/{subject}", json=claims, timeout=5)
        assert answer.status_code == 204, answer.text

    def authorize(self, authorization_url: str, subject: str | None) -> dict[str, str]:
        """Sign ``subject`` in at ``authorization_url`` (None: refuse) as a person would, and return the query of
        the redirect back to the platform's callback."""
        assert authorization_url.startswith(self.issuer + "/"), authorization_url
        form = {"sub": subject} if subject is not None else {"action": "deny"}
        answer = httpx.post(authorization_url, data=form, timeout=5)
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        return {name: values[0] for name, values in query.items()}


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1 while the block runs; it stops when the block ends."""
    seen: list[Seen] = []
    stale_keys: list[object] = []
    app = _Recorder(oidc_provider_mock.app(require_nonce=True), seen, stale_keys)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}", seen, stale_keys)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT_S)
        assert not thread.is_alive(), "the OpenID provider did not stop"
