"""Hostile input the API must turn away without leaking anything: path traversal in file and key parameters,
oversized bodies (refused before they are read), CR/LF meant for response headers, and every kind of bad token."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Scope

from sharpeyes.api.app import create_app
from sharpeyes.api.limits import JSON_BODY_BYTES, MIB, UPLOAD_PATHS
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.store.models import AccessTokenRow
from sharpeyes.store.recordings import RecordingRepository
from tests.conftest import ADMIN_PASSWORD

SECRET = "the-marker-of-a-file-nobody-may-read"
CAMERA = "cam-1"
PROBLEM_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Planted:
    client: TestClient
    auth: dict[str, str]
    segment_id: int


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    """One platform for the tests that change nothing: a secret file in its data and recordings folders, a
    camera and one recorded segment of it."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SHARPEYES_CONFIG", raising=False)
        settings = load_settings(None, data_dir=tmp_path_factory.mktemp("bad-input") / "data")
    runtime = build_runtime(settings, with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    recordings = settings.recordings_dir
    (recordings / CAMERA).mkdir(parents=True)
    for folder in (settings.data_dir, recordings):
        (folder / "secret.txt").write_text(SECRET)
    (recordings / CAMERA / "0001.mp4").write_bytes(b"not really a video")
    start = datetime.now(UTC) - timedelta(minutes=1)
    with TestClient(create_app(settings, runtime.services)) as client:
        auth = {"Authorization": f"Bearer {_signed_in(client)}"}
        made = client.post("/api/v1/cameras", json={"id": CAMERA, "name": "gate"}, headers=auth)
        assert made.status_code == 201, made.text
        with Session(runtime.engine) as db:
            repository = RecordingRepository(db)
            repository.add_segment(CAMERA, start, start + timedelta(seconds=10), 18, "h264", f"{CAMERA}/0001.mp4")
            db.commit()
            segment_id = repository.segments(CAMERA, start - timedelta(seconds=1), start + timedelta(minutes=1))[0].id
        yield Planted(client, auth, segment_id)
    runtime.engine.dispose()


TRAVERSALS = (
    "..%2f..%2fsecret.txt",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "%2e%2e/%2e%2e/secret.txt",
    "....%2f%2fsecret.txt",
)


@pytest.mark.parametrize("dots", TRAVERSALS)
@pytest.mark.parametrize(
    "template",
    [
        "/static/{dots}",
        "/static/{dots}/../../pyproject.toml",
        "/api/v1/cameras/{dots}",
        "/api/v1/cameras/{dots}/snapshot.jpg",
        "/api/v1/cameras/{dots}/clip.mp4?start=2026-01-01T00:00:00Z&end=2026-01-01T00:01:00Z",
        "/api/v1/cameras/cam-1/segments/{segment}/{dots}",
        "/api/v1/cameras/cam-1/segments/{dots}/init.mp4",
        "/api/v1/cameras/cam-1/device-playback/{dots}/init-0.mp4",
        "/api/v1/cameras/cam-1/device-playback/{dots}/1.m4s",
        "/api/v1/cameras/cam-1/live/{dots}.m4s",
        "/api/v1/exports/{dots}",
        "/api/v1/exports/{dots}/package.zip",
        "/api/v1/areas/{dots}",
        "/api/v1/events/{dots}/snapshot.jpg",
        "/api/v1/tracks/{dots}/thumbnail.jpg",
    ],
)
def test_path_traversal_finds_nothing(planted: Planted, template: str, dots: str) -> None:
    answer = planted.client.get(template.format(dots=dots, segment=planted.segment_id), headers=planted.auth)
    assert answer.status_code in (404, 422), answer.text
    assert SECRET not in answer.text
    assert "[build-system]" not in answer.text
    if template.startswith("/api/"):
        assert answer.headers["content-type"] == PROBLEM_TYPE


def test_the_segment_route_serves_its_two_parts_only(planted: Planted) -> None:
    """The planted segment exists (its parts answer, if only to say the file is broken); any other part name,
    one without a slash included, is refused."""
    base = f"/api/v1/cameras/{CAMERA}/segments/{planted.segment_id}"
    broken = planted.client.get(f"{base}/init.mp4", headers=planted.auth)
    assert broken.json()["code"] == "segment_unreadable"
    for part in ("%2e%2e", "secret.txt", "init.mp4.bak", "init.mp4%00"):
        refused = planted.client.get(f"{base}/{part}", headers=planted.auth)
        assert refused.json()["code"] == "segment_not_found", part
        assert SECRET not in refused.text


def test_static_files_stay_inside_their_folder(planted: Planted) -> None:
    assert planted.client.get("/static/app.css").status_code == 200
    for path in ("/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2f%2e%2e%2f__init__.py"):
        answer = planted.client.get(path)
        assert answer.status_code == 404, path
        assert "create_app" not in answer.text


# -- bodies past their limit -----------------------------------------------------------------------------------


def _asgi_post(app: ASGIApp, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, bytes, int]:
    """POST straight to the app (no client buffering the body): the status, the body, and how many body chunks
    the app asked for."""
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        chunk = next(chunks, None)
        return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def post() -> None:
        await app(scope, receive, send)

    anyio.run(post)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, reads


def _json_chunks(total_bytes: int, chunk_bytes: int = MIB) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(total_bytes // chunk_bytes):
        yield b"x" * chunk_bytes
    yield b'"}'


def test_a_50_mb_json_body_is_refused_unread(planted: Planted) -> None:
    client, auth = planted.client, planted.auth
    headers = {**auth, "Content-Type": "application/json", "Content-Length": str(50 * MIB + 12)}
    status, body, reads = _asgi_post(client.app, "/api/v1/cameras", headers, _json_chunks(50 * MIB))
    assert status == 413
    assert json.loads(body)["code"] == "body_too_large"
    assert reads == 0


def test_a_chunked_body_is_cut_off_at_the_limit(planted: Planted) -> None:
    """Sent without a Content-Length, the body is read only until it passes the limit."""
    client, auth = planted.client, planted.auth
    headers = {**auth, "Content-Type": "application/json"}
    status, body, reads = _asgi_post(client.app, "/api/v1/cameras", headers, _json_chunks(50 * MIB))
    assert status == 413
    assert json.loads(body)["code"] == "body_too_large"
    assert reads <= JSON_BODY_BYTES // MIB + 2


def test_the_limit_is_answered_through_the_client_too(planted: Planted) -> None:
    client, auth = planted.client, planted.auth
    answer = client.post("/api/v1/users", content=b"{" + b" " * (JSON_BODY_BYTES + 1) + b"}", headers=auth)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM_TYPE
    assert answer.headers["x-content-type-options"] == "nosniff"  # the security headers go on refusals too


def test_uploads_and_searches_may_be_larger(planted: Planted) -> None:
    """Spreadsheets (up to imports.max_upload_mb) and searches by example picture (10 MB as base64) pass the JSON
    limit; each is then judged by its route."""
    client, auth = planted.client, planted.auth
    row = b"gate,," + b"n" * 10_000 + b"\n"  # the third column is not one the import reads
    table = b"name,area_code,note\n" + row * ((JSON_BODY_BYTES + MIB) // len(row))
    imported = client.post("/api/v1/cameras/import", files={"file": ("big.csv", table)}, params={"dry_run": "true"},
                           headers=auth)  # fmt: skip
    assert imported.status_code == 200, imported.text[:300]
    picture = base64.b64encode(b"\xff" * (JSON_BODY_BYTES + MIB)).decode()
    searched = client.post("/api/v1/search", json={"image_base64": picture, "reason": "test"}, headers=auth)
    assert searched.status_code != 413
    assert searched.json()["code"] != "body_too_large"


def test_every_upload_route_has_the_upload_limit(planted: Planted) -> None:
    """The routes taking a multipart file are exactly those given the larger limit."""
    document = planted.client.get("/api/v1/openapi.json").json()
    multipart = {
        path
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
    }
    assert multipart == set(UPLOAD_PATHS)


# -- CR/LF meant for response headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/cameras", {"id": "cam\r\nSet-Cookie: a=1", "name": "x"}),
        ("POST", "/api/v1/cameras", {"id": "cam%0d%0aSet-Cookie:%20a=1", "name": "x"}),
        (
            "GET",
            "/api/v1/cameras/cam%0d%0aSet-Cookie:%20a=1/clip.mp4?start=2026-01-01T00:00:00Z&end=2026-01-01T00:01:00Z",
            None,
        ),
        (
            "GET",
            "/api/v1/cameras/cam-1/clip.mp4?start=2026-01-01T00:00:00Z%0d%0aSet-Cookie:%20a=1&end=2026-01-01T00:01:00Z",
            None,
        ),
        (
            "GET",
            "/api/v1/cameras/cam-1/playback.m3u8?start=2026-01-01T00:00:00Z&end=2026-01-01T00:01:00Z"
            "&access_token=x%0d%0aSet-Cookie:%20a=1",
            None,
        ),
        ("GET", "/api/v1/exports/x%0d%0aSet-Cookie:%20a=1/package.zip", None),
        ("POST", "/api/v1/auth/login", {"username": "admin\r\nSet-Cookie: a=1", "password": "x"}),
    ],
)
def test_cr_lf_never_reaches_a_response_header(
    planted: Planted, method: str, path: str, body: dict[str, str] | None
) -> None:
    answer = planted.client.request(method, path, json=body, headers=planted.auth)
    assert 400 <= answer.status_code < 500, answer.text
    assert "set-cookie" not in answer.headers
    assert all("\r" not in value and "\n" not in value for value in answer.headers.values())


def test_a_download_name_is_made_from_a_checked_camera_id(planted: Planted) -> None:
    """The names of clip and export downloads hold the camera id: ids with anything but letters, digits, '-' and
    '_' are refused when the camera is made."""
    for camera_id in ("a\rb", "a\nb", 'a"b', "a;b", "../a"):
        refused = planted.client.post(
            "/api/v1/cameras", json={"id": camera_id, "name": camera_id}, headers=planted.auth
        )
        assert refused.status_code == 422, camera_id
        assert refused.json()["code"] == "bad_camera_id"


# -- tokens ------------------------------------------------------------------------------------------------------


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


ADMIN_CLAIMS = {"sub": "admin", "role": "admin", "exp": 4_102_444_800}
FORGED = {
    "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(ADMIN_CLAIMS)}.",
    "another key": f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(ADMIN_CLAIMS)}.c2lnbmVkLXdpdGgtYW5vdGhlci1rZXk",
    "random": "Zm9yZ2VkLXJhbmRvbS10b2tlbi0xMjM0NTY3ODkwYWJjZGVm",
    "api-key shaped": "sek_not-a-real-key-0123456789",
    "empty": "",
    "very long": "x" * 10_000,
}


