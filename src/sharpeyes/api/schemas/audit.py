"""Audit records as auditors read them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from sharpeyes.core.audit import AuditEntry


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int | None
    """Its place in the chain."""
    at: datetime
    username: str
    action: str
    outcome: str
    data: dict[str, Any]
    """The particulars: cameras, parameters, the case or reason given, the result."""
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditRecordOut":
        return cls.model_validate(entry)


class AuditCheckOut(BaseModel):
    intact: bool
    records: int
    signed: int
    problem: str | None
    seq: int | None
