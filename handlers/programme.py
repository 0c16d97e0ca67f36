"""/programme: the event's roadshows, forums and sessions by day, in the reader's language, and
"remind me" buttons whose reminders go out through the outbox shortly before a session starts.

Every button names a day or a session; a press re-reads the session, so a button for a session
that was removed or has already started changes nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.models import Delegate
from bot.domain.outbox import Rendered
from bot.formats import moments
from bot.i18n import N_, Translator, joined
from bot.services import Services
from bot.services.programme import (
    REMIND_BEFORE,
    T_REMINDER,
    ProgrammeService,
    ProgrammeSession,
    title_for,
)
from handlers import callbacks
from handlers.common import Buttons, caller, caller_press, chunk, edit_message, refuse_button, send
from handlers.context import BotContext

log = logging.getLogger(__name__)

NS = "pr"
PROJECTS_NS = "rs"  # a roadshow's projects: handlers/roadshows.py
ACTIONS = frozenset({"day", "on", "off"})
KIND_LABELS = {
    "roadshow": N_("Roadshow"),
    "forum": N_("Forum"),
    "session": N_("Session"),
}
BUTTON_TITLE = 28  # characters of a title shown on a reminder button
TEXT_LIMIT = 3900  # below Telegram's 4096, with room for the closing line


def _service(services: Services) -> ProgrammeService:
    service: ProgrammeService = services.programme
    return service


def _day(services: Services, moment: dt.datetime) -> dt.date:
    return moment.astimezone(services.settings.timezone).date()


def _day_arg(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _parse_day(arg: str) -> dt.date | None:
    if len(arg) != 8 or not arg.isdigit():
        return None
    try:
        return dt.date.fromisoformat(arg)
    except ValueError:
        return None


def day_label(tr: Translator, services: Services, moment: dt.datetime, skeleton: str) -> str:
    """A day as the reader's language writes it, in the event's zone."""
    return moments.day_text(moment, services.settings.timezone, tr, skeleton)


def hours_text(tr: Translator, services: Services, session: ProgrammeSession) -> str:
    """A session's start and end, e.g. 09:00–10:30, in the event's zone."""
    data = session.data
    return moments.hours_text(data.starts_at, data.ends_at, services.settings.timezone, tr)


def session_title(tr: Translator, services: Services, session: ProgrammeSession) -> str:
    """The title in the reader's language, else the event's default, else English, else any."""
    return title_for(session.data.titles, tr.locale, services.settings.default_language)


def session_lines(tr: Translator, services: Services, session: ProgrammeSession) -> list[str]:
    """How one session reads in a day's list (HTML)."""
    data = session.data
    hours = html.escape(hours_text(tr, services, session))
    lines = [f"<b>{hours}</b> {tr.user_text(session_title(tr, services, session))}"]
    details = []
    if data.kind in KIND_LABELS:
        details.append(html.escape(tr.label(KIND_LABELS[data.kind])))
    if data.room:
        details.append(f"📍 {tr.user_text(data.room)}")
    if details:
        lines.append(" · ".join(details))
    if data.speakers:
        lines.append(f"🎤 {joined((tr.user_text(name) for name in data.speakers), tr)}")
    return lines


def _short(text: str) -> str:
    return text if len(text) <= BUTTON_TITLE else text[: BUTTON_TITLE - 1].rstrip() + "…"


def day_view(
    tr: Translator,
    services: Services,
    sessions: Sequence[ProgrammeSession],
    day: dt.date,
    reminded: set[int] | None,
    projects: Mapping[str, int] | None = None,
) -> tuple[str, Buttons]:
    """A day's sessions with reminder buttons (None: the reader cannot have reminders yet) and,
    for a session with projects (session key -> how many), a button listing them."""
    now = services.clock.now()
    today = [s for s in sessions if _day(services, s.data.starts_at) == day]
    days = _days(services, sessions)
    if not today:
        return chooser(tr, services, sessions)
    heading = day_label(tr, services, today[0].data.starts_at, "MMMMEEEEd")
    blocks: list[str] = []
    size = len(heading)
    for session in today:
        block = "\n".join(session_lines(tr, services, session))
        if session.id in (reminded or set()):
            block += "\n" + tr._("🔔 You will be reminded.")
        if size + len(block) > TEXT_LIMIT:
            blocks.append("…")
            break
        blocks.append(block)
        size += len(block) + 2
    text = "\n\n".join([f"<b>{html.escape(heading)}</b>", *blocks])
    rows: Buttons = []
    if reminded is None:
        text += "\n\n" + tr._("Register with /start to be reminded of sessions.")
    else:
        for session in today:
            if session.data.starts_at <= now:
                continue
            label = f"{hours_text(tr, services, session)} {session_title(tr, services, session)}"
            if session.id in reminded:
                button = tr.label("🔕 Cancel reminder: {session}", session=_short(label))
                rows.append([(button, callbacks.make(NS, "off", session.id))])
            else:
                button = tr.label("🔔 Remind me: {session}", session=_short(label))
                rows.append([(button, callbacks.make(NS, "on", session.id))])
    for session in today:
        if count := (projects or {}).get(session.data.key):
            title = _short(session_title(tr, services, session))
            button = tr.label("📋 Projects ({n}): {session}", n=count, session=title)
            rows.append([(button, callbacks.make(PROJECTS_NS, "ls", session.id))])
    others = [
        (day_label(tr, services, first, "MMMEd"), callbacks.make(NS, "day", _day_arg(other)))
        for other, first in days.items()
        if other != day
    ]
    rows += chunk(others, 3)
    return text, rows


