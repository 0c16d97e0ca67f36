"""Claims of SECURITY.md that no feature test covered: contacts in logs and cards, audit log."""

from __future__ import annotations

import logging

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi
from bot.services import Services
from storage.audit import AuditRepository
from tests.flows.test_matches import russian_and_chinese


async def test_contacts_stay_out_of_the_logs_at_info(
    api: FakeBotApi, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # As `matchmaker run` configures it (bot/cli/__init__.py): httpx would log URLs with the token.
    caplog.set_level(logging.WARNING, logger="httpx")
    user = api.user(1101, "Anna", language_code="en")
    await user.send_text("/start")
    await user.press("English", await user.expect("Welcome"))
    for question, answer in (
        ("What is your name", "Anna Secret"),
        ("Which organization", "Tomsk Polytechnic University"),
        ("Which country", "Россия"),
    ):
        await user.expect(question)
        await user.send_text(answer)
    await user.press("University", await user.expect("What kind of organization"))
    await user.press("Done", await user.expect("In which languages"))
    await user.expect("phone number or e-mail")
    await user.send_text("anna.private@tpu.ru")
    await user.press("Yes, show my profile", await user.expect("May we show your profile"))
    done = await user.expect("Your registration is complete")
    assert "anna.private@tpu.ru" in done.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "anna.private@tpu.ru" not in logged
    assert "Anna Secret" not in logged
    assert api.token not in logged


async def test_a_match_card_never_shows_the_counterparts_contact(
    api: FakeBotApi, bot: BotApplication
) -> None:
    services: Services = bot.bot_data["services"]
    university, plant = await russian_and_chinese(api)
    delegate = await services.delegates.by_telegram_user(plant.user_id)
    assert delegate is not None
    await services.delegates.update(delegate.id, contact="wang@plant.cn", contact_kind="email")
    await university.send_text("/matches")
    card = await university.expect("王芳")
    everything = "\n".join(m.text for m in university.messages)
    assert "wang@plant.cn" not in card.text and "wang@plant.cn" not in everything


async def test_the_audit_log_keeps_who_did_what_and_when(
    bot: BotApplication, clock: ManualClock
) -> None:
    services: Services = bot.bot_data["services"]
    audit = AuditRepository(services.db, clock)
    await audit.record(900, "broadcast.send", "broadcast:1", {"recipients": 3})
    await audit.record(900, "organizer.add", "user:901")
    newest, oldest = await audit.recent()
    assert (newest.actor_id, newest.action, newest.subject) == (900, "organizer.add", "user:901")
    assert oldest.detail == {"recipients": 3}
    assert oldest.created_at.startswith(clock.now().date().isoformat())
