"""Identical log lines are let through once per window; the next one says how many were held."""

from __future__ import annotations

import logging

from bot.cli.log_repeats import RepeatFilter


def record(message: str, *args: object, name: str = "telegram.ext.Updater") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def test_a_line_repeated_in_a_loop_goes_through_once_per_window() -> None:
    now = [0.0]
    repeats = RepeatFilter(60.0, clock=lambda: now[0])
    passed = []
    for _ in range(5000):
        line = record("Exception happened while polling for updates.")
        if repeats.filter(line):
            passed.append(line.getMessage())
        now[0] += 0.001
    assert passed == ["Exception happened while polling for updates."]
    now[0] = 61.0
    again = record("Exception happened while polling for updates.")
    assert repeats.filter(again)
    assert "4999 more time(s)" in again.getMessage()


def test_different_lines_and_loggers_are_not_held_back() -> None:
    repeats = RepeatFilter(60.0, clock=lambda: 0.0)
    assert repeats.filter(record("skipped update %d", 1))
    assert repeats.filter(record("skipped update %d", 2))
    assert repeats.filter(record("skipped update %d", 1, name="other"))
    assert not repeats.filter(record("skipped update %d", 1))


def test_it_remembers_a_bounded_number_of_lines() -> None:
    repeats = RepeatFilter(60.0, clock=lambda: 0.0, remembered=10)
    for n in range(100):
        assert repeats.filter(record("line %d", n))
    assert len(repeats._seen) == 10
