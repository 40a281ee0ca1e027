"""Loopback RTSP camera for tests: serves an H.264 MP4 with GStreamer's RTSP server.

Run it with Debian's interpreter (``/usr/bin/python3``), which can import ``gi``; the
project virtualenv cannot.  Every client gets its own pipeline (the media factory is
not shared), so each connection plays the file from its start, paced in real time.
RTP goes over TCP (interleaved) or UDP, as the client asks.

Protocol on stdout, one line each, flushed: ``READY <port>`` once listening, and
``CLIENT`` whenever a client connects.  SIGTERM/SIGINT stop the main loop and the
process exits 0; with ``--exit-on-stdin-eof`` so does end of stdin (the parent went away).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ROLE = "camera-user"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _launch_line(path: str) -> str:
    location = path.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'( filesrc location="{location}" ! qtdemux ! h264parse config-interval=-1 '
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def _build_auth(factory: Any, user: str, password: str, method: str) -> Any:
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    auth = GstRtspServer.RTSPAuth()
    if method == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(user, password, token)
    else:
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(permissions)
    return auth


def _attach_with_retry(server: Any, deadline_s: float) -> Any:
    """Bind and attach the listening socket, retrying while the port is still busy."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            source = server.create_source(None)
        except GLib.Error as exc:
            if time.monotonic() >= deadline:
                raise SystemExit(f"cannot listen on the RTSP port: {exc.message}") from exc
            time.sleep(0.2)
            continue
        source.attach(None)
        return source


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0 = any free one)")
    parser.add_argument("--file", required=True, help="MP4 file with an H.264 video track")
    parser.add_argument("--mount", default="/cam", help="path of the stream, e.g. /cam")
    parser.add_argument("--user", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--auth", choices=("basic", "digest"), default="digest")
    parser.add_argument(
        "--bind-retry-s",
        type=float,
        default=10.0,
        help="keep retrying to bind a busy port for this long",
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when stdin reaches end of file (the parent holds a pipe open)",
    )
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    if not args.mount.startswith("/"):
        parser.error("--mount must start with '/'")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    Gst.init(None)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_launch_line(args.file))
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, factory)
    if args.user is not None:
        server.set_auth(_build_auth(factory, args.user, args.password, args.auth))

    def on_client(_server: Any, _client: Any) -> None:
        _say("CLIENT")

    server.connect("client-connected", on_client)

    loop = GLib.MainLoop()

    def quit_loop(*_args: Any) -> bool:
        loop.quit()
        return False

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, quit_loop)
    if args.exit_on_stdin_eof:
        GLib.io_add_watch(
            GLib.IOChannel.unix_new(sys.stdin.fileno()),
            GLib.PRIORITY_DEFAULT,
            GLib.IOCondition.HUP | GLib.IOCondition.ERR | GLib.IOCondition.IN,
            _stdin_closed(loop),
        )

    source = _attach_with_retry(server, args.bind_retry_s)
    _say(f"READY {server.get_bound_port()}")
    try:
        loop.run()
    finally:
        source.destroy()
    return 0


def _stdin_closed(loop: Any) -> Any:
    def watch(channel: Any, _condition: Any) -> bool:
        # Anything readable is drained; an empty read means the parent closed the pipe.
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if data:
            return True
        loop.quit()
        return False

    return watch


if __name__ == "__main__":
    sys.exit(main())
