"""Helpers for the offer, need and match flows: what a delegate reads, and quick seeding."""

from __future__ import annotations

import re
from typing import Any

from bot.app import BotApplication
from bot.domain.models import Step
from bot.i18n import I18n
from bot.sandbox.fake_api import BotMessage, FakeUser
from bot.services import Services
from locales.taxonomy import load_taxonomy

I18N = I18n()
TAXONOMY = load_taxonomy()


def t(locale: str, msgid: str, **params: Any) -> str:
    """A message as the delegate reads it (translated once the catalogs have it, tags gone)."""
    return re.sub(r"</?[a-z]+>", "", I18N.translator(locale).label(msgid, **params))


def seen(locale: str, msgid: str, **params: Any) -> str:
    """A pattern for `expect` that finds the message's opening words."""
    return re.escape(t(locale, msgid, **params)[:40])


def name(code: str, locale: str) -> str:
    """A field's or kind's name in a language."""
    return TAXONOMY.name(code, locale)


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def seed(
    app: BotApplication,
    user: FakeUser,
    *,
    name: str,
    organization: str,
    country: str,
    locale: str,
    languages: tuple[str, ...] | None = None,
    role: str = "company",
    consent: bool = True,
    offers: tuple[str, ...] = (),
    needs: tuple[str, ...] = (),
    fields: tuple[str, ...] = (),
) -> int:
    """Register a delegate and their items straight in the database (for counterparts)."""
    services = services_of(app)
    draft = await services.delegates.start_draft(user.user_id, user.chat_id)
    await services.delegates.update(
        draft.id, locale=locale, name=name, organization=organization, country=country,
        role=role, meeting_languages=languages or (locale,), consent=consent, step=Step.DONE,
        registered_at=services.clock.now(),
    )  # fmt: skip
    for side, texts in (("offer", offers), ("need", needs)):
        for text in texts:
            await services.items.add(draft.id, side, text, kind="licence", fields=fields)
    await services.matching.refresh_delegate(draft.id, announce=False)
    return draft.id


OFFER_TEXT = (
    "Describe the technology you offer in a few sentences, in any language: what it is, what "
    "it does, where it is used. Up to {limit} characters."
)
NEED_TEXT = (
    "Describe the technology you are looking for, in any language: the problem to solve, the "
    "industry, your requirements. Up to {limit} characters."
)
OFFER_KIND = "What kind of deal do you offer?"
NEED_KIND = "What kind of deal are you looking for?"
TRL = (
    "How mature is the technology? Choose its technology readiness level (TRL):\n"
    "1–3: research and proof of concept\n"
    "4–6: prototype validated in the lab or in the field\n"
    "7–9: demonstrated and proven in operation"
)
IP = "Is the technology protected by a patent?"
FIELDS = (
    "Which technology fields is it about? I chose these from your text. Tap a field to select "
    "or deselect it, then Save."
)
SAVED = "✅ Saved."


def question(locale: str, side: str) -> str:
    """The pattern of the text question of a side."""
    return seen(locale, OFFER_TEXT if side == "offer" else NEED_TEXT, limit=1000)


async def add_item(
    user: FakeUser,
    locale: str,
    side: str,
    text: str,
    *,
    kind: str,
    trl: int | None = None,
    ip: str | None = None,
) -> BotMessage:
    """Add an offer or need through the chat, accepting the proposed fields; return the result."""
    await user.send_text(f"/{side}")
    await user.expect(question(locale, side))
    await user.send_text(text)
    kinds = await user.expect(seen(locale, OFFER_KIND if side == "offer" else NEED_KIND))
    await user.press(name(kind, locale), kinds)
    if trl is not None:
        await user.press(str(trl), await user.expect(seen(locale, TRL)))
    if ip is not None:
        await user.press(t(locale, ip), await user.expect(seen(locale, IP)))
    fields = await user.expect(seen(locale, FIELDS))
    await user.press(t(locale, "💾 Save"), fields)
    return await user.expect(seen(locale, SAVED))
