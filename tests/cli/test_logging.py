from __future__ import annotations

import logging

import pytest

from sharpeyes.cli.wiring import configure_logging


def test_log_lines_never_carry_camera_passwords(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        logging.getLogger("sharpeyes.test").warning(
            "cannot open %s", "rtsp://admin:hunter2@127.0.0.1:554/main?password=other-secret"
        )
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    line = capsys.readouterr().err
    assert "rtsp://admin:***@127.0.0.1:554/main" in line
    assert "hunter2" not in line
    assert "other-secret" not in line
