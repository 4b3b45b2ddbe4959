"""Answers (console/answers/): staff propose new wording for an FAQ answer, for every channel or
as an SMS variant; administrators approve, reject and revert to the shipped text (staff get
403); a text that cannot be served is refused with nothing stored; every change is audited; the
SMS segment count is the SMS channel's."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from clinic.answers import ALL_CHANNELS, APPROVED, DRAFT, REJECTED, REVERTED, SMS, versions
from clinic.profile import current_profile
from console.answers import queries as answers
from console.auth import accounts
from console.labels import catalogue_topics

COST = "utter_faq/cost"
COST_PAGE = f"/answers/{COST}"


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash" role="status">([^<]*)</p>', page)


def stored(engine) -> list[dict]:
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(sa.select(versions).order_by(versions.c.id)).mappings()
        ]


def audited(engine) -> list[tuple[str, str]]:
    return [(e["action"], e["target"]) for e in reversed(accounts.audit_entries(engine))]


def propose(client, text, channel=ALL_CHANNELS, response=COST):
    page = client.get(COST_PAGE).get_data(as_text=True)
    return client.post(
        "/answers/propose",
        data={"response": response, "channel": channel, "text": text, "csrf_token": token(page)},
    )


def post(client, path, **fields):
    page = client.get("/answers").get_data(as_text=True)
    return client.post(path, data={**fields, "csrf_token": token(page)})


def test_staff_propose_and_only_an_administrator_approves(client, log_in, engine):
    log_in("sam")
    page = client.get("/answers").get_data(as_text=True)
    assert 'href="/answers">Answers</a>' in page  # the nav link
    assert "How much does it cost? Do you take insurance?" in page  # the catalogue's question
    assert "proposed text" not in page

    reply = propose(client, "Prices: {pricing}\r\nCall {clinic_phone}.  ")
    assert reply.status_code == 302 and reply.location == COST_PAGE
    [draft] = stored(engine)
    assert (draft["text"], draft["status"], draft["channel"], draft["created_by"]) == (
        "Prices: {pricing}\nCall {clinic_phone}.",
        DRAFT,
        ALL_CHANNELS,
        "sam",
    )
    assert "1 proposed text" in client.get("/answers").get_data(as_text=True)
    page = client.get(COST_PAGE).get_data(as_text=True)
    assert "Waiting for an administrator" in page and "Approve" not in page

    assert post(client, f"/answers/versions/{draft['id']}/approve").status_code == 403
    assert post(client, f"/answers/versions/{draft['id']}/reject").status_code == 403
    assert [v["status"] for v in stored(engine)] == [DRAFT]

    client.post("/logout", data={"csrf_token": token(page)})
    log_in("alex")
    reply = post(client, f"/answers/versions/{draft['id']}/approve")
    assert reply.status_code == 302 and reply.location == COST_PAGE
    [approved] = stored(engine)
    assert (approved["status"], approved["reviewed_by"]) == (APPROVED, "alex")
    assert approved["reviewed_at"] is not None
    page = client.get(COST_PAGE).get_data(as_text=True)
    assert "The approved new wording" in page
    assert "within a few seconds" in " ".join(flashes(page))
    listed = client.get("/answers").get_data(as_text=True)
    assert "every channel" in listed and "proposed text" not in listed

    reply = post(client, f"/answers/versions/{draft['id']}/approve")  # twice: refused
    assert "already approved or rejected" in client.get(reply.location).get_data(as_text=True)
    assert ("propose_answer", f"{COST} (all) version {draft['id']}") in audited(engine)
    assert ("approve_answer", f"{COST} (all) version {draft['id']}") in audited(engine)
    actions = [action for action, _ in audited(engine)]
    assert actions.count("propose_answer") == 1 and actions.count("approve_answer") == 1


def test_an_administrator_rejects_a_proposal_and_the_answer_is_unchanged(client, log_in, engine):
    log_in("alex")
    propose(client, "Too breezy: it's cheap!")
    [draft] = stored(engine)
    post(client, f"/answers/versions/{draft['id']}/reject")
    [rejected] = stored(engine)
    assert (rejected["status"], rejected["reviewed_by"]) == (REJECTED, "alex")
    page = client.get(COST_PAGE).get_data(as_text=True)
    assert "Rejected by alex" in page and "The shipped text" in page
    with engine.connect() as connection:
        assert answers._current(connection, COST) == {}
    assert ("reject_answer", f"{COST} (all) version {draft['id']}") in audited(engine)


def test_reverting_makes_the_shipped_text_current_again_and_keeps_the_history(
    client, log_in, engine
):
    log_in("alex")
    propose(client, "Reworded for everyone.")
    propose(client, "Short for SMS.", channel=SMS)
    for draft in stored(engine):
        post(client, f"/answers/versions/{draft['id']}/approve")
    page = client.get(COST_PAGE).get_data(as_text=True)
    assert "Back to the shipped text on every channel" in page
    assert "Back to the shipped text on SMS" in page

    reply = post(client, "/answers/revert", response=COST, channel=SMS)
    assert reply.status_code == 302 and reply.location == COST_PAGE
    with engine.connect() as connection:
        assert answers._current(connection, COST) == {ALL_CHANNELS: "Reworded for everyone."}
    post(client, "/answers/revert", response=COST, channel=ALL_CHANNELS)
    with engine.connect() as connection:
        assert answers._current(connection, COST) == {}
    history = stored(engine)
    assert [v["status"] for v in history] == [APPROVED, APPROVED, REVERTED, REVERTED]
    assert history[-1]["text"] == answers.shipped_text(COST, ALL_CHANNELS)  # kept whole

    before = stored(engine)
    reply = post(
        client, "/answers/revert", response=COST, channel=ALL_CHANNELS
    )  # nothing to revert
    assert "already has its shipped text" in client.get(reply.location).get_data(as_text=True)
    assert stored(engine) == before
    assert [a for a, _ in audited(engine)].count("revert_answer") == 2


def test_staff_cannot_revert(client, log_in, engine):
    answers.propose(engine, COST, ALL_CHANNELS, "Reworded.", "sam")
    answers.approve(engine, 1, "alex")
    log_in("sam")
    assert "Back to the shipped text" not in client.get(COST_PAGE).get_data(as_text=True)
    assert post(client, "/answers/revert", response=COST, channel=ALL_CHANNELS).status_code == 403
    assert len(stored(engine)) == 1


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "The text is empty"),
        ("   \r\n\t ", "The text is empty"),
        ("x" * 1601, "has 1,601 characters; an answer has at most 1,600"),
        ("Call {clinic_fone} today.", "{clinic_fone} is not a profile field or a slot"),
        ("Call {clinic_phone:>20}.", "is not a profile field or a slot"),
        ("It costs {pricing} } or {", "A { or } is not part of a placeholder"),
        ("Pasted\x00 text", "invisible control character"),
    ],
    ids=["empty", "blank", "too long", "unknown field", "format spec", "lone brace", "control"],
)
def test_a_text_that_cannot_be_served_is_refused_and_nothing_is_stored(
    client, log_in, engine, text, error
):
    log_in("sam")
    reply = propose(client, text)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    [message] = flashes(page)
    assert message.startswith("Nothing was saved:") and error in message.replace("&#39;", "'")
    assert stored(engine) == [] and "propose_answer" not in dict(audited(engine))


@pytest.mark.parametrize(
    "response, error",
    [
        ("utter_faq/no_such_topic", "There is no FAQ answer by that name."),
        ("utter_crisis", "The crisis reply and its footers never can"),
        ("utter_crisis_footer", "The crisis reply and its footers never can"),
        ("utter_greet", "Only the FAQ answers can be reworded here."),
    ],
)
def test_only_faq_answers_can_be_reworded(client, log_in, engine, response, error):
    log_in("alex")
    reply = propose(client, "Anything.", response=response)
    assert reply.status_code == 302 and reply.location == "/answers"
    assert error in " ".join(flashes(client.get("/answers").get_data(as_text=True)))
    reply = post(client, "/answers/revert", response=response, channel=ALL_CHANNELS)
    assert reply.status_code == 302
    assert client.get(f"/answers/{response}").status_code == 404
    assert stored(engine) == []


def test_a_channel_that_is_neither_every_channel_nor_sms_is_refused(client, log_in, engine):
    log_in("sam")
    reply = propose(client, "Fine text.", channel="webchat")
    assert reply.status_code == 400 and "every channel or for SMS" in reply.get_data(as_text=True)
    assert stored(engine) == []


def test_the_page_shows_the_catalogue_facts_the_profile_fields_and_the_versions_sms_count(
    client, log_in, engine
):
    log_in("sam")
    profile = current_profile()
    propose(client, "Call {clinic_phone} 😀", channel=SMS)
    page = client.get("/answers/utter_faq/aftercare").get_data(as_text=True)
    assert "Can I drive home after an infusion?" in page
    assert "the profile&#39;s aftercare.transport, as written" in page  # a catalogue fact
    own = page.split("Every other profile field")[0]
    for field in ("{aftercare_transport}", "{aftercare_if_unwell}", "{clinic_phone}"):
        assert field in own  # the catalogue's `profile: [aftercare, phone]`
    assert "{pricing}" not in own and "{pricing}" in page
    assert "utter_faq/aftercare" in page  # the response name, in small print

    page = client.get(COST_PAGE).get_data(as_text=True)
    assert "Call {clinic_phone} 😀" in page and "1 SMS segment" in page
    assert len(f"Call {profile.phone} 😀") <= 70  # one UCS-2 segment


def test_proposing_needs_a_csrf_token(client, log_in, engine):
    log_in("sam")
    reply = client.post(
        "/answers/propose", data={"response": COST, "channel": ALL_CHANNELS, "text": "Hi."}
    )
    assert reply.status_code == 400 and stored(engine) == []
    assert client.get("/answers").status_code == 200
    client.post(
        "/logout", data={"csrf_token": token(client.get("/answers").get_data(as_text=True))}
    )
    assert client.get("/answers").status_code == 302  # to the log-in page


def test_every_profile_field_the_catalogue_names_is_a_placeholder():
    for topic in catalogue_topics().values():
        for field in topic.get("profile", []):
            assert answers.placeholders_of(field), (topic["id"], field)


def test_every_faq_answer_of_the_domain_is_listed():
    assert len(answers.editable_answers()) == len(catalogue_topics())


# The SMS segment counter (the SMS channel's, over the text with the profile's values filled in).


@pytest.mark.parametrize(
    "text, count",
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # GSM-7's extension characters take two places
        ("[" * 81, 2),
        ("a" * 69 + "ō", 1),  # one character outside GSM-7: UCS-2, 70 to a segment
        ("a" * 70 + "ō", 2),
        ("a" * 133 + "ō", 2),  # 67 each when there are several
        ("a" * 134 + "ō", 3),
        ("a" * 159 + "’", 3),  # a curly quote is outside GSM-7 too: 160 UCS-2 characters
        ("😀" * 35, 1),  # an emoji is two UCS-2 characters
        ("😀" * 36, 2),
    ],
)
def test_sms_segments_gsm7_and_ucs2(text, count):
    assert answers.sms_segments(text) == count


def test_sms_segments_count_the_profiles_values_not_the_placeholders():
    phone = current_profile().phone
    assert answers.sms_segments("{clinic_phone}" + "a" * (160 - len(phone))) == 1
    assert answers.sms_segments("{clinic_phone}" + "a" * (161 - len(phone))) == 2
    # A slot stays as written, braces and all (two places each in GSM-7): 16 a time.
    assert answers.sms_segments("{contact_name}" * 10) == 1
    assert answers.sms_segments("{contact_name}" * 11) == 2
