"""/help, unknown commands and messages no feature handled. Registered last."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from handlers.common import caller, refuse_button, send, translator_for
from handlers.context import BotContext
from handlers.registration import on_other

# (command, description) for the menu and /help; descriptions are translated per language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Register or continue registration")),
    ("menu", N_("Main menu")),
    ("offer", N_("Add a technology you offer")),
    ("need", N_("Add a technology you are looking for")),
    ("items", N_("Your offers and needs")),
    ("matches", N_("Delegates who match you")),
    ("agenda", N_("Your meetings, availability and reminders")),
    ("badge", N_("Your booking QR code")),
    ("programme", N_("The event programme")),
    ("search", N_("Search the exhibits, in any language")),
    ("saved", N_("Exhibits you saved")),
    ("leads", N_("Visitors who left their card at your exhibits")),
    ("profile", N_("See and edit your profile")),
    ("language", N_("Change the interface language")),
    ("help", N_("What this bot can do")),
    ("delete_me", N_("Delete your personal data")),
)
ORGANIZER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("stats", N_("Event statistics")),
    ("broadcast", N_("Send an announcement to delegates")),
    ("export", N_("Export delegates, items, meetings or the schedule")),
    ("find", N_("Find a delegate and manage their meetings")),
    ("merge", N_("Merge two profiles of one person")),
)


def help_text(tr: Translator, *, organizer: bool) -> str:
    """The list of commands in the user's language (organizers see theirs too)."""
    lines = [tr._("<b>What I can do</b>")]
    lines += [f"/{command} — {tr._(description)}" for command, description in COMMANDS]
    if organizer:
        lines.append(tr._("<b>For organizers</b>"))
        lines += [f"/{command} — {tr._(text)}" for command, text in ORGANIZER_COMMANDS]
    return "\n".join(lines)


async def show_help(update: Update, context: BotContext) -> None:
    """List the commands."""
    who = await caller(update, context)
    if who is not None:
        is_organizer = await context.services.organizers.is_organizer(who.user_id)
        await send(context, who.chat_id, help_text(who.tr, organizer=is_organizer))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Say that a command is unknown and point to /help."""
    who = await caller(update, context)
    if who is not None:
        await send(
            context,
            who.chat_id,
            who.tr._("I do not know that command. Send /help to see what I can do."),
        )


async def unknown_button(update: Update, context: BotContext) -> None:
    """Refuse a button whose data no feature recognises (stale or forged)."""
    query = update.callback_query
    who = await caller(update, context)
    if query is not None and who is not None:
        await refuse_button(query, who.tr)
    elif query is not None:
        await query.answer()


# Before every feature's group: their handlers need the pressed message's chat.
DETACHED_GROUP = -20


async def detached_button(update: Update, context: BotContext) -> None:
    """Refuse a press that carries no message (only an inline_message_id): no chat to act in."""
    query = update.callback_query
    if query is None or query.message is not None:
        return
    user = query.from_user
    delegate = await context.services.delegates.by_telegram_user(user.id)
    await refuse_button(query, translator_for(context.services, delegate, user.language_code))
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the catch-all handlers; must come after every feature's handlers."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CallbackQueryHandler(detached_button), group=DETACHED_GROUP)
    app.add_handler(CommandHandler("help", show_help, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(unknown_button))
    app.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_other)
    )
