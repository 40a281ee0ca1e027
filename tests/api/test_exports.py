"""Evidence exports: a recorded camera's range packaged and signed; ``sharpeyes export verify`` passes the untouched
package with only the platform's public key and rejects one with a byte flipped in any file, a replaced manifest,
or a manifest re-signed with another key; the segments used are under legal hold; making and downloading are
audited."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sharpeyes.cli.main import app
from sharpeyes.cli.wiring import Runtime
from sharpeyes.store.evidence import MANIFEST, SIGNATURE
from sharpeyes.store.keys import PlatformKey
from tests.support.waiting import wait_for

runner = CliRunner()


@pytest.fixture(autouse=True)
def _short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_RECORDINGS__SEGMENT_S", "2")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__MIN_FREE_MB", "0")


@pytest.fixture
def package(runtime: Runtime, client: TestClient, auth: dict[str, str], clip: Path, tmp_path: Path) -> Path:
    camera = client.post("/api/v1/cameras", json={"name": "校门", "source_url": clip.as_uri()}, headers=auth).json()
    plan = {"recording": {"mode": "continuous", "retention_days": 7}}
    assert client.patch(f"/api/v1/cameras/{camera['id']}", json=plan, headers=auth).status_code == 200

    def segments() -> list[dict[str, Any]] | None:
        window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
        found = client.get(f"/api/v1/cameras/{camera['id']}/recordings", params=window, headers=auth).json()
        return found["segments"] if len(found["segments"]) >= 3 else None

    recorded = wait_for(segments, 30, "three recorded segments")
    start = datetime.fromisoformat(recorded[0]["start"]) + timedelta(seconds=0.5)
    end = datetime.fromisoformat(recorded[1]["end"])
    asked = {"camera_id": camera["id"], "start": start.isoformat(), "end": end.isoformat(),
             "case_id": "JH-2026-1129", "reason": "寻找走失儿童"}  # fmt: skip
    created = client.post("/api/v1/exports", json=asked, headers=auth)
    assert created.status_code == 202, created.text
    export_id = created.json()["id"]
    done = wait_for(
        lambda: (job := client.get(f"/api/v1/exports/{export_id}", headers=auth).json())["status"] != "running" and job,
        30,
        "the export to finish",
    )
    assert done["status"] == "done", done
    download = client.get(f"/api/v1/exports/{export_id}/package.zip", headers=auth)
    assert download.status_code == 200
    assert "evidence-" in download.headers["content-disposition"]
    path = tmp_path / "evidence.zip"
    path.write_bytes(download.content)

    held = client.get(f"/api/v1/cameras/{camera['id']}/recordings", params={"start": recorded[0]["start"],
                      "end": recorded[1]["end"]}, headers=auth).json()["segments"]  # fmt: skip
    assert held
    assert all(segment["legal_hold"] for segment in held)
    window = {"start": start.isoformat(), "end": end.isoformat()}
    assert client.get(f"/api/v1/cameras/{camera['id']}/playback.m3u8", params=window, headers=auth).status_code == 200
    assert client.get(f"/api/v1/cameras/{camera['id']}/clip.mp4", params=window, headers=auth).status_code == 200
    actions = [entry.action for entry in runtime.services.audit.find(camera_id=camera["id"], limit=50)]
    assert {"export.create", "export.download", "playback", "clip.download"} <= set(actions)
    return path


def _verify(package: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["export", "verify", str(package), *args])
    return result.exit_code, " ".join(result.output.split())


def test_an_untouched_package_verifies_and_holds_a_playable_clip(runtime: Runtime, package: Path) -> None:
    code, output = _verify(package, "--data-dir", str(runtime.settings.data_dir))
    assert code == 0, output
    assert "intact" in output
    assert "寻找走失儿童" in output
    with zipfile.ZipFile(package) as opened:
        manifest = json.loads(opened.read(MANIFEST))
        clip = opened.read("clip.mp4")
    assert manifest["case_id"] == "JH-2026-1129"
    assert manifest["exported_by"] == "admin"
    assert len(manifest["source_segments"]) >= 2
    assert manifest["custody"][0]["action"] == "export.create"
    with av.open(io.BytesIO(clip), "r") as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 10


def _rewrite(package: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(package) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    change(members)
    out = package.with_name("tampered.zip")
    with zipfile.ZipFile(out, "w") as rewritten:
        for name, data in members.items():
            rewritten.writestr(name, data)
    return out


def _flip(members: dict[str, bytes], name: str) -> None:
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0x01
    members[name] = bytes(data)


def _resign(members: dict[str, bytes]) -> None:
    manifest = json.loads(members[MANIFEST])
    manifest["reason"] = "something else"
    members[MANIFEST] = json.dumps(manifest).encode()
    other = PlatformKey(Ed25519PrivateKey.generate())
    members[SIGNATURE] = other.sign(members[MANIFEST]).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda members: _flip(members, "clip.mp4"), "clip.mp4 was altered"),
        (lambda members: _flip(members, MANIFEST), "not signed by this platform's key"),
        (lambda members: members.__setitem__(MANIFEST, b'{"files": {}}'), "not signed by this platform's key"),
        (_resign, "not signed by this platform's key"),
        (lambda members: members.__setitem__("extra.txt", b"planted"), "files the manifest does not list: extra.txt"),
        (lambda members: members.pop("clip.mp4"), "clip.mp4 is missing"),
    ],
    ids=["clip-byte", "manifest-byte", "manifest-replaced", "re-signed", "planted-file", "clip-removed"],
)
def test_a_tampered_package_is_rejected(
    runtime: Runtime, package: Path, change: Callable[[dict[str, bytes]], None], reason: str
) -> None:
    code, output = _verify(_rewrite(package, change), "--data-dir", str(runtime.settings.data_dir))
    assert code == 1, output
    assert reason in output


def test_exports_need_a_reason_and_are_their_makers_own(client: TestClient, auth: dict[str, str]) -> None:
    asked = {"camera_id": "nope", "start": "2026-11-29T08:00:00+08:00", "end": "2026-11-29T08:01:00+08:00"}
    assert client.post("/api/v1/exports", json=asked, headers=auth).status_code == 422
    assert client.post("/api/v1/exports", json={**asked, "reason": "x"}, headers=auth).status_code == 404
    assert client.get("/api/v1/exports/not-an-export", headers=auth).status_code == 404
