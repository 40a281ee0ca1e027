from __future__ import annotations

from pathlib import Path

import pytest

from sharpeyes.core.config_file import load_settings
from sharpeyes.core.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARPEYES_CONFIG", raising=False)
    monkeypatch.delenv("SHARPEYES_SERVER__PORT", raising=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sharpeyes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None)
    assert settings.server.port == 8080
    assert settings.data_dir == Path("sharpeyes-data")
    assert settings.resolved_database_url.endswith("sharpeyes-data/sharpeyes.db")


def test_empty_file_is_the_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "")).server.port == 8080


def test_file_environment_and_flags_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "server:\n  port: 9000\n  host: 0.0.0.0\nstreams:\n  read_timeout_s: 7\n")
    assert load_settings(path).server.port == 9000
    monkeypatch.setenv("SHARPEYES_SERVER__PORT", "9100")
    settings = load_settings(path, data_dir=tmp_path / "d")
    assert settings.server.port == 9100, "the environment wins over the file"
    assert settings.server.host == "0.0.0.0", "sections merge field by field"
    assert settings.streams.read_timeout_s == 7
    assert settings.data_dir == tmp_path / "d"


def test_config_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_CONFIG", str(_write(tmp_path, "log_level: DEBUG\n")))
    assert load_settings(None).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server: [\n", "line 2, column 1: not valid YAML"),
        ("- a\n- b\n", "line 1: the settings file must be a mapping"),
        ("server:\n  port: 80800\n", "line 2: server.port: Input should be less than or equal to 65535"),
        ("streams:\n  read_timeout_s: 1\n  bogus: 3\n", "line 3: streams.bogus: Extra inputs are not permitted"),
        ("colour: red\n", "line 1: colour: Extra inputs are not permitted"),
        ("log_level: LOUD\n", "line 1: log_level: Input should be"),
    ],
)
def test_bad_file_names_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_SERVER__PORT", "not-a-port")
    with pytest.raises(ConfigError, match=r"environment variable SHARPEYES_SERVER__PORT: server\.port"):
        load_settings(None)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_settings(tmp_path / "absent.yaml")
