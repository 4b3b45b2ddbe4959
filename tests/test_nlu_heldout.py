"""The held-out evaluation, through the real server: messages never seen in training."""

import json

from bench.nlu_heldout import REPORT, evaluate, load_examples, print_summary, summarise

MIN_RESPONSE_SELECTION_ACCURACY = 0.92
MAX_WRONG_FAQ_ANSWERS = 0.05
# Measured 0.17 to 0.20 at the shipped thresholds (0.25 before the nearest-examples intent
# classifier; docs/nlu-experiments.md): out-of-scope questions near the clinic's domain
# (gift cards, minimum age) still get a FAQ answer. A regression guard, not a target.
MAX_OUT_OF_SCOPE_GIVEN_A_FAQ_ANSWER = 0.25


def test_heldout_response_selection_accuracy(assistant):
    summary = summarise(evaluate(assistant.parse, load_examples()))
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(summary, indent=2))
    print_summary(summary)
    assert summary["faq_examples"] >= 21 * 8
    assert summary["other_examples"] >= 100
    assert summary["response_selection_accuracy"] >= MIN_RESPONSE_SELECTION_ACCURACY
    assert summary["faq_wrong_answer_rate"] <= MAX_WRONG_FAQ_ANSWERS
    assert summary["out_of_scope_given_faq_answer"] <= MAX_OUT_OF_SCOPE_GIVEN_A_FAQ_ANSWER
