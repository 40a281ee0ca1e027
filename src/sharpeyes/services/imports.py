"""What every spreadsheet import answers: counts, and each rejected row with its column and reason."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: int
    column: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    dry_run: bool = False

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejected.append(RejectedRow(row, column, reason))
