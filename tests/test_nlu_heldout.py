"""The held-out evaluations, through the real server: messages never seen in training."""

from bench.nlu_heldout import (
    HELDOUT_SETS,
    evaluate,
    load_examples,
    print_summary,
    summarise,
    write_report,
)

# The first set (heldout_faq.yml, heldout_other.yml): regression guards at its measured level.
MIN_RESPONSE_SELECTION_ACCURACY = 0.92
MAX_WRONG_FAQ_ANSWERS = 0.05
# Measured 0.17 to 0.20 at the shipped thresholds (0.25 before the nearest-examples intent
# classifier; docs/nlu-experiments.md): out-of-scope questions near the clinic's domain
# (gift cards, minimum age) still get a FAQ answer. A regression guard, not a target.
MAX_OUT_OF_SCOPE_GIVEN_A_FAQ_ANSWER = 0.25

# The second set (heldout_second.yml, other writers, all 29 topics): the answers issue's targets.
SECOND_MIN_ACCURACY = 0.95
SECOND_MAX_WRONG_ANSWERS = 0.02
SECOND_MAX_FALLBACK = 0.04


def measure(assistant, name):
    summary = summarise(evaluate(assistant.parse, load_examples(HELDOUT_SETS[name])))
    write_report(name, summary)
    print_summary(summary)
    return summary


def test_first_heldout_set(assistant):
    summary = measure(assistant, "first")
    assert summary["faq_examples"] >= 21 * 8
    assert summary["other_examples"] >= 100
    assert summary["response_selection_accuracy"] >= MIN_RESPONSE_SELECTION_ACCURACY
    assert summary["faq_wrong_answer_rate"] <= MAX_WRONG_FAQ_ANSWERS
    assert summary["out_of_scope_given_faq_answer"] <= MAX_OUT_OF_SCOPE_GIVEN_A_FAQ_ANSWER


def test_second_heldout_set(assistant):
    summary = measure(assistant, "second")
    assert summary["faq_examples"] >= 29 * 15
    assert summary["response_selection_accuracy"] >= SECOND_MIN_ACCURACY
    assert summary["faq_wrong_answer_rate"] <= SECOND_MAX_WRONG_ANSWERS
    assert summary["faq_fallback_rate"] <= SECOND_MAX_FALLBACK
