"""Masking, spreadsheet safety, grouping and training-data export of user text."""

import csv
import io

import pytest
import yaml

from console.privacy import group_similar, mask_contacts, nlu_yaml, spreadsheet_safe


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me on (555) 010-7788 please", "call me on ***-***-88 please"),
        ("+1 555 010 7788", "***-***-88"),
        ("mail jo.doe+x@example.co.uk", "mail j***@example.co.uk"),
        ("a session is 40 minutes, $450", "a session is 40 minutes, $450"),
        ("born 1985, 2 sessions in 2024", "born 1985, 2 sessions in 2024"),
    ],
)
def test_contact_details_are_masked_and_the_rest_kept(text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formulas_get_a_leading_quote(cell):
    assert spreadsheet_safe(cell) == "'" + cell


def test_other_cells_are_left_alone():
    assert spreadsheet_safe("what does it cost") == "what does it cost"
    assert spreadsheet_safe(3) == 3


def test_a_nul_in_a_message_does_not_break_the_csv_export():
    """A message with a NUL character (anyone can send one) made the whole export a 500."""
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_safe("hi\x00there"), spreadsheet_safe("=\x001")])
    assert out.getvalue() == "hi\ufffdthere,'=\ufffd1\r\n"


def test_similar_messages_share_a_group_and_the_largest_comes_first():
    messages = [
        "Where do I park?",
        "where can i park",
        "is there parking nearby",
        "do you take insurance",
        "Where do I park?",
        "do you take insurence?",
    ]
    groups = group_similar(messages, lambda m: m)
    assert set(groups[0]) >= {"Where do I park?", "where can i park"}
    assert groups[0].count("Where do I park?") == 2
    insurance = next(g for g in groups if "do you take insurance" in g)
    assert "do you take insurence?" in insurance
    assert not set(insurance) & {"Where do I park?", "where can i park"}


def test_training_data_is_valid_rasa_yaml_with_each_example_once():
    text = nlu_yaml({"faq/parking": ["where do I  park?", "where do I park?", "it's: here"]})
    data = yaml.safe_load(text)
    assert data["version"] == "3.1"
    assert data["nlu"][0]["intent"] == "faq/parking"
    assert data["nlu"][0]["examples"] == "- where do I park?\n- it's: here\n"
    with pytest.raises(ValueError):
        nlu_yaml({"faq/x\n- intent: evil": ["a"]})
