"""Evidence packages: a zip holding the exported clip(s), a manifest (camera, times, the recorded segments it was
cut from with their SHA-256, who exported it and why, the audit records of its making, the SHA-256 of every file)
and an Ed25519 signature of the platform's key over the manifest. Checked offline with only the public key."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sharpeyes.store.keys import PlatformKey, verify

FORMAT = "sharpeyes-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "platform-public-key.pem"
"""The signer's public key, for reference only: checking uses a key the checker already trusts."""
MOST_MANIFEST = 10 << 20


@dataclass(frozen=True, slots=True)
class PackageCheck:
    manifest: dict[str, Any] | None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()


def write_package(path: Path, manifest: dict[str, Any], files: dict[str, Path], key: PlatformKey) -> None:
    """The zip at ``path``: ``files`` (name → file), the manifest with their SHA-256 added, its signature."""
    manifest = {**manifest, "format": FORMAT, "files": {name: sha256_of(file) for name, file in files.items()}}
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as package:
        for name, file in files.items():
            package.write(file, name)
        package.writestr(MANIFEST, body)
        package.writestr(SIGNATURE, key.sign(body))
        package.writestr(PUBLIC_KEY, key.public_pem())
    partial.replace(path)


def check_package(path: Path, public_pem: bytes) -> PackageCheck:
    """Is the package what the key's platform signed, every file as the manifest says?"""
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if MANIFEST not in names or SIGNATURE not in names:
                return PackageCheck(None, "no manifest or no signature: not an evidence package")
            if package.getinfo(MANIFEST).file_size > MOST_MANIFEST:
                return PackageCheck(None, "the manifest is too large to be one of ours")
            body = package.read(MANIFEST)
            signature = package.read(SIGNATURE).decode("ascii", "replace").strip()
            if not verify(public_pem, body, signature):
                return PackageCheck(
                    None, "the manifest is not signed by this platform's key: it was changed, replaced or re-signed"
                )
            manifest = json.loads(body)
            listed: dict[str, str] = manifest.get("files", {})
            for name, expected in sorted(listed.items()):
                if name not in names:
                    return PackageCheck(manifest, f"{name} is missing")
                digest = hashlib.sha256()
                with package.open(name) as member:
                    while chunk := member.read(1 << 20):
                        digest.update(chunk)
                if digest.hexdigest() != expected:
                    return PackageCheck(manifest, f"{name} was altered: its SHA-256 is not the one signed")
            extra = names - set(listed) - {MANIFEST, SIGNATURE, PUBLIC_KEY}
            if extra:
                return PackageCheck(manifest, f"files the manifest does not list: {', '.join(sorted(extra))}")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as err:
        return PackageCheck(None, f"not a readable evidence package: {err}")
    return PackageCheck(manifest)
