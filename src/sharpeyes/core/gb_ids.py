"""GB/T 28181 device and channel ids: centre code (8) + industry (2) + type (3) + serial (7)."""

from __future__ import annotations

CAMERA_TYPES = {"131": "camera", "132": "network camera"}
KNOWN_TYPES = {**CAMERA_TYPES, "111": "DVR", "118": "NVR", "200": "platform", "215": "business group", "216": "group"}


def ascii_digits(text: str) -> bool:
    """Only the digits 0–9 (``str.isdigit`` also takes ², ٣ and other scripts' digits, which ids and numbers in
    SIP and MANSCDP never hold)."""
    return text.isascii() and text.isdigit()


def gb_id_type(device_id: str) -> str:
    """The three-digit type code (positions 11–13) of a 20-digit id."""
    return device_id[10:13]


def camera_id_problem(device_id: str) -> str | None:
    """Why an all-digit camera id is not a GB/T 28181 camera channel id, or None."""
    if len(device_id) != 20 or not ascii_digits(device_id):
        return f"a GB/T 28181 id has 20 digits, {device_id!r} has {len(device_id)}"
    kind = gb_id_type(device_id)
    if kind not in CAMERA_TYPES:
        named = KNOWN_TYPES.get(kind, "unknown type")
        return f"type code {kind} ({named}) in id {device_id} is not a camera (131 or 132)"
    return None
