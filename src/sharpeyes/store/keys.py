"""The platform's signing key (Ed25519): made at first start in the data directory, readable by its owner only.
It signs the audit chain's anchors (and evidence); its public half lets anyone check them offline."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_NAME = "platform-ed25519.pem"
PUBLIC_NAME = "platform-ed25519.pub.pem"


class KeyFileError(RuntimeError):
    """The key files are unreadable, or not an Ed25519 key."""


class PlatformKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> PlatformKey:
        """The key in ``keys_dir``, made (mode 0600, its directory 0700) when there is none."""
        path = keys_dir / PRIVATE_NAME
        if path.exists():
            try:
                loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, TypeError) as err:
                raise KeyFileError(f"{path} is not a readable private key: {err}") from err
            if not isinstance(loaded, Ed25519PrivateKey):
                raise KeyFileError(f"{path} is not an Ed25519 key")
            return cls(loaded)
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(keys_dir, 0o700)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        key = cls(private)
        (keys_dir / PUBLIC_NAME).write_bytes(key.public_pem())
        return key

    def sign(self, data: bytes) -> str:
        """The signature, base64."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")

    def public_pem(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def verify(public_pem: bytes, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is the key's over ``data``."""
    key = _public_key(public_pem)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@lru_cache(maxsize=8)
def _public_key(public_pem: bytes) -> Ed25519PublicKey | None:
    """The key a PEM holds, read once: a chain of records, or every media segment, is checked with the same key."""
    try:
        key = serialization.load_pem_public_key(public_pem)
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None
