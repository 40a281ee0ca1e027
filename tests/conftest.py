"""Fixtures shared by the whole suite: settings in a temporary data directory, services, an API client, clips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.settings import Settings
from tests.support.clips import make_audio_only_clip, make_test_clip

ADMIN_PASSWORD = "correct-horse-battery"
MODELS = Path(os.environ.get("SHARPEYES_TEST_MODELS") or Path(__file__).resolve().parents[1] / ".models")
DATA = Path(os.environ.get("SHARPEYES_TEST_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
"""The shared real footage and ground truth (tests that need it skip, saying so, where it is absent)."""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with short timeouts so failures show within seconds; no outside SHARPEYES_* leaks in."""
    monkeypatch.delenv("SHARPEYES_CONFIG", raising=False)
    monkeypatch.setenv("SHARPEYES_STREAMS__READ_TIMEOUT_S", "2")
    monkeypatch.setenv("SHARPEYES_STREAMS__OPEN_TIMEOUT_S", "3")
    monkeypatch.setenv("SHARPEYES_STREAMS__RECONNECT_MAX_S", "2")
    monkeypatch.setenv("SHARPEYES_ANALYTICS__MODELS_DIR", str(MODELS))
    return load_settings(None, data_dir=tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings, with_streams=True)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    yield runtime
    assert runtime.streams is not None
    runtime.streams.shutdown()
    runtime.engine.dispose()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime.services)) as test_client:
        yield test_client


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def car_footage() -> Path:
    """Real footage without B-frames (as cameras send): ``clips/car-detection.mp4``, 768x432 at 12.5 fps."""
    path = DATA / "clips" / "car-detection.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ten-minute 320x240 H.264 clip with moving content, made once per test run."""
    return make_test_clip(tmp_path_factory.mktemp("clips") / "moving.mp4", duration_s=600.0)


@pytest.fixture(scope="session")
def audio_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_audio_only_clip(tmp_path_factory.mktemp("clips") / "audio-only.m4a")


@pytest.fixture(scope="session")
def nanodet_model() -> Path:
    """The detector `make test` installs (`sharpeyes models install --models-dir .models`)."""
    path = MODELS / "nanodet-m.onnx"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make test` installs it (sharpeyes models install --models-dir {MODELS})")
    return path
