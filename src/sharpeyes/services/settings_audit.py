"""Settings come from the configuration file and the environment, read at start; each start is audited with the
settings in force (secrets as fingerprints, never their values) and which of them changed since the last start, so
an auditor sees when, say, retention was shortened or masks' roles changed, and under which system user."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sharpeyes.core.settings import Settings
from sharpeyes.core.urls import redact_text
from sharpeyes.services.audit_log import AuditTrail

SECRET_WORDS = ("password", "secret", "token")


def record_start(audit: AuditTrail, settings: Settings, version: str, by: str) -> list[str]:
    """Write the ``platform.start`` record; the settings changed since the previous one (all of them the first
    time)."""
    now = _flat(settings.model_dump(mode="json"))
    previous = audit.find(action="platform.start", limit=1)
    before: dict[str, Any] = previous[0].data.get("settings", {}) if previous else {}
    changed = sorted(key for key in now.keys() | before.keys() if now.get(key) != before.get(key))
    audit.write(by, "platform.start", "ok", {"version": version, "settings": now, "changed": changed})
    return changed


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not any(word in key for word in SECRET_WORDS):
            flat.update(_flat(value, f"{name}."))
        elif value is not None and any(word in key for word in SECRET_WORDS):
            digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]
            flat[name] = f"set (sha256 {digest}…)"
        else:
            flat[name] = redact_text(value) if isinstance(value, str) else value
    return flat
