"""\"Did you mean …?\" in plain words, for Rasa's two-stage fallback."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

RETRIEVAL_INTENT = "faq"
MAX_SUGGESTIONS = 3
# Topics the selector gives less than this are not offered (a floor against noise, not tuned).
MIN_SUGGESTION_CONFIDENCE = 0.05


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
    """Offers the likeliest FAQ topics as buttons, then "something else" and a person.

    A suggestion's payload is its title, so choosing it asks that question in plain words.
    """

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
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
