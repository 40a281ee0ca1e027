"""The ``sharpeyes`` command."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.panel import Panel

from sharpeyes import __version__
from sharpeyes.api.app import BackgroundWorker, create_app
from sharpeyes.cli.analyze import analyze
from sharpeyes.cli.areas import areas_app, sites_app
from sharpeyes.cli.audit import audit_app
from sharpeyes.cli.cameras import cameras_app
from sharpeyes.cli.coverage import coverage_app
from sharpeyes.cli.exports import export_app
from sharpeyes.cli.models import models_app
from sharpeyes.cli.options import (
    ConfigOption,
    DataDirOption,
    HostOption,
    PortOption,
    console,
    fail,
    operator,
    settings_from,
)
from sharpeyes.cli.pidfile import running_server, serving
from sharpeyes.cli.recordings import recordings_app
from sharpeyes.cli.search import search
from sharpeyes.cli.wiring import Runtime, build_runtime, configure_logging
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.core.settings import Settings
from sharpeyes.services.accounts import ADMIN_USERNAME
from sharpeyes.services.demo import add_demo_cameras, find_footage
from sharpeyes.services.models import ModelService
from sharpeyes.services.settings_audit import record_start
from sharpeyes.workers.analysis import AnalysisRunner
from sharpeyes.workers.coverage import CoverageRecorder
from sharpeyes.workers.gb28181 import SipWorker
from sharpeyes.workers.mqtt import MqttPublisher
from sharpeyes.workers.periodic import Job, PeriodicJobs
from sharpeyes.workers.streams import StreamSupervisor

app = typer.Typer(
    help="Sharp Eyes (雪亮工程) public video platform. 公共视频联网平台。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cameras_app, name="cameras")
app.add_typer(areas_app, name="areas")
app.add_typer(sites_app, name="sites")
app.add_typer(coverage_app, name="coverage")
app.add_typer(recordings_app, name="recordings")
app.add_typer(models_app, name="models")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")
app.command("analyze")(analyze)
app.command("search")(search)


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
    settings = settings_from(config, data_dir)
    runtime = build_runtime(settings, with_streams=False)
    try:
        _user, password = runtime.services.accounts.create_admin(admin_password)
    except SharpEyesError as err:
        fail(err.message)
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
    settings = settings_from(config, data_dir, host, port)
    runtime = build_runtime(settings, with_streams=True)
    if not runtime.services.accounts.user_exists(ADMIN_USERNAME):
        fail("no admin user yet: run `sharpeyes init` first / 请先运行 sharpeyes init")
    _serve(runtime)


@app.command()
def demo(
    data_dir: DataDirOption = None, config: ConfigOption = None, host: HostOption = None, port: PortOption = None
) -> None:
    """Start with sample cameras and print a fresh admin password. 演示模式：示例摄像机。"""
    settings = settings_from(config, data_dir, host, port)
    runtime = build_runtime(settings, with_streams=False)
    accounts = runtime.services.accounts
    if accounts.user_exists(ADMIN_USERNAME):
        password = accounts.reset_password(ADMIN_USERNAME)
    else:
        _user, password = accounts.create_admin()
    with console.status("Preparing sample footage / 正在准备示例视频…"):
        footage = find_footage(settings.data_dir)
    detector_ready = ModelService(settings.models_dir).path().exists()
    analysis = runtime.services.analysis if detector_ready else None
    added = add_demo_cameras(runtime.services.cameras, footage, analysis)
    console.print(f"Sample footage / 示例视频: {footage.origin} ({len(footage.clips)} cameras, {added} new)")
    if not detector_ready:
        console.print("Analytics off / 智能分析未启用: run `sharpeyes models install` (`make demo` does)")
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


def server_config(settings: Settings, web: FastAPI) -> uvicorn.Config:
    """The web server's configuration: HTTPS when ``server.tls_cert`` and ``tls_key`` are set."""
    server = settings.server
    return uvicorn.Config(
        web,
        host=server.host,
        port=server.port,
        log_config=None,
        access_log=False,
        ssl_certfile=str(server.tls_cert) if server.tls_cert is not None else None,
        ssl_keyfile=str(server.tls_key) if server.tls_key is not None else None,
    )


def _serve(runtime: Runtime) -> None:
    settings = runtime.settings
    configure_logging(settings.log_level)
    assert runtime.streams is not None
    supervisor = StreamSupervisor(runtime.services.cameras, runtime.streams)
    coverage = CoverageRecorder(runtime.services.coverage)
    services = runtime.services
    jobs = PeriodicJobs(
        [
            Job("recording reconciler", 60.0, services.recordings.reconcile),
            Job("recording retention", 600.0, services.recordings.apply_retention),
            Job("health alerts", 60.0, services.health.clear_calm_alerts),
            Job("quality diagnosis", settings.quality.interval_s, services.quality.diagnose_all),
            Job("live playlists", 5.0, services.live.tend),
            Job("device playbacks", 5.0, services.device_playback.tend),
        ]
    )
    workers: list[BackgroundWorker] = [
        supervisor,
        jobs,
        coverage,
        MqttPublisher(settings.mqtt, services.events),
        AnalysisRunner(services.analysis),
        SipWorker(services.gb, services.cascade),
    ]
    web = create_app(settings, services, workers=workers)
    config = server_config(settings, web)
    other = running_server(settings.data_dir)
    if other is not None:
        fail(f"another server (pid {other}) is using {settings.data_dir} / 该数据目录已有平台在运行")
    record_start(services.audit, settings, __version__, operator())
    with serving(settings.data_dir):
        uvicorn.Server(config).run()
