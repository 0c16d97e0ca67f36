"""An update the bot cannot parse is skipped once, polled or pushed by webhook, never looped on."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from bot.transport.bot import MatchmakerBot
from tests.flows.processes import bot_environment, run_bot
from tests.flows.test_delivery import wait_until
from tests.flows.test_production import log_text, terminate, unused_port, wait_for_line

__all__ = ["unused_port"]

# A poll lacks fields PTB requires (options, total_voter_count...): Poll.de_json raises, as it
# does whenever Telegram's schema moves ahead of the library's. The question is personal text.
POISON: dict[str, Any] = {"poll": {"id": "5130", "question": "private question 4471"}}


def help_update(api: FakeBotApi, user_id: int, update_id: int | None = None) -> dict[str, Any]:
    user = api.user(user_id, "Next")
    ids = {} if update_id is None else {"update_id": update_id}
    return {
        **ids,
        "message": {
            "message_id": 1, "date": 0, "chat": user.chat_dict(), "from": user.user_dict(),
            "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }  # fmt: skip


def get_updates_calls(api: FakeBotApi) -> int:
    return sum(1 for call in api.calls if call.method == "getUpdates")


async def test_polling_skips_an_update_it_cannot_parse_and_answers_the_next_user(
    api: FakeBotApi, tmp_path: Path
) -> None:
    log = tmp_path / "poison.log"
    process = await run_bot(bot_environment(api, tmp_path / "poison.db"), log)
    try:
        await wait_for_line(log, "ready:")
        before = get_updates_calls(api)
        poison_id = api.push_update(POISON)
        user = api.user(51, "Next")
        await user.send_text("/help")
        await user.expect("What I can do", timeout=10)
        # Long polls are held for their timeout; a loop on the bad update would poll thousands
        # of times in these seconds (2,090 in 5 s in the audit) and grow the log by megabytes.
        await asyncio.sleep(3)
        polls = get_updates_calls(api) - before
        text = log_text(log)
    finally:
        assert await terminate(process) == 0
    assert polls < 20, f"{polls} getUpdates calls in about 3 s"
    assert len(text) < 20_000, f"the log grew to {len(text)} characters"
    skipped = [line for line in text.splitlines() if "could not be parsed" in line]
    assert len(skipped) == 1, text
    assert f"update {poison_id}" in skipped[0] and "(poll)" in skipped[0]
    assert "private question 4471" not in text, "the update's content is not logged"
    await api.settle()
    assert api._undelivered == set()


@pytest.mark.skipif(importlib.util.find_spec("tornado") is None, reason="needs tornado")
async def test_webhook_answers_200_to_an_update_it_cannot_parse_and_skips_it(
    api: FakeBotApi, tmp_path: Path, unused_port: int
) -> None:
    env = bot_environment(api, tmp_path / "hook.db") | {
        "MATCHMAKER_WEBHOOK_PORT": str(unused_port),
        "MATCHMAKER_WEBHOOK_SECRET": "proxy-secret_2",
    }
    log = tmp_path / "hook.log"

    def post(update: dict[str, Any]) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{unused_port}/tg/hook",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json",
                     "X-Telegram-Bot-Api-Secret-Token": "proxy-secret_2"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    process = await run_bot(env, log, "--webhook", "https://bot.example.org/tg/hook")
    try:
        await wait_for_line(log, "ready:")
        await wait_until(lambda: bool(api.webhook_url), within=10, what="setWebhook")
        # Telegram re-sends an update until it is answered 200, and holds back the ones after it.
        assert await asyncio.to_thread(post, {"update_id": 7, **POISON}) == 200
        assert await asyncio.to_thread(post, help_update(api, 52, 8)) == 200
        await api.user(52).expect("What I can do", timeout=10)
        text = log_text(log)
    except BaseException:
        print(log_text(log))
        raise
    finally:
        assert await terminate(process) == 0
    skipped = [line for line in text.splitlines() if "could not be parsed" in line]
    assert len(skipped) == 1, text
    assert "update 7" in skipped[0] and "(poll)" in skipped[0]
    assert "private question 4471" not in text


async def test_a_bad_update_between_good_ones_and_last_in_a_batch_is_skipped_and_counted(
    api: FakeBotApi, bot: BotApplication
) -> None:
    first, second = api.user(53, "First"), api.user(54, "Second")
    api.push_update(help_update(api, first.user_id))
    api.push_update(POISON)
    api.push_update(help_update(api, second.user_id))
    last = api.push_update({"poll": {"id": "5131"}})
    await first.expect("What I can do")
    await second.expect("What I can do")
    await api.settle()
    telegram = bot.bot
    assert isinstance(telegram, MatchmakerBot)
    assert telegram.skipped_updates == 2
    # The last update was a bad one: the next poll's offset went past it all the same.
    await wait_until(
        lambda: any(
            c.method == "getUpdates" and c.params.get("offset") == last + 1 for c in api.calls
        ),
        within=10,
        what="a poll past the last update",
    )
    assert api._updates == []


async def test_getupdates_failing_again_and_again_is_retried_with_growing_pauses(
    api: FakeBotApi, bot: BotApplication
) -> None:
    await api.settle()
    before = get_updates_calls(api)
    api.fail_next("getUpdates", status=502, count=100_000)
    await asyncio.sleep(3)
    polls = get_updates_calls(api) - before
    # Pauses of 1, 1.5, 2.25... seconds: a handful of calls, not a loop.
    assert polls < 10, f"{polls} getUpdates calls in about 3 s"
    api._injections.clear()
    user = api.user(55, "After")
    await user.send_text("/help")
    await user.expect("What I can do", timeout=15)
