"""clinic/settings.py: what a server does when nobody said where it runs."""

import asyncio
import secrets

import pytest
from sanic import Sanic
from sanic.request import Request

from channels.rest import RestInput
from clinic import settings


@pytest.fixture
def unset_environment(monkeypatch):
    monkeypatch.delenv("CLINIC_ENV", raising=False)
    monkeypatch.delenv("CLINIC_REST_TOKEN", raising=False)
    monkeypatch.delenv("CLINIC_REDIS_URL", raising=False)


def test_unset_is_a_deployment_not_local_mode():
    assert settings.load({}).local is False
    assert settings.load({"CLINIC_ENV": "local"}).local is True
    assert settings.load({"CLINIC_ENV": "production"}).local is False


def test_the_defaults_are_a_single_machine_on_sqlite_with_sms_and_email_off():
    loaded = settings.load({})
    assert loaded.database_url == f"sqlite:///{settings.DEFAULT_DATABASE_PATH}"
    assert loaded.events_database_url == f"sqlite:///{settings.DEFAULT_EVENTS_DATABASE_PATH}"
    assert (loaded.redis_url, loaded.twilio, loaded.delivery.smtp, loaded.events_rabbitmq) == (
        None,
        None,
        None,
        None,
    )
    assert loaded.rate_limits == settings.RateLimits(burst=20, per_minute=60.0)
    assert loaded.console_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "variable, value",
    [
        ("CLINIC_RATE_BURST", "0"),
        ("CLINIC_RATE_PER_MINUTE", "nan"),
        ("CLINIC_DELIVERY_LEASE_SECONDS", "-1"),
        ("TWILIO_CONCURRENT_TURNS", "four"),
        ("CLINIC_SMTP_STARTTLS", "maybe"),
        ("CLINIC_REDIS_URL", "http://127.0.0.1:6379"),
        ("CLINIC_EVENTS_RABBITMQ_URL", "127.0.0.1:5672"),
        ("CLINIC_REST_TOKEN", "changeme"),
        ("CLINIC_CONSOLE_SECRET", "a" * 40),
        ("TWILIO_WEBHOOK_URL", "assistant.example.com"),
        ("CLINIC_RASA_API_TOKEN", "short"),
        ("CLINIC_RASA_REPLICAS", "http://127.0.0.1:5005, 127.0.0.1:5006"),
    ],
)
def test_a_bad_value_stops_the_start_naming_its_variable(variable, value):
    environ = {
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_WEBHOOK_URL": "https://a.example/hook",
        "CLINIC_SMTP_HOST": "mail.example",
        variable: value,
    }
    with pytest.raises(settings.SettingsError) as raised:
        settings.load(environ)
    assert str(raised.value).startswith(f"{variable}:")
    if variable.endswith(("TOKEN", "SECRET")):
        assert value not in str(raised.value)


def test_a_model_goes_to_each_rasa_server_named_else_to_the_one_the_console_reaches():
    assert settings.load({}).rasa_replicas == ("http://127.0.0.1:5005",)
    assert settings.load({"CLINIC_RASA_URL": "http://10.0.0.5:5005/"}).rasa_replicas == (
        "http://10.0.0.5:5005",
    )
    replicas = "http://127.0.0.1:5101/, http://127.0.0.1:5102,,http://127.0.0.1:5101"
    assert settings.load({"CLINIC_RASA_REPLICAS": replicas}).rasa_replicas == (
        "http://127.0.0.1:5101",
        "http://127.0.0.1:5102",
    )


def test_secrets_never_print():
    token, password = secrets.token_hex(32), "hunter2-smtp"
    loaded = settings.load(
        {
            "CLINIC_REST_TOKEN": token,
            "CLINIC_SMTP_HOST": "mail.example",
            "CLINIC_SMTP_PASSWORD": password,
            "CLINIC_REDIS_URL": f"redis://:{password}@127.0.0.1:6379/0",
        }
    )
    assert loaded.rest_token.reveal() == token
    shown = repr(loaded) + str(loaded)
    assert token not in shown and password not in shown


def test_generated_keys_only_in_local_mode_and_only_when_a_process_needs_one(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DEFAULT_CONSOLE_SECRET_PATH", tmp_path / "console-secret.key")
    deployed = settings.load({})
    assert deployed.console_secret.get() is None
    with pytest.raises(settings.SettingsError, match="CLINIC_CONSOLE_SECRET"):
        deployed.require_console_secret()
    local = settings.load({"CLINIC_ENV": "local"})
    assert not (tmp_path / "console-secret.key").exists()  # loading writes nothing
    key = local.require_console_secret().reveal()
    assert len(key) == 64 and (tmp_path / "console-secret.key").stat().st_mode & 0o777 == 0o600
    assert settings.load({"CLINIC_ENV": "local"}).require_console_secret().reveal() == key


def test_current_is_built_once_and_reload_reads_the_environment_again(monkeypatch):
    monkeypatch.setenv("CLINIC_RATE_BURST", "7")
    first = settings.reload()
    monkeypatch.setenv("CLINIC_RATE_BURST", "9")
    assert settings.current() is first and first.rate_limits.burst == 7
    assert settings.reload().rate_limits.burst == 9


def test_unset_the_rest_channel_without_a_token_stays_closed(unset_environment):
    """It used to trust any client and any `sender` when CLINIC_ENV was forgotten."""
    received = []

    async def on_new_message(message):
        received.append(message)

    blueprint = RestInput().blueprint(on_new_message)
    handler = next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")
    app = Sanic("settings_test")  # a Request needs an app

    async def post():
        request = Request(b"/webhook", {}, "1.1", "POST", None, app)
        request.body = b'{"sender": "someone-else", "message": "hello"}'
        return await handler(request)

    reply = asyncio.run(post())
    assert reply.status == 503
    assert b"CLINIC_REST_TOKEN" in reply.body
    assert received == []


def test_a_bearer_token_matches_only_exactly():
    token = settings.Secret(secrets.token_hex(32))
    assert token.is_bearer_of(f"Bearer {token.reveal()}")
    for header in (
        None,
        "",
        token.reveal(),
        f"bearer {token.reveal()}",
        f"Bearer {token.reveal()} ",
        f"Bearer  {token.reveal()}",
        "Bearer é" + token.reveal()[2:],
    ):
        assert not token.is_bearer_of(header), header
