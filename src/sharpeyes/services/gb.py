"""GB/T 28181 devices and lower platforms registered to this platform: what the API shows of them, their catalogs
kept and turned into cameras, their alarms turned into events, and PTZ sent to their channels.

A device that registers is asked what it is (DeviceInfo) and what it has (Catalog); each video channel of the
catalog becomes a camera (id = channel id, area from ``CivilCode``, position from its longitude/latitude, source
``gb28181://DEVICE/CHANNEL``), so live view, recording and analysis use it like any other camera."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.gb_devices import GbChannel, GbDevice
from sharpeyes.core.gb_ids import ascii_digits
from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import catalog, manscdp, ptz
from sharpeyes.protocols.gb28181.manscdp import Manscdp
from sharpeyes.protocols.gb28181.requests import NoAnswer
from sharpeyes.protocols.gb28181.server import Device, DeviceAbsent, Refused, SipServer
from sharpeyes.protocols.sources import gb_channel, gb_url
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import CameraDraft
from sharpeyes.services.cameras import CameraService
from sharpeyes.services.events import EventService
from sharpeyes.store.areas import AreaRepository
from sharpeyes.store.cameras import CameraRepository
from sharpeyes.store.gb import GbRepository

logger = logging.getLogger(__name__)

ALARM_METHODS = {
    "1": "telephone", "2": "device", "3": "SMS", "4": "GPS", "5": "video", "6": "device fault", "7": "other",
}  # fmt: skip
PTZ_ACTIONS = frozenset(ptz.MOVES) | {"preset_set", "preset_call", "preset_delete"}


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: str
    name: str
    status: str
    """online, offline (registered but silent) or unregistered (known, not registered now)."""
    transport: str
    address: str
    manufacturer: str
    model: str
    channels: int
    registered_at: datetime | None
    expires_at: datetime | None
    last_keepalive: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceRecording:
    """One recording a device keeps of a channel (its own storage: an NVR's disk, a camera's card)."""

    start: datetime
    end: datetime
    type: str
    """time (continuous), alarm, manual…, as the device says."""
    name: str


@dataclass(frozen=True, slots=True)
class ChannelView:
    channel: GbChannel
    camera_id: str | None
    """The camera it became (video channels only)."""


class GbService:
    def __init__(
        self,
        settings: Gb28181Settings,
        sessions: sessionmaker[Session],
        cameras: CameraService,
        events: EventService,
        server: SipServer | None,
        timezone: ZoneInfo,
        audit: AuditTrail,
    ) -> None:
        """``timezone``: the devices' local time (MANSCDP times carry no offset)."""
        self._settings = settings
        self._timezone = timezone
        self._sessions = sessions
        self._audit = audit
        self._cameras = cameras
        self._events = events
        self._server = server
        self._tasks: set[asyncio.Task[Any]] = set()
        if server is not None:
            server.listener = self

    @property
    def port(self) -> int | None:
        """The SIP port listened on (None: off)."""
        return self._server.port if self._server is not None else None

    async def start(self) -> None:
        if self._server is not None:
            await self._server.start()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            await self._server.stop()

    # -- what the API shows ---------------------------------------------------------------------------------

    def devices(self) -> list[DeviceView]:
        server = self._require_server()
        with self._sessions() as db:
            kept = {device.device_id: device for device in GbRepository(db).devices()}
        live = {device.device_id: device for device in server.devices()}
        at = _wall_clock(server)
        return [self._view(kept.get(device_id), live.get(device_id), at) for device_id in sorted(kept | live)]

    def channels(self, device_id: str) -> list[ChannelView]:
        self._require_server()
        with self._sessions() as db:
            if GbRepository(db).device(device_id) is None:
                raise _no_device(device_id)
            channels = GbRepository(db).channels(device_id)
            cameras = CameraRepository(db).get_many(channel.channel_id for channel in channels)
        url_of = {camera_id: camera.source_url for camera_id, camera in cameras.items()}
        return [
            ChannelView(channel, channel.channel_id if url_of.get(channel.channel_id) == _url(channel) else None)
            for channel in channels
        ]

    async def refresh_catalog(self, device_id: str) -> list[ChannelView]:
        """Ask the device for its catalog now; its channels are kept and its video channels become cameras."""
        server = self._require_server()
        try:
            answer = await server.query(device_id, "Catalog")
        except DeviceAbsent as err:
            raise await self._absent(device_id, err) from err
        except (NoAnswer, Refused) as err:
            raise UnavailableError(f"{err} / 设备未返回目录", code="device_no_answer") from err
        channels = [replace(item, device_id=device_id) for part in answer.parts for item in catalog.items(part)]
        device = server.device(device_id)
        transport = device.transport if device is not None else "UDP"
        await asyncio.to_thread(self._keep_catalog, device_id, channels, transport, answer.complete)
        if not answer.complete:
            logger.warning("device %s: catalog incomplete: %d items added or updated, none dropped", device_id,
                           len(channels))  # fmt: skip
        return await asyncio.to_thread(self.channels, device_id)

    async def device_status(self, device_id: str) -> dict[str, str]:
        """Ask the device how it is now (DeviceStatus: online, working, recording, encoding, its clock…)."""
        server = self._require_server()
        try:
            answer = await server.query(device_id, "DeviceStatus")
        except DeviceAbsent as err:
            raise await self._absent(device_id, err) from err
        except (NoAnswer, Refused) as err:
            raise UnavailableError(f"{err} / 设备未返回状态", code="device_no_answer") from err
        return {key: value[:200] for key, value in answer.parts[0].fields.items()}

    async def device_recordings(self, camera_id: str, start: datetime, end: datetime) -> list[DeviceRecording]:
        """The recordings the camera's device keeps between ``start`` and ``end`` (RecordInfo, every type; the
        answer may come in several parts)."""
        server = self._require_server()
        device_id, channel_id = await self._channel_of(camera_id)
        local = {"StartTime": _local(start, self._timezone), "EndTime": _local(end, self._timezone)}
        try:
            answer = await server.query(
                device_id, "RecordInfo", {**local, "Secrecy": "0", "Type": "all"}, to=channel_id
            )
        except DeviceAbsent as err:
            raise UnavailableError(f"{err} / 设备不在线", code="device_offline") from err
        except (NoAnswer, Refused) as err:
            raise UnavailableError(f"{err} / 设备未返回录像列表", code="device_no_answer") from err
        found = []
        for values in (item for part in answer.parts for item in manscdp.list_items(part, "RecordList")):
            begins = _parse_local(values.get("StartTime", ""), self._timezone)
            ends = _parse_local(values.get("EndTime", ""), self._timezone)
            if begins is not None and ends is not None and ends > begins:
                kind, name = values.get("Type", "")[:16], values.get("Name", "")[:64]
                found.append(DeviceRecording(begins, ends, kind, name))
        return sorted(found, key=lambda recording: recording.start)

    async def _absent(self, device_id: str, err: DeviceAbsent) -> NotFoundError | UnavailableError:
        """A device that cannot be asked: unknown (404), or known but not registered now (503)."""

        def known() -> bool:
            with self._sessions() as db:
                return GbRepository(db).device(device_id) is not None

        if not await asyncio.to_thread(known):
            return _no_device(device_id)
        return UnavailableError(f"{err} / 设备不在线", code="device_offline")

    async def _channel_of(self, camera_id: str) -> tuple[str, str]:
        camera = await asyncio.to_thread(self._cameras.get, camera_id)
        ids = gb_channel(camera.source_url or "")
        if ids is None:
            raise InvalidInputError(
                f"camera {camera_id} is not a GB/T 28181 channel: only its device could answer that", code="not_gb"
            )
        return ids

    async def ptz(self, username: str, camera_id: str, action: str, speed: float, preset: int | None) -> None:
        """Move, zoom or stop a GB/T 28181 camera, or set/call/delete one of its presets; audited either way."""
        server = self._require_server()
        data: dict[str, Any] = {"camera_id": camera_id, "action": action, "speed": speed, "preset": preset}
        try:
            command = _ptz_command(action, speed, preset)
            ids = await self._channel_of(camera_id)
            try:
                await server.control(ids[0], ids[1], {"PTZCmd": command})
            except DeviceAbsent as err:
                raise UnavailableError(f"{err} / 设备不在线", code="device_offline") from err
            except (NoAnswer, Refused) as err:
                raise UnavailableError(f"{err} / 设备未响应云台控制", code="device_no_answer") from err
        except Exception as err:
            await asyncio.to_thread(
                self._audit.write, username, "ptz", "refused", {**data, "error": type(err).__name__}
            )
            raise
        await asyncio.to_thread(self._audit.write, username, "ptz", "ok", data)

    # -- what devices tell (the SIP server's listener, on its event loop) -----------------------------------

    def device_changed(self, device: Device, change: str) -> None:
        if change == "registered":
            self._spawn(self._registered(device))

    def notified(self, device: Device, body: Manscdp) -> None:
        if body.cmd_type == "Alarm":
            self._spawn(asyncio.to_thread(self._alarm, device, body))
        elif body.cmd_type == "Catalog":  # the device's catalog changed
            self._spawn(self._refresh_quietly(device.device_id))

    async def _registered(self, device: Device) -> None:
        await asyncio.to_thread(self._seen, device)
        server = self._require_server()
        try:
            info = await server.query(device.device_id, "DeviceInfo")
            fields = info.parts[0].fields
            await asyncio.to_thread(self._describe, device.device_id, fields)
        except (NoAnswer, Refused, DeviceAbsent) as err:
            logger.info("device %s: no DeviceInfo (%s)", device.device_id, err)
        await self._refresh_quietly(device.device_id)

    async def _refresh_quietly(self, device_id: str) -> None:
        try:
            await self.refresh_catalog(device_id)
        except (UnavailableError, NotFoundError) as err:
            logger.warning("device %s: catalog not refreshed: %s", device_id, err.message)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the store --------------------------------------------------------------------------------------------

    def _seen(self, device: Device) -> None:
        with self._sessions.begin() as db:
            GbRepository(db).seen(device.device_id, device.transport, f"{device.host}:{device.port}", utcnow())

    def _describe(self, device_id: str, fields: dict[str, str]) -> None:
        with self._sessions.begin() as db:
            GbRepository(db).describe(
                device_id,
                fields.get("DeviceName", ""),
                fields.get("Manufacturer", ""),
                fields.get("Model", ""),
                fields.get("Firmware", ""),
            )

    def _keep_catalog(self, device_id: str, channels: list[GbChannel], transport: str, whole: bool) -> None:
        with self._sessions.begin() as db:
            GbRepository(db).keep_channels(device_id, channels, whole=whole)
            areas = AreaRepository(db)
            area_of = {code: _area_code(code, areas) for code in {channel.civil_code for channel in channels}}
        for channel in channels:
            if channel.is_camera:
                self._camera(channel, area_of.get(channel.civil_code), "tcp" if transport == "TCP" else "udp")

    def _camera(self, channel: GbChannel, area_code: str | None, transport: str) -> None:
        """The channel as a camera: added, or brought up to date when it is this device's already."""
        url = _url(channel)
        draft = CameraDraft(
            name=channel.name,
            source_url=url,
            rtsp_transport="tcp" if transport == "tcp" else "udp",
            id=channel.channel_id,
            area_code=area_code,
            longitude=channel.longitude,
            latitude=channel.latitude,
        )
        try:
            current = self._cameras.get(channel.channel_id)
        except NotFoundError:
            current = None
        try:
            if current is None:
                try:
                    self._cameras.add(draft)
                except ConflictError:  # a camera of that name in that area exists: tell them apart by the id
                    self._cameras.add(replace(draft, name=f"{channel.name} {channel.channel_id[-4:]}"))
            elif current.source_url == url:
                changes = {"area_code": area_code, "longitude": channel.longitude, "latitude": channel.latitude}
                if (current.area_code, current.longitude, current.latitude) != tuple(changes.values()):
                    self._cameras.update(channel.channel_id, changes)
            else:
                logger.warning(
                    "channel %s of device %s: camera %s exists with another source; left as it is",
                    channel.channel_id,
                    channel.device_id,
                    channel.channel_id,
                )
        except (ConflictError, InvalidInputError) as err:
            logger.warning("channel %s of device %s not made a camera: %s", channel.channel_id, channel.device_id,
                           err.message)  # fmt: skip

    def _alarm(self, device: Device, body: Manscdp) -> None:
        fields = body.fields
        method = ALARM_METHODS.get(fields.get("AlarmMethod", ""), fields.get("AlarmMethod", ""))
        source = body.device_id or device.device_id
        with self._sessions() as db:
            camera_id = source if CameraRepository(db).get(source) is not None else None
        description = fields.get("AlarmDescription", "")[:200]
        self._events.record(
            Event(
                type=EventType.DEVICE_ALARM,
                at=utcnow(),
                detail=f"alarm from {source} ({method or 'unspecified'}){': ' + description if description else ''}",
                camera_id=camera_id,
                data={
                    "device_id": device.device_id,
                    "source_id": source,
                    "method": method,
                    "priority": fields.get("AlarmPriority", ""),
                    "type": manscdp.texts(body.root.find("Info") if body.root is not None else None).get(
                        "AlarmType", fields.get("AlarmType", "")
                    ),
                    "device_time": fields.get("AlarmTime", ""),
                    "description": description,
                },
            )
        )

    def _require_server(self) -> SipServer:
        if self._server is None:
            raise UnavailableError(
                "GB/T 28181 is off: set gb28181.enabled and gb28181.password / 未启用国标接入", code="gb_off"
            )
        return self._server

    @staticmethod
    def _view(kept: GbDevice | None, live: Device | None, at: Callable[[float], datetime]) -> DeviceView:
        status = "unregistered" if live is None else "online" if live.online else "offline"
        return DeviceView(
            device_id=kept.device_id if kept is not None else live.device_id if live is not None else "",
            name=kept.name if kept is not None else "",
            status=status,
            transport=live.transport if live is not None else kept.transport if kept is not None else "",
            address=f"{live.host}:{live.port}" if live is not None else kept.address if kept is not None else "",
            manufacturer=kept.manufacturer if kept is not None else "",
            model=kept.model if kept is not None else "",
            channels=kept.channels if kept is not None else 0,
            registered_at=at(live.registered_at) if live is not None else None,
            expires_at=at(live.expires_at) if live is not None else None,
            last_keepalive=at(live.last_keepalive) if live is not None and live.last_keepalive is not None else None,
        )


