"""GB/T 28181 signalling: the SIP parser's limits, digest authentication, and the SIP server with sipp playing the
device over UDP and TCP (register with digest, keepalive, unregister; a wrong password gets 403)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import catalog, digest, manscdp
from sharpeyes.protocols.gb28181.server import Device, SipServer
from sharpeyes.protocols.gb28181.sip import MAX_MESSAGE, SipError, parse, split_stream
from tests.support.waiting import wait_for

SCENARIOS = Path(__file__).parent / "sipp"
DEVICE = "34020000001320000001"
PASSWORD = "12345678-device"
SETTINGS = Gb28181Settings(enabled=True, port=0, password=PASSWORD)

REGISTER = (
    "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;rport;branch=z9hG4bK1\r\n"
    f"From: <sip:{DEVICE}@3402000000>;tag=a1\r\n"
    f"To: <sip:{DEVICE}@3402000000>\r\n"
    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nExpires: 3600\r\n{auth}Content-Length: 0\r\n\r\n"
)


def test_the_digest_of_rfc_2617s_example_is_computed() -> None:
    given = digest.credentials(
        'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",'
        ' uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b",'
        ' response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert digest.verify(given, "GET", "Circle Of Life")
    assert not digest.verify(given, "GET", "circle of life")
    assert digest.credentials("Basic QWxhZGRpbjpvcGVu") == {}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"hello", "no blank line"),
        (b"HELLO world\r\n\r\n", "not a SIP start line"),
        (REGISTER.format(auth="").replace("CSeq: 1 REGISTER\r\n", "").encode(), "no CSeq"),
        (REGISTER.format(auth="").replace("CSeq: 1", "CSeq: one").encode(), "CSeq is not a number"),
        (REGISTER.format(auth="").replace("Content-Length: 0", "Content-Length: 99").encode(), "shorter"),
        (REGISTER.format(auth="").replace("Expires", "Bad Header").encode(), "not a header line"),
        (b"MESSAGE sip:a@b SIP/2.0\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", "more than 100 headers"),
        (b"x" * (MAX_MESSAGE + 1), "at most"),
    ],
)
def test_messages_that_are_not_sip_say_why(data: bytes, why: str) -> None:
    with pytest.raises(SipError, match=why):
        parse(data)


def test_a_tcp_stream_is_cut_into_messages() -> None:
    one = REGISTER.format(auth="").encode()
    body = b"<Notify/>"
    two = one.replace(b"Content-Length: 0", b"l: %d" % len(body)) + body
    buffer = bytearray(b"\r\n" + one + two[:-3])
    assert split_stream(buffer) == one
    assert split_stream(buffer) is None, "the second is not whole yet"
    buffer += two[-3:]
    assert parse(split_stream(buffer) or b"").body == body
    with pytest.raises(SipError):
        split_stream(bytearray(b"A" * (MAX_MESSAGE + 1)))


def test_manscdp_bodies_are_read_in_their_charset_and_bombs_refused() -> None:
    name = "东门球机".encode("gb18030")
    body = (
        b'<?xml version="1.0" encoding="GB2312"?><Response><CmdType>DeviceInfo</CmdType><SN>7</SN>'
        b"<DeviceID>" + DEVICE.encode() + b"</DeviceID><DeviceName>" + name + b"</DeviceName></Response>"
    )
    read = manscdp.parse(body)
    assert (read.kind, read.cmd_type, read.sn, read.fields["DeviceName"]) == ("Response", "DeviceInfo", "7", "东门球机")
    assert manscdp.parse(manscdp.write("Notify", "Keepalive", "1", DEVICE)).cmd_type == "Keepalive"
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbbbbbb">]><Notify><CmdType>&b;</CmdType></Notify>'
    for bad in (bomb, b"<Notify><CmdType>Keepalive", b"<Notify/>", b"x" * 70_000):
        with pytest.raises(manscdp.ManscdpError):
            manscdp.parse(bad)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _register(server: SipServer, password: str, expires: int | str = 3600) -> str:
    """Register DEVICE through ``handle`` (challenge, then the digest); the final status line."""
    answers: list[bytes] = []
    first = REGISTER.format(auth="").replace("Expires: 3600", f"Expires: {expires}")
    server.handle(first.encode(), "127.0.0.1", 5061, "UDP", answers.append)
    challenge = parse(answers[-1])
    assert challenge.status == 401
    nonce = digest.credentials(challenge.get("WWW-Authenticate").replace("Digest", "Digest", 1))["nonce"]
    given = {"username": DEVICE, "realm": "3402000000", "nonce": nonce, "uri": "sip:34020000002000000001@3402000000"}
    given["response"] = digest.expected(given, "REGISTER", password)
    header = "Authorization: Digest " + ", ".join(f'{k}="{v}"' for k, v in given.items()) + "\r\n"
    server.handle(
        first.format(auth=header).encode()
        if "{auth}" in first
        else first.replace("Content-Length", header + "Content-Length").encode(),
        "127.0.0.1",
        5061,
        "UDP",
        answers.append,
    )
    answer = parse(answers[-1])
    assert "rport=5061" in answer.get("Via")
    assert "received=127.0.0.1" in answer.get("Via")
    return f"{answer.status} {answer.get('Expires')}"


def test_registration_expiry_is_clamped_and_missed_keepalives_put_a_device_offline() -> None:
    clock = _Clock()
    changes: list[tuple[str, str]] = []
    server = SipServer(SETTINGS, _Listener(changes), clock)
    assert _register(server, "not-the-password") == "403 "
    assert server.devices() == []
    assert _register(server, PASSWORD, expires=5) == "200 60", "raised to the shortest allowed"
    assert _register(server, PASSWORD, expires=10**7) == "200 86400", "cut to the longest allowed"
    clock.now += SETTINGS.keepalive_s * SETTINGS.keepalive_missed + 1
    server.sweep()
    (device,) = server.devices()
    assert not device.online
    clock.now += 86_400
    server.sweep()
    assert server.devices() == []
    assert changes[-2:] == [(DEVICE, "offline"), (DEVICE, "expired")]


def test_digits_of_other_scripts_are_not_numbers() -> None:
    """Found by bench/gb_fuzz.py: "2¹" passes ``str.isdigit`` but not ``int``; it is read as no number at all."""
    server = SipServer(SETTINGS)
    assert _register(server, PASSWORD, expires="2¹").startswith("200")
    assert server.devices()[0].expires_at - server.devices()[0].registered_at == 3600
    with pytest.raises(SipError, match="CSeq is not a number"):
        parse(REGISTER.format(auth="").replace("CSeq: 1", "CSeq: ١").encode())


class _Listener:
    def __init__(self, changes: list[tuple[str, str]]) -> None:
        self.changes = changes

    def device_changed(self, device: Device, change: str) -> None:
        self.changes.append((device.device_id, change))

    def notified(self, device: Device, body: manscdp.Manscdp) -> None:
        self.changes.append((device.device_id, body.cmd_type))


@pytest.fixture
def running() -> Iterator[tuple[SipServer, list[tuple[str, str]]]]:
    changes: list[tuple[str, str]] = []
    loop = asyncio.new_event_loop()
    server = SipServer(SETTINGS, _Listener(changes))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    yield server, changes
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _popen(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _sipp(scenario: str, port: int, transport: str, password: str) -> subprocess.CompletedProcess[str]:
    command = sipp_command(scenario, port, transport, password)
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=tempfile.gettempdir(), check=False)


def sipp_command(scenario: str, port: int, transport: str, password: str, device: str = DEVICE) -> list[str]:
    """sipp playing device ``device`` through ``scenario`` (in tests/protocols/sipp) against 127.0.0.1:``port``."""
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.fail("sipp is missing: `make test` installs Debian's sip-tester")
    keys = {"device_id": device, "server_id": SETTINGS.server_id, "domain": SETTINGS.domain}
    command = [sipp, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / scenario), "-m", "1", "-t", transport]
    command += ["-i", "127.0.0.1", "-au", device, "-ap", password, "-nostdin", "-timeout", "15s", "-timeout_error"]
    for key, value in keys.items():
        command += ["-key", key, value]
    return command


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["UDP", "TCP"])
def test_sipp_as_a_device_registers_keeps_alive_and_unregisters(
    running: tuple[SipServer, list[tuple[str, str]]], transport: str
) -> None:
    server, changes = running
    done = _sipp("register_keepalive.xml", server.port, transport, PASSWORD)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert changes == [(DEVICE, "registered"), (DEVICE, "unregistered")]
    refused = _sipp("wrong_password.xml", server.port, transport, "wrong-password")
    assert refused.returncode == 0, "a wrong password gets 403, not a second challenge\n" + refused.stdout[-2000:]
    assert server.devices() == []


def test_sipp_answers_a_catalog_query_in_two_messages_after_a_malformed_one(
    running: tuple[SipServer, list[tuple[str, str]]], tmp_path: Path
) -> None:
    """One sipp registers with its Contact on another port, where a second sipp answers the platform's query."""
    server, _ = running
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        contact_port = probe.getsockname()[1]
    answering = sipp_command("catalog_answer.xml", server.port, "u1", PASSWORD)
    answering[1:2] = []  # no remote address: it waits for the platform's request
    answering += ["-p", str(contact_port)]
    registering = sipp_command("register_contact.xml", server.port, "u1", PASSWORD)
    registering += ["-key", "contact_port", str(contact_port)]
    with _popen(answering, tmp_path) as uas:
        with _popen(registering, tmp_path) as uac:
            wait_for(lambda: server.devices(), 10, "the device registered")
            assert server.loop is not None
            answer = asyncio.run_coroutine_threadsafe(server.query(DEVICE, "Catalog"), server.loop).result(20)
            assert uac.wait(20) == 0, (uac.stdout.read() if uac.stdout else "")[-2000:]
        assert uas.wait(20) == 0, (uas.stdout.read() if uas.stdout else "")[-2000:]
    assert answer.complete
    items = [item for part in answer.parts for item in catalog.items(part)]
    assert [(item.channel_id, item.name, item.online) for item in items] == [
        ("34020000001310000001", "East gate", True),
        ("34020000001310000002", "West gate", False),
        ("34020000002150000001", "Business group", False),
    ]
    assert items[0].longitude == 118.38


def test_sweeping_in_slices_reaches_every_device() -> None:
    clock = _Clock()
    server = SipServer(SETTINGS, clock=clock)
    for number in range(5):
        device_id = f"3402000000132000000{number}"
        server._devices[device_id] = Device(device_id, "127.0.0.1", 5060, "UDP", clock.now, clock.now + 3600)
    clock.now += SETTINGS.keepalive_s * SETTINGS.keepalive_missed + 1
    server.sweep(2)
    assert sum(not device.online for device in server.devices()) == 2
    server.sweep(2)
    server.sweep(2)
    assert not any(device.online for device in server.devices()), "a round covers them all"
