"""Retraining from the console (retraining/runs.py): each run, its state, figures and reasons,
and each model deployed or rolled back, with who and when.

Revision ID: 0006
Revises: 0005
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'clinic_model_deployments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('model_path', sa.String(length=1024), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'clinic_model_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('step', sa.String(length=255), nullable=False),
        sa.Column('started_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('base', sa.String(length=64), nullable=True),
        sa.Column('examples', sa.Integer(), nullable=True),
        sa.Column('model_path', sa.String(length=1024), nullable=True),
        sa.Column('training_seconds', sa.Integer(), nullable=True),
        sa.Column('figures', clinic.db.JsonText(), nullable=True),
        sa.Column('reasons', clinic.db.JsonText(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('clinic_model_runs')
    op.drop_table('clinic_model_deployments')
