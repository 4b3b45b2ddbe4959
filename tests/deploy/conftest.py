"""The scaled-out assistant (deploy/cluster.py) for the scale-out and fault tests: two Rasa
replicas and two action servers behind nginx, on this machine's PostgreSQL (databases of
their own, dropped afterwards) and Redis."""

from __future__ import annotations

import os
import secrets
from typing import Iterator

import pytest
import sqlalchemy as sa

from clinic import settings
from deploy.cluster import Cluster, start_cluster
from support import STAFF_API_TOKEN

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def drop_database(name: str) -> None:
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def cluster(trained_model, tmp_path_factory, twilio_cloud) -> Iterator[Cluster]:
    suffix = secrets.token_hex(4)
    databases = [f"clinic_test_{suffix}", f"clinic_test_events_{suffix}"]
    env = {
        **os.environ, **twilio_cloud.env(),
        "CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN,
        settings.DATABASE_URL_ENV: f"{POSTGRES}/{databases[0]}",
        settings.EVENTS_DATABASE_URL_ENV: f"{POSTGRES}/{databases[1]}",
        settings.REDIS_URL_ENV: REDIS,
    }
    running = start_cluster(tmp_path_factory.mktemp("cluster"), trained_model, replicas=2,
                            action_servers=2, env=env)
    yield running
    running.stop()
    for name in databases:
        drop_database(name)
