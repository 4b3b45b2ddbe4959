"""One lease queue: rows of a table that workers take one at a time, with a lease.

A worker takes a row with a compare-and-set on its `lease_until` column (free, or its lease ran
out because the worker that held it died), works on it, renews the lease while it works, and
lets go when it is done or will try again later. Any number of workers, in any number of
processes or machines, share one table this way; a row is never worked on twice at once and
never lost. The escalation deliveries (clinic/delivery.py) and the SMS messages being answered
(clinic/sms.py) are two such queues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class LeaseQueue:
    table: sa.Table
    key: sa.Column  # the row's identity
    lease_until: sa.Column  # NULL: free; else held until then

    def free(self, now: dt.datetime) -> sa.ColumnElement:
        """Rows no worker holds: never taken, let go, or held by one that died."""
        return sa.or_(self.lease_until.is_(None), self.lease_until < now)

    def expired(self, now: dt.datetime) -> sa.ColumnElement:
        """Rows taken by a worker whose lease ran out: it died with them in hand."""
        return self.lease_until < now

    def take(
        self,
        connection: sa.engine.Connection,
        key: Any,
        now: dt.datetime,
        lease: dt.timedelta,
        *conditions: sa.ColumnElement,
    ) -> bool:
        """Take the row when it is free and meets `conditions`: True for exactly one taker."""
        return self.renew(connection, key, now, lease, self.free(now), *conditions)

    def renew(
        self,
        connection: sa.engine.Connection,
        key: Any,
        now: dt.datetime,
        lease: dt.timedelta,
        *conditions: sa.ColumnElement,
    ) -> bool:
        """Hold the row `lease` longer, when it meets `conditions` (a worker alive renews what it
        holds, so it is never taken over)."""
        update = self.table.update().where(self.key == key, *conditions)
        return connection.execute(update.values({self.lease_until: now + lease})).rowcount == 1

    def let_go(self, connection: sa.engine.Connection, key: Any, **values: Any) -> None:
        """Give the row back (done, or to try again later), with the other `values` to set."""
        connection.execute(
            self.table.update()
            .where(self.key == key)
            .values({self.lease_until.name: None, **values})
        )
