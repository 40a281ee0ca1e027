"""PTZ commands as GB/T 28181 carries them (``<PTZCmd>`` in a DeviceControl MESSAGE): eight bytes written as hex —
A5, 0F (version 0 and the check nibble), the address, the command bits, pan speed, tilt speed, zoom speed in the high
nibble, and the sum of the seven before it modulo 256. Presets use commands 0x81–0x83 with the preset number."""

from __future__ import annotations

from typing import Literal

Action = Literal[
    "stop", "left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right", "zoom_in", "zoom_out"
]
MOVES: dict[str, int] = {
    "stop": 0x00, "right": 0x01, "left": 0x02, "down": 0x04, "up": 0x08, "zoom_in": 0x10, "zoom_out": 0x20,
    "up_left": 0x0A, "up_right": 0x09, "down_left": 0x06, "down_right": 0x05,
}  # fmt: skip
PRESETS = {"set": 0x81, "call": 0x82, "delete": 0x83}


def move(action: Action, speed: float = 0.5) -> str:
    """The command for ``action`` at ``speed`` (0–1 of the fastest)."""
    if action not in MOVES:
        raise ValueError(f"unknown PTZ action {action!r}")
    if not 0.0 <= speed <= 1.0:
        raise ValueError("PTZ speed is between 0 and 1")
    bits = MOVES[action]
    pan = round(speed * 255) if bits & 0x03 else 0
    tilt = round(speed * 255) if bits & 0x0C else 0
    zoom = round(speed * 15) if bits & 0x30 else 0
    return _command(bits, pan, tilt, zoom << 4)


def preset(what: Literal["set", "call", "delete"], number: int) -> str:
    if not 1 <= number <= 255:
        raise ValueError("a preset number is 1–255")
    return _command(PRESETS[what], 0, number, 0)


def _command(bits: int, byte5: int, byte6: int, byte7: int) -> str:
    body = [0xA5, 0x0F, 0x01, bits, byte5, byte6, byte7]
    return bytes([*body, sum(body) % 256]).hex().upper()
