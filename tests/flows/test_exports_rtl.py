"""Exports read by an organizer in Arabic, with Arabic and Russian names in them (issue 17,
items 7 and 11): the meetings table names its zone and both sides' answers, and no bidi
isolation mark, which chat messages put around right-to-left names, reaches a CSV or XLSX cell.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.meetings import Outcome
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import ORGANIZER
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import t
from tests.flows.test_meetings import FIRST_SLOT, SCHEDULE, registered, services_of

MARKS = {"\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"}


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "exports.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


@pytest.mark.parametrize("locale", ["ar", "ru"])
async def test_meetings_export_for_an_organizer_reading_arabic_or_russian(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock, locale: str
) -> None:
    leila = api.user(1601, "Leila", language_code="ar")
    ivan = api.user(1602, "Ivan", language_code="ru")
    leila_id = await registered(bot, leila, "ar", "ليلى الحربي", "ar ru", "l@example.com")
    ivan_id = await registered(bot, ivan, "ru", "Иван Петров", "ru ar", "i@example.com")
    services = services_of(bot)
    meeting = await services.meetings.request(leila_id, ivan_id, FIRST_SLOT)
    await services.meetings.accept(meeting.id, ivan_id)
    clock.set(FIRST_SLOT + (meeting.slot_end - meeting.slot_start) * 2)
    await services.meetings.record_outcome(meeting.id, leila_id, Outcome.HELD)
    await services.meetings.record_outcome(meeting.id, ivan_id, Outcome.NO_SHOW)

    organizer = api.user(ORGANIZER, "Olga", language_code=locale)
    await organizer.send_text("/export")
    menu = await organizer.expect(
        re.escape(t(locale, "Which data do you want, and as CSV or Excel (XLSX)?"))
    )
    meetings = t(locale, "Meetings")
    await organizer.press(f"{meetings} · CSV", menu)
    sent = await organizer.expect(re.escape(t(locale, "{n} row", n=1).split("1")[0]))
    assert sent.document is not None
    content = sent.document[1].decode("utf-8-sig")
    assert not MARKS & set(content)
    (row,) = list(csv.DictReader(io.StringIO(content)))
    assert row["start (Asia/Shanghai)"] == "2026-11-24 09:30"
    assert "ليلى الحربي" in row.values() and "Иван Петров" in row.values()
    assert (row["requester_answer"], row["invitee_answer"], row["outcome"]) == (
        "held", "no_show", "disputed"
    )  # fmt: skip

    await organizer.press(f"{meetings} · XLSX", menu)
    sheet = await organizer.expect(re.escape(t(locale, "{n} row", n=1).split("1")[0]))
    assert sheet.document is not None and sheet.document[0].endswith(".xlsx")
    cells = [
        cell
        for ws in load_workbook(io.BytesIO(sheet.document[1])).worksheets
        for line in ws.iter_rows(values_only=True)
        for cell in line
        if isinstance(cell, str)
    ]
    assert "ليلى الحربي" in cells and "start (Asia/Shanghai)" in cells
    assert not any(MARKS & set(cell) for cell in cells)
