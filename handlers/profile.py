"""/profile, /language and /delete_me."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.models import Step
from bot.i18n import SUPPORTED_LOCALES
from handlers import callbacks
from handlers.common import caller, caller_press, close_buttons, refuse_button, send
from handlers.context import BotContext
from handlers.registration import ask, language_buttons, start, summary

NS = "p"
ACTIONS = frozenset({"lang", "del"})


async def show_profile(update: Update, context: BotContext) -> None:
    """Show the profile with edit buttons, or continue an unfinished registration."""
    who = await caller(update, context)
    if who is None:
        return
    if who.delegate is None:
        await start(update, context)
        return
    if not who.delegate.is_registered:
        await ask(
            context,
            who.delegate,
            who.tr,
            who.tr._("Your registration is not finished yet. Let us continue."),
        )
        return
    if who.delegate.editing:
        # A pending edit is abandoned: the profile as stored is what the delegate sees.
        await context.services.delegates.update(who.delegate.id, step=Step.DONE, editing=False)
    text, rows = summary(who.delegate, who.tr)
    await send(context, who.chat_id, text, rows)


async def choose_language(update: Update, context: BotContext) -> None:
    """Offer the interface languages."""
    who = await caller(update, context)
    if who is None:
        return
    rows = language_buttons(NS, who.tr.locale)
    await send(context, who.chat_id, who.tr._("Please choose your language."), rows)


async def delete_me(update: Update, context: BotContext) -> None:
    """Ask for confirmation before erasing personal data."""
    who = await caller(update, context)
    if who is None:
        return
    if who.delegate is None:
        await send(context, who.chat_id, who.tr._("I hold no personal data about you."))
        return
    rows = [
        [
            (who.tr.label("Yes, delete my data"), callbacks.make(NS, "del", "yes")),
            (who.tr.label("No, keep it"), callbacks.make(NS, "del", "no")),
        ]
    ]
    await send(
        context,
        who.chat_id,
        who.tr._(
            "This deletes your profile, contact and everything you entered. It cannot be undone. "
            "Delete your data?"
        ),
        rows,
    )


async def on_button(update: Update, context: BotContext) -> None:
    """Handle language and deletion buttons."""
    press = await caller_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    services = context.services
    if data.action == "lang" and data.arg in SUPPORTED_LOCALES:
        await query.answer()
        await close_buttons(query)
        delegate = who.delegate or await services.delegates.start_draft(who.user_id, who.chat_id)
        saved = await services.delegates.update(delegate.id, locale=data.arg)
        tr = services.i18n.translator(data.arg)
        if saved.step is Step.LANGUAGE:
            # Mid-registration the language question is answered by this choice.
            saved = await services.delegates.update(saved.id, step=Step.NAME)
        await ask(context, saved, tr, tr._("From now on I will write to you in English."))
    elif data.action == "del" and who.delegate is not None and data.arg in {"yes", "no"}:
        await query.answer()
        await close_buttons(query)
        if data.arg == "yes":
            await services.profiles.erase(who.delegate.id, who.chat_id)
            if context.user_data is not None:
                context.user_data.clear()  # a booking draft's note, match reasons
            await send(
                context,
                who.chat_id,
                who.tr._(
                    "Your personal data has been deleted. "
                    "Send /start if you want to register again."
                ),
            )
        else:
            await send(context, who.chat_id, who.tr._("Nothing was deleted."))
    else:
        await refuse_button(query, who.tr)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the profile handlers."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("profile", show_profile, filters=private))
    app.add_handler(CommandHandler("language", choose_language, filters=private))
    app.add_handler(CommandHandler("delete_me", delete_me, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
