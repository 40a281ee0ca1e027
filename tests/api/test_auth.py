from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD


def test_health_needs_no_login(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_document_is_published(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cameras" in spec["paths"]
    assert "/api/v1/auth/login" in spec["paths"]


def test_every_api_route_but_login_answers_401_without_a_token(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    guarded = [
        (method, path)
        for path, ops in paths.items()
        for method in ops
        if path.startswith("/api/v1") and path != "/api/v1/auth/login"
    ]
    assert len(guarded) >= 5
    for method, path in guarded:
        response = client.request(method.upper(), path.replace("{camera_id}", "x"))
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "no_token"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_request"),
        ({"username": "admin"}, 422, "invalid_request"),
        ({"username": "admin", "password": "wrong-password"}, 401, "bad_credentials"),
        ({"username": "nobody", "password": ADMIN_PASSWORD}, 401, "bad_credentials"),
    ],
)
def test_login_refusals(client: TestClient, body: dict[str, str], status: int, code: str) -> None:
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_login_gives_a_bearer_token_that_works(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "admin"
    assert me.json()["role"] == "admin"
    assert {"mask.lift", "user.manage", "audit.read"} <= set(me.json()["permissions"])


def test_a_forged_token_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/cameras", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_token"
