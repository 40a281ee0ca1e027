from __future__ import annotations

from datetime import timedelta

import pytest

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import AuthenticationError, ConflictError, InvalidInputError
from sharpeyes.services.accounts import ADMIN_USERNAME
from sharpeyes.store.models import UserRow
from tests.conftest import ADMIN_PASSWORD


def test_admin_is_created_once(runtime: Runtime) -> None:
    with pytest.raises(ConflictError):
        runtime.services.accounts.create_admin()


def test_passwords_are_stored_as_argon2id(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        stored = connection.execute(UserRow.__table__.select()).first()
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert ADMIN_PASSWORD not in stored.password_hash


def test_reset_generates_a_new_password_and_revokes_tokens(runtime: Runtime) -> None:
    accounts = runtime.services.accounts
    old_token = accounts.login(ADMIN_USERNAME, ADMIN_PASSWORD).access_token
    new_password = accounts.reset_password(ADMIN_USERNAME)
    assert len(new_password) >= 16
    with pytest.raises(AuthenticationError):
        accounts.authenticate(old_token)
    with pytest.raises(AuthenticationError):
        accounts.login(ADMIN_USERNAME, ADMIN_PASSWORD)
    assert accounts.authenticate(accounts.login(ADMIN_USERNAME, new_password).access_token).username == "admin"


def test_short_passwords_are_refused(runtime: Runtime) -> None:
    with pytest.raises(InvalidInputError, match="at least 10"):
        runtime.services.accounts.reset_password(ADMIN_USERNAME, "short")


def test_tokens_expire(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = runtime.services.accounts
    token = accounts.login(ADMIN_USERNAME, ADMIN_PASSWORD).access_token
    ttl_s = runtime.settings.auth.token_ttl_s
    start = utcnow()
    monkeypatch.setattr("sharpeyes.services.accounts.utcnow", lambda: start + timedelta(seconds=ttl_s - 5))
    assert accounts.authenticate(token).username == ADMIN_USERNAME, "still valid just before its end"
    monkeypatch.setattr("sharpeyes.services.accounts.utcnow", lambda: start + timedelta(seconds=ttl_s + 1))
    with pytest.raises(AuthenticationError, match="expired"):
        accounts.authenticate(token)
