"""Queries over users and their access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import AccessTokenRow, ApiKeyRow, UserRow


@dataclass(frozen=True, slots=True)
class StoredUser:
    id: int
    username: str
    password_hash: str
    role: str
    scope_areas: tuple[str, ...] = ()
    scope_cameras: tuple[str, ...] = ()
    scope_sites: tuple[int, ...] = ()
    disabled: bool = False


class UserRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def find(self, username: str) -> StoredUser | None:
        row = self._db.scalars(select(UserRow).where(UserRow.username == username)).first()
        return _to_user(row) if row is not None else None

    def get(self, user_id: int) -> StoredUser | None:
        row = self._db.get(UserRow, user_id)
        return _to_user(row) if row is not None else None

    def add(
        self,
        username: str,
        password_hash: str,
        role: str,
        created_at: datetime,
        scope_areas: tuple[str, ...] = (),
        scope_cameras: tuple[str, ...] = (),
        scope_sites: tuple[int, ...] = (),
    ) -> StoredUser:
        row = UserRow(username=username, password_hash=password_hash, role=role, created_at=created_at,
                      scope_areas=list(scope_areas), scope_cameras=list(scope_cameras),
                      scope_sites=list(scope_sites))  # fmt: skip
        self._db.add(row)
        self._db.flush()
        return _to_user(row)

    def all(self) -> list[StoredUser]:
        return [_to_user(row) for row in self._db.scalars(select(UserRow).order_by(UserRow.username))]

    def update(self, user: StoredUser) -> None:
        """Store ``user``'s role, scope and whether it is disabled."""
        values = {"role": user.role, "scope_areas": list(user.scope_areas), "scope_cameras": list(user.scope_cameras),
                  "scope_sites": list(user.scope_sites), "disabled": user.disabled}  # fmt: skip
        self._db.execute(update(UserRow).where(UserRow.id == user.id).values(**values))

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._db.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))


class AccessTokenRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, token_sha256: str, user_id: int, created_at: datetime, expires_at: datetime) -> None:
        self._db.add(
            AccessTokenRow(
                token_sha256=token_sha256,
                user_id=user_id,
                created_at=created_at,
                expires_at=expires_at,
                revoked=False,
            )
        )

    def find_valid(self, token_sha256: str, now: datetime) -> int | None:
        """The user id of an unrevoked, unexpired token, else None."""
        row = self._db.get(AccessTokenRow, token_sha256)
        if row is None or row.revoked or as_utc(row.expires_at) <= now:
            return None
        return row.user_id

    def revoke(self, token_sha256: str) -> None:
        self._db.execute(update(AccessTokenRow).where(AccessTokenRow.token_sha256 == token_sha256).values(revoked=True))

    def revoke_all(self, user_id: int) -> None:
        self._db.execute(update(AccessTokenRow).where(AccessTokenRow.user_id == user_id).values(revoked=True))


def _to_user(row: UserRow) -> StoredUser:
    return StoredUser(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        role=row.role,
        scope_areas=tuple(row.scope_areas or ()),
        scope_cameras=tuple(row.scope_cameras or ()),
        scope_sites=tuple(row.scope_sites or ()),
        disabled=bool(row.disabled),
    )


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    id: int
    name: str
    role: str
    scope_areas: tuple[str, ...]
    scope_cameras: tuple[str, ...]
    created_by: str
    created_at: datetime
    revoked: bool
    scope_sites: tuple[int, ...] = ()


class ApiKeyRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, key: StoredApiKey, key_sha256: str) -> StoredApiKey:
        row = ApiKeyRow(name=key.name, key_sha256=key_sha256, role=key.role, scope_areas=list(key.scope_areas),
                        scope_cameras=list(key.scope_cameras), scope_sites=list(key.scope_sites),
                        created_by=key.created_by, created_at=key.created_at, revoked=False)  # fmt: skip
        self._db.add(row)
        self._db.flush()
        return _to_key(row)

    def find_valid(self, key_sha256: str) -> StoredApiKey | None:
        row = self._db.scalars(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == key_sha256)).first()
        return _to_key(row) if row is not None and not row.revoked else None

    def all(self) -> list[StoredApiKey]:
        return [_to_key(row) for row in self._db.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]

    def revoke(self, key_id: int) -> bool:
        row = self._db.get(ApiKeyRow, key_id)
        if row is None:
            return False
        row.revoked = True
        return True


def _to_key(row: ApiKeyRow) -> StoredApiKey:
    return StoredApiKey(row.id, row.name, row.role, tuple(row.scope_areas or ()), tuple(row.scope_cameras or ()),
                        row.created_by, as_utc(row.created_at), row.revoked, tuple(row.scope_sites or ()))  # fmt: skip