def _wall_clock(server: SipServer) -> Callable[[float], datetime]:
    """The server counts on a monotonic clock: its moments as wall-clock times."""
    now, wall = server.clock(), datetime.now(UTC)
    return lambda moment: wall - timedelta(seconds=now - moment)


def _url(channel: GbChannel) -> str:
    return gb_url(channel.device_id, channel.channel_id)


def _area_code(civil_code: str, areas: AreaRepository) -> str | None:
    """The area of a ``CivilCode``: the same code in the area tree, else its county (6 digits), else its city
    (4 digits + 00); None when the tree has none of them."""
    if not ascii_digits(civil_code) or len(civil_code) < 4:
        return None
    candidates = [civil_code, civil_code[:6], civil_code[:4] + "00"]
    return next((code for code in candidates if len(code) in (6, 9, 12) and areas.get(code) is not None), None)


def _local(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_local(text: str, timezone: ZoneInfo) -> datetime | None:
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=timezone).astimezone(UTC)
    except ValueError:
        return None


def _ptz_command(action: str, speed: float, preset: int | None) -> str:
    if action not in PTZ_ACTIONS:
        raise InvalidInputError(f"action: one of {', '.join(sorted(PTZ_ACTIONS))}", code="bad_ptz", field="action")
    try:
        if action.startswith("preset_"):
            if preset is None:
                raise InvalidInputError("preset: give the preset number (1–255)", code="bad_ptz", field="preset")
            return ptz.preset(action.removeprefix("preset_"), preset)  # type: ignore[arg-type]
        return ptz.move(action, speed)  # type: ignore[arg-type]
    except ValueError as err:
        raise InvalidInputError(str(err), code="bad_ptz") from err


def _no_device(device_id: str) -> NotFoundError:
    return NotFoundError(f"no GB/T 28181 device {device_id} / 无此设备", code="gb_device_not_found")
