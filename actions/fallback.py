"""\"Did you mean …?\" in plain words, for Rasa's two-stage fallback."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

RETRIEVAL_INTENT = "faq"
MAX_SUGGESTIONS = 3
# Topics the selector gives less than this are not offered (a floor against noise, not tuned).
MIN_SUGGESTION_CONFIDENCE = 0.05
# A message whose nearest intent is less similar than this (components/nearest_examples.py) is
# far from everything the clinic answers: it is told so plainly, not offered topics. Measured
# on the held-out sets (`bench.nlu_heldout`): of the unsure messages, no clinic question fell
# below 0.33 and 26 of 43 out-of-scope ones did.
NEAR_MISS_SIMILARITY = 0.33
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"


def is_near_miss(latest_message: Dict[Text, Any]) -> bool:
    """Whether an unsure message is close to something the clinic answers ("did you mean"),
    rather than out of scope ("I can only help with…")."""
    ranking = [
        item
        for item in latest_message.get("intent_ranking", [])
        if item.get("name") != FALLBACK_INTENT
    ]
    if not ranking:
        return False
    top = ranking[0]
    return (
        top.get("name") != OUT_OF_SCOPE_INTENT
        and (top.get("confidence") or 0.0) >= NEAR_MISS_SIMILARITY
    )


def suggested_topics(latest_message: Dict[Text, Any]) -> List[Text]:
    """The FAQ responses (`utter_faq/<id>`) the selector ranked highest for the message."""
    selector = latest_message.get("response_selector", {}).get(RETRIEVAL_INTENT, {})
    ranking = selector.get("ranking", [])
    return [
        f"utter_{entry['intent_response_key']}"
        for entry in ranking[:MAX_SUGGESTIONS]
        if entry.get("confidence", 0.0) >= MIN_SUGGESTION_CONFIDENCE
        and entry.get("intent_response_key")
    ]


def topic_title(responses: Dict[Text, Any], response_name: Text) -> Text | None:
    """A FAQ topic in plain words: the `title` in its response's metadata in the domain."""
    for variation in responses.get(response_name, []):
        title = (variation.get("metadata") or {}).get("title")
        if title:
            return title
    return None


class ActionAskAffirmation(Action):
    """Offers the likeliest FAQ topics as buttons, then "something else" and a person; a
    message far from every topic is told plainly what the assistant can help with.

    A suggestion's payload is its title, so choosing it asks that question in plain words.
    """

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if not is_near_miss(tracker.latest_message):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        responses = domain.get("responses", {})
        titles = [
            title
            for title in (
                topic_title(responses, name) for name in suggested_topics(tracker.latest_message)
            )
            if title
        ]
        if not titles:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        prompt = responses["utter_ask_affirmation"][0]
        buttons = [{"title": title, "payload": title} for title in titles]
        dispatcher.utter_message(text=prompt["text"], buttons=buttons + prompt.get("buttons", []))
        return []
