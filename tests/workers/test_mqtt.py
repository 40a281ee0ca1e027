"""Events published to a real MQTT broker (mosquitto), also when the broker comes up after the platform."""

from __future__ import annotations

import json
import queue
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.settings import MqttSettings
from sharpeyes.workers.mqtt import MqttPublisher
from tests.support.mqtt_broker import MqttBroker
from tests.support.processes import free_port
from tests.support.waiting import wait_for


def _listen(port: int) -> tuple[mqtt.Client, queue.Queue[tuple[str, dict[str, Any]]]]:
    received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    subscribed = queue.Queue[bool]()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _d, message: received.put((message.topic, json.loads(message.payload)))
    client.on_subscribe = lambda *_args: subscribed.put(True)
    client.on_connect = lambda c, *_args: c.subscribe("sharpeyes/events/#", qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    subscribed.get(timeout=10)
    return client, received


def test_events_reach_the_broker_even_when_it_starts_after_the_platform(runtime: Runtime, tmp_path: Path) -> None:
    port = free_port()
    publisher = MqttPublisher(MqttSettings(host="127.0.0.1", port=port), runtime.services.events)
    events = runtime.services.events
    with TestClient(create_app(runtime.settings, runtime.services, workers=[publisher])):
        events.record(Event(EventType.STORAGE_LOW, datetime.now(UTC), "while the broker is down"))  # no crash
        with MqttBroker(tmp_path, port):
            listener, received = _listen(port)
            try:
                wait_for(lambda: publisher.connected, 15, "reconnect")
                events.record(
                    Event(EventType.INTRUSION, datetime.now(UTC), "someone at the gate", "cam-1", {"rule": "r"})
                )
                topics: dict[str, dict[str, Any]] = {}
                wanted = {"sharpeyes/events/analytics/intrusion/cam-1", "sharpeyes/events/storage/low_space/platform"}
                while not wanted <= topics.keys():
                    topic, payload = received.get(timeout=10)
                    topics[topic] = payload
            finally:
                listener.loop_stop()
                listener.disconnect()
    intrusion = topics["sharpeyes/events/analytics/intrusion/cam-1"]
    assert intrusion["detail"] == "someone at the gate"
    assert intrusion["data"] == {"rule": "r"}
    assert intrusion["type"] == "analytics.intrusion"
    assert isinstance(intrusion["id"], int)
    assert topics["sharpeyes/events/storage/low_space/platform"]["detail"] == "while the broker is down", "kept"
