"""Crash points: the plan is parsed once, and the process dies exactly where it names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.domain import crash

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("", {}),
        ("outbox.after_send", {"outbox.after_send": 1}),
        ("outbox.after_send:120", {"outbox.after_send": 120}),
        (" outbox.before_send:2 , outbox.after_mark ", {"outbox.before_send": 2,
                                                        "outbox.after_mark": 1}),
        ("outbox.enqueued,", {"outbox.enqueued": 1}),
    ],
)  # fmt: skip
def test_plans_are_parsed(text: str, plan: dict[str, int]) -> None:
    assert crash.parse_plan(text) == plan


@pytest.mark.parametrize(
    "text", ["outbox.nowhere", "outbox.after_send:0", "outbox.after_send:x", "after_send:-1"]
)
def test_bad_plans_are_refused_with_the_variable_named(text: str) -> None:
    with pytest.raises(ValueError, match="MATCHMAKER_CRASH_AT"):
        crash.parse_plan(text)


def test_unset_means_no_crash() -> None:
    assert crash.configure({}) == {}
    for _ in range(3):
        crash.crash_point("outbox.after_send")


def test_the_process_dies_on_the_nth_hit_with_its_logs_flushed() -> None:
    script = textwrap.dedent(
        """
        import logging, sys
        from bot.domain.crash import crash_point
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
        for n in range(1, 6):
            crash_point("outbox.before_send")
            print(f"sent {n}", flush=True)
            crash_point("outbox.after_send")
        print("finished")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"MATCHMAKER_CRASH_AT": "outbox.after_send:3", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == crash.EXIT_CODE
    assert result.stdout.split() == ["sent", "1", "sent", "2", "sent", "3"]
    assert "crash point outbox.after_send reached (hit 3)" in result.stderr
