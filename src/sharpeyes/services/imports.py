"""What every spreadsheet import answers: counts, and each rejected row with its column and reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from sharpeyes.services.audit_log import AuditTrail


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


def record_import(audit: AuditTrail | None, by: str, kind: str, source_name: str, report: ImportReport) -> None:
    """The audit record of an import of ``kind`` (areas, sites, cameras) by ``by``; a dry run changes nothing and
    writes none."""
    if audit is None or report.dry_run:
        return
    counts = {"imported": report.imported, "updated": report.updated, "unchanged": report.unchanged}
    audit.write(
        by or "platform", f"{kind}.import", "ok", {"file": source_name, **counts, "rejected": len(report.rejected)}
    )
