"""Single sign-on over OpenID Connect: the authorization-code flow with PKCE, done by hand.

``start`` sends the browser to the provider with a fresh ``state``, ``nonce`` and PKCE challenge, kept here for ten
minutes, used once, and tied to the browser that asked by a value only that browser holds. ``finish`` takes the
provider's answer, exchanges the code for an ID token, checks the token (its signature against the keys the provider
publishes, with an asymmetric algorithm the provider advertises; issuer, audience, times, nonce) and signs in the
existing local user whose name the configured claim holds. The provider only says who someone is: the user, its role
and its scope are the platform's own. Every refusal is audited as a ``login`` by method ``oidc``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import Key, KeySet, KeySetSerialization

from sharpeyes.core.errors import AuthenticationError, NotFoundError, SharpEyesError, UnavailableError
from sharpeyes.core.settings import OidcSettings
from sharpeyes.services.accounts import AccountService, IssuedToken
from sharpeyes.services.audit_log import AuditTrail

logger = logging.getLogger(__name__)

METHOD = "oidc"
"""The login method audit records name."""
STATE_TTL_S = 600.0
"""A sign-in must come back from the provider within this long."""
MOST_PENDING = 10_000
"""Sign-ins under way at once (the oldest are forgotten beyond this)."""
LEEWAY_S = 60
"""Clock difference allowed between the provider and this machine when checking ``exp`` and ``iat``."""
DISCOVERY_TTL_S = 3600.0
"""The provider's discovery document is read again after this long."""
UNIDENTIFIED = "oidc:unidentified"
"""Who an audit record names when a sign-in was refused before anyone was identified."""
KEY_TYPES = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("ES256", "ES384", "ES512"), "EC"),
    **dict.fromkeys(("EdDSA", "Ed25519"), "OKP"),
}
"""The algorithms an ID token may be signed with, and the key type each needs: asymmetric only. ``none`` and the
HS* family (keyed with the client secret, which the platform holds too) are never accepted."""
ClientAuth = Literal["client_secret_basic", "client_secret_post", "none"]
_STALE_SIGN_IN = "this sign-in is unknown, expired or used already: start again from the login page / 登录请求已失效"


@dataclass(frozen=True, slots=True)
class OidcStart:
    url: str
    """The provider's authorization endpoint with this sign-in's parameters: where the browser goes."""
    binding: str
    """A secret the browser keeps (a cookie) and brings back to the callback, so that a callback URL cannot be
    replayed into another person's browser."""


@dataclass(frozen=True, slots=True)
class OidcAnswer:
    """What the browser brings back to the callback."""

    code: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None
    binding: str | None = None


@dataclass(frozen=True, slots=True)
class IdTokenExpectation:
    """What a valid ID token for one sign-in must say."""

    issuer: str
    client_id: str
    nonce: str
    algorithms: frozenset[str]
    """Signing algorithms accepted: those the provider advertises, less any that ``KEY_TYPES`` does not name."""


@dataclass(frozen=True, slots=True)
class IdToken:
    subject: str
    claims: Mapping[str, object]


class IdTokenError(AuthenticationError):
    """The ID token is not one this platform accepts; the message says why."""

    code = "oidc_bad_token"


class UnknownSigningKeyError(IdTokenError):
    """No published key fits the token: the provider may have rotated its keys, so they are worth reading again."""


@dataclass(frozen=True, slots=True)
class _Client:
    issuer: str
    client_id: str
    client_secret: str | None
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class _Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: frozenset[str]
    client_auth: ClientAuth
    """How the token endpoint is told who the platform is."""


@dataclass(frozen=True, slots=True)
class _Pending:
    nonce: str
    verifier: str
    binding_sha256: str
    expires_at: float


