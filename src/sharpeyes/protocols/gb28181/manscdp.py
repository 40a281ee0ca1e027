"""MANSCDP bodies (``Application/MANSCDP+xml``), the XML that GB/T 28181 devices and platforms exchange in MESSAGE
requests: read with entity expansion and DTDs refused, in the charset the XML declares (GB2312 by default, read as
its superset GB18030) or UTF-8."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

MAX_BODY = 60_000
_DECLARED = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]{1,20})["']""")
_DECLARED_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")


class ManscdpError(ValueError):
    """A body that is not MANSCDP XML (or too large, or a bomb)."""


@dataclass(frozen=True, slots=True)
class Manscdp:
    kind: str
    """The root element: Notify, Query, Response or Control."""
    cmd_type: str
    """Keepalive, Catalog, DeviceInfo, DeviceStatus, Alarm, RecordInfo, DeviceControl…"""
    sn: str
    device_id: str
    fields: dict[str, str] = field(default_factory=dict)
    """The other first-level elements' text."""
    root: Element | None = field(default=None, compare=False)


def parse(body: bytes) -> Manscdp:
    if len(body) > MAX_BODY:
        raise ManscdpError(f"MANSCDP body of {len(body)} bytes; at most {MAX_BODY}")
    declared = _DECLARED.search(body[:200])
    charset = declared.group(1).decode().lower() if declared else "gb2312"
    codec = "utf-8" if charset.replace("-", "") == "utf8" else "gb18030"
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        try:  # devices that declare one charset and send the other
            text = body.decode("utf-8" if codec != "utf-8" else "gb18030")
        except UnicodeDecodeError as err:
            raise ManscdpError(f"the body is neither {charset} nor UTF-8") from err
    text = _DECLARED_TEXT.sub("", text, count=1)  # decoded already: the declaration's charset no longer applies
    try:
        root = fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as err:
        raise ManscdpError(f"not well-formed MANSCDP XML: {err}") from err
    values = texts(root)
    cmd_type = values.pop("CmdType", "")
    if not cmd_type:
        raise ManscdpError("MANSCDP without CmdType")
    return Manscdp(
        kind=root.tag,
        cmd_type=cmd_type,
        sn=values.pop("SN", ""),
        device_id=values.pop("DeviceID", ""),
        fields=values,
        root=root,
    )


def texts(element: Element | None) -> dict[str, str]:
    """The text of an element's childless children, by tag (empty for no element)."""
    if element is None:
        return {}
    return {child.tag: (child.text or "").strip() for child in element if len(child) == 0}


def list_items(body: Manscdp, list_tag: str) -> list[dict[str, str]]:
    """The ``Item``s of one of the body's lists (``DeviceList``, ``RecordList``), each as tag → text."""
    found = body.root.find(list_tag) if body.root is not None else None
    return [texts(item) for item in found.findall("Item")] if found is not None else []


def write(kind: str, cmd_type: str, sn: str, device_id: str, extra: dict[str, str] | None = None) -> bytes:
    """A MANSCDP body in GB2312 (as the standard asks) with its first-level fields."""
    parts = [f"<CmdType>{cmd_type}</CmdType>", f"<SN>{escape(sn)}</SN>", f"<DeviceID>{escape(device_id)}</DeviceID>"]
    parts += [f"<{key}>{escape(value)}</{key}>" for key, value in (extra or {}).items()]
    text = f'<?xml version="1.0" encoding="GB2312"?>\r\n<{kind}>\r\n' + "\r\n".join(parts) + f"\r\n</{kind}>\r\n"
    return text.encode("gb18030")


def escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
