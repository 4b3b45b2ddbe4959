"""The SMS channel's records (clinic/sms.py): a message is handled once, and a message whose
handler died is not lost."""

from __future__ import annotations

import datetime as dt

from clinic import sms
from support import migrated_engine

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)
LEASE = dt.timedelta(seconds=30)


def test_a_retry_of_a_message_in_progress_is_told_so(tmp_path):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    assert sms.claim_message(engine, "SM1", "c1", now=T0, lease=LEASE).first
    retry = sms.claim_message(engine, "SM1", "c1", now=T0 + dt.timedelta(seconds=5), lease=LEASE)
    assert (retry.first, retry.status) == (False, sms.RECEIVED)


def test_a_retry_after_the_lease_takes_over_a_message_its_handler_never_finished(tmp_path):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    sms.claim_message(engine, "SM1", "c1", now=T0, lease=LEASE)
    later = T0 + LEASE + dt.timedelta(seconds=1)
    assert sms.claim_message(engine, "SM1", "c1", now=later, lease=LEASE).first
    # taken over once: a second retry at the same moment finds it in progress again
    assert not sms.claim_message(engine, "SM1", "c1", now=later, lease=LEASE).first


def test_an_answered_message_is_never_taken_over(tmp_path):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    sms.claim_message(engine, "SM1", "c1", now=T0, lease=LEASE)
    sms.finish_message(engine, "SM1", sms.ANSWERED, ["It takes about an hour."])
    retry = sms.claim_message(engine, "SM1", "c1", now=T0 + dt.timedelta(days=1), lease=LEASE)
    assert (retry.first, retry.status, retry.replies) == (
        False,
        sms.ANSWERED,
        ["It takes about an hour."],
    )


def test_a_renewed_claim_is_not_taken_over(tmp_path):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    sms.claim_message(engine, "SM1", "c1", now=T0, lease=LEASE, body="hi")
    sms.renew_claim(engine, "SM1", LEASE, now=T0 + dt.timedelta(seconds=25))  # its handler is alive
    later = T0 + LEASE + dt.timedelta(seconds=1)
    assert not sms.claim_message(engine, "SM1", "c1", now=later, lease=LEASE).first
    assert sms.stale_messages(engine, now=later) == []
    stale = sms.stale_messages(engine, now=later + LEASE)
    assert [(p.message_sid, p.body) for p in stale] == [("SM1", "hi")]
