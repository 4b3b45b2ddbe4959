"""The clinic profile: the shipped demo loads; every bad field is named; opening hours."""

import copy
import datetime as dt

import pytest
import yaml

from clinic.profile import ProfileError, load_profile, parse_profile
from support import ROOT

CHICAGO = dt.timezone(dt.timedelta(hours=-6))  # America/Chicago in winter (CST)


@pytest.fixture()
def raw_profile():
    return yaml.safe_load((ROOT / "clinic_profile.yml").read_text())


def test_the_shipped_profile_is_a_fictional_demo_clinic():
    profile = load_profile(ROOT / "clinic_profile.yml")
    assert "555" in profile.phone and profile.phone_e164.startswith("+1555")
    assert "demo" in profile.name.lower()
    assert profile.email.endswith(".example")


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda p: p.pop("phone"), "phone"),
        (lambda p: p.update(phone_e164="555-0199"), "phone_e164"),
        (lambda p: p.update(email="not-an-address"), "email"),
        (lambda p: p.update(booking_url="harborlight.example/book"), "booking_url"),
        (lambda p: p.update(session_minutes=""), "session_minutes"),
        (lambda p: p["hours"].update(timezone="Mars/Olympus"), "hours.timezone"),
        (lambda p: p["hours"]["weekly"].update(mon=["9-5"]), "hours.weekly.mon[0]"),
        (lambda p: p["hours"]["weekly"].update(tue=["17:00-09:00"]), "hours.weekly.tue[0]"),
        (lambda p: p["hours"]["weekly"].update(funday=["09:00-10:00"]), "hours.weekly.funday"),
        (lambda p: p["notifications"].update(urgent_ack_minutes=0), "urgent_ack_minutes"),
        (lambda p: p["notifications"].update(email_to="nobody"), "notifications.email_to"),
        (lambda p: p.update(pricng="typo"), "pricng"),
        (lambda p: p.pop("aftercare"), "aftercare"),
        (lambda p: p["aftercare"].update(if_unwell=" "), "aftercare.if_unwell"),
        (lambda p: p["aftercare"].update(if_unwel="typo"), "aftercare.if_unwel"),
        (lambda p: p.pop("payment_options"), "payment_options"),
        (lambda p: p.pop("visit"), "visit"),
        (lambda p: p["visit"].pop("comfort"), "visit.comfort"),
        (
            lambda p: p["preparation"].update(food_and_drink=["a list"]),
            "preparation.food_and_drink",
        ),
        (lambda p: p.update(referral="You don't need one."), "referral"),
        (lambda p: p["treatments"].update(spravato="typo"), "treatments.spravato"),
    ],
)
def test_a_bad_field_is_named_in_the_error(raw_profile, change, field):
    broken = copy.deepcopy(raw_profile)
    change(broken)
    with pytest.raises(ProfileError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_profile(broken)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "nope.yml")


def test_template_values_cover_every_profile_placeholder(raw_profile):
    values = parse_profile(raw_profile).template_values()
    assert values["clinic_phone"] == raw_profile["phone"]
    assert values["hours_summary"] == raw_profile["hours"]["summary"]
    assert values["visit_comfort"] == raw_profile["visit"]["comfort"]
    assert values["treatments_esketamine"] == raw_profile["treatments"]["esketamine"]
    assert all(isinstance(v, str) and v for v in values.values())


def test_a_sections_fields_read_as_attributes(raw_profile):
    profile = parse_profile(raw_profile)
    assert profile.aftercare.if_unwell == raw_profile["aftercare"]["if_unwell"]
    with pytest.raises(AttributeError, match="visit.valet"):
        _ = profile.visit.valet
    assert copy.deepcopy(profile) == profile


def test_the_catalogue_names_only_fields_the_profile_has(raw_profile, catalogue):
    for topic in catalogue["topics"]:
        for field in topic.get("profile", []):
            assert field in raw_profile, f"{topic['id']}: {field} is not a profile field"


@pytest.mark.parametrize(
    "local_time, is_open, next_opening",
    [
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO), True, "tomorrow at 9:00 AM"),  # Monday
        (dt.datetime(2026, 11, 23, 8, 59, tzinfo=CHICAGO), False, "today at 9:00 AM"),
        (dt.datetime(2026, 11, 23, 17, 0, tzinfo=CHICAGO), False, "tomorrow at 9:00 AM"),
        (dt.datetime(2026, 11, 26, 18, 30, tzinfo=CHICAGO), True, "tomorrow at 9:00 AM"),  # Thu
        (dt.datetime(2026, 11, 27, 16, 0, tzinfo=CHICAGO), False, "on Monday at 9:00 AM"),  # Fri
        (dt.datetime(2026, 11, 28, 12, 0, tzinfo=CHICAGO), False, "on Monday at 9:00 AM"),  # Sat
    ],
)
def test_opening_hours_in_the_clinics_time_zone(raw_profile, local_time, is_open, next_opening):
    hours = parse_profile(raw_profile).hours
    assert hours.is_open(local_time) is is_open
    assert hours.describe_next_opening(local_time.astimezone(dt.timezone.utc)) == next_opening
