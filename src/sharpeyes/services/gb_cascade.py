"""Cascade up (级联): the superior platforms this platform registers with, what each is offered, and serving
them — the catalog (our area tree and the cameras chosen for that superior), live video of a camera sent as PS
over RTP when they ask, and their PTZ passed on to the camera's own device.

A superior is offered the cameras named for it and those in the areas named (with their subtrees); with neither,
every camera with a GB/T 28181 camera id. A camera without such an id cannot be offered: the superior could not
address it."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.cameras import CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import InvalidInputError, NotFoundError, UnavailableError
from sharpeyes.core.gb_devices import GbChannel, SuperiorPlatform
from sharpeyes.core.gb_ids import ascii_digits, camera_id_problem
from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.media.gb_forward import Forwarder
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.overlay import FramePainter
from sharpeyes.protocols.gb28181 import sdp
from sharpeyes.protocols.gb28181.sender import MediaSender
from sharpeyes.protocols.gb28181.server import SipServer
from sharpeyes.protocols.gb28181.upward import Playing, SuperiorLink
from sharpeyes.protocols.sources import gb_channel
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.store.areas import AreaRepository
from sharpeyes.store.cameras import CameraRepository
from sharpeyes.store.gb import SuperiorRepository
from sharpeyes.store.privacy import PrivacyMaskRepository

logger = logging.getLogger(__name__)

_serials = itertools.count(1)


@dataclass(frozen=True, slots=True)
class SuperiorView:
    superior_id: str
    domain: str
    host: str
    port: int
    transport: str
    status: str
    """registering, registered or failed (``reason`` says why)."""
    reason: str
    camera_ids: list[str]
    area_codes: list[str]
    playing: list[str]
    """Channels being sent to it now."""
    created_at: datetime | None
    registered_at: datetime | None
    last_keepalive: datetime | None


class CascadeService:
    def __init__(
        self,
        settings: Gb28181Settings,
        sessions: sessionmaker[Session],
        streams: StreamManager | None,
        server: SipServer | None,
        audit: AuditTrail,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._audit = audit
        self._streams = streams
        self._server = server

    async def start(self) -> None:
        """Register with every configured superior (call once the SIP server runs)."""
        if self._server is None:
            return
        stored = await asyncio.to_thread(self._stored)
        for superior in stored:
            self._server.add_superior(superior, self)

    async def add(self, username: str, draft: SuperiorPlatform) -> SuperiorView:
        """Add (or replace) a superior and register with it now."""
        server = self._require_server()
        stored = _checked(draft, self._settings.server_id)
        await asyncio.to_thread(self._put, stored)
        await server.remove_superior(stored.superior_id)
        server.add_superior(stored, self)
        await asyncio.to_thread(
            self._audit.write,
            username,
            "gb.superior.add",
            "ok",
            {"superior_id": stored.superior_id, "host": stored.host},
        )
        return next(view for view in await self.superiors() if view.superior_id == stored.superior_id)

    async def superiors(self) -> list[SuperiorView]:
        server = self._require_server()
        stored = {superior.superior_id: superior for superior in await asyncio.to_thread(self._stored)}
        links = {link.superior.superior_id: link for link in server.superiors()}
        return [_view(superior, links.get(superior_id)) for superior_id, superior in sorted(stored.items())]

    async def remove(self, username: str, superior_id: str) -> None:
        server = self._require_server()
        if not await asyncio.to_thread(self._delete, superior_id):
            raise NotFoundError(f"no superior platform {superior_id} / 无此上级平台", code="gb_superior_not_found")
        await server.remove_superior(superior_id)
        await asyncio.to_thread(self._audit.write, username, "gb.superior.remove", "ok", {"superior_id": superior_id})

    # -- serving a superior (the Cascade the SIP server's links call, in worker threads) ---------------------

    def catalog(self, superior_id: str) -> list[GbChannel]:
        """Our area tree (the areas holding offered cameras, up to the root) and the offered cameras."""
        with self._sessions() as db:
            superior = SuperiorRepository(db).get(superior_id)
            if superior is None:
                return []
            areas = {area.code: area for area in AreaRepository(db).all(with_boundaries=False)}
            cameras = [
                camera
                for camera in CameraRepository(db).all()
                if self._offers(superior, camera.id, camera.area_code, areas)
            ]
        own = self._settings.server_id
        needed: dict[str, None] = {}
        for camera in cameras:
            code = camera.area_code
            while code is not None and code in areas and code not in needed:
                needed[code] = None
                code = areas[code].parent_code
        nodes = [
            GbChannel(own, code, areas[code].name, parent_id=areas[code].parent_code or own, civil_code=code)
            for code in sorted(needed, key=len)
        ]
        channels = [
            GbChannel(
                own,
                camera.id,
                camera.name,
                parent_id=camera.area_code or own,
                civil_code=camera.area_code or "",
                manufacturer="Sharp Eyes",
                longitude=camera.longitude,
                latitude=camera.latitude,
                status=self._status(camera.id),
            )
            for camera in cameras
        ]
        return nodes + channels

    def play(self, superior_id: str, channel_id: str, target: sdp.Described) -> Playing:
        streams = self._streams
        if streams is None:
            raise UnavailableError("this process sends no video")
        with self._sessions() as db:
            superior = SuperiorRepository(db).get(superior_id)
            camera = CameraRepository(db).get(channel_id)
            areas = {area.code: area for area in AreaRepository(db).all(with_boundaries=False)}
            masks = PrivacyMaskRepository(db).masks(channel_id)
        if superior is None or camera is None or not self._offers(superior, camera.id, camera.area_code, areas):
            raise LookupError(f"channel {channel_id} is not offered to {superior_id}")
        ssrc = target.ssrc or f"0{self._settings.domain[3:8]}{next(_serials) % 10_000:04d}"
        sender = MediaSender(target.host, target.port, target.transport, int(ssrc), bind_host=self._bind_host())
        session = streams.acquire(camera.id)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                streams.release(session)

        painter = FramePainter(masks) if masks else None  # a superior's viewers see the camera masked, too
        forwarder = Forwarder(session.relay, sender, f"gb-forward-{camera.id}-{superior_id}", release, painter)
        forwarder.start()
        logger.info("sending camera %s to superior %s at %s:%d over %s", camera.id, superior_id, target.host,
                    target.port, target.transport)  # fmt: skip
        return Playing(ssrc, sender.local_port, forwarder.stop)

    def control(self, superior_id: str, channel_id: str, fields: dict[str, str]) -> None:
        """A superior's DeviceControl (PTZ) for one of our cameras, passed on to the camera's own device."""
        server = self._server
        if server is None or server.loop is None or "PTZCmd" not in fields:
            return
        with self._sessions() as db:
            camera = CameraRepository(db).get(channel_id)
        ids = gb_channel(camera.source_url or "") if camera is not None else None
        if ids is None:
            logger.info("superior %s: PTZ for %s not passed on (not a GB/T 28181 channel)", superior_id, channel_id)
            return
        asyncio.run_coroutine_threadsafe(server.control(ids[0], ids[1], {"PTZCmd": fields["PTZCmd"]}), server.loop)
        audited = {"camera_id": channel_id, "command": fields["PTZCmd"]}
        self._audit.write(f"superior:{superior_id}", "ptz", "ok", audited)

    # -- helpers ------------------------------------------------------------------------------------------

    @staticmethod
    def _offers(superior: SuperiorPlatform, camera_id: str, area_code: str | None, areas: dict[str, Any]) -> bool:
        if camera_id_problem(camera_id) is not None:
            return False
        if not superior.camera_ids and not superior.area_codes:
            return True
        if camera_id in superior.camera_ids:
            return True
        code = area_code
        while code is not None:
            if code in superior.area_codes:
                return True
            code = areas[code].parent_code if code in areas else None
        return False

    def _status(self, camera_id: str) -> str:
        state = self._streams.state(camera_id) if self._streams is not None else None
        return "OFF" if state is not None and state.status in (CameraStatus.OFFLINE, CameraStatus.ERROR) else "ON"

    def _bind_host(self) -> str:
        return self._server.bind_host if self._server is not None else ""

    def _stored(self) -> list[SuperiorPlatform]:
        with self._sessions() as db:
            return SuperiorRepository(db).all()

    def _put(self, superior: SuperiorPlatform) -> None:
        with self._sessions.begin() as db:
            SuperiorRepository(db).put(superior)

    def _delete(self, superior_id: str) -> bool:
        with self._sessions.begin() as db:
            return SuperiorRepository(db).delete(superior_id)

    def _require_server(self) -> SipServer:
        if self._server is None:
            raise UnavailableError(
                "GB/T 28181 is off: set gb28181.enabled and gb28181.password / 未启用国标接入", code="gb_off"
            )
        return self._server


def _checked(draft: SuperiorPlatform, own_id: str) -> SuperiorPlatform:
    def bad(field: str, why: str) -> InvalidInputError:
        return InvalidInputError(f"{field}: {why}", code="bad_superior", field=field)

    if not (ascii_digits(draft.superior_id) and len(draft.superior_id) == 20):
        raise bad("superior_id", "the superior's 20-digit GB/T 28181 id")
    if draft.superior_id == own_id:
        raise bad("superior_id", "that is this platform's own id")
    if not (ascii_digits(draft.domain) and len(draft.domain) == 10):
        raise bad("domain", "the superior's 10-digit SIP domain")
    if draft.transport not in ("UDP", "TCP"):
        raise bad("transport", "UDP or TCP")
    if not draft.password or len(draft.password) > 128:
        raise bad("password", "the password the superior expects (1–128 characters)")
    return SuperiorPlatform(
        superior_id=draft.superior_id,
        domain=draft.domain,
        host=draft.host,
        port=draft.port,
        transport=draft.transport,
        password=draft.password,
        expires=draft.expires,
        keepalive_s=draft.keepalive_s,
        camera_ids=list(dict.fromkeys(draft.camera_ids)),
        area_codes=list(dict.fromkeys(draft.area_codes)),
        created_at=utcnow(),
    )


def _view(stored: SuperiorPlatform, link: SuperiorLink | None) -> SuperiorView:
    return SuperiorView(
        superior_id=stored.superior_id,
        domain=stored.domain,
        host=stored.host,
        port=stored.port,
        transport=stored.transport,
        status=link.state.status if link is not None else "stopped",
        reason=link.state.reason if link is not None else "",
        camera_ids=stored.camera_ids,
        area_codes=stored.area_codes,
        playing=[channel for channel, _ in link.state.playing.values()] if link is not None else [],
        created_at=stored.created_at,
        registered_at=link.state.registered_at if link is not None else None,
        last_keepalive=link.state.last_keepalive if link is not None else None,
    )
