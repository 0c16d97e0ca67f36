"""Edited messages are no answers: Telegram sends an edit as an update of its own.

PTB's MessageHandler and CommandHandler take `edited_message` updates as readily as new
messages, so editing the name while the bot asks for the organization stored the new text as
the organization, and editing an old /delete_me asked again. Every answer is saved the moment it
arrives (a step at a time), so an edit cannot be applied to "its" field without guessing; it is
dropped before any feature sees it. Registered first, in the earliest group.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from handlers.context import BotContext

EDITS_GROUP = -100  # before every feature's group (the earliest feature group is -6)


def is_edit(update: Update) -> bool:
    """Tell whether the update only reports an edit of a message sent before."""
    return (
        update.edited_message is not None
        or update.edited_channel_post is not None
        or update.edited_business_message is not None
    )


async def drop_edit(update: Update, context: BotContext) -> None:
    """Stop an edit from reaching any handler."""
    if is_edit(update):
        raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the handler that drops edits, before all others."""
    app.add_handler(TypeHandler(Update, drop_edit), group=EDITS_GROUP)
