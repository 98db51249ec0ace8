"""One settings object, read from the environment and `.env` once, in `main.py`."""

from __future__ import annotations

import re
import secrets
import zoneinfo
from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from yarl import URL

from core.loopback import is_loopback_host

DATA_DIR = Path("data")

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_RATE_UNITS |= {"h": 3600, "hour": 3600}


def parse_duration(value: str | float | int) -> float:
    """Seconds in `90s`, `10m`, `2h`, `1d` or a bare number of seconds."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration like 90s, 10m or 2h")
        seconds = float(match[1]) * _UNITS[match[2] or "s"]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_rate(value: str) -> tuple[int, float]:
    """`20/min` → (20, 60.0); `0` turns the limit off → (0, 60.0)."""
    if value.strip() == "0":
        return 0, 60.0
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a rate like 20/min, 5/s or 0 (off)")
    return int(match[1]), float(_RATE_UNITS[match[2]])


class Settings(BaseSettings):
    """Everything an operator can set. See README's Configuration section."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    bot_token: str = ""
    telegram_api_base: str = ""
    database_url: str = f"sqlite://{DATA_DIR}/funnel.sqlite3"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    # Slow or idle clients: a connection that has not sent a whole request head within
    # WEB_IDLE_TIMEOUT (of opening, or of its last answer) is closed; a request's body
    # must arrive within WEB_BODY_TIMEOUT of its head.
    web_idle_timeout: str = "20s"
    web_body_timeout: str = "30s"
    secret_key: str = ""
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "ru"
    timezone: str = "Europe/Moscow"
    phone_region: str = "RU"
    form_rate_limit: str = "20/min"
    # Referral link visits (`/r/<code>`): counted once per visitor, link and window, and
    # at most this many counted per client address (the redirect itself always works).
    ref_visit_window: str = "24h"
    ref_visit_rate: str = "20/h"
    # `source=secret` pairs for POST /api/ingest, comma-separated.
    ingest_secrets: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    data_dir: Path = DATA_DIR
    # Scenario delays an operator may change without editing code.
    welcome_followup_delay: str = "10m"
    # How long the personal deep link of the thank-you page stays valid.
    start_token_ttl: str = "30d"  # noqa: S105  (a duration, not a secret)
    # Telegram's limits, kept by the outbox (https://core.telegram.org/bots/faq).
    outbox_global_rate: str = "30/s"
    outbox_chat_rate: str = "1/s"
    outbox_group_rate: str = "20/min"
    # Operations (README "Running in production"). Finished bookkeeping (sent outbox
    # rows, done hub deliveries, expired deep links, visit de-dup keys) older than
    # RETENTION is pruned daily; the event log only when EVENT_LOG_RETENTION is set.
    retention: str = "90d"
    event_log_retention: str = ""
    # Webhook mode: Telegram POSTs updates to this public https URL (unset: polling).
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""  # default: derived from SECRET_KEY
    # Prometheus metrics: on their own port (0: off), and/or at /metrics with this token.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_token: str = ""
    log_format: str = "text"  # or json: one object per line
    # /readyz says "not ready" when any of these is older than its limit.
    ready_hub_lag: str = "5m"
    ready_outbox_lag: str = "15m"
    ready_scenario_lag: str = "5m"
    ready_bot_silence: str = "10m"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be comma-separated Telegram ids, e.g. 123,456") from None
        return value

    @field_validator("ingest_secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            source, sep, secret = item.partition("=")
            if not sep or not source.strip() or len(secret.strip()) < 16:
                raise ValueError("must be source=secret pairs, each secret 16+ characters")
            pairs[source.strip()] = secret.strip()
        return pairs

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value and not value.strip():
            # Set but blank reads like a token that was meant to be there: never take it
            # for "no token" (the sandbox), which would serve a fake Telegram instead.
            raise ValueError("is blank: set the token from @BotFather, or leave it unset")
        value = value.strip()
        if value and not _TOKEN.match(value):
            raise ValueError("is not a bot token like 123456:ABC-DEF… (from @BotFather)")
        return value

    @field_validator("telegram_api_base", "public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value:
            AnyHttpUrl(value)
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in ("ru", "en"):
            raise ValueError("must be ru or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("form_rate_limit", "ref_visit_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("outbox_global_rate", "outbox_chat_rate", "outbox_group_rate")
    @classmethod
    def _positive_rate(cls, value: str) -> str:
        if parse_rate(value)[0] <= 0:
            raise ValueError("must be a positive rate like 30/s or 20/min")
        return value

    @field_validator("welcome_followup_delay", "start_token_ttl")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        # Keys of sent messages and done deliveries make retries idempotent: they must
        # outlive every retry (hours), so nothing younger than a week is pruned.
        if parse_duration(value) < 7 * 86400:
            raise ValueError("must be at least 7d, like 30d or 90d")
        return value

    @field_validator("event_log_retention")
    @classmethod
    def _log_retention(cls, value: str) -> str:
        if value and parse_duration(value) < 7 * 86400:
            raise ValueError("must be at least 7d, or unset to keep the event log")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be a public https:// URL (Telegram posts only to https)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("must be 16-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("must be 16+ characters")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("ready_hub_lag", "ready_outbox_lag", "ready_scenario_lag", "ready_bot_silence")
    @classmethod
    def _ready_limit(cls, value: str) -> str:
        if parse_duration(value) < 1:
            raise ValueError("must be a duration of at least 1s, like 5m")
        return value

    @field_validator("ref_visit_window", "web_idle_timeout", "web_body_timeout")
    @classmethod
    def _positive_duration(cls, value: str) -> str:
        if parse_duration(value) < 1:
            raise ValueError("must be a duration of at least 1s, like 15s or 24h")
        return value

    @property
    def start_token_ttl_seconds(self) -> float:
        return parse_duration(self.start_token_ttl)

    @property
    def ref_visit_window_seconds(self) -> float:
        return parse_duration(self.ref_visit_window)

    @property
    def web_idle_timeout_seconds(self) -> float:
        return parse_duration(self.web_idle_timeout)

    @property
    def web_body_timeout_seconds(self) -> float:
        return parse_duration(self.web_body_timeout)

    @property
    def retention_seconds(self) -> float:
        return parse_duration(self.retention)

    @property
    def event_log_retention_seconds(self) -> float | None:
        return parse_duration(self.event_log_retention) if self.event_log_retention else None

    def seconds(self, name: str) -> float:
        """A duration setting in seconds, by field name (the readiness limits)."""
        return parse_duration(str(getattr(self, name)))

    @property
    def sandbox(self) -> bool:
        """No bot token: a local fake Bot API stands in for Telegram."""
        return not self.bot_token

    def sandbox_exposure(self) -> str | None:
        """Why this sandbox would be reachable from other machines, or None.

        The sandbox has no authentication: anyone who reaches it can act as any user and
        read every chat (partners' notices carry leads' phones). So it serves this machine
        only, and says so before anything starts.
        """
        if not self.sandbox:
            return None
        hint = "the sandbox (no BOT_TOKEN) serves only this machine"
        if not is_loopback_host(self.web_host):
            return f"WEB_HOST: {hint}: use 127.0.0.1 or localhost, or set BOT_TOKEN"
        if self.public_url and not is_loopback_host(URL(self.public_url).host or ""):
            return f"PUBLIC_URL: {hint}: leave it unset or use http://127.0.0.1:…, or set BOT_TOKEN"
        return None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.web_host in ("0.0.0.0", "::", "") else self.web_host  # noqa: S104
        return f"http://{host}:{self.web_port}"


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message names it."""


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `SettingsError` with one line naming the bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"configuration error: {name}: {msg}") from None
    if exposure := settings.sandbox_exposure():
        raise SettingsError(f"configuration error: {exposure}")
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": _stored_secret(settings.data_dir)})
    return settings


def _stored_secret(data_dir: Path) -> str:
    """The signing key generated on first start and kept under `./data/`."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key
