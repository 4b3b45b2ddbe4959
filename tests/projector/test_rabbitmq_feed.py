"""The conversation index fed from RabbitMQ, as when the assistant is scaled out: a real
conversation's events published by Rasa's own Pika event broker to the RabbitMQ on loopback."""

from __future__ import annotations

import asyncio
import time
import uuid

import aio_pika
import pytest
import rasa.shared.core.events  # noqa: F401 (Rasa's broker uses it without importing it)
import sqlalchemy as sa
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from clinic.settings import Secret
from projector import index
from projector.rabbitmq import start_consumer
from support import migrated_engine

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


async def publish(queue: str, events: list) -> None:
    """Publish with Rasa's broker (which declares the queue), as a Rasa server does."""
    broker = await PikaEventBroker.from_endpoint_config(
        EndpointConfig(
            url="127.0.0.1",
            username="guest",
            password="guest",
            queues=[queue],
            raise_on_failure=True,
        ),
        event_loop=asyncio.get_running_loop(),
    )
    for event in events:
        broker.publish(event)
    await asyncio.sleep(1)  # Rasa publishes from background tasks
    await broker.close()


async def delete_queue(queue: str) -> None:
    connection = await aio_pika.connect(RABBITMQ)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


@pytest.fixture
def queue():
    name = f"console-test-{uuid.uuid4().hex[:8]}"
    yield name
    asyncio.run(delete_queue(name))


def indexed_texts(engine, conversation_id):
    with engine.connect() as connection:
        return [
            text
            for (text,) in connection.execute(
                sa.select(index.turns.c.text)
                .where(index.turns.c.conversation_id == conversation_id)
                .order_by(index.turns.c.at)
            )
        ]


def test_events_waiting_in_the_queue_are_indexed_once_the_console_starts(
    assistant, queue, tmp_path
):
    conversation_id = f"rest-rabbit-{uuid.uuid4().hex[:8]}"
    assistant.send(conversation_id, "how long is a session?")
    assistant.send(conversation_id, "what are the side effects?")
    events = [
        {**event, "sender_id": conversation_id}
        for event in assistant.tracker(conversation_id)["events"]
    ]
    expected = [e["text"] for e in events if e["event"] in ("user", "bot") and e.get("text")]
    # Rasa publishes them all, and once more (as after a redelivery), before the console runs;
    # then one more conversation's message, indexed only after everything queued before it.
    marker_id = f"rest-rabbit-marker-{uuid.uuid4().hex[:8]}"
    first_user = next(e for e in events if e["event"] == "user")
    marker = {**first_user, "sender_id": marker_id, "text": "the last message in the queue"}
    asyncio.run(publish(queue, events + events + [marker]))
    engine = migrated_engine(f"sqlite:///{tmp_path / 'console.db'}")
    stop, ready = start_consumer(engine, Secret(RABBITMQ), queue)
    try:
        assert ready.wait(20), "the console did not connect to RabbitMQ on 127.0.0.1:5672"
        deadline = time.monotonic() + 20
        while not indexed_texts(engine, marker_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert indexed_texts(engine, marker_id) == [marker["text"]]
        # one consumer, in order: the duplicates before the marker were drained, changing nothing
        assert indexed_texts(engine, conversation_id) == expected
    finally:
        stop.set()
