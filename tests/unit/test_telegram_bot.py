"""The bot's Telegram client: unparseable updates skipped and counted, failing polls spaced out."""

from __future__ import annotations

from bot.telegram_bot import POLL_BACKOFF_CAP, MatchmakerBot, update_kind


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
