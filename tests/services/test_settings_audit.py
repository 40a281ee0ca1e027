"""Each start is audited with the settings in force and what changed since the last start; secrets appear only as
fingerprints."""

from __future__ import annotations

import json

from sharpeyes.cli.wiring import Runtime
from sharpeyes.services.settings_audit import record_start


def test_a_start_names_the_settings_that_changed_and_hides_secrets(runtime: Runtime) -> None:
    settings = runtime.settings
    first = record_start(runtime.services.audit, settings, "0.1.0", "cli:ops")
    assert "recordings.retention_days" in first, "the first start lists every setting"
    assert record_start(runtime.services.audit, settings, "0.1.0", "cli:ops") == []

    shorter = settings.recordings.model_copy(update={"retention_days": 7})
    secret = settings.mqtt.model_copy(update={"password": "broker-s3cret"})
    changed = record_start(
        runtime.services.audit, settings.model_copy(update={"recordings": shorter, "mqtt": secret}), "0.1.0", "cli:ops"
    )
    assert changed == ["mqtt.password", "recordings.retention_days"]
    record = runtime.services.audit.find(action="platform.start", limit=1)[0]
    assert record.username == "cli:ops"
    assert record.data["settings"]["recordings.retention_days"] == 7
    assert "broker-s3cret" not in json.dumps(record.data)
    assert record.data["settings"]["mqtt.password"].startswith("set (sha256 ")
    assert runtime.services.audit.verify().intact
