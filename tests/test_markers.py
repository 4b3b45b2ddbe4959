"""Every test of the whole suite is exactly one kind: unit, integration, browser or cluster
(pytest.ini; given in tests/conftest.py `pytest_collection_modifyitems`, which refuses to
collect a test with two)."""

import subprocess
import sys

import pytest

from support import ROOT

# It collects the whole suite in a pytest process of its own: about ten seconds of imports.
pytestmark = pytest.mark.integration

NO_KIND = "not unit and not integration and not browser and not cluster"
NO_TESTS_COLLECTED = 5  # pytest's exit code


def test_every_test_of_the_suite_is_exactly_one_kind():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            NO_KIND,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == NO_TESTS_COLLECTED, output[-3000:]
    assert " deselected" in result.stdout, output[-3000:]
