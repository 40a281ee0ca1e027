"""``sharpeyes cameras``: register, import, list, remove."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sharpeyes.cli.options import (
    ConfigOption,
    DataDirOption,
    DryRunOption,
    FileArgument,
    JsonOption,
    console,
    fail,
    offline_runtime,
    operator,
)
from sharpeyes.cli.tables import import_file
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.cameras import CameraDraft

cameras_app = typer.Typer(help="Register, import, list and remove cameras. 摄像机管理。", no_args_is_help=True)


@cameras_app.command("add")
def cameras_add(
    name: Annotated[str, typer.Argument(help="Unique name, e.g. 东门 East gate.")],
    source_url: Annotated[str, typer.Argument(help="rtsp://…, http(s)://… or file:///… (a simulated camera).")],
    transport: Annotated[str, typer.Option(help="RTP transport for RTSP: tcp or udp.")] = "tcp",
    camera_id: Annotated[str | None, typer.Option("--id", help="The camera's own id (e.g. GB/T 28181).")] = None,
    sub_url: Annotated[
        str | None, typer.Option("--sub-url", help="The sub-stream (子码流) for walls and analysis.")
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Register a camera. 添加摄像机。"""
    runtime = offline_runtime(config, data_dir)
    if transport not in ("tcp", "udp"):
        fail("--transport must be tcp or udp", 2)
    try:
        view = runtime.services.cameras.add(
            CameraDraft(
                name=name,
                source_url=source_url,
                rtsp_transport="udp" if transport == "udp" else "tcp",
                id=camera_id,
                sub_source_url=sub_url,
            ),
            by=operator(),
        )
    except SharpEyesError as err:
        fail(err.message)
    console.print(f"added camera / 已添加 {view.id}  {view.name}  {view.source_url}", highlight=False)


@cameras_app.command("list")
def cameras_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """List cameras. 摄像机列表。"""
    runtime = offline_runtime(config, data_dir)
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
    runtime = offline_runtime(config, data_dir)
    try:
        runtime.services.cameras.remove(camera_id, by=operator())
    except SharpEyesError as err:
        fail(err.message)
    console.print(f"removed camera / 已删除 {camera_id}")


@cameras_app.command("import")
def cameras_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Import a camera inventory: id, name, area_code, site_name, site_type, longitude, latitude, source_url.
    导入摄像机台账：编号、名称、区划编码、点位名称、点位类型、经度、纬度、取流地址。"""
    import_file(offline_runtime(config, data_dir).services.inventory, file, dry_run=dry_run, as_json=as_json)
