"""A deep link opened before registering survives a restart of the bot during registration.

Issue 17, item 3: a badge's booking link (b_) or a booth's exhibit link (x_) opened by someone
who has not registered yet is kept in the database, not in the chat's memory; the bot process
is killed half-way through the registration and started again, and once the registration is
complete the booking page (or the exhibit's card) follows, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.domain.clock import SystemClock, to_iso
from bot.domain.exhibits import parse_csv
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from bot.services import open_services
from tests.flows.items_kit import t
from tests.flows.processes import run_bot
from tests.flows.test_faults import meeting_environment
from tests.flows.test_registration import QUESTIONS

CATALOGUE = (
    "key,organization,owner_external_id,booth,hall,title_en,title_ar\n"
    "E1,KAUST,HOST,B12,A,Solar desalination,تحلية المياه بالطاقة الشمسية\n"
)


async def seed_host(env: dict[str, str], host: FakeUser) -> tuple[str, str]:
    """A registered host owning one exhibit, written before the bot starts: their booking
    link and the exhibit's booth link."""
    settings = load_settings(env)
    async with open_services(settings, SystemClock()) as services:
        now = to_iso(services.clock.now())
        host_id = await services.db.insert(
            "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, "
            "country, role, meeting_languages, contact, contact_kind, consent, step, "
            "created_at, updated_at, registered_at, external_id) VALUES (?, ?, 'en', 'Host', "
            "'Host Lab', 'CN', 'company', 'en ru ar', 'h@example.com', 'email', 1, 'done', "
            "?, ?, ?, 'HOST')",
            (host.user_id, host.chat_id, now, now, now),
        )
        booking = await services.meetings.booking_token(host_id)
        await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
        exhibit = await services.exhibits.repo.by_key("E1")
        assert exhibit is not None
        return booking, exhibit.token


def pending_of(database: Path, user_id: int) -> str | None:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(
            "SELECT pending_link FROM delegates WHERE telegram_user_id = ?", (user_id,)
        ).fetchone()
    return None if row is None else row[0]


@pytest.mark.parametrize(
    ("kind", "locale", "language", "country"),
    [("booking", "ru", "Русский", "Россия"), ("exhibit", "ar", "العربية", "السعودية")],
)
async def test_a_link_opened_before_registering_survives_a_restart_and_resumes_once(
    api: FakeBotApi, tmp_path: Path, kind: str, locale: str, language: str, country: str
) -> None:
    database = tmp_path / "pending.db"
    env = meeting_environment(api, database, tmp_path)
    host = api.user(1301, "Host", language_code="en")
    booking, booth = await seed_host(env, host)
    link = booking if kind == "booking" else booth
    guest = api.user(1302, "Guest", language_code=locale)
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done_q = QUESTIONS[locale]

    first = await run_bot(env, tmp_path / "first.log")
    try:
        await guest.open_link(link)
        await guest.press(language, await guest.expect("Welcome|مرحبًا|Добро", timeout=20))
        await guest.expect(name_q, timeout=10)
        await guest.send_text("Guest")
        await guest.expect(org_q, timeout=10)
    finally:
        # A power cut in the middle of the registration: nothing of the chat's memory is left.
        first.kill()
        await first.wait()
    assert pending_of(database, guest.user_id) == link

    second = await run_bot(env, tmp_path / "second.log")
    try:
        await guest.send_text("Org")
        await guest.expect(country_q, timeout=20)
        await guest.send_text(country)
        await guest.press(0, await guest.expect(role_q, timeout=10))
        await guest.press(-1, await guest.expect(lang_q, timeout=10))
        await guest.press(0, await guest.expect(contact_q, timeout=10))
        await guest.press(0, await guest.expect(consent_q, timeout=10))
        await guest.expect(done_q, timeout=10)
        if kind == "booking":
            opening = t(locale, "<b>Book a meeting with {name}</b>", name="§").split("§")[0]
            page = await guest.expect(re.escape(opening) + ".*Host", timeout=10)
            assert page.button_texts()[0]
        else:
            card = await guest.expect("تحلية المياه بالطاقة الشمسية", timeout=10)
            assert card.button_texts()
        # Followed once: the link is gone from the database, /start does not bring it back.
        assert pending_of(database, guest.user_id) is None
        await guest.send_text("/start")
        await asyncio.sleep(1.0)
        await api.settle()
        later = guest.drain_events()
        assert later and not any("Host Lab" in m.text or "B12" in m.text for m in later)
    finally:
        second.terminate()
        await second.wait()
