"""The SMS channel's fixtures: a signed text message sent to the running assistant, its
database, and a second assistant whose every reply is late."""

from __future__ import annotations

from typing import List, Optional

import pytest
from sms_webhooks import bodies_of, inbound, post, signature

from clinic.db import engine_for
from support import ROOT, start_assistant, stop


@pytest.fixture
def send(assistant, twilio_cloud):
    """Send a correctly signed text message; the TwiML reply's message bodies."""

    def send(phone: str, body: Optional[str], sid: Optional[str] = None) -> List[str]:
        params = inbound(phone, body, sid)
        return bodies_of(post(assistant, params, signature(twilio_cloud.auth_token, params)))

    return send


@pytest.fixture
def engine(assistant):
    return engine_for(assistant.database_url)


@pytest.fixture(scope="module")
def slow_assistant(trained_model, tmp_path_factory, twilio_cloud):
    """A server whose reply budget is always exceeded: every reply goes through the API. Its
    clinic has Twilio's keyword replies turned off, so it answers HELP itself."""
    workdir = tmp_path_factory.mktemp("slow")
    profile = workdir / "clinic_profile.yml"
    text = (ROOT / "clinic_profile.yml").read_text()
    assert "keyword_replies: twilio" in text
    profile.write_text(text.replace("keyword_replies: twilio", "keyword_replies: clinic"))
    env = {
        **twilio_cloud.env(),
        "TWILIO_REPLY_BUDGET_SECONDS": "0.001",
        "CLINIC_PROFILE": str(profile),
    }
    running, processes = start_assistant(
        workdir, trained_model, with_action_server=False, extra_env=env
    )
    yield running
    stop(processes)
