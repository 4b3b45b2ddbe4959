"""The schema of the release that brought migrations (2026-12): every clinic table.

A database that release's predecessors made (their servers ran `create_all` at start-up, then
added the nullable columns a table lacked) is taken over as it is: its missing tables are created
and its tables get the nullable columns added since; no row is touched.

Revision ID: 0001
Revises:
Created: 2026-12-07
"""

import logging

import sqlalchemy as sa
from alembic import op

import clinic.db

logger = logging.getLogger(__name__)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    """The tables as this revision makes them (frozen here: the models will move on)."""
    metadata = sa.MetaData()
    sa.Table(
        'clinic_contact_requests',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('contact_kind', sa.String(length=16), nullable=False),
        sa.Column('contact', sa.String(length=255), nullable=False),
        sa.Column('preferred_time', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_clinic_contact_requests_conversation_id', 'conversation_id'),
    )
    sa.Table(
        'clinic_crisis_sweep',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_event_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    sa.Table(
        'clinic_escalations',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=True),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('categories', clinic.db.JsonText(), nullable=False),
        sa.Column('evidence', clinic.db.JsonText(), nullable=False),
        sa.Column('subject', sa.String(length=16), nullable=False),
        sa.Column('last_turns', clinic.db.JsonText(), nullable=False),
        sa.Column('reach_back', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('acknowledged_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
        sa.Column('resolved_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=120), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('reminders_sent', sa.Integer(), nullable=False),
        sa.Column('last_notified_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('collected', clinic.db.JsonText(), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('conversation_id', 'message_id', name='uq_clinic_escalations_message'),
        sa.Index('ix_clinic_escalations_status', 'status'),
    )
    sa.Table(
        'clinic_sms_consent_events',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('keyword', sa.String(length=16), nullable=True),
        sa.Column('message_sid', sa.String(length=64), nullable=True),
        sa.Column('at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_clinic_sms_consent_events_conversation_id', 'conversation_id'),
    )
    sa.Table(
        'clinic_sms_inbox',
        metadata,
        sa.Column('message_sid', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('message_sid'),
    )
    sa.Table(
        'clinic_sms_menus',
        metadata,
        sa.Column('conversation_id', sa.String(length=64), nullable=False),
        sa.Column('options', clinic.db.JsonText(), nullable=False),
        sa.Column('offered_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    sa.Table(
        'clinic_sms_messages',
        metadata,
        sa.Column('message_sid', sa.String(length=64), nullable=False),
        sa.Column('conversation_id', sa.String(length=64), nullable=False),
        sa.Column('received_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('replies', clinic.db.JsonText(), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('message_sid'),
        sa.Index('ix_clinic_sms_messages_conversation_id', 'conversation_id'),
    )
    sa.Table(
        'clinic_sms_numbers',
        metadata,
        sa.Column('conversation_id', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('first_seen_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('opted_out_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    sa.Table(
        'console_audit_log',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_console_audit_log_at', 'at'),
    )
    sa.Table(
        'console_conversation_reviews',
        metadata,
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('reviewed', sa.Boolean(), nullable=False),
        sa.Column('reviewed_by', sa.String(length=64), nullable=True),
        sa.Column('reviewed_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('note_by', sa.String(length=64), nullable=True),
        sa.Column('note_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    sa.Table(
        'console_conversation_tags',
        metadata,
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('tag', sa.String(length=40), nullable=False),
        sa.Column('added_by', sa.String(length=64), nullable=False),
        sa.Column('added_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id', 'tag'),
        sa.Index('ix_console_conversation_tags_tag', 'tag', 'conversation_id'),
    )
    sa.Table(
        'console_conversations',
        metadata,
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=True),
        sa.Column('started_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_message_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_event_ts', sa.Float(), nullable=False),
        sa.Column('user_messages', sa.Integer(), nullable=False),
        sa.Column('bot_messages', sa.Integer(), nullable=False),
        sa.Column('staff_messages', sa.Integer(), nullable=False),
        sa.Column('not_understood', sa.Integer(), nullable=False),
        sa.Column('fallbacks', sa.Integer(), nullable=False),
        sa.Column('low_confidence', sa.Integer(), nullable=False),
        sa.Column('crisis_rank', sa.SmallInteger(), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('first_message', sa.String(length=200), nullable=True),
        sa.Column('person_name', sa.String(length=80), nullable=True),
        sa.Column('person_contact', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('conversation_id'),
        sa.Index('ix_console_conversations_channel', 'channel'),
        sa.Index('ix_console_conversations_recent', 'last_message_at', 'conversation_id'),
    )
    sa.Table(
        'console_index_checkpoints',
        metadata,
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('last_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('source'),
    )
    sa.Table(
        'console_settings',
        metadata,
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    sa.Table(
        'console_turns',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('role', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('intent', sa.String(length=128), nullable=True),
        sa.Column('confidence', sa.Float(), nullable=True),
        sa.Column('faq_topic', sa.String(length=128), nullable=True),
        sa.Column('answer_confidence', sa.Float(), nullable=True),
        sa.Column('crisis_level', sa.String(length=16), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('staff', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_console_turns_conversation', 'conversation_id', 'at'),
        sa.Index('ix_console_turns_intent', 'intent', 'conversation_id'),
        sa.Index('ix_console_turns_outcome', 'outcome', 'at'),
        sa.Index('ix_console_turns_topic', 'faq_topic', 'conversation_id'),
    )
    sa.Table(
        'console_users',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('last_login_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('session_version', sa.Integer(), nullable=True),
        sa.Column('disabled_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    sa.Table(
        'clinic_escalation_deliveries',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('escalation_id', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('created_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('lease_until', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('sent_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('summarised_at', clinic.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['escalation_id'],
            ['clinic_escalations.id'],
        ),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_clinic_escalation_deliveries_due', 'status', 'next_attempt_at'),
        sa.Index('ix_clinic_escalation_deliveries_escalation_id', 'escalation_id'),
    )
    sa.Table(
        'console_request_events',
        metadata,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('changed_by', sa.String(length=64), nullable=False),
        sa.Column('changed_at', clinic.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['clinic_contact_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_console_request_events_request_id', 'request_id'),
    )
    return metadata


# The console's search index of messages (console/conversations/queries.py reads it when it exists):
# SQLite, an FTS5 trigram index kept by triggers; PostgreSQL, a pg_trgm GIN index. Where it
# cannot be made (SQLite without FTS5's trigram tokenizer, before 3.34; no right to create
# pg_trgm), search reads every message instead.
SEARCH_INDEX_DDL = {
    "sqlite": (
        "CREATE VIRTUAL TABLE console_turns_search USING fts5(text, content='console_turns', "
        "content_rowid='id', tokenize='trigram', detail='none')",
        "CREATE TRIGGER console_turns_search_insert AFTER INSERT ON console_turns BEGIN "
        "INSERT INTO console_turns_search (rowid, text) VALUES (new.id, new.text); END",
        "CREATE TRIGGER console_turns_search_delete AFTER DELETE ON console_turns BEGIN "
        "INSERT INTO console_turns_search (console_turns_search, rowid, text) "
        "VALUES ('delete', old.id, old.text); END",
        "CREATE TRIGGER console_turns_search_update AFTER UPDATE OF text ON console_turns BEGIN "
        "INSERT INTO console_turns_search (console_turns_search, rowid, text) "
        "VALUES ('delete', old.id, old.text); "
        "INSERT INTO console_turns_search (rowid, text) VALUES (new.id, new.text); END",
    ),
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX ix_console_turns_text_trigrams ON console_turns "
        "USING gin (text gin_trgm_ops)",
    ),
}


def _create_search_index(connection: sa.engine.Connection) -> None:
    try:
        with connection.begin_nested():  # on PostgreSQL a failed statement ends the transaction
            for statement in SEARCH_INDEX_DDL.get(connection.dialect.name, ()):
                connection.exec_driver_sql(statement)
    except sa.exc.DBAPIError as error:
        logger.warning(
            "migrate: no search index of messages (%s); a search reads every message",
            str(error.orig).strip().splitlines()[0],
        )


def upgrade() -> None:
    bind = op.get_bind()
    metadata = _tables()
    inspector = sa.inspect(bind)
    existing = {name for name in metadata.tables if inspector.has_table(name)}
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name not in existing])
    if "console_turns" not in existing:
        _create_search_index(bind)
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                assert column.nullable, f"{table.name}.{column.name} was never added by start-up"
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS console_turns_search")  # its triggers go with console_turns
    for table in reversed(_tables().sorted_tables):
        op.drop_table(table.name)
