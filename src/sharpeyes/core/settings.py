"""One typed settings tree: defaults < YAML file < ``SHARPEYES_*`` environment < explicit arguments.

Validation here is pure; reading the file and reporting errors with line numbers lives in ``config_file``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sharpeyes.core.areas import AreaLevel, SiteType

ENV_PREFIX = "SHARPEYES_"
ENV_NESTED_DELIMITER = "__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    """Where the HTTP server listens."""

    host: str = Field("127.0.0.1", title="Listen address", description="Interface address for the web server.")
    port: int = Field(8080, ge=1, le=65535, title="Listen port", description="TCP port for the web server.")
    tls_cert: Path | None = Field(
        None, title="TLS certificate", description="PEM certificate (chain) file: set it and tls_key to serve HTTPS."
    )
    tls_key: Path | None = Field(None, title="TLS key", description="PEM private key file of tls_cert.")

    @model_validator(mode="after")
    def _both_or_neither(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("server.tls_cert and server.tls_key go together: set both for HTTPS, or neither")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.is_file():
                raise ValueError(f"server TLS file {path} does not exist")
        return self

    @property
    def https(self) -> bool:
        return self.tls_cert is not None


class StreamSettings(_Section):
    """How stream sessions talk to cameras."""

    open_timeout_s: float = Field(
        5.0, gt=0, le=120, title="Open timeout", description="Seconds to wait for a camera to answer."
    )
    read_timeout_s: float = Field(
        5.0, gt=0, le=120, title="Read timeout", description="Seconds without a packet before a stream is stalled."
    )
    reconnect_initial_s: float = Field(
        0.5, gt=0, le=60, title="First retry delay", description="Delay before the first reconnect attempt."
    )
    reconnect_max_s: float = Field(
        5.0, gt=0, le=600, title="Longest retry delay", description="Cap of the exponential reconnect backoff."
    )
    auth_retry_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        title="Retry after refused login",
        description="Delay between attempts after wrong credentials or a missing stream, so cameras do not lock out.",
    )
    stable_after_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        title="Stable stream",
        description="Seconds a stream must stay up before the reconnect backoff starts again from its first delay.",
    )
    on_demand: bool = Field(
        True,
        title="Stream on demand",
        description="Stream a camera only while it is watched, recorded or analysed; false streams all, always.",
    )
    linger_s: float = Field(
        30.0, ge=0, le=3600, title="Linger", description="Seconds a stream stays open after its last user leaves."
    )
    check_interval_s: float = Field(
        300.0,
        ge=10,
        le=86_400,
        title="Idle check interval",
        description="Seconds between checks that an idle camera still answers (its status without streaming).",
    )
    gop_packets_max: int = Field(
        900, ge=10, le=100_000, title="GOP buffer", description="Packets kept since the last keyframe."
    )
    consumer_queue_packets: int = Field(
        512, ge=8, le=100_000, title="Consumer queue", description="Packets a slow consumer may lag before drops."
    )


class AuthSettings(_Section):
    """Login sessions."""

    token_ttl_s: int = Field(
        12 * 3600, ge=60, le=30 * 86400, title="Token lifetime", description="Seconds a login token stays valid."
    )
    lockout_failures: int = Field(
        10, ge=3, le=1000, title="Lock-out after", description="Wrong passwords in a row that lock a user out."
    )
    lockout_s: float = Field(
        900.0,
        ge=1,
        le=86_400,
        title="Lock-out",
        description="Seconds a locked-out user is refused, right password or not.",
    )
    address_failures: int = Field(
        50,
        ge=3,
        le=100_000,
        title="Failures per address",
        description="Wrong logins from one address within lockout_s before that address is refused for lockout_s.",
    )


class SnapshotSettings(_Section):
    """Still images taken from live streams."""

    jpeg_quality: int = Field(80, ge=10, le=95, title="JPEG quality", description="Quality of snapshot JPEGs.")


class LiveSettings(_Section):
    """Live view over HLS (the low-latency WebSocket path needs no settings)."""

    hls_segment_s: float = Field(
        1.0, ge=0.5, le=10, title="HLS segment", description="Shortest live HLS segment, cut on the next keyframe."
    )
    hls_window: int = Field(6, ge=3, le=60, title="HLS window", description="Segments a live playlist lists.")
    hls_idle_s: float = Field(
        20.0, ge=5, le=600, title="HLS idle", description="Seconds without a playlist request before it stops."
    )


class CoverageSettings(_Section):
    """Coverage rules: the fewest cameras each area level and each kind of site must have."""

    area_minimums: dict[AreaLevel, Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: {AreaLevel.TOWNSHIP: 10, AreaLevel.VILLAGE: 3},
        title="Cameras per area",
        description="Minimum cameras per area level (township, village…).",
    )
    site_minimums: dict[SiteType, Annotated[int, Field(ge=1, le=10_000)]] = Field(
        default_factory=lambda: {SiteType.SCHOOL: 1, SiteType.KINDERGARTEN: 1},
        title="Cameras per site",
        description="Minimum cameras per site of each type (school, kindergarten…).",
    )


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai") from None
    return name


class RecordingSettings(_Section):
    """Recording: segment length, retention, and the disk space that must stay free."""

    segment_s: float = Field(
        4.0, ge=2, le=10, title="Segment length", description="Seconds per segment file, cut on the next keyframe."
    )
    stall_s: float = Field(
        3.0, gt=0, le=60, title="Gap after", description="Seconds without video before a recording gap starts."
    )
    retention_days: int = Field(
        30, ge=1, le=3650, title="Retention", description="Days recordings are kept unless a camera's plan says."
    )
    max_retention_days: int = Field(
        365,
        ge=1,
        le=3650,
        title="Longest retention",
        description="No camera's plan may keep recordings longer (legal hold excepted); longer plans are refused.",
    )
    min_free_mb: int = Field(
        2048, ge=0, le=10_000_000, title="Free space", description="Below this many free MB, oldest segments go."
    )
    timezone: Annotated[str, AfterValidator(_known_zone)] = Field(
        "Asia/Shanghai", title="Time zone", description="Zone of scheduled recording windows (IANA name)."
    )
    directory: Path | None = Field(
        None, title="Recordings directory", description="Where segment files go; default DATA_DIR/recordings."
    )

    @model_validator(mode="after")
    def _retention_within_the_longest(self) -> RecordingSettings:
        if self.retention_days > self.max_retention_days:
            raise ValueError("recordings.retention_days is above recordings.max_retention_days")
        return self


class QualitySettings(_Section):
    """Video quality diagnosis: how often, on how many frames, and the pass thresholds."""

    interval_s: float = Field(
        1800.0, ge=60, le=86_400, title="Diagnosis interval", description="Seconds between runs over all cameras."
    )
    workers: int = Field(4, ge=1, le=64, title="Parallel cameras", description="Cameras diagnosed at the same time.")
    frames: int = Field(3, ge=2, le=20, title="Frames", description="Frames looked at per camera and run.")
    frame_gap_s: float = Field(1.0, gt=0, le=60, title="Frame gap", description="Seconds between those frames.")
    min_contrast: float = Field(6.0, ge=0, title="Signal", description="Luma deviation below this: no signal.")
    min_motion: float = Field(0.25, ge=0, title="Frozen", description="Mean frame change below this: frozen.")
    min_sharpness: float = Field(0.12, ge=0, title="Blur", description="Fine/coarse detail ratio below this: blur.")
    max_covered: float = Field(0.3, ge=0, le=1, title="Occlusion", description="Textureless share above this.")
    max_cast: float = Field(0.45, ge=0, title="Colour cast", description="Channel spread / brightness above this.")
    min_luma: float = Field(35.0, ge=0, le=255, title="Too dark", description="Mean luma below this.")
    max_luma: float = Field(225.0, ge=0, le=255, title="Too bright", description="Mean luma above this.")


class HealthSettings(_Section):
    """Camera health: when on/off changes come too often, one alert instead of many."""

    flap_transitions: int = Field(
        6, ge=2, le=1000, title="Flapping changes", description="Status changes within the window that mean flapping."
    )
    flap_window_s: float = Field(
        600.0, ge=10, le=86_400, title="Flapping window", description="Seconds over which status changes are counted."
    )


class ImportSettings(_Section):
    """Spreadsheet uploads."""

    max_upload_mb: int = Field(
        200, ge=1, le=10_000, title="Largest upload", description="Largest spreadsheet accepted by the API, in MB."
    )


class AnalyticsSettings(_Section):
    """Video analysis: where models live and which detector runs."""

    models_dir: Path | None = Field(
        None,
        title="Models directory",
        description="Installed models (sharpeyes models install); default DATA_DIR/models.",
    )
    detector: Literal["nanodet", "yolo"] = Field(
        "nanodet",
        title="Detector",
        description="nanodet: the bundled NanoDet-m; yolo: the ONNX file in detector_model (YOLOv5/v8/v11 layout).",
    )
    detector_model: Path | None = Field(
        None, title="Detector model", description="A user-supplied ONNX detector file (with detector: yolo)."
    )
    detector_threads: int = Field(2, ge=1, le=64, title="Detector threads", description="onnxruntime threads.")
    appearance_model: Path | None = Field(
        None,
        title="Appearance model",
        description="A user-supplied CLIP-style model: a folder with image.onnx, text.onnx and tokenizer.json. "
        "Replaces the bundled MobileNetV2 for search by example, and descriptions are ranked by it too. "
        "Tracks kept before the change are not in its index.",
    )
    score_threshold: float = Field(
        0.3, gt=0, lt=1, title="Score threshold", description="Lowest detection confidence kept."
    )


class MqttSettings(_Section):
    """Publishing events to an MQTT broker (off unless a host is given)."""

    host: str | None = Field(None, title="Broker host", description="MQTT broker to publish events to; empty: off.")
    port: int = Field(1883, ge=1, le=65535, title="Broker port", description="TCP port of the broker.")
    username: str | None = Field(None, title="User name", description="Broker login, if it asks for one.")
    password: str | None = Field(None, title="Password", description="Broker password.")
    topic_prefix: str = Field(
        "sharpeyes", min_length=1, title="Topic prefix", description="Topics are PREFIX/events/KIND/TYPE/CAMERA."
    )
    queue: int = Field(
        10_000, ge=10, le=1_000_000, title="Queue", description="Events kept while the broker is unreachable."
    )


class Gb28181Settings(_Section):
    """The GB/T 28181 SIP server that devices and lower platforms register to (off unless enabled)."""

    enabled: bool = Field(False, title="Enabled", description="Listen for GB/T 28181 devices.")
    host: str = Field("127.0.0.1", title="Listen address", description="Interface for SIP over UDP and TCP.")
    port: int = Field(5060, ge=0, le=65535, title="SIP port", description="UDP and TCP port for SIP (0: any free one).")
    external_host: str | None = Field(
        None,
        max_length=253,
        pattern=r"^[0-9A-Za-z.:\-]+$",
        title="Address devices reach",
        description="The address devices send SIP and media to (behind NAT: the outside one); unset: the listen "
        "address, or the local address that routes to the device.",
    )
    invite_timeout_s: float = Field(
        8.0, gt=0, le=60, title="INVITE timeout", description="Seconds a device has to answer a request for video."
    )
    media_timeout_s: float = Field(
        8.0, gt=0, le=60, title="Media timeout", description="Seconds for the first media after the device answered."
    )
    server_id: str = Field(
        "34020000002000000001",
        pattern=r"^\d{20}$",
        title="Server id",
        description="This platform's 20-digit GB/T 28181 id (type 200: a platform).",
    )
    domain: str = Field(
        "3402000000", pattern=r"^\d{10}$", title="Domain", description="The 10-digit SIP domain (realm)."
    )
    password: str | None = Field(
        None,
        min_length=8,
        title="Device password",
        description="The password devices register with, unless passwords names theirs; no default: set one.",
    )
    passwords: dict[str, str] = Field(
        default_factory=dict, title="Per-device passwords", description="Device id → its own password."
    )
    min_expires: int = Field(
        60, ge=10, le=86_400, title="Shortest registration", description="Seconds; shorter asks are raised to this."
    )
    max_expires: int = Field(
        86_400, ge=60, le=604_800, title="Longest registration", description="Seconds; longer asks are cut to this."
    )
    keepalive_s: float = Field(
        60.0, gt=0, le=3600, title="Keepalive interval", description="Seconds between a device's keepalives."
    )
    keepalive_missed: int = Field(
        3, ge=1, le=100, title="Keepalives missed", description="A device is offline after this many missed in a row."
    )

    @model_validator(mode="after")
    def _a_password_when_enabled(self) -> Gb28181Settings:
        if self.enabled and not self.password and not self.passwords:
            raise ValueError("gb28181.password: set the password devices register with (there is no default)")
        if self.min_expires > self.max_expires:
            raise ValueError("gb28181.min_expires is above gb28181.max_expires")
        return self


def _secure_url(name: str, url: str) -> None:
    """``url`` is an absolute https URL, or plain http to this machine's loopback (for testing)."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ValueError(f"oidc.{name}: {url!r} is not an https:// URL (plain http only to localhost, for testing)")


