"""The action server: rasa_sdk's, on loopback unless told otherwise, answering only the Rasa
server.

    python -m clinic.action_server [--port 5055] [--host 127.0.0.1]

`rasa run actions` listens on every interface with no authentication: anyone who could reach
it could post a made-up conversation and have it record escalations or contact requests.
This one binds to 127.0.0.1 by default (a deployment that runs it apart from the Rasa server
passes `--host 0.0.0.0` and keeps it on a private network), and answers a request only with
the shared secret the Rasa server sends (`endpoints.yml`: `Authorization: Bearer
${CLINIC_ACTION_TOKEN}`). `GET /health` stays open for probes; it says nothing about anyone.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from clinic import settings
from clinic.settings import ACTION_TOKEN_ENV, Secret, SettingsError

OPEN_PATHS = frozenset({"/health"})
logger = logging.getLogger(__name__)


def action_token() -> Secret:
    """The shared secret from CLINIC_ACTION_TOKEN (`make run` generates one into var/)."""
    token = settings.current().action_token
    if token is None:
        raise SettingsError(
            f"{ACTION_TOKEN_ENV}: 32 or more random characters are needed (the "
            "Rasa server sends it to the action server; `make run` makes one)"
        )
    return token


def action_app(token: Secret) -> Sanic:
    """rasa_sdk's application for the `actions` package, behind the shared secret."""
    app = create_app("actions", cors_origins=None)

    @app.on_request
    async def require_token(request: Request) -> Optional[response.HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if not token.is_bearer_of(request.headers.get("Authorization")):
            return response.json(
                {"error": "This action server answers only its Rasa server."}, status=401
            )
        return None

    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        token = action_token()
    except SettingsError as error:
        print(f"action server: {error}", file=sys.stderr)
        return 2
    app = action_app(token)
    logger.info(
        "Action server on http://%s:%d (requests need the Rasa server's token)",
        args.host,
        args.port,
    )
    app.run(args.host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
