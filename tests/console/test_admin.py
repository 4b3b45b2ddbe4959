"""The admin pages (`console.admin.routes`) with Flask's test client and a fresh SQLite
database per test: accounts, the audit log and the retention period; admins only."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest

from console import create_app
from console.admin import retention
from console.auth import accounts
from projector import index

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a much longer new passphrase"


def make_app(database_url):
    return create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": secrets.token_hex(32)}
    )


@pytest.fixture
def app(database_url, engine):
    accounts.create_user(engine, "ada", PASSWORD, accounts.ADMIN)
    accounts.create_user(engine, "sam", PASSWORD, accounts.STAFF)
    return make_app(database_url)


@pytest.fixture
def admin(app):
    client = app.test_client()
    assert log_in(client, "ada").status_code == 302
    return client


@pytest.fixture
def staff(app):
    client = app.test_client()
    assert log_in(client, "sam").status_code == 302
    return client


def csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username, password=PASSWORD):
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(client)}
    )


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client, "/admin/users"), **data})


def user_id(engine, username):
    return next(a["id"] for a in accounts.list_users(engine) if a["username"] == username)


def actions(engine):
    return [(e["username"], e["action"], e["target"]) for e in accounts.audit_entries(engine)]


ADMIN_PAGES = (
    "/admin/",
    "/admin/users",
    "/admin/audit",
    "/admin/retention",
    "/admin/users/1/password",
)


def test_staff_get_403_and_no_admin_link(staff, engine):
    for path in ADMIN_PAGES:
        assert staff.get(path).status_code == 403, path
    token = csrf(staff, "/")
    sam = user_id(engine, "sam")
    for path, data in (
        (
            "/admin/users",
            {"username": "eve", "role": "admin", "password": PASSWORD, "password_again": PASSWORD},
        ),
        (f"/admin/users/{sam}/role", {"role": "admin"}),
        (f"/admin/users/{sam}/unlock", {}),
        ("/admin/retention", {"days": "1"}),
    ):
        assert staff.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert [a["role"] for a in accounts.list_users(engine)] == ["admin", "staff"]
    assert retention.retention_days(engine) is None
    assert "/admin/" not in staff.get("/").get_data(as_text=True)


def test_not_logged_in_goes_to_the_login_page(app):
    reply = app.test_client().get("/admin/users")
    assert reply.status_code == 302 and reply.location.startswith("/login")


def test_admins_see_every_account_and_the_admin_link(admin):
    assert 'href="/admin/users">Admin</a>' in admin.get("/").get_data(as_text=True)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "ada" in page and "sam" in page and "(you)" in page
    assert "$argon2" not in page  # no password hashes on the page


def test_a_form_without_its_csrf_token_is_refused(admin, engine):
    reply = admin.post(f"/admin/users/{user_id(engine, 'sam')}/role", data={"role": "admin"})
    assert reply.status_code == 400
    assert accounts.get_user(engine, user_id(engine, "sam")).role == "staff"


def test_creating_an_account_checks_the_password_twice(admin, app, engine):
    form = {"username": "lee", "role": "staff", "password": "short", "password_again": "short"}
    reply = post(admin, "/admin/users", **form)
    assert reply.status_code == 400 and "at least 12 characters" in reply.get_data(as_text=True)
    form.update(password=PASSWORD, password_again=PASSWORD + "!")
    reply = post(admin, "/admin/users", **form)
    assert reply.status_code == 400 and "differ" in reply.get_data(as_text=True)
    form.update(password_again=PASSWORD)
    assert post(admin, "/admin/users", **form).status_code == 302
    assert post(admin, "/admin/users", **form).status_code == 400  # the name is taken
    assert log_in(app.test_client(), "lee").status_code == 302
    assert ("ada", "create_user", "user lee (staff)") in actions(engine)
    assert not any(PASSWORD in str(entry) for entry in accounts.audit_entries(engine))


def test_a_role_change_applies_to_an_open_session_at_once(admin, staff, engine):
    assert staff.get("/admin/users").status_code == 403
    post(admin, f"/admin/users/{user_id(engine, 'sam')}/role", role="admin")
    assert staff.get("/admin/users").status_code == 200
    post(admin, f"/admin/users/{user_id(engine, 'sam')}/role", role="staff")
    assert staff.get("/admin/users").status_code == 403
    assert ("ada", "change_role", "user sam: admin") in actions(engine)
    assert (
        post(admin, f"/admin/users/{user_id(engine, 'sam')}/role", role="root").status_code == 302
    )
    assert accounts.get_user(engine, user_id(engine, "sam")).role == "staff"


def test_the_last_admin_can_neither_demote_nor_disable_themselves(admin, engine):
    ada = user_id(engine, "ada")
    reply = post(admin, f"/admin/users/{ada}/role", role="staff")
    assert "last administrator" in admin.get(reply.location).get_data(as_text=True)
    post(admin, f"/admin/users/{ada}/disable")
    assert accounts.get_user(engine, ada).role == "admin"  # still there, still admin
    # With a second administrator, ada may step down.
    post(admin, f"/admin/users/{user_id(engine, 'sam')}/role", role="admin")
    post(admin, f"/admin/users/{ada}/role", role="staff")
    assert accounts.get_user(engine, ada).role == "staff"
    assert admin.get("/admin/users").status_code == 403


def test_disabling_ends_open_sessions_and_refuses_logins_until_enabled(admin, staff, app, engine):
    sam = user_id(engine, "sam")
    post(admin, f"/admin/users/{sam}/disable")
    reply = staff.get("/")
    assert reply.status_code == 302 and reply.location.startswith("/login")
    reply = log_in(app.test_client(), "sam")
    assert reply.status_code == 401 and "disabled" in reply.get_data(as_text=True)
    wrong = log_in(app.test_client(), "sam", "not the password")
    assert "disabled" not in wrong.get_data(as_text=True)  # only the password holder learns it
    assert "disabled since" in admin.get("/admin/users").get_data(as_text=True)
    post(admin, f"/admin/users/{sam}/enable")
    assert log_in(app.test_client(), "sam").status_code == 302
    assert [a for a in actions(engine) if a[1] in ("disable_user", "enable_user")] == [
        ("ada", "enable_user", "user sam"),
        ("ada", "disable_user", "user sam"),
    ]


def test_unlocking_a_locked_account(admin, app, engine):
    visitor = app.test_client()
    for _ in range(accounts.MAX_FAILURES):
        log_in(visitor, "sam", "wrong password!!")
    assert "locked" in log_in(visitor, "sam").get_data(as_text=True)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "locked until" in page and ">Unlock<" in page
    post(admin, f"/admin/users/{user_id(engine, 'sam')}/unlock")
    assert log_in(visitor, "sam").status_code == 302
    assert ("ada", "unlock_user", "user sam") in actions(engine)


def test_resetting_a_password(admin, app, engine):
    path = f"/admin/users/{user_id(engine, 'sam')}/password"
    assert "New password for sam" in admin.get(path).get_data(as_text=True)
    reply = post(admin, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD + "x")
    assert reply.status_code == 400
    assert post(admin, path, password=NEW_PASSWORD, password_again=NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), "sam").status_code == 401
    assert log_in(app.test_client(), "sam", NEW_PASSWORD).status_code == 302
    assert ("ada", "reset_password", "user sam") in actions(engine)
    assert admin.get("/admin/users/999/password").status_code == 404


def test_the_audit_log_is_newest_first_and_paged(admin, engine, monkeypatch):
    from console.admin import routes as admin_pages

    monkeypatch.setattr(admin_pages, "AUDIT_PAGE_SIZE", 3)
    for n in range(5):
        accounts.audit(engine, "sam", "view_escalation", f"escalation {n}")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert page.index("escalation 4") < page.index("escalation 3") < page.index("escalation 2")
    assert "escalation 1" not in page
    older = re.search(r'href="(/admin/audit\?before=\d+)"', page).group(1)
    page = admin.get(older).get_data(as_text=True)
    assert "escalation 1" in page and "escalation 0" in page and "escalation 2" not in page
    assert actions(engine)[0][:2] == ("ada", "view_audit_log")


def test_the_retention_period_is_set_on_its_page(admin, engine):
    assert "No retention period is set" in admin.get("/admin/retention").get_data(as_text=True)
    for wrong in ("0", "ten", ""):
        post(admin, "/admin/retention", days=wrong)
        assert retention.retention_days(engine) is None
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=100)
    with engine.begin() as connection:
        index.apply_events(
            connection, [("c-1", {"event": "user", "text": "hello", "timestamp": old.timestamp()})]
        )
    post(admin, "/admin/retention", days="90")
    assert retention.retention_days(engine) == 90
    page = admin.get("/admin/retention").get_data(as_text=True)
    assert "<strong>90 days</strong>" in page and "Right now 1 conversation is older" in page
    post(admin, "/admin/retention", clear="yes")
    assert retention.retention_days(engine) is None
    assert [a for a in actions(engine) if a[1] == "change_retention"] == [
        ("ada", "change_retention", "no retention period"),
        ("ada", "change_retention", "90 days"),
    ]
