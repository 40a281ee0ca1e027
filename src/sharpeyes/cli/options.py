"""What every command shares: consoles, options, settings loading and failing with a message."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.core.settings import ServerSettings, Settings

console = Console()
errors = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory (database, recordings). Default ./sharpeyes-data.", show_default=False
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="SHARPEYES_CONFIG", help="YAML settings file.", show_default=False),
]
HostOption = Annotated[
    str | None, typer.Option("--host", help="Listen address (default 127.0.0.1).", show_default=False)
]
PortOption = Annotated[
    int | None, typer.Option("--port", min=1, max=65535, help="Listen port (default 8080).", show_default=False)
]


def settings_from(
    config: Path | None, data_dir: Path | None, host: str | None = None, port: int | None = None
) -> Settings:
    try:
        settings = load_settings(config, data_dir=data_dir)
    except SharpEyesError as err:
        fail(err.message)
    if host is not None or port is not None:
        server = ServerSettings(host=host or settings.server.host, port=port or settings.server.port)
        settings = settings.model_copy(update={"server": server})
    return settings


def operator() -> str:
    """Who runs this command, as the audit trail names them (``cli:`` and the system user)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"cli:uid-{os.getuid()}"


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


FileArgument = Annotated[
    Path, typer.Argument(help="CSV (UTF-8 or GBK/GB18030) or XLSX file.", exists=True, dir_okay=False)
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Check every row, change nothing. 试运行。")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


def offline_runtime(config: Path | None, data_dir: Path | None) -> Runtime:
    """The store and services without stream sessions, for administration commands."""
    return build_runtime(settings_from(config, data_dir), with_streams=False)
