"""Roles and what each may do. A user has one role and a scope (areas with their subtrees, and cameras); roles that
watch cameras see only those in their scope, and a camera outside it answers exactly like a missing one."""

from __future__ import annotations

PERMISSIONS = (
    "camera.view",  # see cameras, areas, coverage, the map, events
    "live.view",
    "playback.view",
    "search.people",
    "export.create",
    "ptz.control",
    "mask.lift",
    "camera.manage",  # add, change, remove cameras; areas and sites; recording plans
    "device.manage",  # GB/T 28181 devices and superior platforms
    "user.manage",
    "audit.read",
)
ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "supervisor": frozenset(
        {"camera.view", "live.view", "playback.view", "search.people", "export.create", "ptz.control", "mask.lift"}
    ),
    "investigator": frozenset({"camera.view", "live.view", "playback.view", "search.people", "export.create"}),
    "operator": frozenset({"camera.view", "live.view", "playback.view", "ptz.control"}),
    "auditor": frozenset({"audit.read"}),
    "owner": frozenset({"camera.view", "live.view", "playback.view"}),
}
"""``owner``: a school or village committee seeing its own site."""
UNSCOPED = frozenset({"admin", "auditor"})
"""Roles not limited to a scope (the auditor sees no video at all)."""


def allows(role: str, permission: str) -> bool:
    return permission in ROLES.get(role, frozenset())
