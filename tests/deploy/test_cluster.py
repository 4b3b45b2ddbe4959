"""The scaled-out assistant: replicas share conversations, locks and socket.io rooms."""

from __future__ import annotations

import secrets
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests
from webchat_tabs import Tab

from deploy.cluster import Cluster, Server
from deploy.launcher import free_port
from retraining import swap
from support import REST_TOKEN

QUESTIONS = [
    "how long is a session?",
    "do I need a consultation first?",
    "what does it feel like?",
    "what are the side effects?",
    "how much does it cost?",
    "will I see results right away?",
]


def send(url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    """One message over the REST channel, with its token (the cluster is not in local mode)."""
    response = requests.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {REST_TOKEN}"},
        timeout=120,
    )
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return response.json()


def tracker(cluster: Cluster, replica: Server, sender: str) -> Dict[str, Any]:
    response = requests.get(
        f"{replica.url}/conversations/{sender}/tracker", params={"token": cluster.token}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def turns(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each user message with the bot's replies and actions of its turn, in stored order."""
    found: List[Dict[str, Any]] = []
    for event in events:
        if event["event"] == "user":
            found.append({"text": event["text"], "bot": 0, "listened": False})
        elif found and event["event"] == "bot":
            found[-1]["bot"] += 1
        elif found and event["event"] == "action" and event["name"] == "action_listen":
            found[-1]["listened"] = True
    return found


def test_the_api_is_not_published_by_the_load_balancer(cluster):
    assert requests.get(f"{cluster.url}/", timeout=10).status_code == 200
    for path in ("/status", "/model/parse", f"/conversations/x/tracker?token={cluster.token}"):
        assert requests.get(cluster.url + path, timeout=10).status_code == 404, path


def test_the_staff_api_is_only_on_the_consoles_port(cluster, staff_api_token):
    """Take-over and replies are for the console: 404 on the public port, even with the
    token; served on the staff port, which serves nothing else."""
    auth = {"Authorization": f"Bearer {staff_api_token}"}
    path = "/webhooks/staff/conversations/web-x"
    assert requests.get(cluster.url + path, headers=auth, timeout=10).status_code == 404
    assert (
        requests.post(
            cluster.url + path + "/take-over", json={"staff": "Dana"}, headers=auth, timeout=10
        ).status_code
        == 404
    )
    assert requests.get(cluster.staff_url + "/webhooks/staff/", timeout=10).status_code == 200
    assert requests.get(cluster.staff_url + path, timeout=10).status_code == 401  # no token
    for public in ("/webhooks/rest/", "/socket.io/", "/status"):
        assert requests.get(cluster.staff_url + public, timeout=10).status_code == 404, public


def test_rasas_http_api_refuses_requests_without_its_token(cluster):
    replica = cluster.replicas[0]
    for token in (None, "wrong-" + secrets.token_hex(8)):
        params = {"token": token} if token else {}
        tracker = requests.get(
            f"{replica.url}/conversations/someone/tracker", params=params, timeout=10
        )
        parse = requests.post(
            f"{replica.url}/model/parse", params=params, json={"text": "hi"}, timeout=10
        )
        assert (tracker.status_code, parse.status_code) == (401, 401), token
    allowed = requests.post(
        f"{replica.url}/model/parse",
        params={"token": cluster.token},
        json={"text": "how long is a session?"},
        timeout=30,
    )
    assert allowed.status_code == 200


def test_outside_local_mode_the_rest_channel_needs_its_token(cluster):
    """Rasa's REST channel lets any client write into, and read replies of, any `sender`."""
    body = {"sender": "someone-else", "message": "how long is a session?"}
    for headers in ({}, {"Authorization": "Bearer " + secrets.token_hex(32)}):
        refused = requests.post(
            f"{cluster.url}/webhooks/rest/webhook", json=body, headers=headers, timeout=30
        )
        assert refused.status_code == 401, headers
    assert send(cluster.url, "someone-else", "how long is a session?")


def test_messages_of_one_conversation_sent_at_once_to_two_replicas_never_interleave(cluster):
    """RasaHQ/rasa#9213: Rasa's RedisLockStore reads a conversation's tickets, adds one and
    writes them back; two replicas doing it at once both hold the lock (events interleave, one
    save drops the other's) or one loses its ticket (a 500, or a 60 s wait)."""
    first, second = cluster.replicas[:2]

    def conversation(_: int) -> str:
        sender = f"rest-race-{secrets.token_hex(6)}"
        for pair in range(0, len(QUESTIONS), 2):
            both = threading.Barrier(2)

            def one(
                replica: Server, text: str, both: threading.Barrier = both
            ) -> List[Dict[str, Any]]:
                both.wait()
                return send(replica.url, sender, text)

            with ThreadPoolExecutor(2) as pool:
                replies = list(pool.map(one, (first, second), QUESTIONS[pair : pair + 2]))
            assert all(replies), "every message got a reply"
        return sender

    with ThreadPoolExecutor(4) as pool:
        conversations = list(pool.map(conversation, range(32)))
    for sender in conversations:
        stored = turns(tracker(cluster, first, sender)["events"])
        assert sorted(turn["text"] for turn in stored) == sorted(QUESTIONS), sender
        assert all(turn["bot"] >= 1 and turn["listened"] for turn in stored), (sender, stored)


def test_a_staff_reply_reaches_a_socket_on_another_replica(cluster, staff_api_token):
    on_first, through_second = cluster.replicas[:2]
    tab = Tab()
    session = tab.open(on_first.url)
    try:
        tab.say(session, "how long is a session?")
        tab.wait_for("bot_done")
        auth = {"Authorization": f"Bearer {staff_api_token}"}
        base = f"{through_second.url}/webhooks/staff/conversations/{session}"
        taken = requests.post(f"{base}/take-over", json={"staff": "Dana"}, headers=auth, timeout=30)
        assert taken.status_code == 200 and taken.json()["notified"] is True, taken.text
        reply = "Hi, this is Dana from the clinic. How can I help?"
        sent = requests.post(
            f"{base}/reply", json={"staff": "Dana", "text": reply}, headers=auth, timeout=30
        )
        assert sent.status_code == 200, sent.text
        texts = [message.get("text") for message in tab.wait_for("bot_uttered", 3)]
        assert texts[-1] == reply
    finally:
        tab.close()


def test_the_widget_connects_through_the_load_balancer_by_long_polling_first(cluster):
    tab = Tab()
    tab.client.connect(cluster.url, transports=["polling", "websocket"], wait_timeout=60)
    try:
        tab.client.emit("session_request", {"session_id": None})
        session = tab.wait_for("session_confirm")[-1]
        tab.say(session, "what are your hours?")
        assert tab.wait_for("bot_uttered")[0]["text"]
        assert tab.client.transport() == "websocket"  # upgraded on the replica it started on
    finally:
        tab.close()


def test_a_model_goes_onto_each_replica_in_turn_and_a_failure_puts_it_back(
    cluster, trained_model, tmp_path
):
    """retraining/swap.py as the console's Deploy runs it, on the cluster's replicas: a model
    that one server cannot take is put back off the replicas that took it; one all can take is
    served by each, and a conversation through nginx meanwhile has every message answered and
    stored. (The model is the shipped one under a run's name: what is checked is the swap, not
    what it answers.)"""
    shipped = Path(trained_model)
    retrained = tmp_path / "run-1.tar.gz"
    shutil.copyfile(shipped, retrained)
    replicas = [replica.url for replica in cluster.replicas]
    unreachable = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(
        swap.SwapError, match="could not be reached.*1 of 2 had it and were put back"
    ):
        swap.swap(retrained, shipped, [replicas[0], unreachable], cluster.token)
    assert [swap.serving_model(url, cluster.token) for url in replicas] == [shipped.name] * 2

    # "rest-": the REST channel's conversation id is the sender with it in front
    sender, stop, answered, failed = f"rest-swap-{secrets.token_hex(6)}", threading.Event(), [], []

    def talk() -> None:
        # as a person talks: a message every second and a half, under the REST channel's limit
        # per sender (20 at once, then 60 a minute), which answers a flood with 429
        for turn in range(10_000):
            try:
                answered.append(bool(send(cluster.url, sender, QUESTIONS[turn % len(QUESTIONS)])))
            except (AssertionError, requests.RequestException) as error:
                failed.append(repr(error)[:200])
            if stop.wait(1.5):
                return

    talking = threading.Thread(target=talk)
    talking.start()
    try:
        swap.swap(retrained, shipped, replicas, cluster.token)
    finally:
        stop.set()
        talking.join()
    assert [swap.serving_model(url, cluster.token) for url in replicas] == [retrained.name] * 2
    assert not failed and answered and all(answered), (failed, answered.count(False))
    stored = turns(tracker(cluster, cluster.replicas[0], sender)["events"])
    assert len(stored) == len(answered) and all(turn["bot"] >= 1 for turn in stored)
