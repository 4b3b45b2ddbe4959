"""SMS messages being answered are held with a lease (clinic/leases.py), as deliveries are.

Before, a message's claim was renewed by overwriting `received_at`, which then no longer said
when the message came. `lease_until` now holds the claim. A message still being answered when
the servers stopped for the upgrade was in the hands of a process that is gone: its lease is
set as run out, so the next retry or the recovery sweep takes it over at once.

Revision ID: 0002
Revises: 0001
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinic_sms_messages') as batch:
        batch.add_column(
            sa.Column('lease_until', clinic.db.UtcDateTime(timezone=True), nullable=True)
        )
    messages = sa.table(
        'clinic_sms_messages',
        sa.column('status'),
        sa.column('received_at'),
        sa.column('lease_until'),
    )
    op.execute(
        messages.update()
        .where(messages.c.status == 'received')
        .values(lease_until=messages.c.received_at)
    )


def downgrade() -> None:
    with op.batch_alter_table('clinic_sms_messages') as batch:
        batch.drop_column('lease_until')