class OidcService:
    def __init__(
        self,
        settings: OidcSettings,
        accounts: AccountService,
        audit: AuditTrail,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._accounts = accounts
        self._audit = audit
        self._clock = clock
        self._client = _client(settings)
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._provider_cache: tuple[float, _Provider] | None = None
        self._keys_cache: tuple[str, KeySet] | None = None

    @property
    def enabled(self) -> bool:
        return self._client is not None

    @property
    def display_name(self) -> str | None:
        return self._settings.display_name

    @property
    def callback_path(self) -> str:
        """The path of the callback URL (where the browser brings its binding back)."""
        return urlsplit(self._settings.redirect_uri or "").path or "/"

    @property
    def callback_https(self) -> bool:
        return (self._settings.redirect_uri or "").startswith("https://")

    def start(self) -> OidcStart:
        """A new sign-in: where to send the browser, and the binding the browser keeps meanwhile."""
        client = self._require_client()
        provider = self._provider(client)
        state, nonce, verifier, binding = (secrets.token_urlsafe(32) for _ in range(4))
        now = self._clock()
        with self._lock:
            self._pending = {key: held for key, held in self._pending.items() if held.expires_at > now}
            while len(self._pending) >= MOST_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[state] = _Pending(nonce, verifier, _sha256(binding), now + STATE_TTL_S)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
                 "scope": self._settings.scopes, "state": state, "nonce": nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256"}  # fmt: skip
        return OidcStart(_with_query(provider.authorization_endpoint, query), binding)

    def finish(self, answer: OidcAnswer, address: str) -> IssuedToken:
        """A platform token for the local user the provider's answer identifies. Refused (audited, no token) when
        the provider refused, the sign-in is unknown, expired, used or from another browser, the ID token does not
        hold, or no local user matches; a locked-out user is refused as at a password login."""
        client = self._require_client()
        try:
            username, subject = self._identify(client, answer)
        except SharpEyesError as err:
            logger.info("single sign-on refused (%s): %s", err.code, err.message)
            audited = {"address": address, "method": METHOD, "reason": err.code, "detail": err.message[:500]}
            self._audit.write(UNIDENTIFIED, "login", "refused", audited)
            raise
        return self._accounts.login_verified(username, address, via=METHOD, subject=subject)

    def _identify(self, client: _Client, answer: OidcAnswer) -> tuple[str, str]:
        """The local user name and the provider's subject the answer stands for."""
        pending = self._take(answer.state)
        if answer.error:
            described = f" ({answer.error_description[:300]})" if answer.error_description else ""
            raise AuthenticationError(
                f"the identity provider refused the sign-in: {answer.error[:100]}{described} / 身份提供方拒绝登录",
                code="oidc_provider_error",
            )
        if pending is None:
            raise AuthenticationError(_STALE_SIGN_IN, code="oidc_bad_state")
        if not answer.binding or not hmac.compare_digest(_sha256(answer.binding), pending.binding_sha256):
            raise AuthenticationError(
                "this sign-in was started in another browser: start again from the login page / 登录请求来自其他浏览器",
                code="oidc_wrong_browser",
            )
        if not answer.code:
            raise AuthenticationError("the identity provider answered without a code", code="oidc_provider_error")
        provider = self._provider(client)
        id_token = self._exchange(client, provider, answer.code, pending.verifier)
        expected = IdTokenExpectation(provider.issuer, client.client_id, pending.nonce, provider.algorithms)
        try:
            verified = check_id_token(id_token, self._keys(provider, fresh=False), expected, self._clock())
        except UnknownSigningKeyError:  # the provider may have rotated its keys: read them again, once
            verified = check_id_token(id_token, self._keys(provider, fresh=True), expected, self._clock())
        claim = self._settings.username_claim
        username = verified.claims.get(claim)
        if not isinstance(username, str) or not username:
            raise AuthenticationError(
                f"the ID token has no {claim!r} claim to find the local user by: check oidc.username_claim and "
                "oidc.scopes",
                code="oidc_no_username",
            )
        return username, verified.subject

    def _take(self, state: str | None) -> _Pending | None:
        """The sign-in ``state`` names, if it is still under way; it is used up either way."""
        with self._lock:
            pending = self._pending.pop(state, None) if state else None
        return pending if pending is not None and pending.expires_at > self._clock() else None

    def _require_client(self) -> _Client:
        if self._client is None:
            raise NotFoundError(
                "single sign-on (OIDC) is not enabled on this platform: set oidc.enabled and the oidc settings / "
                "未启用单点登录",
                code="oidc_disabled",
            )
        return self._client

    def _provider(self, client: _Client) -> _Provider:
        """The provider's endpoints and algorithms from its discovery document (read again after an hour)."""
        now = self._clock()
        with self._lock:
            cached = self._provider_cache
        if cached is not None and now - cached[0] < DISCOVERY_TTL_S:
            return cached[1]
        url = client.issuer.rstrip("/") + "/.well-known/openid-configuration"
        provider = _provider_from(self._get_json(url), client)
        with self._lock:
            self._provider_cache = (now, provider)
        return provider

    def _keys(self, provider: _Provider, *, fresh: bool) -> KeySet:
        """The provider's published signing keys: kept once read, read again when ``fresh``."""
        with self._lock:
            cached = self._keys_cache
        if cached is not None and cached[0] == provider.jwks_uri and not fresh:
            return cached[1]
        document = self._get_json(provider.jwks_uri)
        try:
            keys = KeySet.import_key_set(cast(KeySetSerialization, document))
        except (JoseError, KeyError, TypeError, ValueError) as err:
            raise UnavailableError(
                f"the identity provider's keys at {provider.jwks_uri} cannot be read: {err}", code="oidc_unavailable"
            ) from err
        with self._lock:
            self._keys_cache = (provider.jwks_uri, keys)
        return keys

    def _exchange(self, client: _Client, provider: _Provider, code: str, verifier: str) -> str:
        """The ID token the token endpoint gives for ``code``."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
                "code_verifier": verifier}  # fmt: skip
        auth: httpx.Auth | None = None
        if provider.client_auth == "client_secret_basic" and client.client_secret is not None:
            # RFC 6749, section 2.3.1: both halves form-encoded before they are joined.
            auth = httpx.BasicAuth(quote(client.client_id, safe=""), quote(client.client_secret, safe=""))
        else:
            form["client_id"] = client.client_id
            if provider.client_auth == "client_secret_post" and client.client_secret is not None:
                form["client_secret"] = client.client_secret
        try:
            with httpx.Client(timeout=self._settings.timeout_s, auth=auth) as http:
                answer = http.post(provider.token_endpoint, data=form, headers={"Accept": "application/json"})
            body = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise UnavailableError(
                f"the identity provider's token endpoint did not answer properly: {err}", code="oidc_unavailable"
            ) from err
        body = body if isinstance(body, dict) else {}
        if answer.status_code != 200:
            refusal = str(body.get("error") or f"HTTP {answer.status_code}")[:100]
            raise AuthenticationError(
                f"the identity provider did not exchange the code: {refusal}", code="oidc_provider_error"
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise IdTokenError("the identity provider's token answer holds no ID token (is openid in oidc.scopes?)")
        return id_token

    def _get_json(self, url: str) -> object:
        try:
            with httpx.Client(timeout=self._settings.timeout_s) as http:
                answer = http.get(url, headers={"Accept": "application/json"})
                answer.raise_for_status()
                return cast(object, answer.json())
        except (httpx.HTTPError, ValueError) as err:
            raise UnavailableError(
                f"the identity provider did not answer {url} properly: {err}", code="oidc_unavailable"
            ) from err


def check_id_token(id_token: str, keys: KeySet, expected: IdTokenExpectation, now: float) -> IdToken:
    """The subject and claims of ``id_token`` once its signature (by one of ``keys``, with an accepted algorithm)
    and its claims (issuer, audience, expiry, issue time, nonce) hold; ``IdTokenError`` saying why not, and
    ``UnknownSigningKeyError`` when none of ``keys`` fits it."""
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError) as err:
        raise IdTokenError("the ID token is not a signed JWT") from err
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in expected.algorithms:
        accepted = ", ".join(sorted(expected.algorithms))
        raise IdTokenError(f"the ID token is signed with {algorithm!r}: only {accepted} (asymmetric) is accepted")
    claims = _signed_claims(id_token, algorithm, header.get("kid"), keys)
    _check_claims(claims, expected, now)
    return IdToken(str(claims["sub"]), claims)


def _signed_claims(id_token: str, algorithm: str, kid: object, keys: KeySet) -> dict[str, Any]:
    """The token's claims, verified by the published key it names (any that fits, when it names none: then a
    signature that none verifies may be by a key published since, so it counts as an unknown key)."""
    candidates: list[Key] = [
        key
        for key in keys
        if key.key_type == KEY_TYPES[algorithm]
        and (kid is None or key.kid == kid)
        and key.get("use") in (None, "sig")
        and key.get("alg") in (None, algorithm)
    ]
    if not candidates:
        raise UnknownSigningKeyError(f"the ID token is signed by a key the provider does not publish (kid {kid!r})")
    for key in candidates:
        try:
            return jwt.decode(id_token, key, algorithms=[algorithm]).claims
        except BadSignatureError:
            continue
        except JoseError as err:
            raise IdTokenError(f"the ID token cannot be read: {err}") from err
    failed = "the ID token's signature does not verify against the provider's keys"
    raise IdTokenError(failed) if kid is not None else UnknownSigningKeyError(failed)


def _check_claims(claims: dict[str, Any], expected: IdTokenExpectation, now: float) -> None:
    registry = jwt.JWTClaimsRegistry(
        now=int(now),
        leeway=LEEWAY_S,
        iss={"essential": True, "value": expected.issuer},
        aud={"essential": True, "value": expected.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": expected.nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as err:
        raise IdTokenError("the ID token has expired (is this machine's clock right?)") from err
    except ClaimError as err:
        raise IdTokenError(f"the ID token's {err.claim} claim is missing or wrong: {err.description}") from err
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != expected.client_id:
        raise IdTokenError("the ID token is for several audiences but not authorised for this platform (azp)")


def _client(settings: OidcSettings) -> _Client | None:
    if not settings.enabled or not settings.issuer or not settings.client_id or not settings.redirect_uri:
        return None
    return _Client(settings.issuer, settings.client_id, settings.client_secret, settings.redirect_uri)


def _provider_from(document: object, client: _Client) -> _Provider:
    """The parts of a discovery document the flow uses, checked."""
    found: Mapping[str, object] = document if isinstance(document, dict) else {}
    issuer = found.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != client.issuer.rstrip("/"):
        raise UnavailableError(
            f"the identity provider calls itself {issuer!r}, not {client.issuer!r} (oidc.issuer)",
            code="oidc_unavailable",
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = found.get(name)
        if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http"):
            raise UnavailableError(f"the identity provider's discovery document has no {name}", code="oidc_unavailable")
        endpoints[name] = value
    advertised = found.get("id_token_signing_alg_values_supported", ["RS256"])
    algorithms = frozenset(a for a in advertised if a in KEY_TYPES) if isinstance(advertised, list) else frozenset()
    if not algorithms:
        raise UnavailableError(
            f"the identity provider signs ID tokens only with {advertised!r}; this platform accepts "
            f"{', '.join(sorted(KEY_TYPES))}",
            code="oidc_unavailable",
        )
    methods = found.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    methods = methods if isinstance(methods, list) else []
    client_auth: ClientAuth = "client_secret_basic"  # the default when the provider does not say
    if client.client_secret is None:
        client_auth = "none"
    elif "client_secret_basic" not in methods and "client_secret_post" in methods:
        client_auth = "client_secret_post"
    return _Provider(issuer, endpoints["authorization_endpoint"], endpoints["token_endpoint"], endpoints["jwks_uri"],
                     algorithms, client_auth)  # fmt: skip


def _with_query(url: str, query: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    merged = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *query.items()])
    return urlunsplit(parts._replace(query=merged))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
