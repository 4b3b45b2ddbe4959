"""The assistant's settings: one typed object, built from the environment and validated once.

`current()` builds it the first time a process asks (as its servers start) and keeps it;
`load(environ)` builds one from any mapping (tests, tools). Every variable, its default and its
check is here (docs/configuration.md is the table); a value the assistant cannot use is a
SettingsError naming the variable. Secrets are `Secret`s, which never print. Keys a developer's
machine generates (local mode) are kept in files under var/, created only when a process first
needs them (`LocalKey.get`).
"""

from __future__ import annotations

import functools
import hmac
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Optional, TypeVar
from urllib.parse import urlsplit, urlunsplit

from clinic.profile import PROJECT_ROOT, ClinicProfile, current_profile

DATABASE_URL_ENV = "CLINIC_DATABASE_URL"
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "var" / "assistant.db"
EVENTS_DATABASE_URL_ENV = "CLINIC_EVENTS_DATABASE_URL"
DEFAULT_EVENTS_DATABASE_PATH = PROJECT_ROOT / "var" / "events.db"
CONSOLE_URL_ENV = "CLINIC_CONSOLE_URL"
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8000"
PHONE_HASH_KEY_ENV = "CLINIC_PHONE_HASH_KEY"
DEFAULT_PHONE_HASH_KEY_PATH = PROJECT_ROOT / "var" / "phone-hash.key"
ENV_ENV = "CLINIC_ENV"
CONSOLE_SECRET_ENV = "CLINIC_CONSOLE_SECRET"
DEFAULT_CONSOLE_SECRET_PATH = PROJECT_ROOT / "var" / "console-secret.key"
STAFF_API_TOKEN_ENV = "CLINIC_STAFF_API_TOKEN"
DEFAULT_STAFF_API_TOKEN_PATH = PROJECT_ROOT / "var" / "staff-api.key"
RASA_URL_ENV = "CLINIC_RASA_URL"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
RASA_API_TOKEN_ENV = "CLINIC_RASA_API_TOKEN"
DEFAULT_RASA_API_TOKEN_PATH = PROJECT_ROOT / "var" / "rasa-api.key"
RASA_REPLICAS_ENV = "CLINIC_RASA_REPLICAS"
RETRAINING_DIR_ENV = "CLINIC_RETRAINING_DIR"
REDIS_URL_ENV = "CLINIC_REDIS_URL"
REST_TOKEN_ENV = "CLINIC_REST_TOKEN"
ACTION_TOKEN_ENV = "CLINIC_ACTION_TOKEN"
TWILIO_API_BASE = "https://api.twilio.com"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "placeholder", "dev", "development"}

N = TypeVar("N", int, float)

WEBHOOK = "webhook"
EMAIL = "email"


class SettingsError(ValueError):
    """An environment variable has a value the assistant cannot use."""


class Secret:
    """A value that must never reach a log, a repr or an error message."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def is_bearer_of(self, authorization: Optional[str]) -> bool:
        """Whether an Authorization header is exactly `Bearer <this secret>` (constant time)."""
        expected = f"Bearer {self._value}".encode()
        return hmac.compare_digest((authorization or "").encode(), expected)


@dataclass(frozen=True)
class LocalKey:
    """A secret from `variable`; when it is unset and `path` is given (local mode, or a key the
    assistant may always generate), one kept in that file, created when first needed."""

    variable: str
    value: Optional[Secret]
    path: Optional[Path]

    def get(self) -> Optional[Secret]:
        if self.value is not None:
            return self.value
        return key_file(self.path) if self.path is not None else None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: Optional[str]
    password: Optional[Secret]
    sender: Optional[str]  # None: assistant@<domain of the recipient>
    starttls: bool


@dataclass(frozen=True)
class TwilioSettings:
    auth_token: Secret
    webhook_url: str  # the public URL Twilio posts to: what its signatures are computed over
    account_sid: Optional[str]  # these two are needed only to send outside a webhook's reply
    sender: Optional[str]  # the clinic's Twilio number (E.164) or a Messaging Service SID
    api_base: str
    reply_budget_seconds: float  # longer than this, the reply goes out through the REST API
    concurrent_turns: int  # SMS turns the assistant works on at once; the others wait
    claim_lease_seconds: float  # a retry takes over a message unanswered this long (died)


@dataclass(frozen=True)
class RateLimits:
    burst: int  # messages a sender may send at once
    per_minute: float  # and then at this rate


@dataclass(frozen=True)
class AlertCap:
    per_window: int  # notifications one target gets in a window, one by one
    window_minutes: float  # past that, one "N more" summary a window (clinic/delivery.py)


@dataclass(frozen=True)
class DeliverySettings:
    """The escalation delivery worker's (clinic/delivery.py)."""

    backoff_seconds: float  # the first retry delay of a failed delivery; it doubles each attempt
    lease_seconds: float  # how long a worker owns a delivery it is sending; > any send
    alert_cap: AlertCap
    smtp: Optional[SmtpSettings]  # e-mail alerts (None when CLINIC_SMTP_HOST is unset)


