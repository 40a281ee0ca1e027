"""``sharpeyes export``: check an evidence package offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sharpeyes.cli.options import ConfigOption, DataDirOption, console, fail, settings_from
from sharpeyes.store.evidence import check_package, fingerprint
from sharpeyes.store.keys import PUBLIC_NAME

export_app = typer.Typer(help="Evidence exports. 证据导出。", no_args_is_help=True)


@export_app.command("verify")
def export_verify(
    package: Annotated[Path, typer.Argument(help="The evidence package (.zip).", exists=True, dir_okay=False)],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The exporting platform's public key (PEM).")
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Check a package with only the platform's public key (``--public-key``, or this machine's platform's with
    ``--data-dir``): its signature over the manifest, and every file's SHA-256. 证据包校验。

    Exit 0 when it is what the platform signed; 1 with the reason."""
    if public_key is not None:
        pem = public_key.read_bytes()
    else:
        key_file = settings_from(config, data_dir).data_dir / "keys" / PUBLIC_NAME
        if not key_file.exists():
            fail(f"no public key: give --public-key, or --data-dir of the platform that exported it ({key_file})")
        pem = key_file.read_bytes()
    check = check_package(package, pem)
    manifest = check.manifest or {}
    if manifest:
        camera = manifest.get("camera", {})
        console.print(f"camera: {camera.get('id')} {camera.get('name')}", highlight=False)
        console.print(f"from {manifest.get('start')} to {manifest.get('end')}", highlight=False)
        who = f"exported by {manifest.get('exported_by')} at {manifest.get('exported_at')}"
        why = f"case {manifest.get('case_id') or '-'}; reason: {manifest.get('reason')}"
        console.print(f"{who}; {why}", highlight=False)
        for name, digest in sorted(manifest.get("files", {}).items()):
            console.print(f"  {name}  sha256 {digest}", highlight=False)
        console.print(f"source segments: {len(manifest.get('source_segments', []))}", highlight=False)
    if not check.intact:
        fail(f"the package does not verify: {check.problem} / 证据包校验失败")
    console.print(f"signed by the platform key {fingerprint(pem)[:16]}…: intact / 证据包完整", highlight=False)
