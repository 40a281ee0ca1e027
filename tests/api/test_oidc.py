"""Single sign-on against a real OpenID provider (oidc-provider-mock on 127.0.0.1): the whole authorization-code
flow through the platform's routes, its refusals (each audited), and the ID token checks on tokens signed here."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from pydantic import ValidationError

from sharpeyes.api.app import create_app
from sharpeyes.api.routers.auth import OIDC_BINDING_COOKIE
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.audit import AuditEntry
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.errors import AuthenticationError, UnavailableError
from sharpeyes.core.settings import OidcSettings, Settings
from sharpeyes.services.oidc import (
    STATE_TTL_S,
    UNIDENTIFIED,
    IdTokenError,
    IdTokenExpectation,
    OidcAnswer,
    OidcService,
    UnknownSigningKeyError,
    check_id_token,
)
from tests.conftest import ADMIN_PASSWORD
from tests.support.oidc_provider import Provider, running_provider

CLIENT_ID = "sharpeyes-test"
CLIENT_SECRET = "client-secret-for-tests"
CALLBACK = "http://localhost/api/v1/auth/oidc/callback"
PASSWORD = "operator-password-1"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")  # inside the provider, not ours


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The suite's settings with single sign-on through ``provider``, set as an operator would: by environment."""
    oidc = {"ENABLED": "true", "ISSUER": provider.issuer, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URI": CALLBACK, "DISPLAY_NAME": "City ID"}  # fmt: skip
    for name, value in oidc.items():
        monkeypatch.setenv(f"SHARPEYES_OIDC__{name}", value)
    return load_settings(None, data_dir=settings.data_dir)


@pytest.fixture
def alice(runtime: Runtime, client: TestClient, auth: dict[str, str], provider: Provider) -> str:
    """A local operator made by the admin, known to the provider as subject ``alice-sub``."""
    made = client.post("/api/v1/users", json={"username": "alice", "password": PASSWORD, "role": "operator",
                                              "scope_areas": ["340202"]}, headers=auth)  # fmt: skip
    assert made.status_code == 201, made.text
    provider.set_user("alice-sub", {"preferred_username": "alice", "name": "Alice"})
    return "alice-sub"


def _start(client: TestClient, provider: Provider) -> tuple[str, dict[str, str]]:
    """The platform's redirect to the provider: its URL and query."""
    started = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert started.status_code == 302, started.text
    url = started.headers["location"]
    assert url.startswith(provider.issuer + "/oauth2/authorize?"), url
    return url, dict(parse_qsl(urlsplit(url).query))


def _callback(client: TestClient, query: dict[str, str]) -> dict[str, str]:
    """The callback with ``query``: the fragment of the console address it sends the browser to."""
    back = client.get("/api/v1/auth/oidc/callback", params=query, follow_redirects=False)
    assert back.status_code == 303, back.text
    assert back.headers["cache-control"] == "no-store"
    location = back.headers["location"]
    assert location.startswith("/#"), location
    return {name: unquote(value) for name, value in parse_qsl(location[2:])}


def _sign_in(client: TestClient, provider: Provider, subject: str | None) -> tuple[dict[str, str], dict[str, str]]:
    url, _ = _start(client, provider)
    back = provider.authorize(url, subject)
    return back, _callback(client, back)


def _last_login(runtime: Runtime, username: str) -> AuditEntry:
    found = runtime.services.audit.find(username=username, action="login", limit=1)
    assert found, f"no login audited for {username}"
    return found[0]


def test_the_console_is_told_single_sign_on_is_offered_without_signing_in(client: TestClient) -> None:
    assert client.get("/api/v1/auth/oidc").json() == {"enabled": True, "display_name": "City ID"}


def test_a_provider_sign_in_gives_a_platform_token_with_the_local_role(
    runtime: Runtime, client: TestClient, provider: Provider, alice: str
) -> None:
    url, asked = _start(client, provider)
    assert asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == CALLBACK
    assert asked["scope"] == "openid profile email"
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert len({asked["state"], asked["nonce"]}) == 2
    assert client.cookies.get(OIDC_BINDING_COOKIE), "the browser is tied to the sign-in"
    back = provider.authorize(url, alice)
    assert back["state"] == asked["state"]
    first_seen = len(provider.seen)
    landed = _callback(client, back)

    token = landed["oidc_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.json()["username"], me.json()["role"]) == ("alice", "operator")
    assert "mask.lift" not in me.json()["permissions"]
    exchange = next(seen for seen in provider.seen[first_seen:] if seen.path == "/oauth2/token")
    verifier = exchange.fields["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == asked["code_challenge"], "PKCE: the verifier sent is the one the challenge was made from"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.authorization == f"Basic {basic}", "client_secret_basic: the provider's discovery names no other"
    assert "client_secret" not in exchange.fields
    record = _last_login(runtime, "alice")
    assert (record.outcome, record.data) == ("ok", {"address": "testclient", "method": "oidc", "subject": alice})
    assert not client.cookies.get(OIDC_BINDING_COOKIE), "the binding is cleared once used"


def test_a_user_unknown_here_is_refused_and_audited(runtime: Runtime, client: TestClient, provider: Provider) -> None:
    provider.set_user("mallory-sub", {"preferred_username": "mallory"})
    _, landed = _sign_in(client, provider, "mallory-sub")
    assert landed == {"oidc_error": "unknown_user"}
    record = _last_login(runtime, "mallory")
    assert record.outcome == "refused"
    assert record.data == {
        "address": "testclient",
        "method": "oidc",
        "subject": "mallory-sub",
        "reason": "unknown_user",
    }


def test_an_identity_without_the_user_name_claim_is_refused(
    runtime: Runtime, client: TestClient, provider: Provider
) -> None:
    provider.set_user("nameless-sub", {"email": "nameless@example.org"})
    _, landed = _sign_in(client, provider, "nameless-sub")
    assert landed == {"oidc_error": "oidc_no_username"}
    record = _last_login(runtime, UNIDENTIFIED)
    assert (record.outcome, record.data["reason"]) == ("refused", "oidc_no_username")
    assert "preferred_username" in record.data["detail"]


def test_a_replayed_callback_is_refused(runtime: Runtime, client: TestClient, provider: Provider, alice: str) -> None:
    back, landed = _sign_in(client, provider, alice)
    assert "oidc_token" in landed
    client.cookies.set(OIDC_BINDING_COOKIE, "whatever", path="/api/v1/auth/oidc/callback")
    assert _callback(client, back) == {"oidc_error": "oidc_bad_state"}
    record = _last_login(runtime, UNIDENTIFIED)
    assert record.outcome == "refused"
    assert record.data["reason"] == "oidc_bad_state"
    assert (record.data["method"], record.data["address"]) == ("oidc", "testclient")


def test_a_tampered_state_is_refused(runtime: Runtime, client: TestClient, provider: Provider, alice: str) -> None:
    url, _ = _start(client, provider)
    back = provider.authorize(url, alice)
    tampered = {**back, "state": back["state"][:-2] + ("AA" if not back["state"].endswith("AA") else "BB")}
    assert _callback(client, tampered) == {"oidc_error": "oidc_bad_state"}
    assert _callback(client, {"code": back["code"]}) == {"oidc_error": "oidc_bad_state"}, "no state at all"
    assert _last_login(runtime, UNIDENTIFIED).data["reason"] == "oidc_bad_state"
    assert runtime.services.audit.find(username="alice", action="login") == [], "alice was never signed in"


def test_a_callback_in_another_browser_is_refused(
    runtime: Runtime, client: TestClient, provider: Provider, alice: str
) -> None:
    """A callback URL carried to someone else's browser (login CSRF) lacks the binding cookie."""
    url, _ = _start(client, provider)
    back = provider.authorize(url, alice)
    client.cookies.clear()
    assert _callback(client, back) == {"oidc_error": "oidc_wrong_browser"}
    assert _last_login(runtime, UNIDENTIFIED).data["reason"] == "oidc_wrong_browser"


def test_a_sign_in_the_provider_denied_is_refused(runtime: Runtime, client: TestClient, provider: Provider) -> None:
    back, landed = _sign_in(client, provider, None)
    assert back["error"] == "access_denied"
    assert landed == {"oidc_error": "oidc_provider_error"}
    record = _last_login(runtime, UNIDENTIFIED)
    assert (record.outcome, record.data["reason"]) == ("refused", "oidc_provider_error")
    assert "access_denied" in record.data["detail"]


def test_a_locked_out_user_is_refused_through_the_provider_too(
    runtime: Runtime, client: TestClient, provider: Provider, alice: str
) -> None:
    for _ in range(runtime.settings.auth.lockout_failures):
        client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password"})
    _, landed = _sign_in(client, provider, alice)
    assert landed == {"oidc_error": "locked_out"}
    record = _last_login(runtime, "alice")
    assert (record.outcome, record.data["method"], record.data["why"]) == ("locked", "oidc", "locked_out")


def test_a_sign_in_expires_after_ten_minutes(runtime: Runtime, provider: Provider, alice: str) -> None:
    now = [time.time()]
    services = runtime.services
    oidc = OidcService(runtime.settings.oidc, services.accounts, services.audit, clock=lambda: now[0])
    started = oidc.start()
    back = provider.authorize(started.url, alice)
    now[0] += STATE_TTL_S + 1
    with pytest.raises(AuthenticationError, match="expired") as refused:
        oidc.finish(OidcAnswer(back["code"], back["state"], binding=started.binding), "127.0.0.1")
    assert refused.value.code == "oidc_bad_state"


@pytest.fixture
def plain_client(tmp_path: Path) -> Iterator[TestClient]:
    """A platform with single sign-on off (the default)."""
    runtime = build_runtime(load_settings(None, data_dir=tmp_path / "plain"), with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    with TestClient(create_app(runtime.settings, runtime.services)) as plain:
        yield plain
    runtime.engine.dispose()


def test_with_single_sign_on_off_its_routes_answer_404(plain_client: TestClient) -> None:
    assert plain_client.get("/api/v1/auth/oidc").json() == {"enabled": False, "display_name": None}
    for path in ("/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback?code=c&state=s"):
        answer = plain_client.get(path, follow_redirects=False)
        assert answer.status_code == 404, path
        assert answer.json()["code"] == "oidc_disabled"
        assert "single sign-on (OIDC) is not enabled" in answer.json()["detail"]


def test_the_routes_stay_out_of_the_api_document(client: TestClient) -> None:
    """They are browser navigations, public like login; the API document lists what needs a token."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert [path for path in paths if "oidc" in path] == []


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"enabled": True}, "oidc.issuer: required"),
        ({"enabled": True, "issuer": "https://id.example.org"}, "oidc.client_id: required"),
        ({"enabled": True, "issuer": "https://id.example.org", "client_id": "c"}, "oidc.redirect_uri: required"),
        ({"issuer": "http://id.example.org"}, "oidc.issuer: 'http://id.example.org' is not an https:// URL"),
        ({"redirect_uri": "ftp://platform.example.org/cb"}, "oidc.redirect_uri: 'ftp://platform.example.org/cb'"),
        ({"scopes": "profile email"}, "oidc.scopes: must include openid"),
    ],
)
def test_incomplete_or_unsafe_settings_are_refused(values: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        OidcSettings(**values)


def test_settings_for_a_provider_on_this_machine_are_accepted() -> None:
    accepted = OidcSettings(enabled=True, issuer="http://127.0.0.1:9000", client_id="c", redirect_uri=CALLBACK)
    assert accepted.username_claim == "preferred_username"


ISSUER = "https://id.example.org"
NONCE = "nonce-1"
EXPECTED = IdTokenExpectation(ISSUER, CLIENT_ID, NONCE, frozenset({"RS256", "ES256"}))
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1"})
OTHER_KEY = RSAKey.generate_key(2048)
PUBLISHED = KeySet([RSAKey.import_key(PROVIDER_KEY.as_dict(private=False))])
MINTED_AT = int(time.time())
"""When the tokens below were made (at collection) and the time they are checked at, however much later that is."""


def _claims(**changed: object) -> dict[str, object]:
    now = MINTED_AT
    claims: dict[str, object] = {"iss": ISSUER, "aud": [CLIENT_ID], "sub": "alice-sub", "iat": now,
                                 "exp": now + 300, "nonce": NONCE, "preferred_username": "alice"}  # fmt: skip
    claims.update(changed)
    return {name: value for name, value in claims.items() if value is not None}


def _signed(claims: dict[str, object], key: RSAKey | OctKey = PROVIDER_KEY, **header: str) -> str:
    return jwt.encode({"alg": "RS256", **header}, claims, key, algorithms=[header.get("alg", "RS256")])


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("id_token", "reason"),
    [
        pytest.param("", "not a signed JWT", id="empty"),
        pytest.param("not-a-jwt", "not a signed JWT", id="not a JWT"),
        pytest.param(_unsigned(_claims()), "signed with 'none'", id="alg none"),
        pytest.param(
            _signed(_claims(), OctKey.import_key(CLIENT_SECRET * 2), alg="HS256"),
            "signed with 'HS256'",
            id="HS256 keyed with the client secret",
        ),
        pytest.param(_signed(_claims(), OTHER_KEY), "signature does not verify", id="another key"),
        pytest.param(
            _signed(_claims(), OTHER_KEY, kid="provider-1"),
            "signature does not verify",
            id="another key under the provider's kid",
        ),
        pytest.param(_signed(_claims(iss="https://evil.example.org")), "iss claim", id="another issuer"),
        pytest.param(_signed(_claims(aud=["someone-else"])), "aud claim", id="another audience"),
        pytest.param(
            _signed(_claims(aud=[CLIENT_ID, "someone-else"])), "several audiences", id="several audiences, no azp"
        ),
        pytest.param(_signed(_claims(nonce="replayed-nonce")), "nonce claim", id="another nonce"),
        pytest.param(_signed(_claims(nonce=None)), "nonce", id="no nonce"),
        pytest.param(_signed(_claims(sub=None)), "sub", id="no subject"),
        pytest.param(_signed(_claims(exp=MINTED_AT - 600)), "expired", id="expired"),
        pytest.param(_signed(_claims(iat=MINTED_AT + 600)), "iat claim", id="issued in the future"),
    ],
)
def test_id_tokens_that_do_not_hold_are_refused(id_token: str, reason: str) -> None:
    with pytest.raises(IdTokenError, match=reason):
        check_id_token(id_token, PUBLISHED, EXPECTED, MINTED_AT)


def test_a_token_by_a_key_the_provider_does_not_publish_asks_for_its_keys_again() -> None:
    with pytest.raises(UnknownSigningKeyError, match="does not publish"):
        check_id_token(_signed(_claims(), OTHER_KEY, kid="rotated-2"), PUBLISHED, EXPECTED, MINTED_AT)


def test_a_token_that_holds_is_accepted_within_the_leeway() -> None:
    claims = _claims(aud=CLIENT_ID, exp=MINTED_AT - 30, azp=CLIENT_ID)
    for token in (_signed(claims), _signed(claims, kid="provider-1")):
        accepted = check_id_token(token, PUBLISHED, EXPECTED, MINTED_AT)
        assert (accepted.subject, accepted.claims["preferred_username"]) == ("alice-sub", "alice")


def _keys_read(provider: Provider, since: int) -> int:
    return sum(seen.path == "/jwks" for seen in provider.seen[since:])


def test_keys_rotated_since_they_were_read_are_read_again_once(
    client: TestClient, provider: Provider, alice: str
) -> None:
    provider.stale_keys.append(KeySet([OTHER_KEY]).as_dict())
    since = len(provider.seen)
    _, landed = _sign_in(client, provider, alice)
    assert "oidc_token" in landed
    assert _keys_read(provider, since) == 2


def test_keys_that_still_do_not_fit_when_read_again_are_refused(
    runtime: Runtime, client: TestClient, provider: Provider, alice: str
) -> None:
    provider.stale_keys.extend([KeySet([OTHER_KEY]).as_dict()] * 2)
    since = len(provider.seen)
    _, landed = _sign_in(client, provider, alice)
    assert landed == {"oidc_error": "oidc_bad_token"}
    assert _keys_read(provider, since) == 2, "read again once, not more"
    assert "signature does not verify" in _last_login(runtime, UNIDENTIFIED).data["detail"]


def test_a_provider_that_cannot_be_reached_is_reported(runtime: Runtime) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = runtime.settings.oidc.model_copy(update={"issuer": f"http://127.0.0.1:{port}", "timeout_s": 2.0})
    oidc = OidcService(unreachable, runtime.services.accounts, runtime.services.audit)
    with pytest.raises(UnavailableError, match="did not answer") as refused:
        oidc.start()
    assert refused.value.code == "oidc_unavailable"