@dataclass(frozen=True)
class RabbitMQFeed:
    """Where the console's index is fed from when scaled out (instead of the events database)."""

    url: Secret
    queue: str


@dataclass(frozen=True)
class Settings:
    local: bool  # a developer's machine (CLINIC_ENV=local); unset: a deployment, which fails closed
    database_url: str  # the clinic's own records
    events_database_url: str  # Rasa's SQL event broker, which feeds the console's index
    redis_url: Optional[Secret]  # what replicas share; None: one process, all in memory
    rest_token: Optional[Secret]  # the REST channel's bearer token
    action_token: Optional[Secret]  # the Rasa server's to the action server (endpoints.yml)
    staff_api_token: LocalKey  # the Rasa server's staff API (take-over); None: take-over off
    console_secret: LocalKey  # signs the console's session cookies; the console needs it
    phone_hash_key: LocalKey  # the keyed hash of phone numbers (conversation ids)
    rasa_url: str  # where the console reaches the Rasa server's staff API
    # Rasa's own HTTP API (a model swap): its token, and each server, one by one (not a balancer)
    rasa_api_token: LocalKey
    rasa_replicas: tuple[str, ...]
    retraining_dir: Path  # the console's retraining runs: data, logs and models
    console_url: str  # where staff open the console, for links in notifications
    rate_limits: RateLimits  # per sender, on the public channels
    twilio: Optional[TwilioSettings]  # None: SMS is off
    delivery: DeliverySettings
    events_rabbitmq: Optional[RabbitMQFeed]
    environ: Mapping[str, str] = field(repr=False, compare=False)  # for variables a profile names

    def alert_webhook_url(self, profile: Optional[ClinicProfile] = None) -> Optional[Secret]:
        """The alert webhook, from the variable the clinic profile names (None when unset)."""
        variable = (profile or current_profile()).notifications.webhook_url_env
        value = self.environ.get(variable, "").strip() if variable else ""
        return Secret(value) if value else None

    def alert_targets(self, profile: Optional[ClinicProfile] = None) -> list[str]:
        """The notification targets whose settings are present, e.g. ["webhook", "email"]."""
        profile = profile or current_profile()
        targets = []
        if self.alert_webhook_url(profile) is not None:
            targets.append(WEBHOOK)
        if profile.notifications.email_to and self.delivery.smtp is not None:
            targets.append(EMAIL)
        return targets

    def require_console_secret(self) -> Secret:
        secret = self.console_secret.get()
        if secret is None:
            raise SettingsError(_weak_secret_message(CONSOLE_SECRET_ENV))
        return secret


def load(environ: Mapping[str, str]) -> Settings:
    """Settings from `environ`, every value checked (SettingsError names the first bad one)."""
    read = _Reader(environ)
    local = read.text(ENV_ENV).lower() == "local"
    return Settings(
        local=local,
        database_url=read.text(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DATABASE_PATH}",
        events_database_url=(
            read.text(EVENTS_DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_EVENTS_DATABASE_PATH}"
        ),
        redis_url=read.url(REDIS_URL_ENV, ("redis://", "rediss://", "unix://")),
        rest_token=read.strong_secret(REST_TOKEN_ENV),
        action_token=read.strong_secret(ACTION_TOKEN_ENV),
        staff_api_token=LocalKey(
            STAFF_API_TOKEN_ENV,
            read.strong_secret(STAFF_API_TOKEN_ENV),
            DEFAULT_STAFF_API_TOKEN_PATH if local else None,
        ),
        console_secret=LocalKey(
            CONSOLE_SECRET_ENV,
            read.strong_secret(CONSOLE_SECRET_ENV),
            DEFAULT_CONSOLE_SECRET_PATH if local else None,
        ),
        # Always its file when unset: a new key would start new conversations for every number.
        phone_hash_key=LocalKey(
            PHONE_HASH_KEY_ENV, read.secret(PHONE_HASH_KEY_ENV), DEFAULT_PHONE_HASH_KEY_PATH
        ),
        rasa_url=(read.text(RASA_URL_ENV) or DEFAULT_RASA_URL).rstrip("/"),
        rasa_api_token=LocalKey(
            RASA_API_TOKEN_ENV,
            read.strong_secret(RASA_API_TOKEN_ENV),
            DEFAULT_RASA_API_TOKEN_PATH if local else None,
        ),
        rasa_replicas=_replicas(read),
        retraining_dir=Path(read.text(RETRAINING_DIR_ENV) or PROJECT_ROOT / "var" / "retraining"),
        console_url=(read.text(CONSOLE_URL_ENV) or DEFAULT_CONSOLE_URL).rstrip("/"),
        rate_limits=RateLimits(
            burst=read.positive("CLINIC_RATE_BURST", 20, int),
            per_minute=read.positive("CLINIC_RATE_PER_MINUTE", 60.0, float),
        ),
        twilio=_twilio(read),
        delivery=DeliverySettings(
            backoff_seconds=read.positive("CLINIC_DELIVERY_BACKOFF_SECONDS", 5.0, float),
            lease_seconds=read.positive("CLINIC_DELIVERY_LEASE_SECONDS", 60.0, float),
            alert_cap=AlertCap(
                per_window=read.positive("CLINIC_ALERTS_PER_WINDOW", 10, int),
                window_minutes=read.positive("CLINIC_ALERT_WINDOW_MINUTES", 15.0, float),
            ),
            smtp=_smtp(read),
        ),
        events_rabbitmq=_rabbitmq(read),
        environ=MappingProxyType(dict(environ)),
    )


