"""``sharpeyes audit``: check that the audit trail is whole and unaltered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, offline_runtime

audit_app = typer.Typer(help="The audit trail. 审计日志。", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="Check against this public key (PEM) instead of the platform's own."),
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Walk the whole chain: every record's hash, its link to the one before, its signature, and the signed head.
    审计日志完整性校验。

    Exit 0 when intact; 1 naming the first record that was edited, deleted, inserted or moved, or where the log
    was cut short."""
    runtime = offline_runtime(config, data_dir)
    public = public_key.read_bytes() if public_key is not None else None
    check = runtime.services.audit.verify(public)
    console.print(f"records: {check.records:,}, signed: {check.anchors:,}")
    if not check.intact:
        fail(f"the audit trail is broken: {check.problem} / 审计日志被篡改")
    console.print("the audit trail is intact / 审计日志完整")
