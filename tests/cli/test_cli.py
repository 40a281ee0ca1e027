from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sharpeyes.cli.main import app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHARPEYES_CONFIG", "SHARPEYES_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _login_works(data_dir: Path, password: str) -> bool:
    runtime = build_runtime(load_settings(None, data_dir=data_dir), with_streams=False)
    try:
        return bool(runtime.services.accounts.login("admin", password).access_token)
    finally:
        runtime.engine.dispose()


def test_help_lists_the_commands() -> None:
    code, output = _run("--help")
    assert code == 0
    for command in ("init", "serve", "demo", "cameras"):
        assert command in output


def test_init_generates_and_prints_the_password_once(tmp_path: Path) -> None:
    code, output = _run("init", "--data-dir", str(tmp_path))
    assert code == 0, output
    match = re.search(r"password / 密码: (\S+)", output)
    assert match is not None, output
    assert _login_works(tmp_path, match.group(1))
    assert (tmp_path / "sharpeyes.db").exists()
    code, output = _run("init", "--data-dir", str(tmp_path))
    assert code == 1
    assert "admin user exists already" in output
    assert match.group(1) not in output


def test_init_takes_the_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_ADMIN_PASSWORD", "from-the-environment")
    code, output = _run("init", "--data-dir", str(tmp_path))
    assert code == 0, output
    assert "from-the-environment" not in output
    assert _login_works(tmp_path, "from-the-environment")


def test_init_refuses_a_weak_password(tmp_path: Path) -> None:
    code, output = _run("init", "--data-dir", str(tmp_path), "--admin-password", "123")
    assert code == 1
    assert "at least 10" in output


def test_cameras_add_list_remove(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    code, output = _run("cameras", "add", "北门 North gate", "rtsp://viewer:s3cret@127.0.0.1:8554/main", *data)
    assert code == 0, output
    assert "s3cret" not in output
    code, output = _run("cameras", "add", "北门 North gate", "rtsp://127.0.0.1:8554/other", *data)
    assert code == 1
    assert "exists already" in output
    code, output = _run("cameras", "add", "x", "ftp://nowhere/a", *data)
    assert code == 1
    assert "unsupported source URL scheme" in output
    code, output = _run("cameras", "list", "--json", *data)
    rows = json.loads(output)
    assert [(r["name"], r["source_url"]) for r in rows] == [
        ("北门 North gate", "rtsp://viewer:***@127.0.0.1:8554/main")
    ]
    code, output = _run("cameras", "remove", rows[0]["id"], *data)
    assert code == 0, output
    code, output = _run("cameras", "remove", rows[0]["id"], *data)
    assert code == 1
    assert "no camera with id" in output


def test_bad_settings_file_is_reported_with_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "sharpeyes.yaml"
    config.write_text("server:\n  port: 8080\n  colour: blue\n", encoding="utf-8")
    code, output = _run("cameras", "list", "--config", str(config), "--data-dir", str(tmp_path))
    assert code == 1
    assert "line 3: server.colour: Extra inputs are not permitted" in output


def test_serve_without_init_says_what_to_do(tmp_path: Path) -> None:
    code, output = _run("serve", "--data-dir", str(tmp_path), "--port", "1")
    assert code == 1
    assert "sharpeyes init" in output