@functools.lru_cache(maxsize=1)
def current() -> Settings:
    """This process's settings, built from its environment on first use."""
    return load(os.environ)


def reload() -> Settings:
    """Build this process's settings again (after the environment changed: tests)."""
    current.cache_clear()
    return current()


def _replicas(read: _Reader) -> tuple[str, ...]:
    """Each Rasa server's own address, comma-separated; unset: CLINIC_RASA_URL's alone."""
    urls = [url.strip().rstrip("/") for url in read.text(RASA_REPLICAS_ENV).split(",")]
    urls = [url for url in urls if url] or [
        (read.text(RASA_URL_ENV) or DEFAULT_RASA_URL).rstrip("/")
    ]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"{RASA_REPLICAS_ENV}: {url!r} is not an http(s) address")
    return tuple(dict.fromkeys(urls))


def _twilio(read: _Reader) -> Optional[TwilioSettings]:
    token = read.text("TWILIO_AUTH_TOKEN")
    if not token:
        return None
    webhook = read.text("TWILIO_WEBHOOK_URL")
    if not webhook.startswith(("https://", "http://")):
        raise SettingsError(
            "TWILIO_WEBHOOK_URL: set it to the public address Twilio posts to, e.g. "
            "https://assistant.example.com/webhooks/twilio/webhook"
        )
    return TwilioSettings(
        auth_token=Secret(token),
        webhook_url=webhook,
        account_sid=read.text("TWILIO_ACCOUNT_SID") or None,
        sender=read.text("TWILIO_NUMBER") or None,
        api_base=(read.text("TWILIO_API_BASE") or TWILIO_API_BASE).rstrip("/"),
        reply_budget_seconds=read.positive("TWILIO_REPLY_BUDGET_SECONDS", 8.0, float),
        concurrent_turns=read.positive("TWILIO_CONCURRENT_TURNS", 4, int),
        claim_lease_seconds=read.positive("TWILIO_CLAIM_LEASE_SECONDS", 30.0, float),
    )


def _smtp(read: _Reader) -> Optional[SmtpSettings]:
    host = read.text("CLINIC_SMTP_HOST")
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=read.positive("CLINIC_SMTP_PORT", 25, int),
        user=read.text("CLINIC_SMTP_USER") or None,
        password=read.secret("CLINIC_SMTP_PASSWORD"),
        sender=read.text("CLINIC_SMTP_FROM") or None,
        starttls=read.flag("CLINIC_SMTP_STARTTLS"),
    )


def _rabbitmq(read: _Reader) -> Optional[RabbitMQFeed]:
    url = read.url("CLINIC_EVENTS_RABBITMQ_URL", ("amqp://", "amqps://"))
    if url is None:
        return None
    return RabbitMQFeed(url, read.text("CLINIC_EVENTS_QUEUE") or "console_events")


class _Reader:
    """Typed, checked reads of one environment."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, variable: str) -> str:
        return (self.environ.get(variable) or "").strip()

    def secret(self, variable: str) -> Optional[Secret]:
        value = self.text(variable)
        return Secret(value) if value else None

    def strong_secret(self, variable: str) -> Optional[Secret]:
        """A random secret, or None when unset; a short, repetitive or placeholder value is an
        error."""
        value = self.text(variable)
        if not value:
            return None
        if len(value) < 32 or value.lower() in _PLACEHOLDERS or len(set(value)) <= 8:
            raise SettingsError(_weak_secret_message(variable))
        return Secret(value)

    def url(self, variable: str, schemes: tuple[str, ...]) -> Optional[Secret]:
        value = self.text(variable)
        if not value:
            return None
        if not value.startswith(schemes):
            raise SettingsError(f"{variable}: a URL starting with {' or '.join(schemes)} is needed")
        return Secret(value)

    def positive(self, variable: str, default: N, kind: Callable[[str], N]) -> N:
        raw = self.text(variable)
        if not raw:
            return default
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value <= 0:
            raise SettingsError(f"{variable}: {raw!r} is not a positive number")
        return value

    def flag(self, variable: str) -> bool:
        raw = self.text(variable).lower()
        if raw in ("", "0", "false", "no"):
            return False
        if raw in ("1", "true", "yes"):
            return True
        raise SettingsError(f"{variable}: {raw!r} is not 0 or 1")


def _weak_secret_message(variable: str) -> str:
    return (
        f"{variable}: set a random value of at least 32 characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`"
    )


def key_file(path: Path) -> Secret:
    """A random key kept in a file of its own (0600), created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic, and never replaces a key another process wrote
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return Secret(path.read_text().strip())


def redacted_url(url: str) -> str:
    """`url` with any password replaced, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
