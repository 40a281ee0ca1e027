"""What a spreadsheet import answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sharpeyes.services.imports import ImportReport


class RejectedRowOut(BaseModel):
    row: int = Field(description="Row number as a spreadsheet shows it; the header is row 1.")
    column: str
    reason: str


class ImportReportOut(BaseModel):
    imported: int
    updated: int
    unchanged: int
    rejected: list[RejectedRowOut]
    dry_run: bool

    @classmethod
    def from_report(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            imported=report.imported,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=[RejectedRowOut(row=r.row, column=r.column, reason=r.reason) for r in report.rejected],
            dry_run=report.dry_run,
        )
