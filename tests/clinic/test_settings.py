"""clinic/settings.py: what a server does when nobody said where it runs."""

import asyncio

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


def test_unset_is_a_deployment_not_local_mode(unset_environment, monkeypatch):
    assert settings.local_mode() is False
    monkeypatch.setenv("CLINIC_ENV", "local")
    assert settings.local_mode() is True
    monkeypatch.setenv("CLINIC_ENV", "production")
    assert settings.local_mode() is False


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
