"""/delete_me leaves nothing of the person: not in the tables, not in the raw database files."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.test_meetings import bot, registered, services_of, token_in  # noqa: F401

NAME = "Quentinella Vantablack"
CONTACT = "quentinella.private@tpu.ru"
NOTE = "Call me on +7 999 123 45 67 about Zanzibar-Quokka batteries"


def raw_bytes(database: Path) -> bytes:
    """The database file and its WAL as they are on disk, as anyone copying them would read."""
    return b"".join(
        path.read_bytes()
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-journal"))
        if path.exists()
    )


async def test_delete_me_erases_notes_outbox_rows_and_the_raw_file_text(
    api: FakeBotApi,
    bot: BotApplication,  # noqa: F811
) -> None:
    services = services_of(bot)
    anna = api.user(1601, "Anna", language_code="en")
    ivan = api.user(1602, "Ivan", language_code="en")
    anna_id = await registered(bot, anna, "en", NAME, "en", CONTACT)
    await registered(bot, ivan, "en", "Ivan Petrov", "en", "ivan@example.org")
    await ivan.send_text("/badge")
    await anna.open_link(token_in((await ivan.expect("t.me/")).text))
    await anna.press(0, await anna.expect("Book a meeting with"))
    await anna.expect("Request a meeting with")
    await anna.send_text(NOTE)
    await anna.press("📨 Send request", await anna.expect("Your note:"))
    await anna.expect("Request sent")
    request = await ivan.expect(NAME)
    assert NOTE in request.text
    await ivan.press(0, request)  # Accept
    await anna.expect("Meeting confirmed")
    await api.settle()
    database = services.db.path
    assert NOTE.encode() in raw_bytes(database), "the test would prove nothing"
    owed_to_anna = await services.db.fetchval(
        "SELECT count(*) FROM outbox WHERE chat_id = ?", (anna.chat_id,)
    )
    assert owed_to_anna > 0

    await anna.send_text("/delete_me")
    await anna.press("Yes, delete my data", await anna.expect("cannot be undone"))
    await anna.expect("has been deleted")
    await ivan.expect("")  # told that the meeting is off
    await api.settle()

    assert (
        await services.db.fetchval(
            "SELECT count(*) FROM outbox WHERE chat_id = ? OR delegate_id = ?",
            (anna.chat_id, anna_id),
        )
        == 0
    )
    assert (
        await services.db.fetchval(
            "SELECT count(*) FROM meetings WHERE note IS NOT NULL AND requester_id = ?", (anna_id,)
        )
        == 0
    )
    assert (
        await services.db.fetchval(
            "SELECT count(*) FROM booking_tokens WHERE delegate_id = ?", (anna_id,)
        )
        == 0
    )
    with contextlib.closing(sqlite3.connect(database)) as conn:
        dump = "\n".join(conn.iterdump())
    for secret in (NOTE, CONTACT, NAME, "Zanzibar"):
        assert secret not in dump, secret
    raw = raw_bytes(database)
    for secret in (NOTE, CONTACT, NAME, "Zanzibar-Quokka", "Vantablack"):
        assert secret.encode() not in raw, f"{secret!r} is still in the raw file"