class OidcSettings(_Section):
    """Single sign-on over OpenID Connect (off unless enabled): the provider says who someone is, and the local user
    of that name brings its role and scope."""

    enabled: bool = Field(False, title="Enabled", description="Offer single sign-on through the provider below.")
    issuer: str | None = Field(
        None,
        max_length=2048,
        title="Issuer",
        description="The provider's issuer URL; its discovery document is ISSUER/.well-known/openid-configuration.",
    )
    client_id: str | None = Field(
        None, min_length=1, max_length=255, title="Client id", description="This platform's client id at the provider."
    )
    client_secret: str | None = Field(
        None,
        min_length=1,
        max_length=1024,
        title="Client secret",
        description="This platform's client secret (set it as SHARPEYES_OIDC__CLIENT_SECRET); unset: a public client.",
    )
    redirect_uri: str | None = Field(
        None,
        max_length=2048,
        title="Callback URL",
        description="The platform's public callback, https://HOST/api/v1/auth/oidc/callback, as registered there.",
    )
    scopes: str = Field(
        "openid profile email", max_length=1024, title="Scopes", description="Scopes asked for; openid is required."
    )
    username_claim: str = Field(
        "preferred_username",
        min_length=1,
        max_length=255,
        title="User name claim",
        description="The ID token claim whose value is the local user name the person signs in as.",
    )
    display_name: str | None = Field(
        None, min_length=1, max_length=64, title="Button name", description="Shown as Sign in with NAME; unset: SSO."
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, title="Provider timeout", description="Seconds to wait for each answer of the provider."
    )

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OidcSettings:
        if self.enabled:
            for name in ("issuer", "client_id", "redirect_uri"):
                if not getattr(self, name):
                    raise ValueError(f"oidc.{name}: required when oidc.enabled is true")
        for name in ("issuer", "redirect_uri"):
            url = getattr(self, name)
            if url is not None:
                _secure_url(name, url)
        if "openid" not in self.scopes.split():
            raise ValueError("oidc.scopes: must include openid")
        return self


