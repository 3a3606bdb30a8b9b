"""One typed settings object, read from CONTINUUM_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-demo-only"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTINUUM_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = PLACEHOLDER_SECRET
    demo: bool = False
    timezone: str = "UTC"
    site_name: str = "ECMO Continuum"
    session_hours: float = 12.0
    login_max_failures: int = 5
    # Per source address: larger, so one person's typos do not lock out a ward behind NAT.
    login_max_failures_per_source: int = 50
    login_window_minutes: int = 15
    secure_cookies: bool = False
    # Seconds between passes of the web app's evaluator of deferred surveillance (console
    # files, MLLP, MQTT mark runs due); 0 = none in this process (run `continuum alerts
    # worker` or rely on the ingest processes' own evaluators).
    evaluator_interval_s: float = 1.0
    # Hours between passes of the web app's daily housekeeping (continuum.housekeeping:
    # e.g. the ingest message log pruned to its retention); 0 = none in this process.
    housekeeping_interval_h: float = 24.0
    # Seconds between passes of the simulation-training stepper (continuum.training.stepper:
    # running training sessions write their simulated minutes); 0 = none in this process.
    training_step_s: float = 2.0
    # Container allocations between the garbage collector's young collections in the app
    # and ingest processes (continuum.heap; Python's default is 700, which made a full
    # collection pause every request for 110-190 ms several times a minute under load);
    # 0 keeps Python's thresholds.
    gc_young_threshold: int = 50_000
    # Database connections per app process = requests doing database work at once; the
    # threadpool is sized from it (continuum.web.concurrency explains the arithmetic).
    db_connections: int = 20
    # Largest request body accepted (bytes): forms and JSON. Bigger ones get a 413.
    max_body_bytes: int = 1024 * 1024
    # Largest body for the file upload routes (console CSV upload: 200 MB file + form;
    # FHIR Bundle).
    max_upload_bytes: int = 201 * 1024 * 1024
    # Research exports (continuum.research.deidentify): the key of the per-patient date shift
    # and pseudonyms (default: derived from secret_key; set it to keep shifts stable across a
    # secret-key rotation), the shift's range in days and the smallest cell not flagged.
    export_key: str = ""
    export_shift_days: int = 180
    export_small_cell: int = 5
    # Where web exports are written (a directory per export job); default data_dir/exports.
    export_dir: Path | None = None
    # Streaming ingest (docs/ingest.md, *Through the broker*): "direct" (the receiver
    # writes to the database) or "nats" (receivers publish to a NATS JetStream stream,
    # `continuum ingest worker` processes store); the broker, its stream, the subject
    # prefix (<prefix>.hl7, <prefix>.mqtt) and how long a worker may hold a message.
    ingest_via: str = "direct"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "CONTINUUM_INGEST"
    nats_subject: str = "continuum.ingest"
    nats_ack_wait_s: float = 30.0
    nats_replicas: int = 1  # copies of the stream on a NATS cluster, when it is created

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name like Europe/London)"
            ) from None
        return value

    @field_validator("evaluator_interval_s")
    @classmethod
    def _interval(cls, value: float) -> float:
        if not 0 <= value <= 3600:
            raise ValueError(f"{value} s is outside 0–3600 s (0 = no evaluator in the app)")
        return value

    @field_validator("housekeeping_interval_h")
    @classmethod
    def _housekeeping(cls, value: float) -> float:
        if not 0 <= value <= 24 * 7:
            raise ValueError(f"{value} h is outside 0–168 h (0 = no housekeeping in the app)")
        return value

    @field_validator("ingest_via")
    @classmethod
    def _via(cls, value: str) -> str:
        if value not in ("direct", "nats"):
            raise ValueError(f"'{value}' is not direct or nats (CONTINUUM_INGEST_VIA)")
        return value

    @field_validator("nats_ack_wait_s")
    @classmethod
    def _ack_wait(cls, value: float) -> float:
        if not 1 <= value <= 3600:
            raise ValueError(f"{value} s is outside 1–3600 s (CONTINUUM_NATS_ACK_WAIT_S)")
        return value

    @field_validator("nats_replicas")
    @classmethod
    def _replicas(cls, value: int) -> int:
        if not 1 <= value <= 5:
            raise ValueError(f"{value} is outside 1–5 stream replicas (CONTINUUM_NATS_REPLICAS)")
        return value

    @field_validator("training_step_s")
    @classmethod
    def _training_step(cls, value: float) -> float:
        if not 0 <= value <= 600:
            raise ValueError(f"{value} s is outside 0–600 s (0 = no training stepper in the app)")
        return value

    @field_validator("gc_young_threshold")
    @classmethod
    def _gc_young(cls, value: int) -> int:
        if value != 0 and not 700 <= value <= 1_000_000:
            raise ValueError(
                f"{value} is outside 700–1,000,000 allocations (0 = Python's own thresholds)"
            )
        return value

    @field_validator("db_connections")
    @classmethod
    def _connections(cls, value: int) -> int:
        if not 2 <= value <= 500:
            raise ValueError(f"{value} is outside 2–500 database connections per process")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'continuum.db').as_posix()}"
        if self.export_dir is None:
            self.export_dir = self.data_dir / "exports"
        return self

    def check_secret(self) -> None:
        """Refuse the placeholder secret outside demo mode."""
        if not self.demo and (self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 16):
            raise RuntimeError(
                "CONTINUUM_SECRET_KEY is unset or too short: set it to a long random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`); "
                "only `continuum demo` runs with the placeholder."
            )

    @field_validator("export_shift_days")
    @classmethod
    def _shift(cls, value: int) -> int:
        if not 1 <= value <= 3650:
            raise ValueError(f"{value} days is outside 1–3650 days (the export date shift)")
        return value

    @property
    def export_key_bytes(self) -> bytes:
        """The research-export key (date shifts, pseudonyms): CONTINUUM_EXPORT_KEY, else one
        derived from the secret key (never the secret key itself)."""
        import hashlib
        import hmac

        if self.export_key:
            return self.export_key.encode()
        return hmac.new(self.secret_key.encode(), b"research-export", hashlib.sha256).digest()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
