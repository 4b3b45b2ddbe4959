"""Settings read from the environment, in one place."""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TypeVar
from urllib.parse import urlsplit, urlunsplit

from clinic.profile import PROJECT_ROOT, ClinicProfile, current_profile

DATABASE_URL_ENV = "CLINIC_DATABASE_URL"
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "var" / "assistant.db"
EVENTS_DATABASE_URL_ENV = "CLINIC_EVENTS_DATABASE_URL"
DEFAULT_EVENTS_DATABASE_PATH = PROJECT_ROOT / "var" / "events.db"

CONSOLE_URL_ENV = "CLINIC_CONSOLE_URL"
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8000"
BACKOFF_ENV = "CLINIC_DELIVERY_BACKOFF_SECONDS"
PHONE_HASH_KEY_ENV = "CLINIC_PHONE_HASH_KEY"
DEFAULT_PHONE_HASH_KEY_PATH = PROJECT_ROOT / "var" / "phone-hash.key"
ENV_ENV = "CLINIC_ENV"
CONSOLE_SECRET_ENV = "CLINIC_CONSOLE_SECRET"
DEFAULT_CONSOLE_SECRET_PATH = PROJECT_ROOT / "var" / "console-secret.key"
STAFF_API_TOKEN_ENV = "CLINIC_STAFF_API_TOKEN"
DEFAULT_STAFF_API_TOKEN_PATH = PROJECT_ROOT / "var" / "staff-api.key"
RASA_URL_ENV = "CLINIC_RASA_URL"
REDIS_URL_ENV = "CLINIC_REDIS_URL"
REST_TOKEN_ENV = "CLINIC_REST_TOKEN"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "placeholder", "dev", "development"}
TWILIO_API_BASE = "https://api.twilio.com"
LEASE_ENV = "CLINIC_DELIVERY_LEASE_SECONDS"

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


def twilio_settings() -> Optional[TwilioSettings]:
    """The SMS channel's settings (None when TWILIO_AUTH_TOKEN is unset: SMS is off)."""
    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    if not token:
        return None
    webhook = os.environ.get("TWILIO_WEBHOOK_URL", "").strip()
    if not webhook.startswith(("https://", "http://")):
        raise SettingsError(
            "TWILIO_WEBHOOK_URL: set it to the public address Twilio posts to, e.g. "
            "https://assistant.example.com/webhooks/twilio/webhook"
        )
    return TwilioSettings(
        auth_token=Secret(token),
        webhook_url=webhook,
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID", "").strip() or None,
        sender=os.environ.get("TWILIO_NUMBER", "").strip() or None,
        api_base=(os.environ.get("TWILIO_API_BASE") or TWILIO_API_BASE).rstrip("/"),
        reply_budget_seconds=_positive_number("TWILIO_REPLY_BUDGET_SECONDS", 8.0, float),
        concurrent_turns=_positive_number("TWILIO_CONCURRENT_TURNS", 4, int),
        claim_lease_seconds=_positive_number("TWILIO_CLAIM_LEASE_SECONDS", 30.0, float),
    )


def phone_hash_key() -> Secret:
    """The key of the keyed hash that turns a phone number into a conversation id.

    From CLINIC_PHONE_HASH_KEY, else from var/phone-hash.key, created on first use. Keep it:
    a new key starts new conversations for every number.
    """
    value = os.environ.get(PHONE_HASH_KEY_ENV, "").strip()
    return Secret(value) if value else _key_file(DEFAULT_PHONE_HASH_KEY_PATH)


def local_mode() -> bool:
    """Running on a developer's machine (CLINIC_ENV=local), not for a clinic.

    Only when said explicitly (`make run`, `make test` and the tests' conftest say it): unset,
    a server takes a deployment's settings, which refuse to run open (the REST channel without
    its token, generated keys) rather than fail open.
    """
    return (os.environ.get(ENV_ENV) or "").strip().lower() == "local"


def console_secret() -> Secret:
    """The key that signs the staff console's session cookies.

    From CLINIC_CONSOLE_SECRET; in local mode, when unset, from var/console-secret.key (created
    on first use). Outside local mode a missing, short or placeholder value stops the console.
    """
    secret = _strong_secret(CONSOLE_SECRET_ENV, DEFAULT_CONSOLE_SECRET_PATH)
    if secret is None:
        raise SettingsError(_weak_secret_message(CONSOLE_SECRET_ENV))
    return secret


def staff_api_token() -> Optional[Secret]:
    """The bearer token of the Rasa server's staff API (channels/staff.py); the console sends it.

    From CLINIC_STAFF_API_TOKEN; in local mode, when unset, from var/staff-api.key (created on
    first use), which every process of `make run` reads. None outside local mode when unset:
    take-over is off. A short or placeholder value is an error.
    """
    return _strong_secret(STAFF_API_TOKEN_ENV, DEFAULT_STAFF_API_TOKEN_PATH)


def rasa_url() -> str:
    """Where the console reaches the Rasa server (its staff API)."""
    return (os.environ.get(RASA_URL_ENV) or DEFAULT_RASA_URL).rstrip("/")


