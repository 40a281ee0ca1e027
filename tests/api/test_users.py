"""Administrators change users: role and scope apply from the next request, a disabled user is refused at once
(its tokens revoked) and can be enabled again; nobody disables or demotes themselves; every change is audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.errors import AuthenticationError

PASSWORD = "user-change-password"


def _login(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_user_is_changed_disabled_and_enabled_again(
    runtime: Runtime, client: TestClient, auth: dict[str, str]
) -> None:
    for camera_id in ("cam-1", "cam-2"):
        assert (
            client.post("/api/v1/cameras", json={"id": camera_id, "name": camera_id}, headers=auth).status_code == 201
        )
    made = {"username": "li.na", "password": PASSWORD, "role": "operator", "scope_cameras": ["cam-1"]}
    assert client.post("/api/v1/users", json=made, headers=auth).status_code == 201
    operator = _login(client, "li.na")
    assert [c["id"] for c in client.get("/api/v1/cameras", headers=operator).json()] == ["cam-1"]

    changed = client.patch("/api/v1/users/li.na", json={"scope_cameras": ["cam-2"], "role": "owner"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["scope_cameras"]) == ("owner", ["cam-2"])
    assert [c["id"] for c in client.get("/api/v1/cameras", headers=operator).json()] == ["cam-2"], "at once"
    assert client.post("/api/v1/cameras/cam-2/ptz", json={"action": "stop"}, headers=operator).status_code == 403

    assert client.patch("/api/v1/users/li.na", json={"disabled": True}, headers=auth).json()["disabled"] is True
    assert client.get("/api/v1/cameras", headers=operator).status_code == 401, "its tokens are revoked"
    refused = client.post("/api/v1/auth/login", json={"username": "li.na", "password": PASSWORD})
    assert (refused.status_code, refused.json()["code"]) == (401, "account_disabled")
    with pytest.raises(AuthenticationError, match="disabled"):  # single sign-on refuses it too
        runtime.services.accounts.login_verified("li.na", "testclient", via="oidc", subject="li.na@idp")
    wrong = client.post("/api/v1/auth/login", json={"username": "li.na", "password": "not-the-password"})
    assert wrong.json()["code"] == "bad_credentials", "a wrong password does not learn that the account is disabled"
    assert client.patch("/api/v1/users/li.na", json={"disabled": False}, headers=auth).status_code == 200
    assert client.get("/api/v1/cameras", headers=_login(client, "li.na")).status_code == 200

    updates = [r.data for r in runtime.services.audit.find(action="user.update", limit=10)]
    assert {"username": "li.na", "changes": {"role": "owner", "scope_cameras": ["cam-2"]}} in updates
    assert {"username": "li.na", "changes": {"disabled": True}} in updates
    refusals = [r.data for r in runtime.services.audit.find(action="login", username="li.na", limit=10)]
    assert any(data.get("reason") == "account_disabled" for data in refusals)


def test_nobody_disables_or_demotes_themselves(client: TestClient, auth: dict[str, str]) -> None:
    for body in ({"disabled": True}, {"role": "operator"}):
        answer = client.patch("/api/v1/users/admin", json=body, headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (422, "own_account")
    assert client.get("/api/v1/auth/me", headers=auth).json()["role"] == "admin"
    assert client.patch("/api/v1/users/admin", json={"scope_areas": []}, headers=auth).status_code == 200


def test_bad_changes_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    assert (
        client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=auth).json()["code"] == "user_not_found"
    )
    made = {"username": "wang", "password": PASSWORD, "role": "operator"}
    assert client.post("/api/v1/users", json=made, headers=auth).status_code == 201
    assert client.patch("/api/v1/users/wang", json={"role": "king"}, headers=auth).json()["code"] == "bad_role"
    assert client.patch("/api/v1/users/wang", json={"password": "x"}, headers=auth).status_code == 422
    assert client.patch("/api/v1/users/wang", json={"role": "admin"}, headers=_login(client, "wang")).status_code == 403
