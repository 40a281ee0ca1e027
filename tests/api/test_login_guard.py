"""Brute force against the login: a hundred wrong passwords lock the user out (the right one is refused until the
lock runs out, with Retry-After), an address that tries many users is refused, and every attempt is audited."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.settings import Settings
from tests.conftest import ADMIN_PASSWORD

LOCKOUT_S = 2.0


@pytest.fixture
def guarded(settings: Settings) -> Iterator[tuple[Runtime, TestClient]]:
    auth = settings.auth.model_copy(update={"lockout_s": LOCKOUT_S, "address_failures": 200})
    runtime = build_runtime(settings.model_copy(update={"auth": auth}), with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    with TestClient(create_app(runtime.settings, runtime.services)) as client:
        yield runtime, client
    runtime.engine.dispose()


def _login(client: TestClient, password: str, username: str = "admin") -> tuple[int, str]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code, answer.json().get("code", "") if answer.status_code != 200 else "ok"


def test_a_hundred_wrong_passwords_lock_the_user_out_until_the_lock_runs_out(
    guarded: tuple[Runtime, TestClient],
) -> None:
    runtime, client = guarded
    answers = Counter(_login(client, f"guess-{number}") for number in range(100))
    assert answers == {(401, "bad_credentials"): 10, (429, "locked_out"): 90}
    refused = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert refused.status_code == 429, "the right password is refused while locked out"
    assert 1 <= int(refused.headers["Retry-After"]) <= LOCKOUT_S
    time.sleep(LOCKOUT_S + 0.1)
    assert _login(client, ADMIN_PASSWORD) == (200, "ok")
    logins = Counter(entry.outcome for entry in runtime.services.audit.find(action="login", limit=1000))
    assert logins == {"refused": 10, "locked": 91, "ok": 1}
    assert runtime.services.audit.verify().intact


def test_an_address_trying_many_users_is_refused(settings: Settings) -> None:
    auth = settings.auth.model_copy(update={"lockout_s": 60.0, "address_failures": 20})
    runtime = build_runtime(settings.model_copy(update={"auth": auth}), with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    with TestClient(create_app(runtime.settings, runtime.services)) as client:
        answers = Counter(_login(client, "guess", f"user{number}") for number in range(30))
        assert answers == {(401, "bad_credentials"): 20, (429, "address_blocked"): 10}
        assert _login(client, ADMIN_PASSWORD) == (429, "address_blocked")
    runtime.engine.dispose()


def test_a_revoked_token_is_refused(guarded: tuple[Runtime, TestClient]) -> None:
    _, client = guarded
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_answers_carry_security_headers_and_no_cors(guarded: tuple[Runtime, TestClient]) -> None:
    _, client = guarded
    for answer in (client.get("/"), client.get("/api/v1/auth/me", headers={"Origin": "https://evil.example"})):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "access-control-allow-origin" not in answer.headers
