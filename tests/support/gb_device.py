"""A GB/T 28181 device played in tests: it registers with digest over UDP or TCP, keeps alive, answers Catalog
(spread over several MESSAGEs), DeviceInfo and DeviceControl, and answers INVITE by sending a real clip as PS over
RTP (UDP, or TCP connecting to the platform) until BYE. It can be told to stay silent on INVITE or to answer and
send nothing, to reproduce the two ways live view fails."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
from av.bitstream import BitStreamFilterContext

from sharpeyes.protocols.gb28181 import digest, manscdp, sdp
from sharpeyes.protocols.gb28181.sender import MediaSender
from sharpeyes.protocols.gb28181.sip import SipMessage, parse, response, split_stream

DOMAIN = "3402000000"
SERVER_ID = "34020000002000000001"


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    channel_id: str
    name: str
    civil_code: str = ""
    longitude: float | None = None
    latitude: float | None = None
    parent_id: str = ""


@dataclass
class DeviceBehaviour:
    answer_invite: bool = True
    send_media: bool = True
    items_per_message: int = 2
    missing_items: int = 0
    """Items its catalog's SumNum counts that it never sends (a part lost on the way)."""


@dataclass
class SimulatedDevice:
    device_id: str
    password: str
    server_port: int
    clip: Path
    channels: list[ChannelSpec]
    transport: str = "UDP"
    behaviour: DeviceBehaviour = field(default_factory=DeviceBehaviour)
    controls: list[dict[str, str]] = field(default_factory=list)
    invites: list[sdp.MediaOffer] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    recordings: list[tuple[str, str]] = field(default_factory=list)
    """(start, end) local times of the recordings it keeps, as RecordInfo answers them (two per MESSAGE)."""
    byes: int = 0
    sent_bytes: int = 0
    registered: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._calls: dict[str, tuple[threading.Event, threading.Event]] = {}
        """Call-ID → (stopped, paused) of each stream it sends."""
        self._cseq = 1
        self._challenge: str | None = None
        if self.transport == "TCP":
            self._sock = socket.create_connection(("127.0.0.1", self.server_port), timeout=5)
        else:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._buffer = bytearray()
        self._thread = threading.Thread(target=self._run, name=f"gb-device-{self.device_id}", daemon=True)
        self._codec, self._units = _access_units(self.clip)

    def __enter__(self) -> SimulatedDevice:
        self._thread.start()
        self._send(self._register(None))
        return self

    def __exit__(self, *_: object) -> None:
        if self._challenge is not None:  # leave politely: unregister with the last challenge's nonce
            self.registered.clear()
            self._send(self._register(self._challenge, expires=0))
            self.registered.wait(2)
        self._stop.set()
        for stopped, _paused in self._calls.values():
            stopped.set()
        self._thread.join(5)
        self._sock.close()

    def notify(self, body: bytes) -> None:
        """Send a Notify (an alarm, say) to the platform."""
        self._request("MESSAGE", body)

    # -- signalling -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        last_keepalive = 0.0
        while not self._stop.is_set():
            if self.registered.is_set() and time.monotonic() - last_keepalive > 1.0:
                last_keepalive = time.monotonic()
                self._request("MESSAGE", manscdp.write("Notify", "Keepalive", "1", self.device_id, {"Status": "OK"}))
            for data in self._receive():
                message = parse(data)
                if message.is_request:
                    self._answer(message)
                elif message.cseq[1] == "REGISTER":
                    if message.status == 401:
                        self._challenge = message.get("WWW-Authenticate")
                        self._send(self._register(self._challenge))
                    elif message.status == 200:
                        self.registered.set()

    def _receive(self) -> list[bytes]:
        try:
            data = self._sock.recv(65_536)
        except (TimeoutError, OSError):
            return []
        if self.transport == "UDP":
            return [data]
        self._buffer += data
        out = []
        while (one := split_stream(self._buffer)) is not None:
            out.append(one)
        return out

    def _answer(self, request: SipMessage) -> None:
        if request.method == "MESSAGE":
            body = manscdp.parse(request.body)
            self._send(response(request, 200, "OK", to_tag="d1").encode())
            if body.cmd_type == "Catalog":
                self._catalog(body.sn)
            elif body.cmd_type == "DeviceInfo":
                info = {"DeviceName": "东门NVR", "Manufacturer": "Sim", "Model": "NVR-8", "Firmware": "V1.0",
                        "Channel": str(len(self.channels)), "Result": "OK"}  # fmt: skip
                self._request("MESSAGE", manscdp.write("Response", "DeviceInfo", body.sn, self.device_id, info))
            elif body.cmd_type == "DeviceStatus":
                status = {"Result": "OK", "Online": "ONLINE", "Status": "OK", "Record": "ON",
                          "DeviceTime": "2026-11-29T10:00:00"}  # fmt: skip
                self._request("MESSAGE", manscdp.write("Response", "DeviceStatus", body.sn, self.device_id, status))
            elif body.cmd_type == "RecordInfo":
                self._record_info(body)
            elif body.cmd_type == "DeviceControl":
                self.controls.append({"channel": body.device_id, **body.fields})
        elif request.method == "INVITE":
            self._invite(request)
        elif request.method == "BYE":
            self.byes += 1
            self._calls.get(request.get("Call-ID"), (threading.Event(), None))[0].set()
            self._send(response(request, 200, "OK").encode())
        elif request.method == "INFO":
            self.infos.append(request.body.decode())
            paused = self._calls.get(request.get("Call-ID"), (None, threading.Event()))[1]
            if request.body.startswith(b"PAUSE"):
                paused.set()
            elif request.body.startswith(b"PLAY"):
                paused.clear()
            self._send(response(request, 200, "OK").encode())

    def _catalog(self, sn: str) -> None:
        step = self.behaviour.items_per_message
        total = len(self.channels) + self.behaviour.missing_items
        for start in range(0, len(self.channels), step):
            part = self.channels[start : start + step]
            items = "".join(_item(channel, self.device_id) for channel in part)
            text = (
                f'<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>{sn}</SN>'
                f"\r\n<DeviceID>{self.device_id}</DeviceID>\r\n<SumNum>{total}</SumNum>\r\n"
                f'<DeviceList Num="{len(part)}">{items}</DeviceList>\r\n</Response>\r\n'
            )
            self._request("MESSAGE", text.encode("gb18030"))

    def _record_info(self, query: manscdp.Manscdp) -> None:
        for start in range(0, len(self.recordings), 2):
            part = self.recordings[start : start + 2]
            items = "".join(
                f"<Item><DeviceID>{query.device_id}</DeviceID><Name>rec</Name><StartTime>{begin}</StartTime>"
                f"<EndTime>{end}</EndTime><Secrecy>0</Secrecy><Type>time</Type></Item>"
                for begin, end in part
            )
            text = (
                f'<?xml version="1.0" encoding="GB2312"?>\r\n<Response><CmdType>RecordInfo</CmdType><SN>{query.sn}'
                f"</SN><DeviceID>{query.device_id}</DeviceID><SumNum>{len(self.recordings)}</SumNum>"
                f'<RecordList Num="{len(part)}">{items}</RecordList></Response>\r\n'
            )
            self._request("MESSAGE", text.encode("gb18030"))

    def _invite(self, request: SipMessage) -> None:
        if not self.behaviour.answer_invite:
            return
        asked = sdp.read(request.body)
        channel = re.search(r"sip:(\d{20})@", request.uri)
        offer = sdp.MediaOffer(asked.kind, channel.group(1) if channel else "", asked.host, asked.port,
                               asked.transport, asked.ssrc, asked.start, asked.end)  # fmt: skip
        transport = asked.transport
        self.invites.append(offer)
        self._send(response(request, 100, "Trying").encode())
        answer = response(request, 200, "OK", to_tag=secrets.token_hex(4))
        answer.set("Contact", f"<sip:{offer.channel_id}@127.0.0.1:{self.port}>")
        answer.set("Content-Type", "Application/SDP")
        profile = "TCP/RTP/AVP" if transport == "TCP" else "RTP/AVP"
        lines = ["v=0", f"o={offer.channel_id} 0 0 IN IP4 127.0.0.1", f"s={offer.kind}", "c=IN IP4 127.0.0.1",
                 "t=0 0", f"m=video 15060 {profile} 96", "a=sendonly", "a=rtpmap:96 PS/90000"]  # fmt: skip
        if transport == "TCP":
            lines.append("a=setup:active")
        lines.append(f"y={offer.ssrc}")
        answer.body = ("\r\n".join(lines) + "\r\n").encode()
        self._send(answer.encode())
        if self.behaviour.send_media:
            call = self._calls[request.get("Call-ID")] = (threading.Event(), threading.Event())
            threading.Thread(target=self._stream, args=(offer, *call), daemon=True).start()

    def _stream(self, offer: sdp.MediaOffer, stopped: threading.Event, paused: threading.Event) -> None:
        """The clip in a loop, paced in real time, until BYE; a playback plays the range's length of it once, and
        sends nothing while paused."""
        sender = MediaSender(offer.host, offer.port, offer.transport, int(offer.ssrc))
        started, offset = time.monotonic(), 0
        try:
            while not stopped.is_set():
                for data, pts, key in self._units:
                    if offer.kind == "Playback" and pts >= (offer.end - offer.start) * 90_000:
                        return  # the range is sent
                    while paused.is_set() and not stopped.wait(0.05):
                        started += 0.05  # the clock stands still while paused
                    delay = started + (pts + offset) / 90_000 - time.monotonic()
                    if delay > 0 and stopped.wait(delay):
                        return
                    sender.send(data, pts + offset, keyframe=key, codec=self._codec)
                    self.sent_bytes = sender.sent_bytes
                if offer.kind == "Playback":
                    return
                offset += self._units[-1][1] + 3600
        except OSError:
            return
        finally:
            sender.close()

    def _register(self, challenge: str | None, expires: int = 3600) -> bytes:
        message = self._new("REGISTER", f"sip:{SERVER_ID}@{DOMAIN}", to=self.device_id)
        message.set("Expires", str(expires))
        if challenge:
            given = digest.credentials(challenge)
            given |= {"username": self.device_id, "uri": f"sip:{SERVER_ID}@{DOMAIN}"}
            value = digest.expected(given, "REGISTER", self.password)
            message.set(
                "Authorization",
                f'Digest username="{self.device_id}", realm="{given["realm"]}", nonce="{given["nonce"]}", '
                f'uri="{given["uri"]}", response="{value}", algorithm=MD5',
            )
        return message.encode()

    def _request(self, method: str, body: bytes) -> None:
        message = self._new(method, f"sip:{SERVER_ID}@{DOMAIN}", to=SERVER_ID)
        message.set("Content-Type", "Application/MANSCDP+xml")
        message.body = body
        self._send(message.encode())

    def _new(self, method: str, uri: str, *, to: str) -> SipMessage:
        with self._lock:
            self._cseq += 1
            cseq = self._cseq
        message = SipMessage(method=method, uri=uri)
        message.headers += [
            ("Via", f"SIP/2.0/{self.transport} 127.0.0.1:{self.port};rport;branch=z9hG4bK{secrets.token_hex(6)}"),
            ("From", f"<sip:{self.device_id}@{DOMAIN}>;tag={secrets.token_hex(4)}"),
            ("To", f"<sip:{to}@{DOMAIN}>"),
            ("Call-ID", f"{secrets.token_hex(8)}@127.0.0.1"),
            ("CSeq", f"{cseq} {method}"),
            ("Contact", f"<sip:{self.device_id}@127.0.0.1:{self.port}>"),
            ("Max-Forwards", "70"),
        ]
        return message

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError), self._lock:
            if self.transport == "TCP":
                self._sock.sendall(data)
            else:
                self._sock.sendto(data, ("127.0.0.1", self.server_port))


