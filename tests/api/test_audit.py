"""The audit trail through the API: logins (right and wrong) and searches are on it with their particulars;
auditors and admins read it filtered by user, camera, action and time, and check it is intact; other roles may
not read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.clock import utcnow
from sharpeyes.store.accounts import UserRepository
from sharpeyes.store.database import session_factory


def test_auditors_read_and_check_the_trail(runtime: Runtime, client: TestClient, auth: dict[str, str]) -> None:
    assert (
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-password"}).status_code == 401
    )
    runtime.services.audit.write("alice", "search", "ok", {"camera_ids": ["cam-1", "cam-2"], "reason": "lost child"})
    runtime.services.audit.write("alice", "ptz", "ok", {"camera_id": "cam-3"})

    records = client.get("/api/v1/audit", headers=auth).json()
    assert [(r["username"], r["action"], r["outcome"]) for r in records[:4]] == [
        ("alice", "ptz", "ok"),
        ("alice", "search", "ok"),
        ("admin", "login", "refused"),
        ("admin", "login", "ok"),
    ]
    assert records[2]["data"]["address"] == "testclient"
    assert [r["seq"] for r in records] == sorted((r["seq"] for r in records), reverse=True)

    by_camera = client.get("/api/v1/audit", params={"camera_id": "cam-2"}, headers=auth).json()
    assert [(r["action"], r["data"]["reason"]) for r in by_camera] == [("search", "lost child")]
    by_user = client.get("/api/v1/audit", params={"user": "alice", "action": "ptz"}, headers=auth).json()
    assert [r["data"]["camera_id"] for r in by_user] == ["cam-3"]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert client.get("/api/v1/audit", params={"start": later}, headers=auth).json() == []

    check = client.get("/api/v1/audit/verify", headers=auth).json()
    assert check["intact"] is True
    assert check["records"] == check["signed"] >= 4

    with session_factory(runtime.engine).begin() as db:
        UserRepository(db).add("op", PasswordHasher().hash("operator-password"), "operator", utcnow())
    token = client.post("/api/v1/auth/login", json={"username": "op", "password": "operator-password"}).json()
    operator = {"Authorization": f"Bearer {token['access_token']}"}
    refused = client.get("/api/v1/audit", headers=operator)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
