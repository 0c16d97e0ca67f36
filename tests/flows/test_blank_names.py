"""A name that shows nothing (invisible fillers) is refused in the user's language."""

from __future__ import annotations

import pytest

from bot.app import BotApplication
from bot.i18n import LANGUAGE_LABELS, I18n
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.test_registration import QUESTIONS

# The Hangul filler Unicode counts as a letter, the half-width one, a Braille blank, a word joiner.
BLANK_NAMES = ("\u3164", "\u3164 \u3164\u3164", "\uffa0\u2800", "\u2060\u3164")


@pytest.mark.parametrize("locale", ["ko", "ru", "en"])
async def test_a_name_of_invisible_fillers_is_refused_and_asked_again(
    api: FakeBotApi, bot: BotApplication, locale: str
) -> None:
    name_q, org_q = QUESTIONS[locale][:2]
    refusal = (
        I18n().translator(locale)._("I could not find any text in that. Please type your answer.")
    )
    user = api.user(4400 + len(locale), "Blank", language_code=locale)
    await user.send_text("/start")
    await user.press(LANGUAGE_LABELS[locale], await user.expect("Nanjing Innovation Days"))
    await user.expect(name_q)
    for blank in BLANK_NAMES:
        await user.send_text(blank)
        asked = await user.expect(name_q)
        assert refusal in asked.text
    await user.send_text("김민준")
    await user.expect(org_q)
    await user.send_text("\u3164\u3164")
    assert refusal in (await user.expect(org_q)).text
