"""Well-formed GB/T 28181 inputs that the fuzz tests and ``bench/gb_fuzz.py`` mutate."""

from __future__ import annotations

from sharpeyes.protocols.gb28181 import manscdp, ps, rtp, sdp

DEVICE = "34020000001320000001"

SIP = [
    (
        "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.7:5060;rport;branch=z9hG4bK1\r\n"
        f"From: <sip:{DEVICE}@3402000000>;tag=a1\r\nTo: <sip:{DEVICE}@3402000000>\r\n"
        "Call-ID: c1\r\nCSeq: 2 REGISTER\r\nContact: <sip:34020000001320000001@10.0.0.7:5060>\r\n"
        'Authorization: Digest username="34020000001320000001", realm="3402000000", nonce="abc",'
        ' uri="sip:34020000002000000001@3402000000", response="0123456789abcdef0123456789abcdef",'
        " algorithm=MD5\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    ).encode(),
    (
        "MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n"
        "v: SIP/2.0/TCP 10.0.0.7:5060;branch=z9hG4bK2\r\n"
        f"f: <sip:{DEVICE}@3402000000>;tag=a2\r\nt: <sip:34020000002000000001@3402000000>\r\n"
        "i: c2\r\nCSeq: 3 MESSAGE\r\nc: Application/MANSCDP+xml\r\n"
    ).encode()
    + b"l: %d\r\n\r\n" % len(manscdp.write("Notify", "Keepalive", "1", DEVICE))
    + manscdp.write("Notify", "Keepalive", "1", DEVICE),
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
    b"Call-ID: x\r\nCSeq: 1 MESSAGE\r\n\r\n",
]

MANSCDP = [
    manscdp.write("Notify", "Keepalive", "1", DEVICE, {"Status": "OK"}),
    (
        '<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><SN>9</SN>'
        f'<DeviceID>{DEVICE}</DeviceID><SumNum>2</SumNum><DeviceList Num="1"><Item>'
        "<DeviceID>34020000001310000001</DeviceID><Name>东门</Name><Longitude>118.38</Longitude>"
        "<Latitude>31.33</Latitude><Info><PTZType>1</PTZType></Info></Item></DeviceList></Response>"
    ).encode("gb18030"),
    (
        '<?xml version="1.0" encoding="UTF-8"?><Response><CmdType>RecordInfo</CmdType><SN>3</SN>'
        f'<DeviceID>{DEVICE}</DeviceID><SumNum>1</SumNum><RecordList Num="1"><Item><StartTime>2026-11-29T08:00:00'
        "</StartTime><EndTime>2026-11-29T09:00:00</EndTime><Type>time</Type></Item></RecordList></Response>"
    ).encode(),
]

SDP = [
    sdp.offer(sdp.MediaOffer("Play", DEVICE, "127.0.0.1", 30000, "UDP", "0200000001"), "34020000002000000001"),
    sdp.offer(
        sdp.MediaOffer("Playback", DEVICE, "127.0.0.1", 30002, "TCP", "1200000002", 1764374400, 1764378000),
        "34020000002000000001",
    ),
]

PS = [
    ps.mux(b"\x00\x00\x00\x01\x67\x42\x00\x1e\x00\x00\x00\x01\x65" + bytes(range(256)) * 4, 9000, keyframe=True),
    ps.mux(b"\x00\x00\x00\x01\x41" + bytes(range(200)), 12600, keyframe=False),
]

RTP = rtp.packetize(PS[0] + PS[1], sequence=65530, timestamp=9000, ssrc=7)
