"""Run ``sharpeyes`` commands as real processes, the way a user does, and stop them by their own pid."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARPEYES = Path(sys.executable).with_name("sharpeyes")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class PlatformProcess:
    """``sharpeyes <args>`` in the background, its output collected, stopped with SIGINT then SIGKILL."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self._lines: list[str] = []
        self._proc = subprocess.Popen(
            [str(SHARPEYES), *args, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.append(line)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise AssertionError(f"sharpeyes exited with {self._proc.returncode}:\n{self.output}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"sharpeyes did not answer within {timeout_s:g} s:\n{self.output}")

    def printed(self, pattern: str) -> str:
        match = re.search(pattern, self.output)
        if match is None:
            raise AssertionError(f"{pattern!r} not in the output:\n{self.output}")
        return match.group(1)

    def alive(self) -> bool:
        return self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the platform gets no chance to close anything."""
        self._proc.kill()
        self._proc.wait(10)
        self._reader.join(5)

    def stop(self, grace_s: float = 15.0) -> int:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._reader.join(5)
        return self._proc.returncode
