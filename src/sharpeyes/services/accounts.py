"""Users, passwords and login tokens. No default credentials: the first admin gets a generated password."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core import roles
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
)
from sharpeyes.core.settings import AuthSettings
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.login_guard import LoginGuard
from sharpeyes.store.accounts import AccessTokenRepository, ApiKeyRepository, StoredApiKey, StoredUser, UserRepository

ADMIN_USERNAME = "admin"
ApiKey = StoredApiKey
"""An API key as the service hands it out (never the key itself)."""
API_KEY_PREFIX = "sek_"
"""API keys start so (login tokens never do): both go in ``Authorization: Bearer``."""
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD_LENGTH = 10
_WRONG_LOGIN = "wrong user name or password / 用户名或密码错误"
_DISABLED = "this account is disabled: ask an administrator / 该账户已停用，请联系管理员"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    scope_areas: tuple[str, ...] = ()
    """Areas (their subtrees included) whose cameras the role applies to."""
    scope_cameras: tuple[str, ...] = ()
    scope_sites: tuple[int, ...] = ()
    """Sites (a school, a village square) whose cameras the role applies to."""
    disabled: bool = False

    def may(self, permission: str) -> bool:
        return roles.allows(self.role, permission)

    @property
    def scoped(self) -> bool:
        """Limited to its scope (every role but admin and auditor)."""
        return self.role not in roles.UNSCOPED


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


def generate_password() -> str:
    """A 16-character random password (about 96 bits)."""
    return secrets.token_urlsafe(12)


class AccountService:
    def __init__(self, sessions: sessionmaker[Session], settings: AuthSettings, audit: AuditTrail) -> None:
        self._sessions = sessions
        self._settings = settings
        self._audit = audit
        self._guard = LoginGuard(settings)
        self._hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def create_admin(self, password: str | None = None) -> tuple[User, str]:
        """Create ``admin``; returns the user and its password (generated when not given)."""
        password = self._check_password(password) if password is not None else generate_password()
        try:
            with self._sessions.begin() as db:
                users = UserRepository(db)
                if users.find(ADMIN_USERNAME) is not None:
                    raise ConflictError("the admin user exists already", code="admin_exists")
                stored = users.add(ADMIN_USERNAME, self._hasher.hash(password), "admin", utcnow())
        except IntegrityError as err:  # another process created it at the same moment
            raise ConflictError("the admin user exists already", code="admin_exists") from err
        return _to_user(stored), password

    def reset_password(self, username: str, password: str | None = None) -> str:
        """Set a new password (generated when not given) and revoke the user's open sessions."""
        password = self._check_password(password) if password is not None else generate_password()
        with self._sessions.begin() as db:
            users = UserRepository(db)
            stored = users.find(username)
            if stored is None:
                raise NotFoundError(f"no user named {username!r}", code="user_not_found")
            users.set_password_hash(stored.id, self._hasher.hash(password))
            AccessTokenRepository(db).revoke_all(stored.id)
        return password

    def create_user(
        self,
        by: str,
        username: str,
        password: str,
        role: str,
        scope_areas: tuple[str, ...] = (),
        scope_cameras: tuple[str, ...] = (),
        scope_sites: tuple[int, ...] = (),
    ) -> User:
        """A new user with ``role`` and a scope (audited as ``by``'s doing)."""
        if not _USERNAME.match(username):
            raise InvalidInputError("username: 1–64 letters, digits, . _ -", code="bad_username", field="username")
        if role not in roles.ROLES:
            raise InvalidInputError(f"role: one of {', '.join(roles.ROLES)}", code="bad_role", field="role")
        password = self._check_password(password)
        try:
            with self._sessions.begin() as db:
                users = UserRepository(db)
                if users.find(username) is not None:
                    raise ConflictError(f"user {username!r} exists already", code="user_exists")
                areas, cameras = tuple(dict.fromkeys(scope_areas)), tuple(dict.fromkeys(scope_cameras))
                sites = tuple(dict.fromkeys(scope_sites))
                stored = users.add(username, self._hasher.hash(password), role, utcnow(), areas, cameras, sites)
        except IntegrityError as err:
            raise ConflictError(f"user {username!r} exists already", code="user_exists") from err
        user = _to_user(stored)
        self._audit.write(by, "user.create", "ok", {"username": username, "role": role, **_scope(user)})
        return user

    def update_user(
        self,
        by: str,
        username: str,
        *,
        role: str | None = None,
        scope_areas: tuple[str, ...] | None = None,
        scope_cameras: tuple[str, ...] | None = None,
        scope_sites: tuple[int, ...] | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user's role, scope or whether it is disabled (what is None stays). A role or scope applies to
        the user's next request; disabling revokes its tokens at once. Nobody disables or demotes themselves (a
        platform must not lose its last administrator by a slip). Audited with what changed."""
        if role is not None and role not in roles.ROLES:
            raise InvalidInputError(f"role: one of {', '.join(roles.ROLES)}", code="bad_role", field="role")
        with self._sessions.begin() as db:
            users = UserRepository(db)
            stored = users.find(username)
            if stored is None:
                raise NotFoundError(f"no user {username!r} / 找不到该用户", code="user_not_found")
            changed = replace(
                stored,
                role=stored.role if role is None else role,
                scope_areas=stored.scope_areas if scope_areas is None else tuple(dict.fromkeys(scope_areas)),
                scope_cameras=stored.scope_cameras if scope_cameras is None else tuple(dict.fromkeys(scope_cameras)),
                scope_sites=stored.scope_sites if scope_sites is None else tuple(dict.fromkeys(scope_sites)),
                disabled=stored.disabled if disabled is None else disabled,
            )
            if by == username and (changed.disabled or changed.role != stored.role):
                raise InvalidInputError(
                    "you cannot disable your own account or change its role / 不能停用自己的账户或更改自己的角色",
                    code="own_account",
                )
            users.update(changed)
            if changed.disabled:
                AccessTokenRepository(db).revoke_all(stored.id)
        before, after = _to_user(stored), _to_user(changed)
        fields = ("role", "disabled", "scope_areas", "scope_cameras", "scope_sites")
        changes = {f: _plain(getattr(after, f)) for f in fields if getattr(before, f) != getattr(after, f)}
        self._audit.write(by, "user.update", "ok", {"username": username, "changes": changes})
        return after

    def users(self) -> list[User]:
        with self._sessions() as db:
            return [_to_user(stored) for stored in UserRepository(db).all()]

    def user_exists(self, username: str) -> bool:
        with self._sessions() as db:
            return UserRepository(db).find(username) is not None

    def login(self, username: str, password: str, address: str = "") -> IssuedToken:
        """A token for ``username``. A user locked out after too many wrong passwords, or an address that gave
        too many, is refused (``TooManyAttemptsError``) whatever the password; every attempt is audited with the
        ``address`` it came from."""
        username = username[:64]
        try:
            self._guard.check(username, address)
        except TooManyAttemptsError as err:
            self._audit.write(username, "login", "locked", {"address": address, "why": err.code})
            raise
        with self._sessions.begin() as db:
            stored = UserRepository(db).find(username)
            refused = not self._verify(stored, password) or stored is None
            if not refused and stored is not None and stored.disabled:
                self._audit.write(username, "login", "refused", {"address": address, "reason": "account_disabled"})
                raise AuthenticationError(_DISABLED, code="account_disabled")
            if not refused and stored is not None:
                token = secrets.token_urlsafe(32)
                now = utcnow()
                expires_at = now + timedelta(seconds=self._settings.token_ttl_s)
                AccessTokenRepository(db).add(_digest(token), stored.id, now, expires_at)
        self._audit.write(username, "login", "refused" if refused else "ok", {"address": address})
        if refused:
            self._guard.failed(username, address)
            raise AuthenticationError(_WRONG_LOGIN, code="bad_credentials")
        self._guard.succeeded(username)
        return IssuedToken(token, expires_at)

    def login_verified(self, username: str, address: str, *, via: str, subject: str) -> IssuedToken:
        """A token for ``username``, whom another party (``via``: single sign-on) has already verified as
        ``subject``: no password, but the same lock-out as ``login`` (a locked-out user or a refused address is
        refused) and the same audit record, with the method and subject. Only an existing user gets one."""
        username = username[:64]
        audited = {"address": address, "method": via, "subject": subject[:255]}
        try:
            self._guard.check(username, address)
        except TooManyAttemptsError as err:
            self._audit.write(username, "login", "locked", {**audited, "why": err.code})
            raise
        with self._sessions.begin() as db:
            stored = UserRepository(db).find(username)
            if stored is not None and stored.disabled:
                self._audit.write(username, "login", "refused", {**audited, "reason": "account_disabled"})
                raise AuthenticationError(_DISABLED, code="account_disabled")
            if stored is not None:
                token = secrets.token_urlsafe(32)
                now = utcnow()
                expires_at = now + timedelta(seconds=self._settings.token_ttl_s)
                AccessTokenRepository(db).add(_digest(token), stored.id, now, expires_at)
        if stored is None:
            self._audit.write(username, "login", "refused", {**audited, "reason": "unknown_user"})
            raise AuthenticationError(
                f"there is no user {username!r} on this platform: an administrator creates it, with its role and "
                "scope, before it can sign in / 平台上没有该用户，请联系管理员创建",
                code="unknown_user",
            )
        self._audit.write(username, "login", "ok", audited)
        self._guard.succeeded(username)
        return IssuedToken(token, expires_at)

    def logout(self, token: str) -> None:
        """Revoke ``token`` (audited)."""
        user = self.authenticate(token)
        with self._sessions.begin() as db:
            AccessTokenRepository(db).revoke(_digest(token))
        self._audit.write(user.username, "logout", "ok", {})

    def create_api_key(
        self,
        by: str,
        name: str,
        role: str,
        scope_areas: tuple[str, ...] = (),
        scope_cameras: tuple[str, ...] = (),
        scope_sites: tuple[int, ...] = (),
    ) -> tuple[StoredApiKey, str]:
        """A key for automation with ``role`` (any but admin) and a scope; the key itself is returned once and
        only its SHA-256 kept. Audited."""
        name = name.strip()
        if not 1 <= len(name) <= 64:
            raise InvalidInputError("name: 1–64 characters", code="bad_key_name", field="name")
        if role not in roles.ROLES or role == "admin":
            keyed = ", ".join(r for r in roles.ROLES if r != "admin")
            raise InvalidInputError(f"role: one of {keyed} (not admin)", code="bad_role", field="role")
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        draft = StoredApiKey(0, name, role, tuple(dict.fromkeys(scope_areas)), tuple(dict.fromkeys(scope_cameras)),
                             by, utcnow(), False, tuple(dict.fromkeys(scope_sites)))  # fmt: skip
        with self._sessions.begin() as db:
            stored = ApiKeyRepository(db).add(draft, _digest(secret))
        self._audit.write(by, "api_key.create", "ok", {"key_id": stored.id, "name": name, "role": role,
                                                       **_scope(_key_user(stored))})  # fmt: skip
        return stored, secret

    def api_keys(self) -> list[StoredApiKey]:
        with self._sessions() as db:
            return ApiKeyRepository(db).all()

    def revoke_api_key(self, by: str, key_id: int) -> None:
        with self._sessions.begin() as db:
            if not ApiKeyRepository(db).revoke(key_id):
                raise NotFoundError(f"no API key {key_id}", code="api_key_not_found")
        self._audit.write(by, "api_key.revoke", "ok", {"key_id": key_id})

    def authenticate(self, token: str, address: str | None = None) -> User:
        """The user a login token or an API key stands for. A refused one presented from ``address`` is audited
        (``token.refused``: once per address and reason while it keeps coming)."""
        try:
            return self.authenticate_digest(_digest(token))
        except AuthenticationError as err:
            if address is not None:
                self.refused(address, err.code)
            raise

    def refused(self, address: str, reason: str) -> None:
        """Audit a credential (token, API key, media ticket) refused from ``address``; never the credential."""
        self._audit.repeated("anonymous", "token.refused", "refused", f"{address}\x00{reason}",
                             {"address": address, "reason": reason})  # fmt: skip

    def authenticate_digest(self, digest: str) -> User:
        """The user the login token or API key whose SHA-256 is ``digest`` stands for, while it is valid."""
        with self._sessions() as db:
            user_id = AccessTokenRepository(db).find_valid(digest, utcnow())
            stored = UserRepository(db).get(user_id) if user_id is not None else None
            key = ApiKeyRepository(db).find_valid(digest) if stored is None else None
        if key is not None:
            return _key_user(key)
        if stored is None or stored.disabled:
            raise AuthenticationError("sign in first: the token is missing, expired or revoked", code="bad_token")
        return _to_user(stored)

    def _verify(self, stored: StoredUser | None, password: str) -> bool:
        try:
            # Verify against a dummy hash for unknown users so timing does not reveal who exists.
            return self._hasher.verify(stored.password_hash if stored else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _check_password(password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                f"the password needs at least {MIN_PASSWORD_LENGTH} characters / 密码至少 {MIN_PASSWORD_LENGTH} 位",
                code="weak_password",
            )
        return password


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _to_user(stored: StoredUser) -> User:
    return User(stored.id, stored.username, stored.role, stored.scope_areas, stored.scope_cameras, stored.scope_sites,
                stored.disabled)  # fmt: skip


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _key_user(key: StoredApiKey) -> User:
    """Who an API key acts as: ``key:NAME``, with the key's role and scope."""
    return User(-key.id, f"key:{key.name}", key.role, key.scope_areas, key.scope_cameras, key.scope_sites)


def _scope(user: User) -> dict[str, list[str] | list[int]]:
    return {"scope_areas": list(user.scope_areas), "scope_cameras": list(user.scope_cameras),
            "scope_sites": list(user.scope_sites)}  # fmt: skip