def _strong_secret(variable: str, local_path: Path) -> Optional[Secret]:
    """A random secret from `variable`; when it is unset, in local mode one kept in `local_path`,
    else None. A short, repetitive or placeholder value raises SettingsError."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return _key_file(local_path) if local_mode() else None
    if len(value) < 32 or value.lower() in _PLACEHOLDERS or len(set(value)) <= 8:
        raise SettingsError(_weak_secret_message(variable))
    return Secret(value)


def _weak_secret_message(variable: str) -> str:
    return (
        f"{variable}: set a random value of at least 32 characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`"
    )


def _key_file(path: Path) -> Secret:
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


def database_url() -> str:
    """The SQL database for the clinic's own records (SQLite under var/ by default)."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DATABASE_PATH}"


def events_database_url() -> str:
    """The database Rasa's SQL event broker writes to (endpoints.yml `event_broker`), which
    feeds the console's conversation index; never the tracker store's (both have `events`)."""
    return os.environ.get(EVENTS_DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_EVENTS_DATABASE_PATH}"


def redis_url() -> Optional[Secret]:
    """Redis for what replicas share (components/lock_store.py, the widget's socket.io rooms);
    None when CLINIC_REDIS_URL is unset: one process, everything in memory."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"{REDIS_URL_ENV}: a redis://, rediss:// or unix:// URL is needed")
    return Secret(url)


@dataclass(frozen=True)
class RateLimits:
    burst: int  # messages a sender may send at once
    per_minute: float  # and then at this rate


def rate_limits() -> RateLimits:
    """Per-sender limits of the public channels (channels/rate_limit.py)."""
    return RateLimits(burst=_positive_number("CLINIC_RATE_BURST", 20, int),
                      per_minute=_positive_number("CLINIC_RATE_PER_MINUTE", 60.0, float))


def rest_token() -> Optional[Secret]:
    """The bearer token of the REST channel (channels/rest.py). In local mode, when unset, the
    channel is open (development, tests); outside local mode it is off without one."""
    value = os.environ.get(REST_TOKEN_ENV, "").strip()
    if not value:
        return None
    if len(value) < 32 or value.lower() in _PLACEHOLDERS or len(set(value)) <= 8:
        raise SettingsError(_weak_secret_message(REST_TOKEN_ENV))
    return Secret(value)


def redacted_url(url: str) -> str:
    """`url` with any password replaced, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def events_rabbitmq() -> Optional[tuple[Secret, str]]:
    """(AMQP URL, queue) when the console's index is fed from RabbitMQ instead (scaled out)."""
    url = os.environ.get("CLINIC_EVENTS_RABBITMQ_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("amqp://", "amqps://")):
        raise SettingsError("CLINIC_EVENTS_RABBITMQ_URL: an amqp:// or amqps:// URL is needed")
    return Secret(url), os.environ.get("CLINIC_EVENTS_QUEUE", "").strip() or "console_events"


def console_url() -> str:
    """Where staff open the console, for links in notifications."""
    return (os.environ.get(CONSOLE_URL_ENV) or DEFAULT_CONSOLE_URL).rstrip("/")


def webhook_url(profile: Optional[ClinicProfile] = None) -> Optional[Secret]:
    """The alert webhook, from the variable the profile names (None when unset)."""
    variable = (profile or current_profile()).notifications.webhook_url_env
    value = os.environ.get(variable, "").strip() if variable else ""
    return Secret(value) if value else None


def smtp_settings() -> Optional[SmtpSettings]:
    """The SMTP server for e-mail alerts (None when CLINIC_SMTP_HOST is unset)."""
    host = os.environ.get("CLINIC_SMTP_HOST", "").strip()
    if not host:
        return None
    password = os.environ.get("CLINIC_SMTP_PASSWORD")
    return SmtpSettings(
        host=host,
        port=_positive_number("CLINIC_SMTP_PORT", 25, int),
        user=os.environ.get("CLINIC_SMTP_USER") or None,
        password=Secret(password) if password else None,
        sender=os.environ.get("CLINIC_SMTP_FROM") or None,
        starttls=_flag("CLINIC_SMTP_STARTTLS"),
    )


def configured_targets(profile: Optional[ClinicProfile] = None) -> list[str]:
    """The notification targets whose settings are present, e.g. ["webhook", "email"]."""
    profile = profile or current_profile()
    targets = []
    if webhook_url(profile) is not None:
        targets.append(WEBHOOK)
    if profile.notifications.email_to and smtp_settings() is not None:
        targets.append(EMAIL)
    return targets


def delivery_backoff_seconds() -> float:
    """The first retry delay of a failed delivery; it doubles with every attempt."""
    return _positive_number(BACKOFF_ENV, 5.0, float)


@dataclass(frozen=True)
class AlertCap:
    per_window: int  # notifications one target gets in a window, one by one
    window_minutes: float  # past that, one "N more" summary a window (clinic/delivery.py)


def alert_cap() -> AlertCap:
    return AlertCap(per_window=_positive_number("CLINIC_ALERTS_PER_WINDOW", 10, int),
                    window_minutes=_positive_number("CLINIC_ALERT_WINDOW_MINUTES", 15.0, float))


def delivery_lease_seconds() -> float:
    """How long a worker owns a delivery it is sending; longer than any send can take."""
    return _positive_number(LEASE_ENV, 60.0, float)


def _positive_number(variable: str, default: N, kind: Callable[[str], N]) -> N:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{variable}: {raw!r} is not a positive number")
    return value


def _flag(variable: str) -> bool:
    raw = os.environ.get(variable, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{variable}: {raw!r} is not 0 or 1")