def _days(services: Services, sessions: Sequence[ProgrammeSession]) -> dict[dt.date, dt.datetime]:
    days: dict[dt.date, dt.datetime] = {}
    for session in sessions:
        days.setdefault(_day(services, session.data.starts_at), session.data.starts_at)
    return days


def chooser(
    tr: Translator, services: Services, sessions: Sequence[ProgrammeSession]
) -> tuple[str, Buttons]:
    """The programme's days as buttons."""
    if not sessions:
        return tr._("The programme has not been published yet."), []
    buttons = [
        (day_label(tr, services, first, "MMMEd"), callbacks.make(NS, "day", _day_arg(day)))
        for day, first in _days(services, sessions).items()
    ]
    return tr._("<b>Event programme</b>\nChoose a day:"), chunk(buttons, 3)


async def _reminded(services: Services, delegate_id: int | None) -> set[int] | None:
    if delegate_id is None:
        return None
    return await _service(services).repo.reminded(delegate_id)


def _registered_id(delegate: Delegate | None) -> int | None:
    if delegate is None or not delegate.is_registered:
        return None
    return delegate.id


async def show_programme(update: Update, context: BotContext) -> None:
    """Answer /programme with the days to choose from."""
    who = await caller(update, context)
    if who is None:
        return
    sessions = await _service(context.services).repo.all()
    text, rows = chooser(who.tr, context.services, sessions)
    await send(context, who.chat_id, text, rows)


async def on_button(update: Update, context: BotContext) -> None:
    """A day chosen, or a reminder asked for or cancelled."""
    press = await caller_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, pressed = press.query, press.who, press.data
    services = context.services
    repo = _service(services).repo
    delegate_id = _registered_id(who.delegate)
    if pressed.action == "day":
        day = _parse_day(pressed.arg)
        if day is None:
            await refuse_button(query, who.tr)
            return
        sessions = await repo.all()
        projects = await services.roadshows.project_counts()
        text, rows = day_view(
            who.tr, services, sessions, day, await _reminded(services, delegate_id), projects
        )
        await query.answer()
        await edit_message(query, text, rows)
        return
    if delegate_id is None:
        await query.answer(who.tr.label("Please register first."), show_alert=True)
        return
    session = await repo.get(int(pressed.arg)) if pressed.arg.isdigit() else None
    if session is None or session.data.starts_at <= services.clock.now():
        await query.answer(
            who.tr.label("This session has already started or is no longer in the programme."),
            show_alert=True,
        )
        return
    wanted = pressed.action == "on"
    await repo.set_reminder(delegate_id, session.id, wanted)
    minutes = int(REMIND_BEFORE.total_seconds() // 60)
    if wanted:
        answer = who.tr.label("🔔 I will remind you {minutes} minutes before.", minutes=minutes)
    else:
        answer = who.tr.label("🔕 Reminder cancelled.")
    await query.answer(answer)
    day = _day(services, session.data.starts_at)
    projects = await services.roadshows.project_counts()
    text, rows = day_view(
        who.tr, services, await repo.all(), day, await _reminded(services, delegate_id), projects
    )
    await edit_message(query, text, rows)


def renderers(services: Services) -> dict[str, Any]:
    """The renderer of the programme reminder, in the recipient's language at send time."""

    async def reminder(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        session = await _service(services).repo.get(int(params["session"]))
        if session is None:
            return Rendered(
                tr._("A session you asked to be reminded of was removed. See /programme.")
            )
        lines = [
            tr._(
                "⏰ Starting soon: <b>{title}</b>, {hours}.",
                title=session_title(tr, services, session),
                hours=hours_text(tr, services, session),
            )
        ]
        if session.data.room:
            lines.append(f"📍 {html.escape(session.data.room)}")
        if session.data.speakers:
            lines.append(f"🎤 {html.escape(', '.join(session.data.speakers))}")
        return Rendered("\n".join(lines))

    return {T_REMINDER: reminder}


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /programme, its buttons, the reminder renderer and the reminder timer."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("programme", show_programme, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
