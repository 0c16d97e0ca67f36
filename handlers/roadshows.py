"""Roadshows in the chat: a programme session's projects (from its "Projects" button in
/programme), each opening its exhibit card with "Meet the presenter", and the follow-up that
offers a visitor, after the session, the projects of it they saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain.outbox import Rendered
from bot.i18n import Translator
from bot.services import Services
from bot.services.exhibits import Exhibit
from bot.services.roadshows import T_FOLLOW_UP
from handlers import callbacks
from handlers.common import Buttons, caller_press, refuse_button, send
from handlers.context import BotContext
from handlers.exhibits import NS as EXHIBITS_NS
from handlers.exhibits import booth_text, title_text
from handlers.programme import PROJECTS_NS, hours_text, session_title

NS = PROJECTS_NS
ACTIONS = frozenset({"ls"})


def _project_lines(tr: Translator, projects: Sequence[Exhibit]) -> tuple[list[str], Buttons]:
    lines: list[str] = []
    rows: Buttons = []
    for n, exhibit in enumerate(projects, start=1):
        entry = f"{n}. {title_text(exhibit, tr)}"
        if booth := booth_text(exhibit, tr):
            entry += f" — {booth}"
        lines.append(entry)
        rows.append(
            [
                (tr.label("Open {n}", n=n), callbacks.make(EXHIBITS_NS, "open", exhibit.id)),
                (
                    tr.label("🎤 Meet the presenter ({n})", n=n),
                    callbacks.make(EXHIBITS_NS, "meet", exhibit.id),
                ),
            ]
        )
    return lines, rows


async def on_button(update: Update, context: BotContext) -> None:
    """A session's "Projects" button: its projects, each with its card and the presenter."""
    press = await caller_press(update, context, NS, ACTIONS)
    if press is None:
        return
    services, tr = context.services, press.who.tr
    session = (
        await services.programme.repo.get(int(press.data.arg))
        if callbacks.is_id(press.data.arg)
        else None
    )
    if session is None:
        await refuse_button(press.query, tr)
        return
    projects = await services.roadshows.projects(session.data.key)
    await press.query.answer()
    heading = tr._(
        "<b>Projects of {session}</b> ({hours})",
        session=session_title(tr, services, session),
        hours=hours_text(tr, services, session),
    )
    if not projects:
        await send(context, press.who.chat_id, heading + "\n" + tr._("No project is listed yet."))
        return
    lines, rows = _project_lines(tr, projects)
    await send(context, press.who.chat_id, "\n".join([heading, *lines]), rows)


def renderers(services: Services) -> dict[str, Any]:
    """The follow-up's renderer, in the visitor's language at send time."""

    async def follow_up(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        session = await services.programme.repo.get(int(params["session"]))
        if session is None:
            return Rendered(tr._("A roadshow you saved projects of was removed. See /saved."))
        projects = await services.roadshows.saved_projects(session.data.key, int(params["as"]))
        heading = tr._(
            "🎤 <b>{session}</b> is over. The projects you saved there, to meet their presenters:",
            session=session_title(tr, services, session),
        )
        if not projects:
            return Rendered(heading + "\n" + tr._("You no longer have any of them saved."))
        lines, rows = _project_lines(tr, projects)
        return Rendered("\n".join([heading, *lines]), tuple(tuple(row) for row in rows))

    return {T_FOLLOW_UP: follow_up}


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the projects button and the follow-up's renderer."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
