-- The clinic database as the last release before migrations made it on SQLite (every server ran
-- create_all at start-up): written from that release (commit aa1c983), read by
-- tests/clinic/test_migrations.py.
CREATE TABLE clinic_contact_requests (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	channel VARCHAR(64), 
	kind VARCHAR(32) NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	contact_kind VARCHAR(16) NOT NULL, 
	contact VARCHAR(255) NOT NULL, 
	preferred_time VARCHAR(255) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE clinic_crisis_sweep (
	id INTEGER NOT NULL, 
	last_event_id BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE clinic_escalation_deliveries (
	id INTEGER NOT NULL, 
	escalation_id INTEGER NOT NULL, 
	target VARCHAR(16) NOT NULL, 
	purpose VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	lease_until DATETIME, 
	last_error VARCHAR(200), 
	sent_at DATETIME, 
	summarised_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(escalation_id) REFERENCES clinic_escalations (id)
);
CREATE TABLE clinic_escalations (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	message_id VARCHAR(255) NOT NULL, 
	channel VARCHAR(64), 
	level VARCHAR(16) NOT NULL, 
	categories TEXT NOT NULL, 
	evidence TEXT NOT NULL, 
	subject VARCHAR(16) NOT NULL, 
	last_turns TEXT NOT NULL, 
	reach_back VARCHAR(255), 
	status VARCHAR(16) NOT NULL, 
	acknowledged_at DATETIME, 
	acknowledged_by VARCHAR(120), 
	resolved_at DATETIME, 
	resolved_by VARCHAR(120), 
	note TEXT, 
	reminders_sent INTEGER NOT NULL, 
	last_notified_at DATETIME, 
	collected TEXT, 
	outcome VARCHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_clinic_escalations_message UNIQUE (conversation_id, message_id)
);
CREATE TABLE clinic_sms_consent_events (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR(64) NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	keyword VARCHAR(16), 
	message_sid VARCHAR(64), 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE clinic_sms_inbox (
	message_sid VARCHAR(64) NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (message_sid)
);
CREATE TABLE clinic_sms_menus (
	conversation_id VARCHAR(64) NOT NULL, 
	options TEXT NOT NULL, 
	offered_at DATETIME NOT NULL, 
	PRIMARY KEY (conversation_id)
);
CREATE TABLE clinic_sms_messages (
	message_sid VARCHAR(64) NOT NULL, 
	conversation_id VARCHAR(64) NOT NULL, 
	received_at DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	replies TEXT, 
	error VARCHAR(200), 
	PRIMARY KEY (message_sid)
);
CREATE TABLE clinic_sms_numbers (
	conversation_id VARCHAR(64) NOT NULL, 
	phone VARCHAR(32) NOT NULL, 
	first_seen_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	opted_out BOOLEAN NOT NULL, 
	opted_out_at DATETIME, 
	PRIMARY KEY (conversation_id)
);
CREATE TABLE console_audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	target VARCHAR(255), 
	PRIMARY KEY (id)
);
CREATE TABLE console_conversation_reviews (
	conversation_id VARCHAR(255) NOT NULL, 
	reviewed BOOLEAN NOT NULL, 
	reviewed_by VARCHAR(64), 
	reviewed_at DATETIME, 
	note TEXT, 
	note_by VARCHAR(64), 
	note_at DATETIME, 
	PRIMARY KEY (conversation_id)
);
CREATE TABLE console_conversation_tags (
	conversation_id VARCHAR(255) NOT NULL, 
	tag VARCHAR(40) NOT NULL, 
	added_by VARCHAR(64) NOT NULL, 
	added_at DATETIME NOT NULL, 
	PRIMARY KEY (conversation_id, tag)
);
CREATE TABLE console_conversations (
	conversation_id VARCHAR(255) NOT NULL, 
	channel VARCHAR(64), 
	started_at DATETIME NOT NULL, 
	last_message_at DATETIME NOT NULL, 
	last_event_ts FLOAT NOT NULL, 
	user_messages INTEGER NOT NULL, 
	bot_messages INTEGER NOT NULL, 
	staff_messages INTEGER NOT NULL, 
	not_understood INTEGER NOT NULL, 
	fallbacks INTEGER NOT NULL, 
	low_confidence INTEGER NOT NULL, 
	crisis_rank SMALLINT NOT NULL, 
	paused BOOLEAN NOT NULL, 
	first_message VARCHAR(200), 
	person_name VARCHAR(80), 
	person_contact VARCHAR(255), 
	PRIMARY KEY (conversation_id)
);
CREATE TABLE console_index_checkpoints (
	source VARCHAR(32) NOT NULL, 
	last_id BIGINT NOT NULL, 
	PRIMARY KEY (source)
);
CREATE TABLE console_request_events (
	id INTEGER NOT NULL, 
	request_id INTEGER NOT NULL, 
	from_status VARCHAR(32) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	changed_by VARCHAR(64) NOT NULL, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(request_id) REFERENCES clinic_contact_requests (id) ON DELETE CASCADE
);
CREATE TABLE console_settings (
	name VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	updated_by VARCHAR(64) NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE console_turns (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	at DATETIME NOT NULL, 
	role VARCHAR(8) NOT NULL, 
	text TEXT NOT NULL, 
	message_id VARCHAR(255), 
	intent VARCHAR(128), 
	confidence FLOAT, 
	faq_topic VARCHAR(128), 
	answer_confidence FLOAT, 
	crisis_level VARCHAR(16), 
	outcome VARCHAR(16), 
	staff VARCHAR(64), 
	PRIMARY KEY (id)
);
CREATE TABLE console_users (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	last_login_at DATETIME, 
	session_version INTEGER, 
	disabled_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
CREATE VIRTUAL TABLE console_turns_search USING fts5(text, content='console_turns', content_rowid='id', tokenize='trigram', detail='none');
CREATE INDEX ix_clinic_contact_requests_conversation_id ON clinic_contact_requests (conversation_id);
CREATE INDEX ix_clinic_escalation_deliveries_due ON clinic_escalation_deliveries (status, next_attempt_at);
CREATE INDEX ix_clinic_escalation_deliveries_escalation_id ON clinic_escalation_deliveries (escalation_id);
CREATE INDEX ix_clinic_escalations_status ON clinic_escalations (status);
CREATE INDEX ix_clinic_sms_consent_events_conversation_id ON clinic_sms_consent_events (conversation_id);
CREATE INDEX ix_clinic_sms_messages_conversation_id ON clinic_sms_messages (conversation_id);
CREATE INDEX ix_console_audit_log_at ON console_audit_log (at);
CREATE INDEX ix_console_conversation_tags_tag ON console_conversation_tags (tag, conversation_id);
CREATE INDEX ix_console_conversations_channel ON console_conversations (channel);
CREATE INDEX ix_console_conversations_recent ON console_conversations (last_message_at, conversation_id);
CREATE INDEX ix_console_request_events_request_id ON console_request_events (request_id);
CREATE INDEX ix_console_turns_conversation ON console_turns (conversation_id, at);
CREATE INDEX ix_console_turns_intent ON console_turns (intent, conversation_id);
CREATE INDEX ix_console_turns_outcome ON console_turns (outcome, at);
CREATE INDEX ix_console_turns_topic ON console_turns (faq_topic, conversation_id);
CREATE TRIGGER console_turns_search_delete AFTER DELETE ON console_turns BEGIN INSERT INTO console_turns_search (console_turns_search, rowid, text) VALUES ('delete', old.id, old.text); END;
CREATE TRIGGER console_turns_search_insert AFTER INSERT ON console_turns BEGIN INSERT INTO console_turns_search (rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER console_turns_search_update AFTER UPDATE OF text ON console_turns BEGIN INSERT INTO console_turns_search (console_turns_search, rowid, text) VALUES ('delete', old.id, old.text); INSERT INTO console_turns_search (rowid, text) VALUES (new.id, new.text); END;
