"""Rows of a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, even mixed line by line) or XLSX file, streamed.

Memory stays bounded: CSV is decoded a line at a time and XLSX read in openpyxl's read-only mode.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from sharpeyes.core.errors import InvalidInputError

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class TableRow:
    """One data row; ``number`` is the row as a spreadsheet shows it (the header is row 1)."""

    number: int
    values: dict[str, str]
    problem: tuple[str, str] | None = None
    """(column, reason) when the row could not even be read."""


class TableFileError(InvalidInputError):
    """The file as a whole is unusable: empty, not a table, or missing required columns."""

    code = "bad_table_file"


def read_table(
    stream: IO[bytes], aliases: Mapping[str, str], required: frozenset[str], source_name: str = "file"
) -> Iterator[TableRow]:
    """Rows keyed by canonical column name. ``aliases`` maps every accepted header (lower case) to its column."""
    head = stream.read(4)
    stream.seek(0)
    if not head:
        raise TableFileError(f"{source_name} is empty / 文件为空")
    rows = _xlsx_rows(stream, source_name) if head == ZIP_MAGIC else _csv_rows(stream)
    header = next(rows, None)
    if header is None:
        raise TableFileError(f"{source_name} is empty / 文件为空")
    columns = [aliases.get(_header_key(cell)) for cell in header]
    missing = required - {c for c in columns if c}
    if missing:
        raise TableFileError(
            f"{source_name}: missing column(s) {', '.join(sorted(missing))} in the header row / 缺少列",
            field=sorted(missing)[0],
        )
    for number, cells in enumerate(rows, start=2):
        if isinstance(cells, _Unreadable):
            yield TableRow(number, {}, ("*", cells.reason))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}
        yield TableRow(number, values)


def estimate_rows(stream: IO[bytes]) -> int | None:
    """Data rows in a CSV (by counting lines; the stream is rewound), None for XLSX."""
    if stream.read(4) == ZIP_MAGIC:
        stream.seek(0)
        return None
    stream.seek(0)
    lines = 0
    while chunk := stream.read(1 << 20):
        lines += chunk.count(b"\n")
    stream.seek(0)
    return max(0, lines - 1)


def _header_key(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip().lower()


class _Unreadable(list[str]):
    """A CSV line that cannot be read: not UTF-8 nor GB18030 text, or not CSV (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


UNDECODABLE = "the line is neither UTF-8 nor GB18030 text / 无法识别的编码"


def _decoded_lines(stream: IO[bytes]) -> Iterator[str]:
    first = True
    for raw in stream:
        if first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                yield raw.decode("gb18030")
            except UnicodeDecodeError:
                yield "\x00undecodable\n"


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    reader = csv.reader(_decoded_lines(stream))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # a bare CR outside quotes, a cell past the size limit: this line only
            yield _Unreadable(f"the line is not CSV ({err}) / 无法解析的行")
            continue
        yield _Unreadable(UNDECODABLE) if cells == ["\x00undecodable"] else cells


def _xlsx_rows(stream: IO[bytes], source_name: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as err:
        raise TableFileError(f"{source_name} is not a readable XLSX workbook: {err}") from err
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)
