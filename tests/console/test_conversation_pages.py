"""The console's conversation pages (`console.conversations`) with Flask's test client, over
conversations held with the real assistant (held_conversations.py), indexed from its event
broker into a fresh database per test: filters and search, pages, transcripts, annotations,
exports, not understood, following a conversation live."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import uuid

import pytest
import yaml
from held_conversations import FORMULA, XSS, summary
from webchat_tabs import Tab

from clinic.settings import Secret
from console import create_app
from console.auth import accounts
from projector import index

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(index_url, index_db):
    accounts.create_user(index_db, "sam", PASSWORD, accounts.STAFF)
    accounts.create_user(index_db, "ada", PASSWORD, accounts.ADMIN)
    app = create_app(
        {"DATABASE_URL": index_url, "TESTING": True, "SECRET_KEY": secrets.token_hex(32)}
    )
    return app.test_client()


def csrf(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username="sam"):
    reply = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(client, "/login")},
    )
    assert reply.status_code == 302


def test_conversation_pages_need_a_login(client, held):
    for path in (
        "/conversations",
        f"/conversations/{held['faq']}",
        "/conversations.csv",
        "/not-understood",
        f"/conversations/{held['faq']}/live.json?shown=0",
    ):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.location.startswith("/login")


def test_filters_and_search_find_the_right_conversations(client, held):
    log_in(client)

    def listed(**args):
        page = client.get("/conversations", query_string=args).get_data(as_text=True)
        return {name for name, cid in held.items() if cid in page}

    assert "faq" in listed(topic="session_length") and "gibberish" not in listed(
        topic="session_length"
    )
    assert {"gibberish"} <= listed(not_understood="yes")
    assert "faq" not in listed(not_understood="yes")
    assert "crisis" in listed(crisis="urgent") and "faq" not in listed(crisis="urgent")
    assert "crisis" in listed(escalated="yes") and "faq" not in listed(escalated="yes")
    assert listed(q="WIZZLE frob") == {"gibberish"}
    assert listed(q="100%_") == set()  # LIKE's wildcards are searched for as text
    assert "faq" in listed(channel="rest") and listed(channel="twilio") == set()


def test_pages_of_the_list_follow_each_other(client, held):
    client.application.config["CONSOLE_PAGE_SIZE"] = 2
    log_in(client)
    seen, url = [], "/conversations"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'href="/conversations/([^"]+)"', page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) and set(held.values()) <= set(seen)


def test_a_transcript_shows_each_message_with_its_nlu_and_is_audited(client, held, index_db):
    log_in(client)
    page = client.get(f"/conversations/{held['faq']}").get_data(as_text=True)
    assert "how long is a session?" in page and "session_length" in page
    assert "crisis <strong" in page
    entries = accounts.audit_entries(index_db)
    assert entries[0]["action"] == "view_conversation" and entries[0]["target"] == held["faq"]
    assert client.get("/conversations/no-such-conversation").status_code == 404


def test_user_text_is_shown_as_text_everywhere(client, held):
    log_in(client)
    for path in (f"/conversations/{held['xss']}", "/conversations"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_tags_review_and_note_are_saved_and_filter(client, held):
    log_in(client)
    path = f"/conversations/{held['faq']}"
    token = csrf(client, path)
    for form in (
        {"add_tag": "Pricing Question"},
        {"reviewed": "yes"},
        {"note": "Asked twice; add a price example."},
    ):
        reply = client.post(f"{path}/annotate", data={**form, "csrf_token": token})
        assert reply.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "pricing question" in page and "Reviewed by sam" in page
    assert "Asked twice; add a price example." in page
    listing = client.get(
        "/conversations", query_string={"tag": "pricing question", "reviewed": "yes"}
    )
    assert held["faq"] in listing.get_data(as_text=True)
    assert held["gibberish"] not in listing.get_data(as_text=True)
    bad = client.post(
        f"{path}/annotate", data={"add_tag": "<b>", "csrf_token": token}, follow_redirects=True
    )
    assert "A tag is 1 to 40" in bad.get_data(as_text=True)
    assert client.post(f"{path}/annotate", data={"add_tag": "x"}).status_code == 400  # no CSRF


def test_only_an_admin_exports_conversations(client, held):
    log_in(client)
    assert client.get("/conversations.csv").status_code == 403
    assert client.get("/conversations.json").status_code == 403
    assert "conversations.csv" not in client.get("/conversations").get_data(as_text=True)


def test_exports_are_masked_and_defused_for_spreadsheets(client, held, index_db):
    log_in(client, "ada")
    reply = client.get("/conversations.csv")
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    rows = {
        row["conversation_id"]: row
        for row in csv.DictReader(io.StringIO(reply.get_data(as_text=True)))
    }
    assert rows[held["formula"]]["first_message"] == "'" + FORMULA
    contact = rows[held["contact"]]["first_message"]
    assert "555-010-7788" not in contact and "jo.doe@example.com" not in contact
    assert "***-***-88" in contact and "j***@example.com" in contact
    records = {r["conversation_id"]: r for r in client.get("/conversations.json").get_json()}
    assert records[held["xss"]]["first_message"] == XSS  # JSON: data, not markup
    assert (
        records[held["crisis"]]["crisis_level"] == "urgent"
        and records[held["crisis"]]["escalated"] is True
    )
    assert accounts.audit_entries(index_db)[0]["action"] == "export_json"


def test_only_an_admin_reveals_contact_details_and_it_is_recorded(client, held, index_db):
    log_in(client)
    assert client.get("/conversations", query_string={"reveal": "yes"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/conversations")})
    log_in(client, "ada")
    page = client.get("/conversations", query_string={"reveal": "yes"}).get_data(as_text=True)
    assert "555-010-7788" in page
    assert "555-010-7788" not in client.get("/conversations").get_data(as_text=True)
    assert accounts.audit_entries(index_db)[1]["action"] == "reveal_conversations"


def test_not_understood_groups_similar_messages_and_exports_training_data(client, held):
    log_in(client)
    page = client.get("/not-understood").get_data(as_text=True)
    assert "blorptastic wizzle frob" in page
    ids = re.findall(r'name="message" value="(\d+)"> blorptastic', page)
    token = csrf(client, "/not-understood")
    reply = client.post(
        "/not-understood/export",
        data={"message": ids, "intent": "faq/parking", "csrf_token": token},
    )
    assert reply.status_code == 200
    data = yaml.safe_load(reply.get_data(as_text=True))
    assert data["nlu"][0]["intent"] == "faq/parking"
    assert "- blorptastic wizzle frob" in data["nlu"][0]["examples"]
    bad = client.post(
        "/not-understood/export",
        data={"message": ids, "intent": "Robert'); DROP", "csrf_token": token},
        follow_redirects=True,
    )
    assert "is not an intent name" in bad.get_data(as_text=True)


def test_the_json_export_round_trips(client, held):
    log_in(client, "ada")
    body = client.get("/conversations.json", query_string={"topic": "session_length"})
    assert held["faq"] in {r["conversation_id"] for r in json.loads(body.get_data())}


# Following a conversation live, and naming it for the person.


def catch_up(index_db, assistant):
    index.catch_up(index_db, index.broker_engine(assistant.events_database_url), index.BROKER)


def poll_of(page: str) -> tuple:
    """The transcript page's polling URL and how many messages it shows."""
    poll = re.search(r'data-poll="([^"]+)"', page).group(1)
    return poll, int(re.search(r'data-shown="(\d+)"', page).group(1))


