"""The requests page: requests stored by the booking form's own code (`save_contact_request`),
listed masked, revealed for admins only, and worked through with a recorded status history."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from clinic.db import save_contact_request
from console.auth import accounts
from console.contact_requests import queries as contact_requests

UTC = dt.timezone.utc
MONDAY_2PM_UTC = dt.datetime(2024, 6, 3, 14, 5, tzinfo=UTC)  # 9:05 AM in Chicago (CDT)


def request_from(
    engine,
    name="Jo Doe",
    contact="+15550107788",
    contact_kind="phone",
    kind="consultation",
    conversation="conv-1",
    channel="webchat",
    preferred_time="weekday mornings",
    now=MONDAY_2PM_UTC,
):
    return save_contact_request(
        engine,
        conversation_id=conversation,
        channel=channel,
        kind=kind,
        name=name,
        contact_kind=contact_kind,
        contact=contact,
        preferred_time=preferred_time,
        now=now,
    )


def request_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/requests/(\d+)">#', page)]


def audit_actions(engine) -> list[str]:
    return [entry["action"] for entry in accounts.audit_entries(engine)]


def test_every_request_page_needs_a_login(client, engine):
    request_id = request_from(engine)
    for path in ("/requests", f"/requests/{request_id}"):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.location.startswith("/login")


def test_the_list_is_newest_first_masked_and_links_the_transcript(client, engine, log_in):
    older = request_from(
        engine,
        name="Ann Older",
        contact="ann.older@example.com",
        contact_kind="email",
        kind="callback",
        conversation="conv-a",
        now=MONDAY_2PM_UTC - dt.timedelta(days=1),
    )
    newer = request_from(
        engine,
        name="Ben Newer",
        conversation="conv-b",
        channel="twilio",
        preferred_time="after 5, or 555-010-9911",
    )
    log_in()
    page = client.get("/requests").get_data(as_text=True)
    assert request_ids(page) == [newer, older]
    assert "Ben Newer" in page and "call back" in page and "consultation" in page
    assert "+15550107788" not in page and "***-***-88" in page
    assert "ann.older@example.com" not in page and "a***@example.com" in page
    assert "555-010-9911" not in page  # a number in the preferred time is masked too
    assert 'href="/conversations/conv-b"' in page and 'href="/conversations/conv-a"' in page
    assert "Mon 3 Jun 2024 9:05 AM CDT" in page  # stored naive on SQLite, read as UTC
    assert audit_actions(engine)[0] == "view_requests"


def test_an_admin_can_reveal_contact_details_and_that_is_recorded(client, engine, log_in):
    request_from(engine)
    log_in("alex")
    page = client.get("/requests?reveal=yes").get_data(as_text=True)
    assert "+15550107788" in page
    assert audit_actions(engine)[0] == "reveal_requests"


def test_staff_cannot_reveal_contact_details(client, engine, log_in):
    request_from(engine)
    log_in("sam")
    assert client.get("/requests?reveal=yes").status_code == 403
    assert "Reveal contact details" not in client.get("/requests").get_data(as_text=True)


def test_the_list_filters_by_status_and_kind(client, engine, log_in):
    consultation = request_from(engine, kind="consultation", conversation="c-1")
    callback = request_from(engine, kind="callback", conversation="c-2")
    contacted = request_from(engine, kind="callback", conversation="c-3")
    contact_requests.set_status(engine, contacted, contact_requests.CONTACTED, by="sam")
    log_in()
    assert request_ids(client.get("/requests?kind=consultation").get_data(as_text=True)) == [
        consultation
    ]
    assert request_ids(client.get("/requests?status=new&kind=callback").get_data(as_text=True)) == [
        callback
    ]
    assert request_ids(client.get("/requests?status=contacted").get_data(as_text=True)) == [
        contacted
    ]
    page = client.get("/requests?status=bogus").get_data(as_text=True)
    assert "is not one of" in page and len(request_ids(page)) == 3


def test_the_list_is_paged(client, engine, log_in):
    start = MONDAY_2PM_UTC
    ids = [
        request_from(engine, conversation=f"c-{n}", now=start + dt.timedelta(minutes=n % 7))
        for n in range(contact_requests.PAGE_SIZE + 5)
    ]
    log_in()
    first = client.get("/requests").get_data(as_text=True)
    more = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(more).get_data(as_text=True)
    assert len(request_ids(first)) == contact_requests.PAGE_SIZE
    assert sorted(request_ids(first) + request_ids(second)) == sorted(ids)
    assert 'rel="next"' not in second
    newest_first = sorted(ids, key=lambda i: (ids.index(i) % 7, i), reverse=True)
    assert request_ids(first) + request_ids(second) == newest_first


def test_a_status_change_is_recorded_with_who_and_shown_in_the_history(
    client, engine, log_in, csrf
):
    request_id = request_from(engine)
    log_in()
    token = csrf(f"/requests/{request_id}")
    reply = client.post(
        f"/requests/{request_id}/status", data={"csrf_token": token, "status": "contacted"}
    )
    assert reply.status_code == 302 and reply.location == f"/requests/{request_id}"
    client.post(
        f"/requests/{request_id}/status",
        data={"csrf_token": token, "status": "booked", "back": "/requests?status=new"},
    )
    found = contact_requests.get_request(engine, request_id)
    assert found["status"] == "booked"
    assert [(e["from_status"], e["status"], e["changed_by"]) for e in found["history"]] == [
        ("new", "contacted", "sam"),
        ("contacted", "booked", "sam"),
    ]
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert re.search(r"new → <strong>contacted</strong> by sam", page)
    assert re.search(r"contacted → <strong>booked</strong> by sam", page)
    assert 'href="tel:+15550107788"' in page  # the request's own page, to call back
    changes = [
        e["target"] for e in accounts.audit_entries(engine) if e["action"] == "request_status"
    ]
    assert changes == [
        f"request {request_id}: contacted → booked",
        f"request {request_id}: new → contacted",
    ]


@pytest.mark.parametrize("status", ["", "cancelled", "new"])
def test_a_status_that_is_unknown_or_unchanged_is_refused(client, engine, log_in, csrf, status):
    request_id = request_from(engine)
    log_in()
    client.post(
        f"/requests/{request_id}/status", data={"csrf_token": csrf("/requests"), "status": status}
    )
    assert contact_requests.get_request(engine, request_id)["history"] == []
    assert contact_requests.get_request(engine, request_id)["status"] == "new"


def test_a_status_change_needs_the_csrf_token_and_an_existing_request(client, engine, log_in, csrf):
    request_id = request_from(engine)
    log_in()
    assert (
        client.post(f"/requests/{request_id}/status", data={"status": "closed"}).status_code == 400
    )
    assert (
        client.post(
            "/requests/999/status", data={"csrf_token": csrf("/requests"), "status": "closed"}
        ).status_code
        == 404
    )
    assert contact_requests.get_request(engine, request_id)["status"] == "new"


def test_a_redirect_after_a_change_stays_on_the_requests_pages(client, engine, log_in, csrf):
    request_id = request_from(engine)
    log_in()
    reply = client.post(
        f"/requests/{request_id}/status",
        data={
            "csrf_token": csrf("/requests"),
            "status": "closed",
            "back": "//evil.example/requests",
        },
    )
    assert reply.location == f"/requests/{request_id}"


def test_a_name_is_shown_escaped(client, engine, log_in):
    request_id = request_from(engine, name="<script>alert(1)</script>")
    log_in()
    for path in ("/requests", f"/requests/{request_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
