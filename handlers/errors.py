"""The error handler: log first, then tell the user in their language."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import Application

from handlers.common import caller
from handlers.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure and apologise to the user whose update caused it."""
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        # Telegram did not answer in time or at all: what the user did is saved (handlers save
        # before they reply), only the reply is lost. An apology would likely be lost too, and
        # "try again" would be wrong when the action went through.
        log.warning("reply lost, Telegram unreachable: %s", context.error)
        return
    log.error("update failed", exc_info=context.error)
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    try:
        who = await caller(update, context)
        if who is None:
            return
        # A failed button press is not answered here: the handler may have answered it before
        # failing, and Telegram refuses a second answer. The apology below is what the user
        # needs; the button's spinner stops by itself.
        await context.bot.send_message(
            who.chat_id, who.tr._("Sorry, something went wrong. Please try again.")
        )
    except (TelegramError, OSError):
        log.warning("could not tell the user about the failure", exc_info=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Install the error handler."""
    app.add_error_handler(on_error)
