"""The audit trail through the API: logins (right and wrong) and searches are on it with their particulars;
auditors and admins read it filtered by user, camera, action and time, and check it is intact; other roles may
not read it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.clock import utcnow
from sharpeyes.store.accounts import UserRepository
from sharpeyes.store.database import session_factory
from tests.support.waiting import wait_for


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


def test_watching_is_audited_once_per_view(
    runtime: Runtime, client: TestClient, auth: dict[str, str], clip: Path
) -> None:
    camera = client.post("/api/v1/cameras", json={"name": "校门", "source_url": clip.as_uri()}, headers=auth).json()
    token = auth["Authorization"].removeprefix("Bearer ")
    wait_for(
        lambda: client.get(f"/api/v1/cameras/{camera['id']}/snapshot.jpg", headers=auth).status_code == 200,
        15,
        "a picture",
    )
    for _ in range(5):  # a wall refreshing every second: one view
        assert client.get(f"/api/v1/cameras/{camera['id']}/snapshot.jpg", headers=auth).status_code == 200
    with client.websocket_connect(f"/api/v1/cameras/{camera['id']}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        assert socket.receive_json()["type"] == "start"
        socket.receive_bytes()
    ended = wait_for(
        lambda: runtime.services.audit.find(action="live.view.end", limit=5), 10, "the end of the live view"
    )
    assert ended[0].data["camera_id"] == camera["id"]
    assert ended[0].data["seconds"] >= 0
    views = runtime.services.audit.find(camera_id=camera["id"], limit=50)
    assert Counter(entry.action for entry in views) == {
        "camera.add": 1,
        "snapshot.view": 1,
        "live.view": 1,
        "live.view.end": 1,
    }
    assert runtime.services.audit.verify().intact


def test_changes_to_cameras_are_audited_without_their_passwords(
    runtime: Runtime, client: TestClient, auth: dict[str, str]
) -> None:
    made = client.post(
        "/api/v1/cameras", json={"name": "东门", "source_url": "rtsp://admin:s3cret@10.1.1.5/main"}, headers=auth
    ).json()
    plan = {"name": "东门球机", "recording": {"mode": "continuous", "retention_days": 7}}
    assert client.patch(f"/api/v1/cameras/{made['id']}", json=plan, headers=auth).status_code == 200
    assert client.delete(f"/api/v1/cameras/{made['id']}", headers=auth).status_code == 204
    records = runtime.services.audit.find(camera_id=made["id"], limit=10)
    assert [(r.username, r.action) for r in reversed(records)] == [
        ("admin", "camera.add"),
        ("admin", "recording.plan"),
        ("admin", "camera.update"),
        ("admin", "camera.remove"),
    ]
    assert "s3cret" not in json.dumps([r.data for r in records])
    assert records[1].data["changes"] == {"name": "东门球机"}


def test_imports_and_analysis_plans_are_audited(runtime: Runtime, client: TestClient, auth: dict[str, str]) -> None:
    areas = "code,name,level,parent_code\n340200,芜湖市,city,\n340202,镜湖区,district,340200\n"
    imported = client.post(
        "/api/v1/areas/import", files={"file": ("areas.csv", areas.encode(), "text/csv")}, headers=auth
    )
    assert imported.json()["imported"] == 2
    dry = client.post(
        "/api/v1/areas/import", params={"dry_run": "true"}, files={"file": ("a.csv", areas.encode())}, headers=auth
    )
    assert dry.json()["dry_run"]
    sites = "name,site_type,area_code\n镜湖小学,school,340202\n"
    client.post("/api/v1/sites/import", files={"file": ("sites.csv", sites.encode(), "text/csv")}, headers=auth)
    cameras = "id,name,area_code\ncam-a,校门,340202\nbad id!,坏行,340202\n"
    client.post("/api/v1/cameras/import", files={"file": ("cams.csv", cameras.encode(), "text/csv")}, headers=auth)
    plan = {"analytics": {"enabled": False, "fps": 2, "zones": [], "rules": []}}
    assert client.patch("/api/v1/cameras/cam-a", json=plan, headers=auth).status_code == 200

    records = {r.action: r for r in runtime.services.audit.find(username="admin", limit=20)}
    assert records["areas.import"].data == {
        "file": "areas.csv", "imported": 2, "updated": 0, "unchanged": 0, "rejected": 0
    }  # fmt: skip
    assert len(runtime.services.audit.find(action="areas.import", limit=10)) == 1, "a dry run changes nothing"
    assert records["sites.import"].data["imported"] == 1
    assert (records["cameras.import"].data["imported"], records["cameras.import"].data["rejected"]) == (1, 1)
    assert records["analysis.plan"].data["camera_id"] == "cam-a"
    assert records["analysis.plan"].data["fps"] == 2
