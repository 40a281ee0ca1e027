"""Publishes every event to an MQTT broker when one is configured: topic ``PREFIX/events/KIND/TYPE/CAMERA`` (e.g.
``sharpeyes/events/analytics/intrusion/3201...``; ``platform`` for events of no camera), payload the event as JSON
(the fields of ``GET /api/v1/events``), QoS 1. While the broker is unreachable the client reconnects by itself and
keeps up to ``mqtt.queue`` events; the platform runs on either way."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sharpeyes.core.events import Event
from sharpeyes.core.settings import MqttSettings
from sharpeyes.services.events import EventService

logger = logging.getLogger(__name__)


def topic_of(prefix: str, event: Event) -> str:
    return f"{prefix}/events/{event.type.value.replace('.', '/')}/{event.camera_id or 'platform'}"


def payload_of(event: Event) -> bytes:
    document: dict[str, Any] = {
        "id": event.id,
        "type": event.type.value,
        "at": event.at.isoformat(),
        "camera_id": event.camera_id,
        "detail": event.detail,
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, default=str).encode()


class MqttPublisher:
    def __init__(self, settings: MqttSettings, events: EventService) -> None:
        self._settings = settings
        self._events = events
        self._client: mqtt.Client | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    async def start(self) -> None:
        settings = self._settings
        if settings.host is None:
            return
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        client.max_queued_messages_set(settings.queue)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.connect_async(settings.host, settings.port, keepalive=30)
        client.loop_start()
        self._client = client
        self._unsubscribe = self._events.subscribe(self._publish)
        logger.info("publishing events to MQTT broker %s:%d", settings.host, settings.port)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(_close, client)

    def _publish(self, event: Event) -> None:
        client = self._client
        if client is None:
            return
        info = client.publish(topic_of(self._settings.topic_prefix, event), payload_of(event), qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: queued until reconnected
            logger.warning("MQTT: event %s not queued: %s", event.id, mqtt.error_string(info.rc))

    def _connected(self, _client: mqtt.Client, _data: object, _flags: object, reason: Any, _props: object) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker %s refused the connection: %s", self._settings.host, reason)
        else:
            logger.info("MQTT broker %s connected", self._settings.host)

    def _disconnected(self, _client: mqtt.Client, _data: object, _flags: object, reason: Any, _props: object) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker %s lost (%s); reconnecting", self._settings.host, reason)


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()
