"""Property-based tests of the whole OpenAPI document with schemathesis: every operation, signed in as the admin
and as a scoped operator, gets valid and invalid requests, and no answer may be a server error; an answer whose
status has a documented body must match it. Regression tests for what the fuzzing found follow."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.core.settings import Settings
from sharpeyes.protocols.sources import check_source_url
from sharpeyes.services.accounts import AccountService
from sharpeyes.workers.gb28181 import SipWorker
from tests.conftest import ADMIN_PASSWORD

OPENAPI = "/api/v1/openapi.json"
LOOPBACK_SOURCE = "rtsp://127.0.0.1:9/generated"
"""Where every source URL the platform would open points instead: the discard port on loopback, refused at once,
so no generated camera reaches past this machine."""
CAMERA_ID = "cam-fuzz"
AREAS = "code,name,level,parent_code\n340200,芜湖市,city,\n340202,镜湖区,district,340200\n"
OPERATOR = ("duty", "operator-password-123")
LEAVER = ("leaver", "leaver-password-123")
"""Whose fresh tokens the logout cases spend (fuzzed logins may lock the others out by then)."""
CONFIG = schemathesis.Config.from_dict({"seed": 20240601, "generation": {"with-security-parameters": False}})
"""The token is the test's to set: generated cases keep it (tokens are tested in test_bad_input.py)."""
EXAMPLES = int(os.environ.get("SHARPEYES_FUZZ_EXAMPLES", "6"))
"""Examples per operation and generation mode for the admin (the operator, refused most, gets half): under a
minute for both on two cores. Raise it to look harder (80 found nothing more)."""
UNAVAILABLE = frozenset({"no_frame", "no_session", "not_online", "device_no_answer", "device_offline"})
"""The 503 answers saying that something the platform depends on is not there now (a camera that sends no
picture, a device that does not answer): the only server-side statuses allowed."""
SQL_INT_MAX = 2**63 - 1
PROBLEM_TYPE = "application/problem+json"

FuzzCase = schemathesis.Case[schemathesis.APIOperation[Any, Any, Any, Any]]
Send = Callable[[FuzzCase], None]


@dataclass(frozen=True, slots=True)
class Platform:
    schema: schemathesis.BaseSchema
    client: TestClient
    accounts: AccountService
    admin: dict[str, str]


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """The app with GB/T 28181 on (SIP on loopback) and its OpenAPI document, requests sent straight to the app
    (ASGI); an area tree and one camera (on loopback) for the generated requests to find."""
    gb = settings.gb28181.model_copy(update={"enabled": True, "host": "127.0.0.1", "port": 0, "password": "gb-pw-1"})
    runtime = build_runtime(settings.model_copy(update={"gb28181": gb}), with_streams=True)
    accounts = runtime.services.accounts
    accounts.create_admin(ADMIN_PASSWORD)
    accounts.create_user("admin", *OPERATOR, "operator", (), ())
    accounts.create_user("admin", *LEAVER, "operator", (), ())
    runtime.services.areas.import_table(io.BytesIO(AREAS.encode()), source_name="areas.csv")
    app = create_app(runtime.settings, runtime.services, [SipWorker(runtime.services.gb, runtime.services.cascade)])
    client = TestClient(app)  # not started: the schema's transport runs the app's lifespan
    admin = _login(client, "admin", ADMIN_PASSWORD)
    body = {"id": CAMERA_ID, "name": "fuzzed", "source_url": LOOPBACK_SOURCE, "area_code": "340202"}
    made = client.post("/api/v1/cameras", json=body, headers=admin)
    assert made.status_code == 201, made.text
    yield Platform(schemathesis.openapi.from_asgi(OPENAPI, app, config=CONFIG), client, accounts, admin)
    shutdown_lifespans()
    assert runtime.streams is not None
    runtime.streams.shutdown()
    runtime.engine.dispose()


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _confine(case: FuzzCase) -> None:
    """Camera sources and superior platforms in a generated body point at loopback only: a source URL the platform
    would open becomes ``LOOPBACK_SOURCE`` (one it refuses stays: refusing it is what is tested), a superior's host
    becomes 127.0.0.1 (the platform registers with it at once). Spreadsheet imports need no care: generated bytes
    never make a table with a source column."""
    body: Any = case.body
    if not isinstance(body, dict):
        return
    for field in ("source_url", "sub_source_url"):
        url = body.get(field)
        if isinstance(url, str):
            try:
                check_source_url(url)
            except (InvalidInputError, ValueError):
                continue
            body[field] = LOOPBACK_SOURCE
    if case.path.endswith("/gb/superiors") and isinstance(body.get("host"), str):
        body["host"] = "127.0.0.1"


def _sender(headers: dict[str, str], fresh: Callable[[], dict[str, str]]) -> Send:
    def send(case: FuzzCase) -> None:
        _confine(case)
        # logging out ends the session every later case uses: that case spends a token of its own
        used = fresh() if case.path.endswith("/auth/logout") else headers
        answer = case.call_and_validate(headers=used, checks=[response_schema_conformance])
        if answer.status_code >= 500:
            problem = answer.json() if answer.headers.get("content-type") == [PROBLEM_TYPE] else {}
            unavailable = answer.status_code == 503 and problem.get("code") in UNAVAILABLE
            assert unavailable, (
                f"{case.method} {case.formatted_path} answered {answer.status_code}: {answer.text[:500]}\n"
                f"{case.as_curl_command(headers=used)}"
            )

    return send


