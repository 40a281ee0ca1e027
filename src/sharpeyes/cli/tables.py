"""Spreadsheet imports and coverage reports on the command line: progress bars, tables, files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sharpeyes.api.schemas.areas import CoverageOut
from sharpeyes.api.schemas.imports import ImportReportOut
from sharpeyes.cli.options import console, errors, fail, operator
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.imports import ImportReport
from sharpeyes.services.tables import estimate_rows


class TableImporter(Protocol):
    def import_table(
        self,
        stream: IO[bytes],
        *,
        dry_run: bool = False,
        source_name: str = "file",
        progress: Callable[[int], None] | None = None,
        by: str = "",
    ) -> ImportReport: ...


def run_import(console: Console, path: Path, importer: TableImporter, *, dry_run: bool) -> ImportReport:
    """Import ``path`` with a progress bar (rows done of the rows counted in a CSV; XLSX: rows done)."""
    with path.open("rb") as stream:
        total = estimate_rows(stream)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"importing / 导入 {path.name}", total=total)
            return importer.import_table(
                stream,
                dry_run=dry_run,
                source_name=path.name,
                progress=lambda rows: progress.advance(task, rows),
                by=operator(),
            )


def import_file(importer: TableImporter, path: Path, *, dry_run: bool, as_json: bool) -> None:
    """The whole of an ``import`` command: progress bar, then the answer, or the file's problem and exit 1."""
    try:
        report = run_import(errors, path, importer, dry_run=dry_run)
    except SharpEyesError as err:
        fail(err.message)
    print_import(console, report, as_json)


def print_import(console: Console, report: ImportReport, as_json: bool) -> None:
    if as_json:
        console.print_json(ImportReportOut.from_report(report).model_dump_json())
        return
    prefix = "dry run, nothing written / 试运行，未写入: " if report.dry_run else ""
    console.print(
        f"{prefix}imported / 新增 {report.imported}, updated / 更新 {report.updated}, "
        f"unchanged / 未变 {report.unchanged}, rejected / 拒绝 {len(report.rejected)}"
    )
    if report.rejected:
        table = Table("row / 行", "column / 列", "reason / 原因")
        for rejected in report.rejected[:200]:
            table.add_row(str(rejected.row), rejected.column, rejected.reason)
        console.print(table)
        if len(report.rejected) > 200:
            console.print(f"… {len(report.rejected) - 200} more; use --json for all")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def coverage_table(console: Console, report: CoverageOut) -> None:
    area = report.area
    console.print(
        f"[bold]{area.name}[/] ({area.code}, {area.level.value}): cameras / 摄像机 {report.cameras}, "
        f"networked / 联网 {report.networked} ({_percent(report.networking_rate)}), "
        f"online / 在线 {'—' if report.online is None else report.online}"
    )
    rules = Table("rule / 规则", "min / 最少", "total / 总数", "compliant / 达标", "rate / 达标率", "worst gaps / 缺口")
    for rule in report.rules:
        worst = ", ".join(f"{g.name} −{g.missing}" for g in rule.gaps[:3])
        rate = rule.compliant / rule.total if rule.total else None  # nothing to comply: no rate
        rules.add_row(rule.target, str(rule.min_cameras), str(rule.total), str(rule.compliant), _percent(rate), worst)
    console.print(rules)
    children = Table("code / 编码", "name / 名称", "cameras / 摄像机", "networked / 联网", "rate / 联网率")
    for child in report.children:
        children.add_row(
            child.code, child.name, str(child.cameras), str(child.networked), _percent(child.networking_rate)
        )
    if report.children:
        console.print(children)
    if report.online is None:
        console.print("online figures come from the running server: GET /api/v1/coverage / 在线数请查询运行中的平台")


FIGURE_COLUMNS = ("code", "name", "level", "cameras", "networked", "networking_rate", "online", "online_rate")


def coverage_csv(report: CoverageOut) -> str:
    """The area's figures, then one row per child area."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIGURE_COLUMNS)
    area = report.area
    figures = [report.cameras, report.networked, report.networking_rate, report.online, report.online_rate]
    writer.writerow([area.code, area.name, area.level.value, *figures])
    for c in report.children:
        writer.writerow(
            [c.code, c.name, c.level.value, c.cameras, c.networked, c.networking_rate, c.online, c.online_rate]
        )
    return buffer.getvalue()


def coverage_xlsx(report: CoverageOut, path: Path) -> None:
    """Three sheets: figures (area and children), rules, gaps."""
    from openpyxl import Workbook

    workbook = Workbook()
    figures = workbook.active
    assert figures is not None
    figures.title = "覆盖 Figures"
    for line in csv.reader(io.StringIO(coverage_csv(report))):
        figures.append([_number(cell) for cell in line])
    rules = workbook.create_sheet("规则 Rules")
    rules.append(["target", "min_cameras", "total", "compliant"])
    gaps = workbook.create_sheet("缺口 Gaps")
    gaps.append(["target", "code", "name", "cameras", "missing"])
    for rule in report.rules:
        rules.append([rule.target, rule.min_cameras, rule.total, rule.compliant])
        for gap in rule.gaps:
            gaps.append([rule.target, gap.code, gap.name, gap.cameras, gap.missing])
    workbook.save(path)


def _number(cell: str) -> str | float:
    try:
        return float(cell)
    except ValueError:
        return cell
