"""A model onto every Rasa server without a restart, through Rasa's model API (`PUT /model`, on
with `--enable-api --auth-token`), one server at a time: while one loads the new model the others
still answer, and each keeps answering with its old model until the new one is ready
(components/rasa_patches.py loads it off the server's event loop). Conversations live in the
tracker store, not in the model, so none is lost.

Each server is checked afterwards (`GET /status` names the model it serves). If one refuses or
fails, the servers already swapped are put back on the model they had, and the error says which
server and why.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

import requests

from clinic import settings

LOAD_TIMEOUT_SECONDS = 600  # loading a model takes 10 to 30 s here; a busy server takes longer
STATUS_TIMEOUT_SECONDS = 30


class SwapError(RuntimeError):
    """A server did not take the model; the message names it and says why."""


def swap(
    model: Path,
    previous: Optional[Path] = None,
    replicas: Optional[Sequence[str]] = None,
    token: Optional[str] = None,
) -> float:
    """`model` onto every server, one by one; the seconds it took. On a failure the servers
    already swapped go back to `previous` (when given), and SwapError says what happened."""
    current = settings.current()
    replicas = list(replicas or current.rasa_replicas)
    if token is None:
        secret = current.rasa_api_token.get()
        if secret is None:
            raise SwapError(
                f"Rasa's model API has no token: set {settings.RASA_API_TOKEN_ENV} for the "
                "console and the Rasa servers (--auth-token)."
            )
        token = secret.reveal()
    started = time.monotonic()
    done: list[str] = []
    for url in replicas:
        try:
            put_model(url, model, token)
        except SwapError as error:
            if previous is not None:
                for swapped in done:
                    try:
                        put_model(swapped, previous, token)
                    except SwapError:
                        pass  # the error below says the servers may differ
            where = f" ({len(done)} of {len(replicas)} had it and were put back)" if done else ""
            raise SwapError(f"{error}{where}") from None
        done.append(url)
    return time.monotonic() - started


def put_model(url: str, model: Path, token: str) -> None:
    """`model` onto the server at `url`, then checked with its status."""
    try:
        reply = requests.put(
            f"{url}/model",
            params={"token": token},
            json={"model_file": str(model)},
            timeout=LOAD_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise SwapError(
            f"The Rasa server at {url} could not be reached ({type(error).__name__})."
        ) from None
    if reply.status_code != 204:
        raise SwapError(f"The Rasa server at {url} did not take the model: {_why(reply)}.")
    serving = serving_model(url, token)
    if serving != model.name:
        raise SwapError(f"The Rasa server at {url} serves {serving!r}, not {model.name!r}.")


def serving_model(url: str, token: str) -> Optional[str]:
    """The file name of the model the server at `url` serves (Rasa's `GET /status`)."""
    try:
        reply = requests.get(
            f"{url}/status", params={"token": token}, timeout=STATUS_TIMEOUT_SECONDS
        )
        reply.raise_for_status()
        model_file = reply.json().get("model_file")
    except (requests.RequestException, ValueError) as error:
        raise SwapError(
            f"The Rasa server at {url} did not say its model ({type(error).__name__})."
        ) from None
    return Path(model_file).name if model_file else None


def _why(reply: requests.Response) -> str:
    try:
        message = reply.json().get("message")
    except ValueError:
        message = None
    return f"HTTP {reply.status_code}" + (f", {message[:300]}" if message else "")