def _fuzz_every_operation(
    schema: schemathesis.BaseSchema, send: Send, subtests: pytest.Subtests, examples: int = EXAMPLES
) -> int:
    """Run ``send`` on generated cases of every operation, valid and invalid ones, each (operation, mode) a
    subtest; operations about one camera also run on the platform's camera (except deleting it). Returns how many
    operations ran."""
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if operation.body or list(operation.iter_parameters()):
            modes.append(GenerationMode.NEGATIVE)
        on_camera = "{camera_id}" in operation.path and operation.method.upper() != "DELETE"
        for mode in modes:
            for path_parameters in ({}, {"camera_id": CAMERA_ID}) if on_camera else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

                @settings(
                    max_examples=examples,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                )
                @given(case=strategy)
                def run(case: FuzzCase) -> None:
                    send(case)

                with subtests.test(msg=f"{operation.label} {mode.value} {path_parameters or ''}"):
                    try:
                        run()
                    except Unsatisfiable:
                        if mode is GenerationMode.POSITIVE:
                            raise
                        # the schema leaves nothing invalid to send here (its valid requests ran above)
    return len(operations)


def test_admin_gets_no_server_error(platform: Platform, subtests: pytest.Subtests) -> None:
    send = _sender(platform.admin, lambda: _fresh(platform.accounts, *LEAVER))
    assert _fuzz_every_operation(platform.schema, send, subtests) >= 50


def test_scoped_operator_gets_no_server_error(platform: Platform, subtests: pytest.Subtests) -> None:
    """An operator with nothing in its scope: the platform's camera exists but must look missing."""
    send = _sender(_login(platform.client, *OPERATOR), lambda: _fresh(platform.accounts, *LEAVER))
    assert _fuzz_every_operation(platform.schema, send, subtests, max(1, EXAMPLES // 2)) >= 50


def _fresh(accounts: AccountService, username: str, password: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.login(username, password, 'test').access_token}"}


# -- what the fuzzing found ---------------------------------------------------------------------------------------


def test_a_camera_name_changed_to_null_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: ``PATCH /cameras/{id}`` with ``{"name": null}`` answered 500 (the name was trimmed as a string)."""
    assert client.post("/api/v1/cameras", json={"id": "cam-a", "name": "gate"}, headers=auth).status_code == 201
    answer = client.patch("/api/v1/cameras/cam-a", json={"name": None}, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "bad_camera_name"
    assert client.get("/api/v1/cameras/cam-a", headers=auth).json()["name"] == "gate"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/events/{SQL_INT_MAX + 1}/snapshot.jpg", None),
        ("GET", f"/api/v1/tracks/{SQL_INT_MAX + 1}/thumbnail.jpg", None),
        ("DELETE", f"/api/v1/api-keys/{SQL_INT_MAX + 1}", None),
        ("GET", "/api/v1/events/0/snapshot.jpg", None),
        ("POST", "/api/v1/search", {"track_id": SQL_INT_MAX + 1, "reason": "test"}),
        ("GET", f"/api/v1/cameras?offset={SQL_INT_MAX + 1}", None),
        ("GET", f"/api/v1/cameras/cam-a/segments/{SQL_INT_MAX + 1}/media.m4s", None),
    ],
)
def test_ids_past_64_bits_are_refused(
    client: TestClient, auth: dict[str, str], method: str, path: str, body: dict[str, Any] | None
) -> None:
    """Regression: an id past a signed 64-bit integer answered 500 (SQLite cannot even look it up)."""
    answer = client.request(method, path, json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"


def test_a_clip_without_utc_offsets_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: ``clip.mp4`` with a start without a UTC offset answered 500 (naive and aware times subtracted)."""
    assert client.post("/api/v1/cameras", json={"id": "cam-a", "name": "gate"}, headers=auth).status_code == 201
    period = {"start": "2026-01-01T00:00:00", "end": "2026-01-01T00:01:00Z"}
    answer = client.get("/api/v1/cameras/cam-a/clip.mp4", params=period, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "bad_range"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/cameras/cam-a/recordings"),
        ("GET", "/api/v1/cameras/cam-a/playback.m3u8"),
        ("GET", "/api/v1/cameras/cam-a/clip.mp4"),
        ("POST", "/api/v1/exports"),
    ],
)
def test_periods_off_the_calendar_are_refused_at_once(
    client: TestClient, auth: dict[str, str], method: str, path: str
) -> None:
    """Years 1 and 9999 are refused when asked (an export used to be accepted and fail later in its job)."""
    assert client.post("/api/v1/cameras", json={"id": "cam-a", "name": "gate"}, headers=auth).status_code == 201
    period = {"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"}
    if method == "POST":
        answer = client.post(path, json={"camera_id": "cam-a", "reason": "test", **period}, headers=auth)
    else:
        answer = client.get(path, params=period, headers=auth)
    assert answer.status_code == 422, answer.text
    assert "1970" in answer.text
