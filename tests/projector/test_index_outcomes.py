"""What the projector (`projector.index`) calls a message's outcome, from the NLU's reading of
it."""

import pytest

from projector.index import (
    ANSWERED,
    CRISIS,
    FALLBACK,
    LOW_CONFIDENCE,
    OUT_OF_SCOPE,
    outcome_of,
)


@pytest.mark.parametrize(
    "intent, confidence, answer_confidence, crisis, expected",
    [
        ("faq", 0.85, 0.97, "none", ANSWERED),  # a close match, a sure answer
        ("faq", 0.62, 0.91, "none", ANSWERED),  # a paraphrase: similarity in the 0.6s is normal
        ("faq", 0.45, 0.95, "none", LOW_CONFIDENCE),  # past the gate (0.4), but a loose match
        ("faq", 0.80, 0.55, "none", LOW_CONFIDENCE),  # past the answer gate (0.5), barely
        ("greet", 0.70, None, "none", ANSWERED),
        ("nlu_fallback", 0.30, 0.20, "none", FALLBACK),
        ("out_of_scope", 0.90, None, "none", OUT_OF_SCOPE),
        ("faq", 0.90, 0.99, "urgent", CRISIS),
    ],
)
def test_outcomes(intent, confidence, answer_confidence, crisis, expected):
    assert outcome_of(intent, confidence, answer_confidence, crisis) == expected