def _item(channel: ChannelSpec, device_id: str) -> str:
    position = ""
    if channel.longitude is not None and channel.latitude is not None:
        position = f"<Longitude>{channel.longitude}</Longitude><Latitude>{channel.latitude}</Latitude>"
    return (
        f"<Item><DeviceID>{channel.channel_id}</DeviceID><Name>{channel.name}</Name><Manufacturer>Sim</Manufacturer>"
        f"<Model>IPC</Model><CivilCode>{channel.civil_code}</CivilCode><ParentID>{channel.parent_id or device_id}"
        f"</ParentID><Status>ON</Status>{position}<Info><PTZType>1</PTZType></Info></Item>"
    )


def _access_units(clip: Path) -> tuple[str, list[tuple[bytes, int, bool]]]:
    """The codec (h264 or hevc) and (Annex B access unit, 90 kHz PTS from 0, keyframe) of every video packet of
    ``clip``."""
    out = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        annexb = BitStreamFilterContext(f"{codec}_mp4toannexb", stream)
        first: int | None = None
        for packet in container.demux(stream):
            for converted in annexb.filter(packet):
                if converted.pts is None:
                    continue
                pts = int(converted.pts * (stream.time_base or 0) * 90_000)
                first = pts if first is None else first
                out.append((bytes(converted), pts - first, bool(converted.is_keyframe)))
    return codec, out  # in decoding order: a clip without B-frames (as cameras send) has its PTS rising
