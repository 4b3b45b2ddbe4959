"""FAQ answers reworded by staff in the console (clinic/answers.py): every version of an
answer's text, drafts, approvals, rejections and reverts to the shipped text, with who and when.

Revision ID: 0005
Revises: 0004
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'clinic_answer_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response', sa.String(length=128), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('reviewed_by', sa.String(length=64), nullable=True),
        sa.Column('reviewed_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_clinic_answer_versions_response', 'response'),
    )


def downgrade() -> None:
    op.drop_table('clinic_answer_versions')
