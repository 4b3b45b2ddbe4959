"""Conversation tests (tests/test_stories.yml) with `rasa test`: any prediction error fails."""

import subprocess

from support import ROOT, VENV_BIN


def test_conversation_stories_have_no_prediction_errors(trained_model, tmp_path):
    result = subprocess.run(
        [
            VENV_BIN / "rasa",
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            str(ROOT / "tests" / "test_stories.yml"),
            "--e2e",
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, details
