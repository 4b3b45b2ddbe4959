"""The conversation index fed from RabbitMQ, for an assistant scaled out to several Rasa
servers that publish through Rasa's Pika event broker:

    event_broker:            # endpoints.yml of every Rasa server
      type: pika
      url: 127.0.0.1
      username: ...
      password: ...
      queues: [console_events]

The projector, in the console's process (`python -m console run`), declares the same durable
queue, bound to Rasa's fanout exchange, so no event is lost while the console is down: they
wait in the queue. Messages are applied in batches, each in one transaction, and acknowledged
only after it commits; a message delivered twice changes nothing (`projector.index.apply_events`
skips what is not newer than a conversation's last event).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Optional

import aio_pika
import sqlalchemy as sa

from clinic.settings import Secret
from projector.index import apply_events

logger = logging.getLogger(__name__)

RASA_EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE
BATCH = 500


async def _drain(queue: aio_pika.abc.AbstractQueue, index_engine: sa.engine.Engine) -> int:
    """Apply what is waiting in the queue, a batch per transaction; messages applied."""
    applied = 0
    while True:
        messages = []
        while len(messages) < BATCH:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            messages.append(message)
        if not messages:
            return applied
        rows = []
        for message in messages:
            try:
                event = json.loads(message.body)
                rows.append((event.get("sender_id"), event))
            except (ValueError, AttributeError):
                logger.warning("index: a RabbitMQ message that is not an event was dropped")
        try:
            await asyncio.to_thread(_apply, index_engine, rows)
        except BaseException:
            for message in messages:
                await message.nack(requeue=True)
            raise
        for message in messages:
            await message.ack()
        applied += len(messages)


def _apply(index_engine: sa.engine.Engine, rows: list) -> None:
    with index_engine.begin() as connection:
        apply_events(connection, rows)


async def consume(
    index_engine: sa.engine.Engine,
    url: Secret,
    queue_name: str,
    stop: threading.Event,
    poll_seconds: float = 0.5,
    ready: Optional[threading.Event] = None,
) -> None:
    """Apply events from the queue until `stop` is set; reconnects when RabbitMQ goes away."""
    while not stop.is_set():
        try:
            connection = await aio_pika.connect(url.reveal(), timeout=10)
            async with connection:
                channel = await connection.channel()
                exchange = await channel.declare_exchange(
                    RASA_EXCHANGE, type=aio_pika.ExchangeType.FANOUT
                )
                queue = await channel.declare_queue(queue_name, durable=True)
                await queue.bind(exchange, "")
                if ready is not None:
                    ready.set()
                while not stop.is_set():
                    await _drain(queue, index_engine)
                    await asyncio.sleep(poll_seconds)
        except (
            aio_pika.exceptions.AMQPException,
            OSError,
            asyncio.TimeoutError,
            sa.exc.SQLAlchemyError,
        ) as error:
            logger.warning(
                "index: RabbitMQ feed interrupted (%s); retrying in 5 s", type(error).__name__
            )
            await asyncio.sleep(5)


def start_consumer(
    index_engine: sa.engine.Engine, url: Secret, queue_name: str
) -> tuple[threading.Event, threading.Event]:
    """Run `consume()` in a daemon thread; (stop, ready) events."""
    stop, ready = threading.Event(), threading.Event()
    threading.Thread(
        target=lambda: asyncio.run(consume(index_engine, url, queue_name, stop, ready=ready)),
        name="console-index-rabbitmq",
        daemon=True,
    ).start()
    return stop, ready
