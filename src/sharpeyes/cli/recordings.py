"""``sharpeyes recordings``: check that the store and the segment files agree, and repair them."""

from __future__ import annotations

from typing import Annotated

import typer

from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, offline_runtime
from sharpeyes.cli.pidfile import running_server

recordings_app = typer.Typer(help="Recorded video. 录像。", no_args_is_help=True)


@recordings_app.command("check")
def recordings_check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found (run with the server stopped).")] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Compare segment files with the store: orphan and partial files, rows without files. 录像一致性检查。

    Exit 0 when consistent (or repaired), 1 when something is wrong and --repair was not given."""
    runtime = offline_runtime(config, data_dir)
    server = running_server(runtime.settings.data_dir)
    if repair and server is not None:
        fail(f"a server (pid {server}) is recording into this data directory: stop it before --repair / 请先停止平台")
    report = runtime.services.recordings.check_consistency(repair=repair)
    for title, items in (
        ("files not in the store / 未登记文件", report.orphan_files),
        ("unfinished files / 未完成文件", report.partial_files),
        ("rows without a file / 缺失文件", report.missing_files),
    ):
        console.print(f"{title}: {len(items)}")
        for item in items[:20]:
            console.print(f"  {item}", highlight=False)
    if report.consistent:
        console.print("recordings are consistent / 录像一致")
    elif report.repaired:
        console.print("repaired: orphans registered or removed, partial files removed, missing rows turned into gaps")
    else:
        console.print("run again with --repair to fix / 使用 --repair 修复")
        raise typer.Exit(1)
