"""Shared fixtures: the project's files, the trained model, a real running assistant, a
stand-in Twilio cloud and Debian's Chromium. Their helpers are in support.py.

Every test is also given one of the four kinds of pytest.ini (unit, integration, browser,
cluster) from what it uses, in `pytest_collection_modifyitems` below."""

from __future__ import annotations

import os
import secrets
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Literal, Set

import pytest
from playwright.sync_api import Browser, sync_playwright

from support import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    MODEL,
    ROOT,
    STAFF_API_TOKEN,
    RunningAssistant,
    TwilioCloud,
    _twilio_handler,
    load_yaml,
    start_assistant,
    stop,
)

# The tests run in local mode unless a test says otherwise (the servers they start inherit it).
os.environ.setdefault("CLINIC_ENV", "local")
# The secret the Rasa servers the tests start send to their action servers (endpoints.yml).
os.environ.setdefault("CLINIC_ACTION_TOKEN", secrets.token_hex(32))


# The kinds of test (pytest.ini), weakest first: a test is the strongest kind anything it uses
# makes it, so nobody has to remember to mark it. `make unit` runs the unit tests alone.
KINDS = ("unit", "integration", "browser", "cluster")
CLUSTER_FIXTURES = {"cluster"}  # tests/deploy/conftest.py
BROWSER_FIXTURES = {"browser"}
# Fixtures that need the trained model, start a process or a server on loopback, or reach this
# machine's PostgreSQL or RabbitMQ; a fixture that depends on one of them (`demo`,
# `flaky_assistant`, …) brings it into the test's fixturenames too.
INTEGRATION_FIXTURES = {
    "trained_model",
    "assistant",
    "twilio_cloud",  # here
    "slow_assistant",  # channels/sms/conftest.py
    "console_url",  # console/test_console_browser.py
    "action_server",  # clinic/test_action_server.py
    "postgres_databases",  # console/test_admin_retention.py
    "queue",  # projector/test_rabbitmq_feed.py: RabbitMQ
    "webhook",
    "mail",  # test_delivery.py: HTTP and SMTP servers
}
# A test parametrized over its backend runs these cases against this machine's servers.
SERVICE_BACKENDS = {"postgresql", "redis"}
# Tests that start a process or reach Redis themselves, with no fixture that says so.
INTEGRATION_TESTS = {
    "tests/channels/test_webchat_presence.py::"
    "test_across_replicas_through_redis_and_a_dead_replica_stops_counting",
    "tests/components/test_lock_store.py::test_one_holder_at_a_time_in_the_order_they_came",
    "tests/components/test_lock_store.py::test_a_dead_holders_ticket_is_dropped_after_its_lifetime",
    "tests/components/test_lock_store.py::test_waiting_longer_than_allowed_is_a_lock_error",
    "tests/clinic/test_action_server.py::test_without_a_strong_token_it_does_not_start",
    "tests/test_training_data.py::test_rasa_data_validate_is_clean",
    "tests/clinic/test_delivery.py::test_without_targets_the_worker_says_where_escalations_are",
    "tests/clinic/test_delivery.py::test_an_unreachable_database_is_retried_not_fatal",
    "tests/clinic/test_escalations.py::test_the_command_line_lists_shows_acknowledges_and_resolves",
    "tests/clinic/test_escalations.py::test_the_command_line_refuses_bad_ids_in_one_line",
    "tests/clinic/test_escalations.py::test_the_command_line_refuses_an_invalid_transition",
    "tests/clinic/test_escalations.py::test_an_empty_store_says_so",
    "tests/clinic/test_migrations.py::test_the_migrate_command_makes_the_folder_and_says_what_it_did",
}