class Settings(BaseSettings):
    """The whole configuration of one Sharp Eyes installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
        title="Sharp Eyes settings",
    )

    data_dir: Path = Field(
        Path("sharpeyes-data"), title="Data directory", description="Holds the database and recordings."
    )
    database_url: str | None = Field(
        None, title="Database URL", description="SQLAlchemy URL; default is SQLite inside the data directory."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", title="Log level", description="Lowest level of log lines written."
    )
    server: ServerSettings = Field(default_factory=ServerSettings)
    streams: StreamSettings = Field(default_factory=StreamSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    snapshots: SnapshotSettings = Field(default_factory=SnapshotSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    recordings: RecordingSettings = Field(default_factory=RecordingSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    gb28181: Gb28181Settings = Field(default_factory=Gb28181Settings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @property
    def recordings_dir(self) -> Path:
        return self.recordings.directory or self.data_dir / "recordings"

    @property
    def models_dir(self) -> Path:
        return self.analytics.models_dir or self.data_dir / "models"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sharpeyes.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileValues(settings_cls))


_file_values: ContextVar[Mapping[str, Any] | None] = ContextVar("sharpeyes_file_values", default=None)


@contextmanager
def file_values(values: Mapping[str, Any]) -> Iterator[None]:
    """Make ``values`` (a parsed settings file) the file layer of ``Settings()`` built inside the block."""
    token = _file_values.set(values)
    try:
        yield
    finally:
        _file_values.reset(token)


class _FileValues(PydanticBaseSettingsSource):
    """The settings-file layer, below the environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return (_file_values.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_values.get() or {})
