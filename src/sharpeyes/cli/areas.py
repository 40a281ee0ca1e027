"""``sharpeyes areas`` and ``sharpeyes sites``: the administrative area tree and the places in it."""

from __future__ import annotations

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
)
from sharpeyes.cli.tables import import_file
from sharpeyes.core.errors import SharpEyesError

areas_app = typer.Typer(help="The administrative area tree. 行政区划。", no_args_is_help=True)
sites_app = typer.Typer(help="Schools, kindergartens, squares… 点位管理。", no_args_is_help=True)


@areas_app.command("import")
def areas_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Import areas: code, name, level (city|district|township|village), parent_code. 导入行政区划。"""
    import_file(offline_runtime(config, data_dir).services.areas, file, dry_run=dry_run, as_json=as_json)


@areas_app.command("list")
def areas_list(
    parent: Annotated[str | None, typer.Option(help="Parent area code; absent: top-level areas.")] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """List the areas under a parent. 列出下级区划。"""
    runtime = offline_runtime(config, data_dir)
    try:
        areas = runtime.services.areas.children(parent)
    except SharpEyesError as err:
        fail(err.message)
    table = Table("code / 编码", "name / 名称", "level / 级别")
    for area in areas:
        table.add_row(area.code, area.name, area.level.value)
    console.print(table)


@sites_app.command("import")
def sites_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Import sites: name, site_type, area_code[, longitude, latitude]. 导入点位（学校、幼儿园等）。"""
    import_file(offline_runtime(config, data_dir).services.sites, file, dry_run=dry_run, as_json=as_json)
