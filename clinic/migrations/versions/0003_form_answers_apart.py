"""The console's index knows when a person is filling in a form, so that their answers (a name,
a time) are never listed as "not understood" (projector/index.py).

Messages indexed before this revision keep the outcome they had; `python -m projector rebuild`
reads them all again with the new rule.

Revision ID: 0003
Revises: 0002
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('console_conversations') as batch:
        batch.add_column(sa.Column('active_form', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('console_conversations') as batch:
        batch.drop_column('active_form')
