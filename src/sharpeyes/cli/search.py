"""``sharpeyes search``: the search box from the command line, bound to a purpose and audited like the API's."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, offline_runtime
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.search import SearchRequest


def search(
    text: Annotated[str, typer.Argument(help='What to look for, e.g. "穿红衣服背蓝书包的小孩" or "white van".')] = "",
    image: Annotated[
        Path | None, typer.Option("--image", exists=True, dir_okay=False, help="An example picture to look alike.")
    ] = None,
    area: Annotated[str | None, typer.Option("--area", help="Only cameras in this area (code) or below.")] = None,
    camera: Annotated[list[str] | None, typer.Option("--camera", help="Only this camera (repeat for more).")] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="From, ISO 8601 with offset (2026-11-28T15:00+08:00).")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Until, ISO 8601 with offset.")] = None,
    case_id: Annotated[str | None, typer.Option("--case-id", help="The case the search serves (案件编号).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Or the written reason (事由).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Search the tracks of every camera; recorded in the audit log. 跨摄像机检索（记入审计日志）。"""
    runtime = offline_runtime(config, data_dir)
    request = SearchRequest(
        text=text,
        area=area,
        camera_ids=tuple(camera or ()),
        start=_moment(start, "--start"),
        end=_moment(end, "--end"),
        case_id=case_id,
        reason=reason,
        limit=limit,
        image=image.read_bytes() if image is not None else None,
    )
    try:
        answer = runtime.services.search.search(f"cli:{getpass.getuser()}", request)
    except SharpEyesError as err:
        fail(err.message, 2)
    finally:
        runtime.services.tracks.close()  # what the appearance index caught up on is saved
    if as_json:
        rows = [
            {
                "track_id": r.id,
                "score": round(hit.score, 4),
                "camera_id": r.camera_id,
                "class": r.class_name,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "upper_colour": r.upper_colour,
                "lower_colour": r.lower_colour,
                "carried": list(r.carried),
                "zones": list(r.zones),
            }
            for hit in answer.results
            for r in [hit.record]
        ]
        document = {"results": rows, "understood": answer.understood, "ignored_terms": answer.ignored_terms}
        console.print_json(json.dumps(document, ensure_ascii=False))
        return
    table = Table(
        "track",
        "camera / 摄像机",
        "class / 类别",
        "start / 开始",
        "colours / 颜色",
        "carried / 携带",
        "zones / 区域",
        "score",
    )
    for hit in answer.results:
        r = hit.record
        colours = " / ".join(c for c in (r.upper_colour, r.lower_colour) if c)
        table.add_row(
            str(r.id),
            r.camera_id,
            r.class_name,
            f"{r.start.astimezone():%Y-%m-%d %H:%M:%S}",
            colours,
            ", ".join(r.carried),
            ", ".join(r.zones),
            f"{hit.score:.3f}",
        )
    console.print(table)
    console.print(f"{len(answer.results)} tracks / 条轨迹; understood / 理解为: {answer.understood}", highlight=False)
    if answer.ignored_terms:
        console.print(f"not understood / 未理解: {', '.join(answer.ignored_terms)}", highlight=False)


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a time like 2026-11-28T15:00+08:00", 2)
    if moment.tzinfo is None:
        example = value if "T" in value or " " in value else f"{value}T00:00"
        fail(f"{option}: give the UTC offset too, e.g. {example}+08:00", 2)
    return moment
