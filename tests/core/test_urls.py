from __future__ import annotations

import pytest

from sharpeyes.core.urls import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", ""),
        ("not a url", "not a url"),
        ("rtsp://10.0.0.1/stream", "rtsp://10.0.0.1/stream"),
        ("rtsp://admin:hunter2@10.0.0.1:554/s1", "rtsp://admin:***@10.0.0.1:554/s1"),
        ("rtsp://admin@10.0.0.1/s1", "rtsp://admin@10.0.0.1/s1"),
        ("http://u:p%40ss@[::1]:8000/a?x=1", "http://u:***@[::1]:8000/a?x=1"),
        ("http://cam/onvif?user=a&password=secret", "http://cam/onvif?user=a&password=***"),
        ("rtsp://admin:p@ss@w0rd@10.0.0.1/s1", "rtsp://admin:***@10.0.0.1/s1"),
        ("rtsp://admin:pw@10.0.0.1:abc/s1", "rtsp://admin:***@10.0.0.1:abc/s1"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_reads_userinfo_up_to_the_last_at_sign() -> None:
    """Regression: a password holding "@" leaked its tail into status reasons and logs."""
    message = "Server returned 404 Not Found: 'http://admin:p@ssw0rd-tail@127.0.0.1:8000/x.ts'"
    assert "ssw0rd" not in redact_text(message)
    assert "http://admin:***@127.0.0.1:8000/x.ts" in redact_text(message)


def test_redact_text_hides_every_password_in_a_message() -> None:
    message = "open 'rtsp://a:one@h/x' failed, then rtsp://b:two@h/y; token=abc"
    redacted = redact_text(message)
    assert "one" not in redacted
    assert "two" not in redacted
    assert "abc" not in redacted
    assert "rtsp://a:***@h/x" in redacted
