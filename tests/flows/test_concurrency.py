"""Updates of different users run concurrently: races between people, and one user's order.

The bot processes the updates of different users at the same time (interleaving at every await)
and each user's own updates in order. Here half the delegates act on the other half — interest,
hiding, meeting requests, accepting their requests — while the other half confirm /delete_me,
all pushed at once. Whatever the interleaving, a delegate whose deletion committed never gains a
match mark, an open request or a message owed to their old chat.

Invariants, from the schema (storage/migrations):
- match_marks: no row whose delegate_id or other_id is a delegate with deleted_at set;
- meetings: no row in state 'requested' whose requester_id or invitee_id is such a delegate
  (a booked meeting, state 'accepted', may have been accepted before the deletion and stays);
- outbox: no row still owed (state 'pending' or 'sending') to a deleted delegate's old chat
  (chat_id) or on their behalf (delegate_id). The sender is paused while the race runs, so
  every row enqueued before a deletion is still pending when the deletion drops it, and a row
  enqueued after it would be left pending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from bot.services import Services
from handlers import callbacks
from handlers.menu import MATCHES_NS
from storage.db import Database
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seed, seen, services_of, t
from tests.flows.test_matches import DELETE_QUESTION, DELETED
from tests.flows.test_registration import QUESTIONS

PAIRS = 10
ROUNDS = 30
FIELDS = ("env.wastewater",)
OFFER = (
    "Membrane bioreactor and ozonation for deep treatment of industrial wastewater from "
    "textile dyeing plants"
)
NEED = "We look for deep treatment technology for the industrial wastewater of our dyeing plant"
REFUSED = "no longer active"


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Log records at WARNING and above (errors are asserted absent at the end)."""
    caplog.set_level(logging.WARNING)
    return caplog


def assert_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)


async def seed_pairs(
    api: FakeBotApi, app: BotApplication
) -> tuple[list[tuple[FakeUser, int]], list[tuple[FakeUser, int]]]:
    """Askers offer what leavers need; every asker matches every leaver."""
    askers, leavers = [], []
    for n in range(PAIRS):
        asker = api.user(3100 + n, f"Asker{n}")
        asker_id = await seed(
            app, asker, name=f"Asker {n}", organization=f"Membrane Lab {n}", country="DE",
            locale="en", offers=(OFFER,), fields=FIELDS,
        )  # fmt: skip
        askers.append((asker, asker_id))
        leaver = api.user(3200 + n, f"Leaver{n}")
        leaver_id = await seed(
            app, leaver, name=f"Leaver {n}", organization=f"Dyeing Plant {n}", country="CN",
            locale="en", needs=(NEED,), fields=FIELDS,
        )  # fmt: skip
        leavers.append((leaver, leaver_id))
    return askers, leavers


async def ask_to_delete(leavers: list[tuple[FakeUser, int]]) -> list[BotMessage]:
    """Each leaver has the "Delete your data?" question in front of them."""
    questions = []
    for leaver, _ in leavers:
        await leaver.send_text("/delete_me")
        questions.append(await leaver.expect(seen("en", DELETE_QUESTION)))
    return questions


async def check_invariants(db: Database, leaver_chats: list[int]) -> None:
    """Nothing about a deleted delegate was written after their deletion committed."""
    deleted = {
        int(row[0])
        for row in await db.fetchall("SELECT id FROM delegates WHERE deleted_at IS NOT NULL")
    }
    live = await db.fetchval(
        "SELECT count(*) FROM delegates WHERE deleted_at IS NULL AND telegram_user_id IN "
        f"({', '.join('?' for _ in leaver_chats)})",
        leaver_chats,
    )
    assert live == 0 and len(deleted) == len(leaver_chats), deleted
    marks = await db.fetchall(
        "SELECT delegate_id, other_id, mark FROM match_marks WHERE delegate_id IN "
        "(SELECT id FROM delegates WHERE deleted_at IS NOT NULL) OR other_id IN "
        "(SELECT id FROM delegates WHERE deleted_at IS NOT NULL)"
    )
    assert [tuple(row) for row in marks] == []
    pending = await db.fetchall(
        "SELECT id, requester_id, invitee_id FROM meetings WHERE state = 'requested' AND "
        "(requester_id IN (SELECT id FROM delegates WHERE deleted_at IS NOT NULL) OR "
        "invitee_id IN (SELECT id FROM delegates WHERE deleted_at IS NOT NULL))"
    )
    assert [tuple(row) for row in pending] == []
    owed = await db.fetchall(
        "SELECT id, chat_id, delegate_id, template FROM outbox "
        "WHERE state IN ('pending', 'sending') AND (chat_id IN "
        f"({', '.join('?' for _ in leaver_chats)}) OR delegate_id IN "
        "(SELECT id FROM delegates WHERE deleted_at IS NOT NULL))",
        leaver_chats,
    )
    assert [tuple(row) for row in owed] == []


