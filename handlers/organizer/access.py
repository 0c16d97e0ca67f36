"""Becoming an organizer: /organizer CODE, a one-time code from `matchmaker invite-organizer`.

Who is an organizer is checked on every command and button by handlers.common.organizer.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from handlers.common import caller, send
from handlers.context import BotContext


async def become_organizer(update: Update, context: BotContext) -> None:
    """/organizer CODE: take the organizer role with a one-time invite code."""
    who = await caller(update, context)
    if who is None:
        return
    service = context.services.organizers
    if await service.is_organizer(who.user_id):
        await send(context, who.chat_id, who.tr._("You are already an organizer."))
        return
    code = context.args[0] if context.args and len(context.args) == 1 else ""
    if code and await service.redeem(code, who.user_id):
        text = who.tr._(
            "Welcome to the organizers of {event}. Try /broadcast, /stats or /export.",
            event=context.services.settings.event_name,
        )
    else:
        text = who.tr._("This invite code is not valid or was already used.")
    await send(context, who.chat_id, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /organizer."""
    app.add_handler(
        CommandHandler("organizer", become_organizer, filters=filters.ChatType.PRIVATE)
    )
