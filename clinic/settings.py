"""Settings read from the environment, in one place."""

from __future__ import annotations

import os

from clinic.profile import PROJECT_ROOT

DATABASE_URL_ENV = "CLINIC_DATABASE_URL"
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "var" / "assistant.db"


def database_url() -> str:
    """The SQL database for the clinic's own records (SQLite under var/ by default)."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DATABASE_PATH}"