def nothing_after_deletion(leaver: FakeUser) -> None:
    """The old chat got the deletion answer and nothing after it."""
    texts = [m.text for m in leaver.messages]
    done = [k for k, text in enumerate(texts) if t("en", DELETED) in text]
    assert done, leaver.dump()
    assert texts[done[0] + 1 :] == [], leaver.dump()


async def run_all(actions: list[Awaitable[None]]) -> None:
    """Push every update before any answer is awaited."""
    await asyncio.gather(*actions)


async def until(api: FakeBotApi, done: Callable[[], bool], what: str) -> None:
    """Wait until every update was answered (the fake API may look idle while handlers still
    wait for the database), then until the bot is idle."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 12
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"not answered in time: {what}")
        await asyncio.sleep(0.02)
    await api.settle()


def deleted_told(leavers: list[tuple[FakeUser, int]]) -> Callable[[], bool]:
    return lambda: all(
        any(t("en", DELETED) in m.text for m in leaver.messages) for leaver, _ in leavers
    )


async def test_interest_and_hiding_race_deletions(
    api: FakeBotApi, bot: BotApplication, errors: pytest.LogCaptureFixture
) -> None:
    services = services_of(bot)
    askers, leavers = await seed_pairs(api, bot)
    questions = await ask_to_delete(leavers)
    cards = []
    for asker, _ in askers:
        await asker.send_text("/matches")
        cards.append(await asker.expect("Match 1 of"))
    await api.settle()
    await services.delivery.sender.wait_idle(timeout=10)
    await services.delivery.sender.stop()

    # Each asker taps "Request a meeting" (interest) on every leaver in turn, again and again
    # (a repeated tap re-inserts a mark a deletion just forgot), hiding every fifth one, while
    # the leavers confirm their deletions one after another.
    presses = [0] * PAIRS

    async def tap(k: int) -> None:
        asker, _ = askers[k]
        for r in range(ROUNDS):
            other = leavers[(k + r) % PAIRS][1]
            action = "hide" if r % 5 == 4 else "int"
            await asker.press_data(callbacks.make(MATCHES_NS, action, other), cards[k])
            presses[k] += 1

    async def leave() -> None:
        for (leaver, _), question in zip(leavers, questions, strict=True):
            await asyncio.sleep(0.01)
            await leaver.press("Yes, delete my data", question)

    await run_all([*(tap(k) for k in range(PAIRS)), leave()])
    told = deleted_told(leavers)
    await until(
        api,
        lambda: (
            told()
            and all(
                len(a.callback_answers) == n for (a, _), n in zip(askers, presses, strict=True)
            )
        ),
        "interest, hiding and deletions",
    )

    await check_invariants(services.db, [leaver.chat_id for leaver, _ in leavers])
    # Every press was answered: told, hidden, or refused because the other had left.
    for (asker, _), count in zip(askers, presses, strict=True):
        answers = [a.get("text", "") for a in asker.callback_answers[-count:]]
        assert len(asker.callback_answers) == count
        assert all(
            "I told" in a or "Hidden" in a or "already told" in a or REFUSED in a for a in answers
        ), answers
    # The interest that was recorded is owed to the leavers' chats no more.
    await services.delivery.sender.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    for leaver, _ in leavers:
        nothing_after_deletion(leaver)
    assert_no_errors(errors)


# --- meetings --------------------------------------------------------------------------------

SCHEDULE = {
    "days": ["2026-11-24", "2026-11-25"],
    "sessions": ["09:30-12:00", "14:00-17:30"],
    "tables": "A1..A20",
    "room": "Hall 3",
}


@pytest.fixture
async def scheduled(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "concurrency.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


def data_starting(message: BotMessage, prefix: str) -> str:
    for row in message.buttons:
        for _, data in row:
            if data is not None and data.startswith(prefix):
                return data
    raise AssertionError(f"no button {prefix}* on {message.describe()}")


async def test_meeting_requests_and_accepts_race_deletions(
    api: FakeBotApi, scheduled: BotApplication, errors: pytest.LogCaptureFixture
) -> None:
    bot = scheduled
    services: Services = services_of(bot)
    askers, leavers = await seed_pairs(api, bot)
    # Each leaver already asked their asker for a meeting (a later slot); each asker opened
    # the booking of their leaver and has the slots in front of them.
    requests, picks = [], []
    for (asker, asker_id), (_, leaver_id) in zip(askers, leavers, strict=True):
        free = await services.meetings.free_slots_for([asker_id, leaver_id], limit=3)
        await services.meetings.request(leaver_id, asker_id, free[2].start)
        requests.append(await asker.expect("would like to meet you"))
        await asker.press_data(callbacks.make(MATCHES_NS, "int", leaver_id), asker.last())
        picks.append(await asker.expect("Pick a time"))
    questions = await ask_to_delete(leavers)
    await api.settle()
    await services.delivery.sender.wait_idle(timeout=10)
    await services.delivery.sender.stop()

    actions: list[Awaitable[None]] = []
    for k, (asker, _) in enumerate(askers):
        pick = data_starting(picks[k], "m1:pk:")
        key = pick.rsplit("_", 1)[1]
        actions.append(asker.press_data(pick, picks[k]))
        if k == PAIRS // 2:
            for (leaver, _), question in zip(leavers, questions, strict=True):
                actions.append(leaver.press("Yes, delete my data", question))
    for k, (asker, _) in enumerate(askers):
        actions.append(asker.press_data(f"m1:send:{key}", picks[k]))
        actions.append(asker.press_data(data_starting(requests[k], "m1:acc:"), requests[k]))
    await run_all(actions)
    told = deleted_told(leavers)
    await until(
        api,
        lambda: told() and all(len(asker.callback_answers) == 4 for asker, _ in askers),
        "requests, accepts and deletions",
    )

    await check_invariants(services.db, [leaver.chat_id for leaver, _ in leavers])
    # Each asker's three presses were answered (sent, booked, or refused with a reason).
    for asker, _ in askers:
        assert len(asker.callback_answers) == 4, asker.dump()  # the "int" press, then three
    await services.delivery.sender.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    for leaver, _ in leavers:
        nothing_after_deletion(leaver)
    assert_no_errors(errors)


# --- one user's order ----------------------------------------------------------------------


async def test_one_users_quick_answers_stay_in_order_while_others_are_busy(
    api: FakeBotApi, bot: BotApplication, errors: pytest.LogCaptureFixture
) -> None:
    services = services_of(bot)
    askers, _ = await seed_pairs(api, bot)
    newcomer = api.user(3300, "Quick", language_code="en")
    await newcomer.send_text("/start")
    await newcomer.expect("Nanjing Innovation Days")
    await newcomer.press("English")
    asked = await newcomer.expect(QUESTIONS["en"][0])
    # Ten answers typed and tapped at once (each one valid only at its own step), while
    # everyone else pages through their matches.
    reg = "r"
    quick: list[Awaitable[None]] = [
        newcomer.send_text("Quick Brown"),
        newcomer.send_text("Fox Institute"),
        newcomer.send_text("Germany"),
        newcomer.press_data(callbacks.make(reg, "role", "investor"), asked),
        newcomer.press_data(callbacks.make(reg, "ml", "de"), asked),
        newcomer.press_data(callbacks.make(reg, "ml", "zh"), asked),
        newcomer.press_data(callbacks.make(reg, "ml", "ko"), asked),
        newcomer.press_data(callbacks.make(reg, "mldone"), asked),
        newcomer.send_text("quick@fox.example"),
        newcomer.press_data(callbacks.make(reg, "cons", 1), asked),
    ]
    busy: list[Awaitable[None]] = [
        asker.send_text("/matches") for _ in range(3) for asker, _ in askers
    ]
    await run_all([*busy[:10], *quick[:5], *busy[10:20], *quick[5:], *busy[20:]])
    await until(
        api,
        lambda: (
            all(sum("Match 1 of" in m.text for m in a.messages) == 3 for a, _ in askers)
            and len(newcomer.callback_answers) == 7
        ),
        "registration answers and /matches",
    )
    await newcomer.expect(QUESTIONS["en"][-1])
    saved = await services.delegates.by_telegram_user(newcomer.user_id)
    assert saved is not None and saved.is_registered
    profile = (saved.name, saved.organization, saved.country)
    assert profile == ("Quick Brown", "Fox Institute", "DE")
    assert saved.role is not None and saved.role.value == "investor"
    assert {"de", "zh", "ko"} <= set(saved.meeting_languages)
    assert (saved.contact, saved.consent) == ("quick@fox.example", True)
    # No answer was refused as out of turn.
    assert all(REFUSED not in a.get("text", "") for a in newcomer.callback_answers)
    assert len(newcomer.callback_answers) == 7  # the language, then six
    for asker, _ in askers:
        assert sum("Match 1 of" in m.text for m in asker.messages) == 3
    assert_no_errors(errors)
