"""The bot sends Telegram only parameters each method documents (the fake rejects the rest)."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Defaults, ExtBot

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from bot.transport.bot import MatchmakerBot

KEYS = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])


async def test_ptb_adds_its_default_parse_mode_where_a_method_takes_none(api: FakeBotApi) -> None:
    api.user(1)
    plain = ExtBot(api.token, base_url=api.base_url, defaults=Defaults(parse_mode=ParseMode.HTML))
    async with plain:
        sent = await plain.send_message(1, "<b>keys</b>", reply_markup=KEYS)
        with pytest.raises(BadRequest, match='(?i)unknown parameter "parse_mode"'):
            await plain.edit_message_reply_markup(1, sent.message_id, reply_markup=None)
        with pytest.raises(BadRequest, match='(?i)unknown parameter "parse_mode"'):
            await plain.send_sticker(1, "CAACAgIAAxkBAAEBfakeSticker")
    assert [c.method for c in api.rejected] == ["editMessageReplyMarkup", "sendSticker"]
    api.rejected.clear()


async def test_the_bot_sends_no_parse_mode_where_a_method_takes_none(
    api: FakeBotApi, bot: BotApplication
) -> None:
    api.user(2)
    assert isinstance(bot.bot, MatchmakerBot)
    sent = await bot.bot.send_message(2, "<b>keys</b>", reply_markup=KEYS)
    await bot.bot.edit_message_reply_markup(2, sent.message_id, reply_markup=None)
    # HTML still applies where the method takes it.
    assert api.user(2).messages[-1].parse_mode == "HTML"
    edits = [c for c in api.calls if c.method == "editMessageReplyMarkup"]
    assert edits and all(c.ok and "parse_mode" not in c.params for c in edits)