def kind_of(item: pytest.Item) -> str:
    """What the test's fixtures, parameters and INTEGRATION_TESTS make it."""
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & CLUSTER_FIXTURES:
        return "cluster"
    if fixtures & BROWSER_FIXTURES:
        return "browser"
    callspec = getattr(item, "callspec", None)
    backends = {v for v in callspec.params.values() if isinstance(v, str)} if callspec else set()
    if (
        fixtures & INTEGRATION_FIXTURES
        or backends & SERVICE_BACKENDS
        or item.nodeid.split("[")[0] in INTEGRATION_TESTS
    ):
        return "integration"
    return "unit"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Gives each test its kind; a test may mark itself a stronger kind than its fixtures say
    (one that starts a server inline), never a weaker one, and never two."""
    problems: List[str] = []
    for item in items:
        derived = kind_of(item)
        marked: Set[str] = {m.name for m in item.iter_markers() if m.name in KINDS}
        kind = max(marked | {derived}, key=KINDS.index)
        if len(marked) > 1:
            problems.append(f"{item.nodeid}: marked {' and '.join(sorted(marked))}")
        elif marked - {kind}:
            problems.append(
                f"{item.nodeid}: marked {''.join(marked)}, but its fixtures, "
                f"parameters or INTEGRATION_TESTS make it {kind}"
            )
        elif kind not in marked:
            item.add_marker(kind)
    modules = {
        item.nodeid.split("::")[0]: item.module
        for item in items
        if getattr(item, "module", None) is not None
    }
    for listed in sorted(INTEGRATION_TESTS):
        path, *names = listed.split("::")
        found = modules.get(path)
        for name in names:
            found = getattr(found, name, None)
        if path in modules and found is None:
            problems.append(
                f"INTEGRATION_TESTS in tests/conftest.py names {listed}, "
                "which does not exist any more"
            )
    if problems:
        raise pytest.UsageError(
            f"Each test must be exactly one of {', '.join(KINDS)}:\n  " + "\n  ".join(problems)
        )


@pytest.fixture(autouse=True)
def settings_from_this_tests_environment() -> Iterator[None]:
    """clinic.settings.current() is built once a process; a test that changes the environment
    (monkeypatch.setenv, in the test or its fixtures) gets settings built from it, and leaves
    none behind."""
    from clinic import settings

    settings.current.cache_clear()
    yield
    settings.current.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def console_argon2_once_a_password() -> Iterator[None]:
    """The console's Argon2 work is done once a session for each password, and once for each
    right password against its hash. The console's tests create the same accounts with the
    same password and log in for every test, and Argon2 at the console's cost takes 0.1-0.2 s
    here: that was most of the unit tests' time. The hashes keep the console's parameters
    (nothing is re-hashed), and a wrong password is checked at full cost every time (the
    tests of parallel guesses need Argon2's time between counting and checking)."""
    from argon2 import PasswordHasher

    from console.auth import accounts

    class OnceAPassword(PasswordHasher):
        hashes: Dict[Any, str] = {}
        right: Set[Any] = set()

        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            if salt is not None:
                return super().hash(password, salt=salt)
            if password not in self.hashes:
                self.hashes[password] = super().hash(password)
            return self.hashes[password]

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            if (hash, password) not in self.right:
                super().verify(hash, password)  # raises for a wrong one
                self.right.add((hash, password))
            return True

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_hasher", OnceAPassword.from_parameters(accounts._hasher._parameters)
        )
        yield


@pytest.fixture(scope="session")
def catalogue() -> Dict[str, Any]:
    """The project's FAQ contract (faq-catalogue.yml)."""
    return load_yaml(ROOT / "faq-catalogue.yml")


@pytest.fixture(scope="session")
def catalogue_ids(catalogue) -> List[str]:
    return [topic["id"] for topic in catalogue["topics"]]


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return load_yaml(ROOT / "domain.yml")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make test`, which trains it first")
    return MODEL


@pytest.fixture(scope="session")
def twilio_cloud() -> Iterator[TwilioCloud]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    cloud = TwilioCloud(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        account_sid="AC" + secrets.token_hex(16),
        auth_token=secrets.token_hex(16),
    )
    server.RequestHandlerClass = _twilio_handler(cloud)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield cloud
    server.shutdown()


@pytest.fixture(scope="session")
def assistant(trained_model, tmp_path_factory, twilio_cloud) -> Iterator[RunningAssistant]:
    """The whole assistant, started once for the session and stopped at the end; its SMS
    channel talks to the stand-in Twilio cloud."""
    running, processes = start_assistant(
        tmp_path_factory.mktemp("assistant"),
        trained_model,
        extra_env={**twilio_cloud.env(), "CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN},
    )
    yield running
    stop(processes)


@pytest.fixture(scope="session")
def held(assistant) -> Dict[str, str]:
    """The scripted conversations of held_conversations.py, held with the assistant once:
    name → conversation id (the projector's tests and the console's conversation pages)."""
    import held_conversations

    return held_conversations.hold(assistant)


@pytest.fixture
def index_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def index_db(index_url, assistant, held) -> Any:
    """A fresh copy of the assistant's database, its conversation index caught up with the
    assistant's event broker (held_conversations.fresh_index): an SQLAlchemy engine."""
    import held_conversations

    return held_conversations.fresh_index(index_url, assistant)


@pytest.fixture(scope="session")
def staff_api_token() -> str:
    """The bearer token of the `assistant`'s staff API (channels/staff.py)."""
    return STAFF_API_TOKEN


# Per module: Playwright's sync API keeps an event loop running while a browser is open, and
# the SMS tests' asyncio.run() cannot start beside it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (or make browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
