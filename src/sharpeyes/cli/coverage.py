"""``sharpeyes coverage``: coverage and networking-rate reports."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from sharpeyes.api.schemas.areas import CoverageOut
from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, offline_runtime
from sharpeyes.cli.tables import coverage_csv, coverage_table, coverage_xlsx
from sharpeyes.core.errors import SharpEyesError

coverage_app = typer.Typer(help="Coverage and networking rate. 覆盖率与联网率。", no_args_is_help=True)

OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (xlsx: default coverage-AREA.xlsx).")
]


class ReportFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@coverage_app.command("report")
def coverage_report(
    area: Annotated[str, typer.Option("--area", help="Area code, e.g. the city's.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="table, json, csv or xlsx.")] = ReportFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (xlsx: default coverage-AREA.xlsx).")
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Coverage and networking rate of an area and its children, with rule gaps. 覆盖率报告。"""
    runtime = offline_runtime(config, data_dir)
    try:
        report = CoverageOut.from_report(runtime.services.coverage.report(area))
    except SharpEyesError as err:
        fail(err.message)
    if fmt is ReportFormat.XLSX:
        path = output or Path(f"coverage-{area}.xlsx")
        coverage_xlsx(report, path)
        console.print(f"written / 已写入 {path}")
        return
    if fmt is ReportFormat.TABLE:
        coverage_table(console, report)
        return
    text = report.model_dump_json(indent=2) if fmt is ReportFormat.JSON else coverage_csv(report)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"written / 已写入 {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@coverage_app.command("snapshot")
def coverage_snapshot(data_dir: DataDirOption = None, config: ConfigOption = None) -> None:
    """Record today's figures of every area now (the server does it daily). 记录今日覆盖数据。"""
    runtime = offline_runtime(config, data_dir)
    count = runtime.services.coverage.snapshot_day()
    console.print(f"recorded today's figures for {count} areas / 已记录 {count} 个区划")
