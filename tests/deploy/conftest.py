"""The scaled-out assistant (deploy/cluster.py) for the scale-out and fault tests: two Rasa
replicas and two action servers behind nginx, on this machine's PostgreSQL (databases of
their own, dropped afterwards) and Redis."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from clinic import settings
from deploy.cluster import Cluster, start_cluster
from support import REST_TOKEN, STAFF_API_TOKEN, postgres_database

REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def cluster(trained_model, tmp_path_factory, twilio_cloud) -> Iterator[Cluster]:
    with (
        postgres_database("clinic_test") as database,
        postgres_database("clinic_test_events") as events,
    ):
        env = {
            **os.environ,
            **twilio_cloud.env(),
            # deployed, not local: the REST channel needs its token
            "CLINIC_ENV": "production",
            "CLINIC_REST_TOKEN": REST_TOKEN,
            "CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN,
            settings.DATABASE_URL_ENV: database,
            settings.EVENTS_DATABASE_URL_ENV: events,
            settings.REDIS_URL_ENV: REDIS,
            # a message left unanswered by a killed replica is taken over after this long
            "TWILIO_CLAIM_LEASE_SECONDS": "10",
        }
        running = start_cluster(
            tmp_path_factory.mktemp("cluster"), trained_model, replicas=2, action_servers=2, env=env
        )
        yield running
        running.stop()
