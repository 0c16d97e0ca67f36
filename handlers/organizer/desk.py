"""The organizers' desk: /stats, /export and a delegates CSV sent as a document (an import).

Every command and button re-checks the role when used."""

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

from bot.domain.countries import country_name, flag
from bot.domain.models import Role
from bot.domain.outbox import DeadReason
from bot.i18n import LANGUAGE_LABELS, Translator, joined
from bot.services import exports as data_exports
from bot.services.stats import TOP_MATCHES, event_figures
from handlers import callbacks, leads
from handlers.common import (
    Caller,
    edit_message,
    organizer,
    organizer_press,
    refuse_button,
    send,
)
from handlers.context import BotContext
from handlers.nudges import follow_up_lines
from handlers.organizer import importing
from handlers.registration import role_label

NS = "o"
IMPORT_GROUP = -5
ACTIONS = frozenset({"stats", "exp", "retry"})


def _top(
    pairs: list[tuple[str, int]], name: Callable[[str], str], tr: Translator, limit: int = 8
) -> str:
    shown = joined((f"{name(key)} {n}" for key, n in pairs[:limit]), tr)
    return shown + (" …" if len(pairs) > limit else "") if shown else "—"


def _dead_line(tr: Translator, reason: DeadReason, n: int) -> str:
    if reason is DeadReason.REFUSED:
        return tr.ngettext(
            "• {n} refused by Telegram as written",
            "• {n} refused by Telegram as written",
            n,
        )
    if reason is DeadReason.EXPIRED:
        return tr.ngettext(
            "• {n} given up: Telegram kept failing until it was too late",
            "• {n} given up: Telegram kept failing until it was too late",
            n,
        )
    return tr.ngettext(
        "• {n} could not be written (see the bot's log)",
        "• {n} could not be written (see the bot's log)",
        n,
    )


def _retry_label(tr: Translator, reason: DeadReason, n: int) -> str:
    if reason is DeadReason.REFUSED:
        return tr.label("🔁 Retry the refused ({n})", n=n)
    if reason is DeadReason.EXPIRED:
        return tr.label("🔁 Retry the given up ({n})", n=n)
    return tr.label("🔁 Retry the unwritten ({n})", n=n)


async def _stats_text(context: BotContext, who: Caller) -> str:
    services, tr = context.services, who.tr
    stats, (pairs, matched) = await event_figures(services)
    dead = await services.outbox.dead_by_reason()
    taxonomy = services.matching.taxonomy
    delivery = stats.broadcast_delivery

    def role(code: str) -> str:
        return role_label(Role(code), tr) if code in set(Role) else code

    def field(code: str) -> str:
        return taxonomy.name(code, tr.locale)

    def country(code: str) -> str:
        return f"{flag(code)} {country_name(code, tr.locale)}" if len(code) == 2 else code

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
            tr._("By country: {list}", list=_top(stats.by_country, country, tr)),
            tr._("By language: {list}", list=_top(stats.by_language, language, tr)),
            tr._("By role: {list}", list=_top(stats.by_role, role, tr)),
            "",
            tr._("<b>Offers and needs</b>"),
            tr._(
                "Offers: {n}; by field: {list}",
                n=stats.offers,
                list=_top(stats.offers_by_field, field, tr, 5),
            ),
            tr._(
                "Needs: {n}; by field: {list}",
                n=stats.needs,
                list=_top(stats.needs_by_field, field, tr, 5),
            ),
            tr._(
                "Matches: {pairs} pairs among everyone's top {limit}; {matched} delegates have "
                "at least one",
                pairs=pairs,
                limit=TOP_MATCHES,
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
            *(
                [
                    tr.ngettext(
                        "⚠️ {n} meeting answered differently by its two sides (held / missed): "
                        "{ids}",
                        "⚠️ {n} meetings answered differently by their two sides (held / "
                        "missed): {ids}",
                        len(stats.meetings_disputed),
                        ids=joined((f"#{m}" for m in stats.meetings_disputed), tr),
                    )
                ]
                if stats.meetings_disputed
                else []
            ),
            *follow_up_lines(stats, tr),
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
            *(_dead_line(tr, reason, n) for reason, n in dead.items()),
            *leads.stats_lines(
                tr, await services.leads.counts(), await services.leads.counts_by_hall()
            ),
        ]
    )


async def _stats_buttons(context: BotContext, who: Caller) -> list[list[tuple[str, str]]]:
    dead = await context.services.outbox.dead_by_reason()
    rows = [
        [(_retry_label(who.tr, reason, n), callbacks.make(NS, "retry", str(reason)))]
        for reason, n in dead.items()
    ]
    return [*rows, [(who.tr.label("🔄 Refresh"), callbacks.make(NS, "stats"))]]


async def stats(update: Update, context: BotContext) -> None:
    """Show the organizer the registration figures."""
    who = await organizer(update, context)
    if who is not None:
        text = await _stats_text(context, who)
        await send(context, who.chat_id, text, await _stats_buttons(context, who))


async def _retry_dead(context: BotContext, who: Caller, reason: DeadReason) -> int:
    services = context.services
    async with services.db.transaction():
        count = await services.outbox.retry_dead(reason=reason)
        await services.organizers.audit.record(
            who.user_id, "retry_dead", str(reason), {"count": count}
        )
    return count


async def on_button(update: Update, context: BotContext) -> None:
    """Handle organizer buttons, refusing anyone who is not an organizer when pressing."""
    press = await organizer_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    if data.action == "exp":
        what, _, fmt = data.arg.partition("-")
        if what not in data_exports.WHAT or fmt not in data_exports.FORMATS:
            await refuse_button(query, who.tr)
            return
        await query.answer()
        await _send_export(context, who, what, fmt)
        return
    if data.action == "retry":
        if data.arg not in set(DeadReason):
            await refuse_button(query, who.tr)
            return
        count = await _retry_dead(context, who, DeadReason(data.arg))
        await query.answer(
            who.tr.ngettext(
                "{n} message is owed again and goes out shortly.",
                "{n} messages are owed again and go out shortly.",
                count,
            )
        )
    else:
        await query.answer()
    text = await _stats_text(context, who)
    await edit_message(query, text, await _stats_buttons(context, who))


async def _send_export(context: BotContext, who: Caller, what: str, fmt: str) -> None:
    services = context.services
    table = await data_exports.export_table(
        services.db, services.clock, services.settings.schedule, services.settings.timezone, what
    )
    content, name = data_exports.render(table, fmt)
    await services.organizers.audit.record(who.user_id, "export", what, {"format": fmt})
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
        "results": tr.label("What came of meetings"),
        "exhibit_leads": tr.label("Exhibit leads"),
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
    if not await context.services.organizers.is_organizer(user.id):
        return  # a delegate's file is not an import; other handlers may answer it
    who = await organizer(update, context)
    if who is not None:
        await importing.import_document(update, context, who)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /stats, /export, the document import and their buttons."""
    app.add_handler(CommandHandler("stats", stats, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("export", export, filters=filters.ChatType.PRIVATE))
    # Before the other message handlers: an organizer's CSV is an import, not an answer.
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, import_document),
        group=IMPORT_GROUP,
    )
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
