"""Load settings from a YAML file and the environment, and explain every mistake by file, line and field."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sharpeyes.core.errors import ConfigError
from sharpeyes.core.settings import ENV_NESTED_DELIMITER, ENV_PREFIX, Settings, file_values

CONFIG_ENV = "SHARPEYES_CONFIG"

Loc = tuple[str, ...]


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings tree. ``config_file`` defaults to ``$SHARPEYES_CONFIG`` when set.

    ``overrides`` (command-line flags) win over the environment, which wins over the file.
    """
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    values: Mapping[str, Any] = {}
    lines: dict[Loc, int] = {}
    if config_file is not None:
        values, lines = _read_yaml(config_file)
    try:
        with file_values(values):
            return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        raise ConfigError(_explain(err, config_file, lines, set(overrides))) from err


def _read_yaml(path: Path) -> tuple[Mapping[str, Any], dict[Loc, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read settings file: {err.strerror}") from err
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from err
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{path} line 1: the settings file must be a mapping of section names to values")
    lines: dict[Loc, int] = {}
    _index_lines(node, (), lines)
    return data, lines


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, str(key.value))
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)


def _explain(err: ValidationError, path: Path | None, lines: dict[Loc, int], flags: set[str]) -> str:
    problems = []
    for item in err.errors():
        loc = tuple(str(part) for part in item["loc"])
        field = ".".join(loc)
        problems.append(f"{_origin(loc, path, lines, flags)}: {field}: {item['msg']}")
    return "invalid settings:\n  " + "\n  ".join(problems)


def _origin(loc: Loc, path: Path | None, lines: dict[Loc, int], flags: set[str]) -> str:
    if loc and loc[0] in flags:
        return f"command-line option --{loc[0].replace('_', '-')}"
    env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
    if env_name in os.environ:
        return f"environment variable {env_name}"
    for depth in range(len(loc), 0, -1):
        if loc[:depth] in lines:
            return f"{path} line {lines[loc[:depth]]}"
    return str(path) if path is not None else "settings"
