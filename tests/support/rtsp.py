"""Drive a real loopback RTSP camera (``rtsp_server.py``) from tests.

The server runs under Debian's ``/usr/bin/python3`` because it needs GStreamer's
introspection bindings, which the project virtualenv does not have.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import signal
import socket
import subprocess
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Literal
from urllib.parse import quote

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).resolve().with_name("rtsp_server.py")
REQUIRED_ELEMENTS: tuple[str, ...] = ("filesrc", "qtdemux", "h264parse", "rtph264pay")

_PROBE = """
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in sys.argv[1:] if Gst.ElementFactory.find(name) is None]
if missing:
    print("missing GStreamer elements: " + ", ".join(missing))
    sys.exit(3)
"""

AuthMethod = Literal["basic", "digest"]


class RtspServerError(RuntimeError):
    """The RTSP test server could not be started or controlled."""


@functools.lru_cache(maxsize=1)
def rtsp_server_available() -> str | None:
    """Return ``None`` if the RTSP test server can run here, else why it cannot."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} does not exist; the RTSP test server needs Debian's python3"
    if not SERVER_SCRIPT.exists():
        return f"{SERVER_SCRIPT} is missing"
    try:
        probe = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-c", _PROBE, *REQUIRED_ELEMENTS],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=_server_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {SYSTEM_PYTHON} to probe for GStreamer: {exc}"
    if probe.returncode != 0:
        detail = (probe.stdout + probe.stderr).strip().splitlines()
        last = detail[-1] if detail else f"exit status {probe.returncode}"
        return (
            f"{SYSTEM_PYTHON} cannot load the GStreamer RTSP server ({last}); install the Debian "
            "packages python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good and "
            "gstreamer1.0-plugins-bad"
        )
    return None


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _end_process(proc: subprocess.Popen[str], grace_s: float) -> None:
    """Stop ``proc`` (ours, by its pid): continue it, SIGTERM, then SIGKILL after ``grace_s``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace_s)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


class RtspServer:
    """A loopback RTSP camera serving ``clip`` at ``rtsp://127.0.0.1:<port><mount>``.

    The port (a free one unless ``port`` is given) is chosen once, at construction,
    and reused by every ``start()``, so a client can reconnect to the same URL after
    ``restart()``.  ``client_count`` counts client connections over the life of this
    object, across restarts.
    """

    def __init__(
        self,
        clip: Path,
        *,
        user: str | None = None,
        password: str | None = None,
        mount: str = "/cam",
        auth_method: AuthMethod = "digest",
        port: int | None = None,
        ready_timeout_s: float = 15.0,
        stop_timeout_s: float = 5.0,
        bind_retry_s: float = 10.0,
    ) -> None:
        if (user is None) != (password is None):
            raise ValueError("user and password must be given together")
        if not mount.startswith("/"):
            raise ValueError(f"mount must start with '/', got {mount!r}")
        self.clip = Path(clip)
        self.user = user
        self.password = password
        self.mount = mount
        self.auth_method: AuthMethod = auth_method
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.bind_retry_s = bind_retry_s
        self._port = _free_port() if port is None else port
        self._lock = threading.Lock()
        self._client_count = 0
        self._stderr_lines: collections.deque[str] = collections.deque(maxlen=200)
        self._proc: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []
        self._paused = False
        self._finalizer: weakref.finalize[[subprocess.Popen[str], float], RtspServer] | None = None

    # -- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url_without_credentials(self) -> str:
        return f"rtsp://127.0.0.1:{self._port}{self.mount}"

    @property
    def url(self) -> str:
        if self.user is None or self.password is None:
            return self.url_without_credentials
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"rtsp://{credentials}@127.0.0.1:{self._port}{self.mount}"

    # -- state -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def paused(self) -> bool:
        return self._paused and self.running

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def client_count(self) -> int:
        with self._lock:
            return self._client_count

    @property
    def stderr_text(self) -> str:
        """The last lines the server wrote to stderr (for failure messages)."""
        with self._lock:
            return "".join(self._stderr_lines)

    def wait_for_clients(self, count: int, timeout_s: float = 5.0) -> bool:
        """Wait until ``client_count >= count``; return whether it got there in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.client_count >= count:
                return True
            time.sleep(0.02)
        return self.client_count >= count

    # -- lifecycle -------------------------------------------------------------------

    def _command(self) -> list[str]:
        command = [
            str(SYSTEM_PYTHON),
            "-I",
            str(SERVER_SCRIPT),
            "--port",
            str(self._port),
            "--file",
            str(self.clip),
            "--mount",
            self.mount,
            "--bind-retry-s",
            str(self.bind_retry_s),
            "--exit-on-stdin-eof",
        ]
        if self.user is not None and self.password is not None:
            command += ["--user", self.user, "--password", self.password, "--auth", self.auth_method]
        return command

    def _read_stdout(self, stream: IO[str], ready: threading.Event, ready_line: list[str]) -> None:
        for line in stream:
            text = line.strip()
            if text.startswith("READY"):
                ready_line.append(text)
                ready.set()
            elif text == "CLIENT":
                with self._lock:
                    self._client_count += 1

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self._stderr_lines.append(line)

    def start(self) -> None:
        """Launch the server and wait until it listens; raise ``RtspServerError`` if it does not."""
        if self.running:
            raise RtspServerError(f"RTSP server already running (pid {self.pid})")
        if not self.clip.is_file():
            raise RtspServerError(f"clip {self.clip} does not exist")
        reason = rtsp_server_available()
        if reason is not None:
            raise RtspServerError(reason)
        with self._lock:
            self._stderr_lines.clear()
        proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=_server_env(),
        )
        self._proc = proc
        self._paused = False
        self._finalizer = weakref.finalize(self, _end_process, proc, self.stop_timeout_s)
        ready = threading.Event()
        ready_line: list[str] = []
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._threads = [
            threading.Thread(
                target=self._read_stdout,
                args=(proc.stdout, ready, ready_line),
                name=f"rtsp-server-{proc.pid}-stdout",
                daemon=True,
            ),
            threading.Thread(
                target=self._read_stderr,
                args=(proc.stderr,),
                name=f"rtsp-server-{proc.pid}-stderr",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

        deadline = time.monotonic() + self.ready_timeout_s
        while not ready.wait(timeout=0.05):
            if proc.poll() is not None or time.monotonic() >= deadline:
                break
        if not ready.is_set():
            exited = proc.poll()
            self.stop()
            why = (
                f"exited with status {exited}"
                if exited is not None
                else (f"printed no READY line within {self.ready_timeout_s:.0f} s")
            )
            raise RtspServerError(f"RTSP server on port {self._port} {why}; stderr:\n{self.stderr_text or '(empty)'}")
        announced = ready_line[0].split()
        if announced != ["READY", str(self._port)]:
            self.stop()
            raise RtspServerError(f"RTSP server announced {ready_line[0]!r}, expected port {self._port}")

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited within ``stop_timeout_s``."""
        proc = self._proc
        if proc is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        _end_process(proc, self.stop_timeout_s)
        for thread in self._threads:
            thread.join(timeout=self.stop_timeout_s)
        self._threads = []
        self._paused = False
        self._proc = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing is sent or answered."""
        proc = self._require_running()
        os.kill(proc.pid, signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Undo ``pause()`` (SIGCONT)."""
        proc = self._require_running()
        os.kill(proc.pid, signal.SIGCONT)
        self._paused = False

    def _require_running(self) -> subprocess.Popen[str]:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise RtspServerError("RTSP server is not running")
        return proc

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "paused" if self.paused else ("running" if self.running else "stopped")
        return f"RtspServer({self.url_without_credentials!r}, {state}, clients={self.client_count})"
