"""The bot's Telegram client: unparseable updates skipped and counted, failing polls spaced out."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from telegram._utils.types import JSONDict
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.transport import bot as telegram_bot
from bot.transport.bot import POLL_BACKOFF_CAP, MatchmakerBot, update_kind


def test_update_kind_names_the_field_beside_update_id() -> None:
    assert update_kind({"update_id": 3, "poll": {}}) == "poll"
    assert update_kind({"update_id": 3}) == "empty"
    assert update_kind([1]) == "list"


def test_a_bad_update_is_counted_and_the_next_offset_passes_it() -> None:
    bot = MatchmakerBot("1:TEST")
    assert bot.parse_update({"update_id": 9, "poll": {"id": "x"}}) is None
    assert bot.parse_update("not an object") is None
    assert bot.skipped_updates == 2
    assert bot._skip_past == 10
    good = bot.parse_update({"update_id": 11})
    assert good is not None and good.update_id == 11


def test_failing_polls_back_off_doubling_up_to_a_ceiling() -> None:
    bot = MatchmakerBot("1:TEST")
    delays = []
    for failures in range(12):
        bot._poll_failures = failures
        delays.append(bot.poll_backoff())
    assert delays[:4] == [0.0, 0.25, 0.5, 1.0]
    assert max(delays) == POLL_BACKOFF_CAP == delays[-1]
    assert all(a <= b for a, b in zip(delays, delays[1:], strict=False))


async def test_polls_failing_without_a_pause_from_ptb_are_spaced_out_until_one_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    outcomes: list[object] = [TimedOut("slow")] * 8 + [ValueError("not JSON")] + [[], TimedOut()]

    async def sleep(delay: float) -> None:
        waits.append(delay)

    async def post(self: ExtBot[Any], endpoint: str, data: JSONDict, **_: Any) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(telegram_bot.asyncio, "sleep", sleep)
    monkeypatch.setattr(ExtBot, "_do_post", post)
    bot = MatchmakerBot("1:TEST")
    for _ in range(11):
        with contextlib.suppress(TimedOut, ValueError):
            await bot._do_post("getUpdates", {"offset": 1})
    # Doubling from 0.25 s to the ceiling; a success resets it; the next failure starts over.
    assert waits == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert bot.poll_backoff() == 0.25


async def test_ptb_already_waits_after_telegram_errors_so_no_pause_is_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def post(self: ExtBot[Any], endpoint: str, data: JSONDict, **_: Any) -> Any:
        raise NetworkError("Bad Gateway")

    monkeypatch.setattr(ExtBot, "_do_post", post)
    bot = MatchmakerBot("1:TEST")
    for _ in range(3):
        with contextlib.suppress(NetworkError):
            await bot._do_post("getUpdates", {})
    assert bot.poll_backoff() == 0.0
