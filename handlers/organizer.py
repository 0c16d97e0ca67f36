"""Organizer commands; every command and button re-checks the role when used."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.services import BotContext
from handlers import callbacks
from handlers.common import Caller, caller, edit_message, refuse_button, send

NS = "o"
ACTIONS = frozenset({"stats"})


async def organizer(update: Update, context: BotContext) -> Caller | None:
    """Return the caller if they are an organizer right now; otherwise refuse politely."""
    who = await caller(update, context)
    if who is None:
        return None
    if context.services.is_organizer(who.user_id):
        return who
    refusal = who.tr.label("Sorry, this is only available to the event organizers.")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    else:
        await send(context, who.chat_id, who.tr._(refusal))
    return None


async def _stats_text(context: BotContext, who: Caller) -> str:
    counts = await context.services.delegates.registration_counts()
    return "\n".join(
        [
            who.tr._("<b>Registration</b>"),
            who.tr.ngettext(
                "{n} delegate registered", "{n} delegates registered", counts.registered
            ),
            who.tr.ngettext(
                "{n} registration in progress", "{n} registrations in progress", counts.drafts
            ),
        ]
    )


def _refresh_button(who: Caller) -> list[list[tuple[str, str]]]:
    return [[(who.tr.label("🔄 Refresh"), callbacks.make(NS, "stats"))]]


async def stats(update: Update, context: BotContext) -> None:
    """Show the organizer the registration figures."""
    who = await organizer(update, context)
    if who is not None:
        await send(context, who.chat_id, await _stats_text(context, who), _refresh_button(who))


async def on_button(update: Update, context: BotContext) -> None:
    """Handle organizer buttons, refusing anyone who is not an organizer when pressing."""
    query = update.callback_query
    if query is None:
        return
    who = await organizer(update, context)
    if who is None:
        return
    data = callbacks.parse(query.data, NS, ACTIONS)
    if data is None:
        await refuse_button(query, who.tr)
        return
    await query.answer()
    await edit_message(query, await _stats_text(context, who), _refresh_button(who))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the organizer handlers."""
    app.add_handler(CommandHandler("stats", stats, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
