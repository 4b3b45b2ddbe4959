"""Per-conversation locks that hold across Rasa server replicas.

Rasa processes one message of a conversation at a time by taking the conversation's lock. One
process needs no more than Rasa's in-memory lock store, which this one is when CLINIC_REDIS_URL
is unset. With replicas, the lock must live in Redis, and Rasa 3.6's RedisLockStore cannot hold
it there: it reads the conversation's ticket list, adds a ticket and writes the list back, so
two replicas taking a message of the same conversation at the same moment both read an empty
list and both get ticket 1 (RasaHQ/rasa#9213; the fix was withdrawn from open-source Rasa). Both
then run the conversation at once: events interleave, one save overwrites the other.

Here every step is one Redis script, atomic by Redis's design. A conversation has three keys:
the ticket counter, a sorted set of waiting tickets (first in, first served) and a hash of each
ticket's expiry time. A process renews the tickets it holds or waits on while it is alive, so a
replica that dies loses its tickets within TICKET_SECONDS and the conversation goes on
elsewhere. Keys are hash-tagged by conversation so they share a slot on Redis Cluster.

    lock_store:
      type: components.lock_store.ClinicLockStore
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncIterator, Optional, Text

import redis
import redis.asyncio
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError

from clinic import settings

logger = logging.getLogger(__name__)

TICKET_SECONDS = 20.0  # a ticket nobody renews is dropped after this long (a dead replica's);
# its holder renews it four times as often
POLL_SECONDS = 0.01
IDLE_KEY_SECONDS = 3600  # keys of a conversation nobody touches go away

# KEYS: counter, queue, expiries. ARGV: ticket ms, idle ms. Returns the new ticket's number.
_ISSUE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now_ms + tonumber(ARGV[1]))
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return ticket
"""

# KEYS: queue, expiries. Drops expired tickets at the head; returns the first live one (0: none).
_HEAD = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not head then return 0 end
  local expiry = tonumber(redis.call('HGET', KEYS[2], head))
  if expiry and expiry > now_ms then return tonumber(head) end
  redis.call('ZREM', KEYS[1], head)
  redis.call('HDEL', KEYS[2], head)
end
"""

# KEYS: queue, expiries. ARGV: ticket, ticket ms. 1 when the ticket was still held.
_RENEW = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('HSET', KEYS[2], ARGV[1], now_ms + tonumber(ARGV[2]))
return 1
"""

# KEYS: counter, queue, expiries. ARGV: ticket. 1 when the ticket was still held.
_RELEASE = """
local held = redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return held
"""


class ClinicLockStore(InMemoryLockStore):
    """Rasa's in-memory lock store in one process; a Redis ticket queue when CLINIC_REDIS_URL
    is set (replicas)."""

    def __init__(
        self, endpoint_config: Any = None, redis_url: Optional[settings.Secret] = None
    ) -> None:
        super().__init__()
        url = redis_url or settings.current().redis_url
        self.redis = RedisTicketQueue(url.reveal()) if url else None

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        if self.redis is None:
            async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as held:
                yield held
            return
        async with self.redis.hold(conversation_id, wait_seconds=lock_lifetime):
            yield TicketLock(conversation_id)


class RedisTicketQueue:
    """First-in-first-out tickets per conversation, on Redis's atomic scripts."""

    def __init__(self, url: str) -> None:
        check_redis_reachable(url)
        self.client = redis.asyncio.from_url(url, socket_timeout=10)
        self._issue = self.client.register_script(_ISSUE)
        self._head = self.client.register_script(_HEAD)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    @staticmethod
    def keys(conversation_id: str) -> tuple[str, str, str]:
        tag = "{" + conversation_id.replace("}", "%7D") + "}"
        return f"clinic:lock:{tag}:next", f"clinic:lock:{tag}:queue", f"clinic:lock:{tag}:expiry"

    @asynccontextmanager
    async def hold(self, conversation_id: str, wait_seconds: float) -> AsyncIterator[int]:
        """Wait for the conversation's turn (LockError after `wait_seconds`), then hold it."""
        counter, queue, expiry = self.keys(conversation_id)
        ticket = int(
            await self._issue(
                keys=[counter, queue, expiry],
                args=[int(TICKET_SECONDS * 1000), IDLE_KEY_SECONDS * 1000],
            )
        )
        stop = asyncio.Event()
        renewing = asyncio.create_task(self._keep_alive(conversation_id, ticket, stop))
        try:
            await self._wait_turn(conversation_id, ticket, wait_seconds)
            yield ticket
        finally:
            # An event as well as the cancellation: once (a fresh-clone test run), the renewals
            # went on after the cancellation, every TICKET_SECONDS / 4 for minutes, and the
            # release waited for ever; a cancellation lost inside a redis-py command is the
            # likeliest cause. The loop now ends at its next turn whatever became of it.
            stop.set()
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing
            held = await self._release(keys=[counter, queue, expiry], args=[ticket])
            if not held:
                logger.warning(
                    "lock store: a ticket of a conversation expired while held "
                    "(the process stalled for %.0f s)",
                    TICKET_SECONDS,
                )

    async def _wait_turn(self, conversation_id: str, ticket: int, wait_seconds: float) -> None:
        _, queue, expiry = self.keys(conversation_id)
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while True:
            head = int(await self._head(keys=[queue, expiry]))
            if head == ticket:
                return
            if head == 0 or head > ticket:
                raise LockError("the conversation's ticket expired while it waited")
            if asyncio.get_running_loop().time() > deadline:
                raise LockError(f"the conversation stayed busy for {wait_seconds:.0f} s")
            await asyncio.sleep(POLL_SECONDS)

    async def _keep_alive(self, conversation_id: str, ticket: int, stop: asyncio.Event) -> None:
        _, queue, expiry = self.keys(conversation_id)
        while not stop.is_set():
            await asyncio.sleep(TICKET_SECONDS / 4)
            if stop.is_set():
                return
            try:
                await self._renew(keys=[queue, expiry], args=[ticket, int(TICKET_SECONDS * 1000)])
            except redis.RedisError as error:  # the next renewal may get through
                logger.warning("lock store: could not renew a ticket: %s", type(error).__name__)


def check_redis_reachable(url: str) -> None:
    """Fail at start-up, in one line, when Redis cannot be reached."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise settings.SettingsError(
            f"CLINIC_REDIS_URL: cannot reach Redis at {settings.redacted_url(url)} "
            f"({type(error).__name__}: {error})"
        ) from None
    finally:
        client.close()
