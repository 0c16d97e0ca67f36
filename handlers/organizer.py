"""Organizer commands; every command and button re-checks the role when used."""

from __future__ import annotations

import io
from collections.abc import Callable

from telegram import InputFile, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import data_exports
from bot.domain.countries import flag
from bot.domain.models import Role
from bot.i18n import LANGUAGE_LABELS
from bot.services import BotContext
from handlers import callbacks, importing
from handlers.common import Caller, caller, edit_message, refuse_button, send
from handlers.registration import role_label
from storage.stats import gather_stats

NS = "o"
MATCH_TOP = 10  # matches counted per delegate, as /matches and `matchmaker matches` show them
IMPORT_GROUP = -5
ACTIONS = frozenset({"stats", "exp"})


async def organizer(update: Update, context: BotContext) -> Caller | None:
    """Return the caller if they are an organizer right now; otherwise refuse politely."""
    who = await caller(update, context)
    if who is None:
        return None
    if await context.services.broadcasts.is_organizer(who.user_id):
        return who
    refusal = who.tr.label("Sorry, this is only available to the event organizers.")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    else:
        await send(context, who.chat_id, who.tr._(refusal))
    return None


def _top(pairs: list[tuple[str, int]], name: Callable[[str], str], limit: int = 8) -> str:
    shown = ", ".join(f"{name(key)} {n}" for key, n in pairs[:limit])
    return shown + (" …" if len(pairs) > limit else "") if shown else "—"


async def _stats_text(context: BotContext, who: Caller) -> str:
    services, tr = context.services, who.tr
    stats = await gather_stats(services.db, services.broadcasts.repo)
    pairs, matched = await services.matching.match_counts(limit=MATCH_TOP)
    taxonomy = services.matching.taxonomy
    delivery = stats.broadcast_delivery

    def role(code: str) -> str:
        return role_label(Role(code), tr) if code in set(Role) else code

    def field(code: str) -> str:
        return taxonomy.name(code, tr.locale)

    def country(code: str) -> str:
        return f"{flag(code)} {code}" if len(code) == 2 else code

    def language(code: str) -> str:
        return LANGUAGE_LABELS.get(code, code)

    return "\n".join(
        [
            tr._("<b>Registration</b>"),
            tr.ngettext("{n} delegate registered", "{n} delegates registered", stats.registered),
            tr.ngettext(
                "{n} registration in progress", "{n} registrations in progress", stats.drafts
            ),
            tr._(
                "Registered in chat: {chat}; imported: {imported}; claimed: {claimed}; "
                "unreachable: {unreachable}",
                chat=stats.from_chat,
                imported=stats.imported,
                claimed=stats.claimed,
                unreachable=stats.unreachable,
            ),
            tr._("By country: {list}", list=_top(stats.by_country, country)),
            tr._("By language: {list}", list=_top(stats.by_language, language)),
            tr._("By role: {list}", list=_top(stats.by_role, role)),
            "",
            tr._("<b>Offers and needs</b>"),
            tr._(
                "Offers: {n}; by field: {list}",
                n=stats.offers,
                list=_top(stats.offers_by_field, field, 5),
            ),
            tr._(
                "Needs: {n}; by field: {list}",
                n=stats.needs,
                list=_top(stats.needs_by_field, field, 5),
            ),
            tr._(
                "Matches: {pairs} pairs among everyone's top {limit}; {matched} delegates have "
                "at least one",
                pairs=pairs,
                limit=MATCH_TOP,
                matched=matched,
            ),
            tr._("Interest shown in matches: {n}", n=stats.interests),
            "",
            tr._("<b>Meetings</b>"),
            tr._(
                "Requests: {requests}; accepted: {accepted}; pending: {pending}; "
                "held: {held}; no-shows: {no_show}",
                requests=stats.meeting_requests,
                accepted=stats.meetings_accepted,
                pending=stats.meetings_pending,
                held=stats.meetings_held,
                no_show=stats.meetings_no_show,
            ),
            "",
            tr._("<b>Messages</b>"),
            tr._(
                "Announcements: {n}; sent {sent}, failed {failed}, unreachable {unreachable}, "
                "left {left}",
                n=stats.broadcasts,
                sent=delivery.sent,
                failed=delivery.failed,
                unreachable=delivery.unreachable,
                left=delivery.left,
            ),
            tr._("Undeliverable messages (dead letters): {n}", n=stats.dead_letters),
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
    if data.action == "exp":
        what, _, fmt = data.arg.partition("-")
        if what not in data_exports.WHAT or fmt not in data_exports.FORMATS:
            await refuse_button(query, who.tr)
            return
        await query.answer()
        await _send_export(context, who, what, fmt)
        return
    await query.answer()
    await edit_message(query, await _stats_text(context, who), _refresh_button(who))


async def _send_export(context: BotContext, who: Caller, what: str, fmt: str) -> None:
    services = context.services
    table = await data_exports.export_table(
        services.db, services.clock, services.settings.schedule, services.settings.timezone, what
    )
    content, name = data_exports.render(table, fmt)
    await services.broadcasts.audit.record(who.user_id, "export", what, {"format": fmt})
    caption = who.tr.ngettext("{n} row", "{n} rows", len(table.rows))
    await context.bot.send_document(
        who.chat_id, InputFile(io.BytesIO(content), filename=name), caption=caption
    )


def _export_buttons(who: Caller) -> list[list[tuple[str, str]]]:
    tr = who.tr
    labels = {
        "delegates": tr.label("Delegates"),
        "offers": tr.label("Offers"),
        "needs": tr.label("Needs"),
        "meetings": tr.label("Meetings"),
        "schedule": tr.label("Schedule"),
    }
    return [
        [
            (f"{labels[what]} · {fmt.upper()}", callbacks.make(NS, "exp", f"{what}-{fmt}"))
            for fmt in data_exports.FORMATS
        ]
        for what in data_exports.WHAT
    ]


async def export(update: Update, context: BotContext) -> None:
    """/export: choose a table and a format; the file comes as a document."""
    who = await organizer(update, context)
    if who is not None:
        text = who.tr._("Which data do you want, and as CSV or Excel (XLSX)?")
        await send(context, who.chat_id, text, _export_buttons(who))


async def import_document(update: Update, context: BotContext) -> None:
    """An organizer's CSV in the import format: import it and answer with the row report."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.document is None or user is None:
        return
    if not await context.services.broadcasts.is_organizer(user.id):
        return  # a delegate's file is not an import; other handlers may answer it
    who = await organizer(update, context)
    if who is not None:
        await importing.import_document(update, context, who)


async def become_organizer(update: Update, context: BotContext) -> None:
    """/organizer CODE: take the organizer role with a one-time invite code."""
    who = await caller(update, context)
    if who is None:
        return
    service = context.services.broadcasts
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
    """Add the organizer handlers."""
    app.add_handler(
        CommandHandler("organizer", become_organizer, filters=filters.ChatType.PRIVATE)
    )
    app.add_handler(CommandHandler("stats", stats, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("export", export, filters=filters.ChatType.PRIVATE))
    # Before the other message handlers: an organizer's CSV is an import, not an answer.
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, import_document),
        group=IMPORT_GROUP,
    )
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
