"""Edited messages: Telegram delivers an edit as a new update; it is never a new answer."""

from __future__ import annotations

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import seed, services_of


async def test_editing_the_name_while_asked_for_the_organization_stores_nothing(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(1501, "Anna", language_code="en")
    await user.send_text("/start")
    await user.press("English", await user.expect("Welcome"))
    await user.expect("What is your name")
    await user.send_text("Anna Smith")
    await user.expect("Which organization")
    await user.edit_text(-1, "Anna Smith-Jones")
    await api.settle()
    assert len(user.messages) == 3, "an edit gets no answer"
    await user.send_text("Tomsk Polytechnic University")
    await user.expect("Which country")
    delegate = await services_of(bot).delegates.by_telegram_user(user.user_id)
    assert delegate is not None
    assert (delegate.name, delegate.organization) == ("Anna Smith", "Tomsk Polytechnic University")


async def test_editing_an_old_delete_me_does_not_ask_again(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = await seed(api, bot, 1502, locale="en")
    await user.send_text("/delete_me")
    prompt = await user.expect("cannot be undone")
    await user.press("No, keep it", prompt)
    await user.expect("Nothing was deleted")
    before = len(user.messages)
    await user.edit_text(-1, "/delete_me now")
    await user.edit_text(-1, "/help")
    await api.settle()
    assert len(user.messages) == before, [m.text for m in user.messages[before:]]
    # The chat still works: a new message is answered.
    await user.send_text("/help")
    await user.expect("What I can do")
