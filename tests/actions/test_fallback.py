"""The "did you mean" step of the two-stage fallback, in plain words."""

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAskAffirmation
from helpers import make_tracker

DOMAIN = {
    "responses": {
        "utter_ask_affirmation": [
            {
                "text": "Did you mean one of these?",
                "buttons": [
                    {"title": "Something else", "payload": "/out_of_scope"},
                    {"title": "Talk to a person", "payload": "/human_handoff"},
                ],
            }
        ],
        "utter_faq/cost": [{"text": "…", "metadata": {"title": "How much does it cost?"}}],
        "utter_faq/contact": [{"text": "…", "metadata": {"title": "Where are you?"}}],
        "utter_faq/safety": [{"text": "…", "metadata": {"title": "Is it safe?"}}],
    }
}


def message_with_ranking(*ranked, nearest=("faq", 0.38)):
    """An unsure message: the selector's FAQ ranking, and the nearest intent's similarity."""
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": nearest[0], "confidence": nearest[1]},
        ],
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": key, "confidence": confidence}
                    for key, confidence in ranked
                ]
            }
        },
    }


def test_offers_the_likeliest_topics_then_something_else_and_a_person():
    tracker = make_tracker(
        latest_message=message_with_ranking(
            ("faq/cost", 0.6), ("faq/contact", 0.3), ("faq/safety", 0.01)
        )
    )
    dispatcher = CollectingDispatcher()
    assert ActionAskAffirmation().run(dispatcher, tracker, DOMAIN) == []
    [message] = dispatcher.messages
    assert message["text"] == "Did you mean one of these?"
    assert [b["title"] for b in message["buttons"]] == [
        "How much does it cost?",
        "Where are you?",
        "Something else",
        "Talk to a person",
    ]
    # Choosing a suggestion asks that question in plain words.
    assert message["buttons"][0]["payload"] == "How much does it cost?"


def test_without_any_likely_topic_it_asks_to_rephrase():
    tracker = make_tracker(latest_message=message_with_ranking(("faq/safety", 0.01)))
    dispatcher = CollectingDispatcher()
    ActionAskAffirmation().run(dispatcher, tracker, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


def test_a_message_far_from_every_topic_is_told_plainly_what_it_can_help_with():
    for nearest in [("faq", 0.25), ("out_of_scope", 0.38), ("greet", 0.1)]:
        tracker = make_tracker(
            latest_message=message_with_ranking(
                ("faq/cost", 0.6), ("faq/contact", 0.3), nearest=nearest
            )
        )
        dispatcher = CollectingDispatcher()
        ActionAskAffirmation().run(dispatcher, tracker, DOMAIN)
        assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"], nearest
