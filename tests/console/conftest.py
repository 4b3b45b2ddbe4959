"""The console under Flask's test client: a fresh SQLite database per test, a staff account
(sam) and an admin account (alex), and logging in through the real login form."""

from __future__ import annotations

import re
import secrets

import pytest

from console import create_app
from console.auth import accounts
from support import migrated_engine

PASSWORD = "correct horse battery staple"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def engine(database_url):
    return migrated_engine(database_url)


@pytest.fixture
def app(database_url, engine):
    accounts.create_user(engine, "sam", PASSWORD, accounts.STAFF)
    accounts.create_user(engine, "alex", PASSWORD, accounts.ADMIN)
    return create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": secrets.token_hex(32)}
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf(client):
    """The CSRF token of the forms on a page."""

    def token(path: str = "/login") -> str:
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    return token


@pytest.fixture
def log_in(client, csrf):
    def log_in_as(username: str = "sam", password: str = PASSWORD):
        return client.post(
            "/login", data={"username": username, "password": password, "csrf_token": csrf()}
        )

    return log_in_as
