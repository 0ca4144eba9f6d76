"""Server settings: one typed object, read from defaults < config file < environment < CLI.

Every field is documented because the README lists them; environment variables use the
`COACH_` prefix and `__` for nesting (e.g. `COACH_LIMITS__MAX_SESSIONS=4`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from models.paths import REPO_ROOT
from realtime.cpu_share import CpuShareOptions
from realtime.voice.options import ConversationOptions


# The config file of the settings being built; pydantic-settings sources are chosen per class,
# so load_settings sets this for the duration of one construction.
_CONFIG_FILE: Path | None = None

Profile = Literal["embedded", "full"]


class IceServer(BaseModel):
    """A STUN or TURN server handed to aiortc (and to the browser through `/config`)."""

    urls: list[str] | str
    username: str | None = None
    credential: str | None = None


class Limits(BaseModel):
    """Bounds that protect the server from clients."""

    max_sessions: int = Field(8, ge=1, description="Concurrent sessions; beyond it /offer answers 503.")
    max_pending: int = Field(
        4, ge=1, description="WebRTC sessions answered but not connected yet, counted apart from "
        "max_sessions so offers that never connect cannot lock real people out: beyond it the oldest "
        "such session is closed to make room."
    )
    max_sdp_bytes: int = Field(64 * 1024, description="Largest SDP body accepted (413 beyond).")
    max_message_bytes: int = Field(16 * 1024, description="Largest client message (error beyond).")
    ice_timeout_s: float = Field(10.0, description="A peer not connected after this is closed.")
    media_timeout_s: float = Field(
        10.0, description="A session whose camera or microphone sends nothing for this long is closed "
        "(the client vanished); ICE consent alone would take 30 s to notice."
    )
    min_analysed_fps: float = Field(
        10.0, ge=0.0, description="A new WebRTC session is refused (503, Retry-After) when the vision workers' "
        "measured capacity, shared with one more session, would give each fewer analysed frames a second "
        "than this. 0: admission by count only."
    )
    retry_after_s: int = Field(30, ge=1, description="Retry-After sent with 503 (full) and the least sent with 429.")
    offers_per_minute: float = Field(20.0, gt=0, description="POST /offer and /whip per client address, sustained.")
    offer_burst: int = Field(10, ge=1, description="... and at once; beyond either, 429 with Retry-After.")
    websockets_per_minute: float = Field(30.0, gt=0, description="GET /ws per client address, sustained.")
    websocket_burst: int = Field(10, ge=1, description="... and at once.")


class MediaSettings(BaseModel):
    """Media handling choices."""

    ice_servers: list[IceServer] = Field(
        default_factory=list, description="STUN/TURN servers; empty = host candidates only."
    )
    ice_loopback: bool = Field(
        True,
        description="Offer 127.0.0.1 as a host candidate (aioice leaves it out) so a browser on the "
        "same machine, or one in a loopback-only namespace, can connect.",
    )
    video_start_kbps: int = Field(
        1500, description="Start/min bitrate asked of Chrome so 640x480 holds from the first second."
    )
    echo_cancellation: bool = Field(
        True, description="Cancel the coach's own voice in the microphone (WebRTC AEC3, realtime/media/echo.py), "
        "for clients that play the reply aloud without cancelling it themselves."
    )


class ModelSettings(BaseModel):
    """Overrides of each model family's options on top of the profile's defaults.

    Keys are the fields of the family's options class (documented there): models.pose.PoseOptions,
    models.asr.AsrOptions, models.llm.LlmOptions, models.tts.TtsOptions (XttsOptions in the full
    profile), models.embeddings.EmbeddingOptions, models.vad.VadOptions, models.turn.TurnOptions, and
    the full profile's scene families (realtime/scene.py): models.lifting.LiftingOptions,
    models.video.VideoOptions, models.caption.CaptionOptions.
    """

    pose: dict[str, Any] = Field(default_factory=dict, description="e.g. {input_size: 480, threads: 2}")
    vad: dict[str, Any] = Field(default_factory=dict, description="e.g. {min_silence_ms: 600}")
    turn: dict[str, Any] = Field(default_factory=dict, description="e.g. {silence_cap_ms: 1500}")
    asr: dict[str, Any] = Field(default_factory=dict, description="e.g. {beam_size_final: 3}")
    llm: dict[str, Any] = Field(
        default_factory=dict, description="e.g. {max_tokens: 120}; {model: llama-3-8b-instruct} picks a named "
        "model (models.llm.FULL_MODELS: mistral-7b-instruct, the full profile's default, or llama-3-8b-instruct)."
    )
    llm_remote: dict[str, Any] | None = Field(
        None, description="Use an OpenAI-compatible server instead of llama.cpp: {base_url, model, api_key}."
    )
    tts: dict[str, Any] = Field(default_factory=dict, description="e.g. {length_scale: 1.1}")
    embeddings: dict[str, Any] = Field(default_factory=dict, description="e.g. {backend: scibert}")
    lifting: dict[str, Any] = Field(default_factory=dict, description="Full profile: models.lifting.LiftingOptions, "
                                    "e.g. {window: 243}")
    video: dict[str, Any] = Field(default_factory=dict, description="Full profile: models.video.VideoOptions, "
                                  "e.g. {arch: swin3d_s}")
    caption: dict[str, Any] = Field(default_factory=dict, description="Full profile: models.caption.CaptionOptions, "
                                    "e.g. {every_s: 10}")


class Settings(BaseSettings):
    """Everything the server reads at start; see the README table."""

    model_config = SettingsConfigDict(
        env_prefix="COACH_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8080, description="HTTP port for signaling, websocket, metrics and the demo.")
    profile: Profile = Field("embedded", description="Model profile: embedded (offline CPU) or full (GPU, Hub).")
    hub_offline: bool | None = Field(
        None, description="Keep the Hugging Face Hub out of reach (HF_HUB_OFFLINE). None: offline in the "
        "embedded profile (it never downloads), online in full, whose families download into the models "
        "directory on first load (or ahead of time: python -m models.prepare --profile full)."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    token: str | None = Field(
        None, description="Master token. If set, /offer, /whip and /ws require it or a session token minted "
        "with it (POST /token), and /sessions and /token require it (Bearer or ?token=)."
    )
    session_token_ttl_s: float = Field(
        600.0, gt=0, description="Longest life of a session token minted by POST /token (a page's token)."
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Web origins whose pages may use the API (browsers send Origin), "
        "e.g. [\"https://coach.example.com\"]; the server's own page always may. Empty: any origin."
    )
    trust_forwarded_for: bool = Field(
        False, description="Rate-limit by the first X-Forwarded-For address (behind a reverse proxy you run)."
    )
    otlp_endpoint: str | None = Field(
        None, description="OpenTelemetry collector for per-turn traces, OTLP/HTTP "
        "(e.g. http://collector:4318/v1/traces). None: no traces.",
    )
    replica: str = Field(
        "", pattern=r"^[a-z0-9]{0,16}$",
        description="This replica's name behind a load balancer (lower-case letters and digits): session ids "
        "start with it (`<replica>-...`), so the balancer sends a WHIP resource back to the replica holding it.",
    )
    data_dir: Path = Field(REPO_ROOT / "data", description="SQLite session records live here (without records_url).")
    records_url: str | None = Field(
        None, description="PostgreSQL for the session records, shared by replicas behind a load balancer "
        "(postgresql://user:password@host:port/db). None: SQLite in data_dir."
    )
    web_dir: Path = Field(REPO_ROOT / "web_demo", description="Static files of the browser demo.")
    load_models: bool = Field(True, description="Load model families at start (off for signaling-only tests).")
    vision_nice: int = Field(
        10, ge=0, le=19, description="Niceness added to the vision threads (pose, analysis; Linux): when the "
        "cores are short, the voice loop and the media go first, and analysis takes what is left. 0: equal shares."
    )
    vision_workers: int = Field(
        2, ge=1, description="Frames analysed at once, each on one worker thread: one session's frames are "
        "coached in order, a session alone has its next frame's pose run beside this one's coaching while "
        "the workers have room for every session's two (realtime/vision_loop.py), two sessions' run side by "
        "side, the pose model on fewer threads each (`models.pose.PoseOptions.threads_beside`). 2 workers on "
        "2 cores gave 4 streams 14.2 analysed fps each where one gave 10.2 (benchmarks/vision.py, "
        "docs/DEPLOYMENT.md)."
    )
    limits: Limits = Field(default_factory=Limits)
    models: ModelSettings = Field(default_factory=ModelSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    voice: ConversationOptions = Field(default_factory=ConversationOptions)
    cpu: CpuShareOptions = Field(default_factory=CpuShareOptions)

    @property
    def offline(self) -> bool:
        """Whether model families may not download (see `hub_offline`)."""
        return self.profile == "embedded" if self.hub_offline is None else self.hub_offline

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _CONFIG_FILE
        if path is not None:
            if path.suffix in {".yaml", ".yml"}:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
            else:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a config file (TOML or YAML), the environment and explicit overrides.

    Overrides (the CLI flags) win over the environment, which wins over the file.
    """
    global _CONFIG_FILE
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")
    _CONFIG_FILE = config_file
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _CONFIG_FILE = None
