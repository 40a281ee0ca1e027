"""The ``sharpeyes`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime, configure_logging
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.core.settings import ServerSettings, Settings
from sharpeyes.services.accounts import ADMIN_USERNAME
from sharpeyes.services.cameras import CameraDraft
from sharpeyes.services.demo import add_demo_cameras, find_footage
from sharpeyes.workers.streams import StreamSupervisor

app = typer.Typer(
    help="Sharp Eyes (雪亮工程) public video platform. 公共视频联网平台。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cameras_app = typer.Typer(help="Register, list and remove cameras. 摄像机管理。", no_args_is_help=True)
app.add_typer(cameras_app, name="cameras")

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


def _settings(config: Path | None, data_dir: Path | None, host: str | None = None, port: int | None = None) -> Settings:
    try:
        settings = load_settings(config, data_dir=data_dir)
    except SharpEyesError as err:
        _fail(err.message)
    if host is not None or port is not None:
        server = ServerSettings(host=host or settings.server.host, port=port or settings.server.port)
        settings = settings.model_copy(update={"server": server})
    return settings


def _fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def init(
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="SHARPEYES_ADMIN_PASSWORD", help="Password of `admin`; generated and shown once if absent."
        ),
    ] = None,
) -> None:
    """Create the database and the first admin user. 初始化数据库和管理员。"""
    settings = _settings(config, data_dir)
    runtime = build_runtime(settings, with_streams=False)
    try:
        _user, password = runtime.services.accounts.create_admin(admin_password)
    except SharpEyesError as err:
        _fail(err.message)
    console.print(f"Initialised {settings.data_dir} / 已初始化")
    if admin_password is None:
        console.print(
            Panel(
                f"user / 用户名: [bold]{ADMIN_USERNAME}[/]\npassword / 密码: [bold]{password}[/]",
                title="Admin login, shown once / 管理员登录（仅显示一次）",
            )
        )
    else:
        console.print(f"user {ADMIN_USERNAME} created with the given password / 已按指定密码创建")


@app.command()
def serve(
    data_dir: DataDirOption = None, config: ConfigOption = None, host: HostOption = None, port: PortOption = None
) -> None:
    """Run the platform: web console, API and stream sessions. 启动平台。"""
    settings = _settings(config, data_dir, host, port)
    runtime = build_runtime(settings, with_streams=True)
    if not runtime.services.accounts.user_exists(ADMIN_USERNAME):
        _fail("no admin user yet: run `sharpeyes init` first / 请先运行 sharpeyes init")
    _serve(runtime)


@app.command()
def demo(
    data_dir: DataDirOption = None, config: ConfigOption = None, host: HostOption = None, port: PortOption = None
) -> None:
    """Start with sample cameras and print a fresh admin password. 演示模式：示例摄像机。"""
    settings = _settings(config, data_dir, host, port)
    runtime = build_runtime(settings, with_streams=False)
    accounts = runtime.services.accounts
    if accounts.user_exists(ADMIN_USERNAME):
        password = accounts.reset_password(ADMIN_USERNAME)
    else:
        _user, password = accounts.create_admin()
    with console.status("Preparing sample footage / 正在准备示例视频…"):
        footage = find_footage(settings.data_dir)
    added = add_demo_cameras(runtime.services.cameras, footage)
    console.print(f"Sample footage / 示例视频: {footage.origin} ({len(footage.clips)} cameras, {added} new)")
    url = f"http://{settings.server.host}:{settings.server.port}"
    console.print(
        Panel(
            f"open / 打开: [bold]{url}[/]\n"
            f"user / 用户名: [bold]{ADMIN_USERNAME}[/]\n"
            f"password / 密码: [bold]{password}[/]",
            title="Sharp Eyes demo / 演示 — this password is new at every demo start",
        )
    )
    _serve(build_runtime(settings, with_streams=True))


def _serve(runtime: Runtime) -> None:
    settings = runtime.settings
    configure_logging(settings.log_level)
    assert runtime.streams is not None
    supervisor = StreamSupervisor(runtime.services.cameras, runtime.streams)
    web = create_app(runtime.services, workers=[supervisor])
    config = uvicorn.Config(
        web, host=settings.server.host, port=settings.server.port, log_config=None, access_log=False
    )
    uvicorn.Server(config).run()


@cameras_app.command("add")
def cameras_add(
    name: Annotated[str, typer.Argument(help="Unique name, e.g. 东门 East gate.")],
    source_url: Annotated[str, typer.Argument(help="rtsp://…, http(s)://… or file:///… (a simulated camera).")],
    transport: Annotated[str, typer.Option(help="RTP transport for RTSP: tcp or udp.")] = "tcp",
    camera_id: Annotated[str | None, typer.Option("--id", help="The camera's own id (e.g. GB/T 28181).")] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Register a camera. 添加摄像机。"""
    runtime = build_runtime(_settings(config, data_dir), with_streams=False)
    if transport not in ("tcp", "udp"):
        _fail("--transport must be tcp or udp", 2)
    try:
        view = runtime.services.cameras.add(
            CameraDraft(
                name=name, source_url=source_url, rtsp_transport="udp" if transport == "udp" else "tcp", id=camera_id
            )
        )
    except SharpEyesError as err:
        _fail(err.message)
    console.print(f"added camera / 已添加 {view.id}  {view.name}  {view.source_url}", highlight=False)


@cameras_app.command("list")
def cameras_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """List cameras. 摄像机列表。"""
    runtime = build_runtime(_settings(config, data_dir), with_streams=False)
    views = runtime.services.cameras.list()
    if as_json:
        rows = [
            {"id": v.id, "name": v.name, "source_url": v.source_url, "rtsp_transport": v.rtsp_transport} for v in views
        ]
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("id", "name / 名称", "source / 取流地址", "transport")
    for view in views:
        table.add_row(view.id, view.name, view.source_url, view.rtsp_transport)
    console.print(table)
    console.print(f"{len(views)} cameras / 台摄像机")


@cameras_app.command("remove")
def cameras_remove(
    camera_id: Annotated[str, typer.Argument(help="Camera id (see `sharpeyes cameras list`).")],
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove a camera. 删除摄像机。"""
    runtime = build_runtime(_settings(config, data_dir), with_streams=False)
    try:
        runtime.services.cameras.remove(camera_id)
    except SharpEyesError as err:
        _fail(err.message)
    console.print(f"removed camera / 已删除 {camera_id}")
