"""What the Kubernetes manifests publish (deploy/kubernetes): read, not applied (no cluster here)."""

from __future__ import annotations

from pathlib import Path

import yaml

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def published_paths(host: str) -> list[str]:
    paths = []
    for document in yaml.safe_load_all((KUBERNETES / "ingress.yaml").read_text()):
        for rule in document["spec"]["rules"]:
            if rule["host"] == host:
                paths += [path["path"] for path in rule["http"]["paths"]]
    return paths


def test_the_public_host_routes_only_the_public_channels():
    paths = published_paths("assistant.clinic.example")
    assert sorted(paths) == [
        "/socket.io/",
        "/webhooks/rest/",
        "/webhooks/twilio/",
        "/webhooks/webchat/",
    ]
    # the staff API (take-over, replies) is reached by the console on the internal Service
    assert not any("/webhooks/staff/".startswith(path) for path in paths)