def _assert_refused(client: TestClient, token: str) -> dict[str, Any]:
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM_TYPE
    assert answer.headers["www-authenticate"] == "Bearer"
    if token:
        assert token[:20] not in answer.text
    problem: dict[str, Any] = answer.json()
    return problem


@pytest.mark.parametrize("name", FORGED)
def test_a_forged_token_gets_401(planted: Planted, name: str) -> None:
    problem = _assert_refused(planted.client, FORGED[name])
    assert problem["code"] == ("no_token" if name == "empty" else "bad_token")
    assert "admin" not in problem["detail"]


def _signed_in(client: TestClient) -> str:
    answer = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    token: str = answer.json()["access_token"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    return token


def test_an_expired_token_gets_401_like_any_bad_one(client: TestClient, runtime: Runtime) -> None:
    token = _signed_in(client)
    with Session(runtime.engine) as db:
        db.execute(update(AccessTokenRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    expired = _assert_refused(client, token)
    forged = _assert_refused(client, FORGED["random"])
    assert (expired["code"], expired["detail"]) == (forged["code"], forged["detail"])  # nothing tells them apart


def test_a_token_is_dead_after_logout(client: TestClient) -> None:
    token = _signed_in(client)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    revoked = _assert_refused(client, token)
    assert revoked["code"] == "bad_token"
    assert client.get("/api/v1/cameras", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401


def test_refused_credentials_are_audited_once_per_address_without_themselves(
    client: TestClient, runtime: Runtime
) -> None:
    forged = FORGED["alg none"]
    for _ in range(5):
        assert client.get("/api/v1/cameras", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    with client.websocket_connect("/api/v1/events/live") as socket:
        socket.send_text(json.dumps({"token": forged}))
        assert socket.receive_json()["code"] == "bad_token"
    assert client.get("/api/v1/cameras/x/live/0.m4s", params={"ticket": "forged.ticket"}).status_code == 401
    records = runtime.services.audit.find(action="token.refused", limit=10)
    assert sorted(r.data["reason"] for r in records) == ["bad_ticket", "bad_token"], "one per reason while it lasts"
    assert all(r.data["address"] == "testclient" for r in records)
    assert forged not in json.dumps([r.data for r in records])
    assert runtime.services.audit.verify().intact
