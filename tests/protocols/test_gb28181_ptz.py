"""PTZ commands against the byte layout the standard gives (checked by hand: the sum of the first seven bytes)."""

from __future__ import annotations

import pytest

from sharpeyes.protocols.gb28181 import ptz


def test_moves_and_presets_are_encoded_with_their_checksum() -> None:
    assert ptz.move("stop") == "A50F0100000000B5"  # the stop command devices document
    assert ptz.move("up", 250 / 255) == "A50F010800FA00B7"  # up at tilt speed 0xFA, as devices document it
    assert ptz.move("left", 1.0) == "A50F0102FF0000B6"  # pan speed in byte 5: A5+0F+01+02+FF = 0x1B6
    assert ptz.move("zoom_in", 1.0) == "A50F01100000F0B5"  # zoom speed in byte 7's high nibble
    assert ptz.move("down_right", 0.0) == "A50F0105000000BA"
    assert ptz.preset("call", 3) == "A50F01820003003A"  # preset number in byte 6
    with pytest.raises(ValueError, match="unknown PTZ action"):
        ptz.move("spin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 0 and 1"):
        ptz.move("up", 2.0)
    with pytest.raises(ValueError, match="1–255"):
        ptz.preset("set", 0)