def test_a_transcript_follows_the_web_chat_and_says_when_it_is_closed(
    client, index_db, assistant, staff_api_token
):
    client.application.config.update(
        RASA_URL=assistant.url, STAFF_API_TOKEN=Secret(staff_api_token)
    )
    tab = Tab()
    session = tab.open(assistant.url)
    tab.say(session, "how long is a session?")
    tab.wait_for("bot_done")
    catch_up(index_db, assistant)
    log_in(client)
    page = client.get(f"/conversations/{session}").get_data(as_text=True)
    assert "The chat is open: take over and reply here." in page
    assert "They gave no phone number or e-mail address" in page
    poll, shown = poll_of(page)
    assert shown == 2 and client.get(poll, query_string={"shown": shown}).get_json()["turns"] == []

    tab.say(session, "and what are the side effects?")
    tab.wait_for("bot_done", 2)
    catch_up(index_db, assistant)
    update = client.get(poll, query_string={"shown": shown}).get_json()
    assert [re.search(r'class="turn (\w+)"', t).group(1) for t in update["turns"]] == [
        "user",
        "bot",
    ]
    assert "and what are the side effects?" in update["turns"][0]
    assert "crisis <strong" in update["turns"][0]  # drawn as the page draws a message
    assert update["shown"] == 4
    assert accounts.audit_entries(index_db)[0]["action"] == "view_new_messages"

    tab.close()
    deadline = time.monotonic() + 20
    while "closed the chat" not in update["reach"] and time.monotonic() < deadline:
        time.sleep(0.2)
        update = client.get(poll, query_string={"shown": 4}).get_json()
    assert "The person has closed the chat" in update["reach"] and update["turns"] == []
    page = client.get(f"/conversations/{session}").get_data(as_text=True)
    assert "The person has closed the chat" in page
    assert client.get("/conversations/no-such/live.json").status_code == 404


def test_a_conversation_is_named_for_the_person_who_gave_a_name(client, index_db, assistant):
    sender = f"rest-console-named-{uuid.uuid4().hex[:8]}"
    for text in ("I'd like to book a consultation", "Jordan Lee", "jordan.lee@example.com"):
        assistant.send(sender, text)
    catch_up(index_db, assistant)
    assert (
        summary(index_db, sender)["person_name"],
        summary(index_db, sender)["person_contact"],
    ) == ("Jordan Lee", "jordan.lee@example.com")
    log_in(client)
    named = re.compile(r"REST API · \w{3} \d{1,2} \w{3}( \d{4})? \d{1,2}:\d\d [AP]M · Jordan Lee")
    listing = client.get("/conversations").get_data(as_text=True)
    assert re.search(f'href="/conversations/{sender}">{named.pattern}</a>', listing)
    page = client.get(f"/conversations/{sender}").get_data(as_text=True)
    assert re.search(f"<title>{named.pattern} · ", page)
    assert re.search(f"<h1>{named.pattern}</h1>", page)
    assert 'href="mailto:jordan.lee@example.com"' in page  # the contact they gave
