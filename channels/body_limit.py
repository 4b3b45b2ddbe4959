"""A cap on request bodies for the whole Rasa server (Sanic's default is 100 MB).

Rasa builds the Sanic app itself and offers no setting for it; each of our channels registers
this on its blueprint, so the cap holds however the server is started and whatever sits in
front of it. A larger body is refused with 413 before it is read. The largest request the
assistant expects is a staff reply or an SMS webhook, a few kilobytes; the channels refuse
more than their own limits with a JSON error of their own.
"""

from __future__ import annotations

from sanic import Blueprint, Sanic

REQUEST_MAX_BYTES = 1024 * 1024


def cap_request_bodies(blueprint: Blueprint) -> None:
    @blueprint.listener("before_server_start")
    async def _cap(app: Sanic, _loop: object) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, REQUEST_MAX_BYTES)
