"""Training examples staff make in the console (console/teaching/queries.py): messages given
the right topic, answers marked wrong, with who and when, revocable.

Revision ID: 0004
Revises: 0003
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_training_examples',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('turn_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('answered_as', sa.String(length=128), nullable=True),
        sa.Column('label', sa.String(length=160), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('labelled_by', sa.String(length=64), nullable=True),
        sa.Column('labelled_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('turn_id'),
    )


def downgrade() -> None:
    op.drop_table('console_training_examples')
