"""The Mini App: my day as a grid, two people's free slots side by side, tap to request.

Every API call carries Telegram's launch data (`Authorization: tma <initData>`), validated with
the bot token and its age (bot/domain/webapp.py) before anything is read; the caller must be a
registered delegate, and may only book whom the chat would let them book (the same service
calls, WebService.counterpart and MeetingService.request). Each user has a request budget.
The page itself is a static shell with no data; its texts come from the gettext catalogs
through /app/api/session, in the delegate's language.

The exhibits catalogue is the third tab (handlers/web/catalogue.py), listed in the session's
`tabs` when the catalogue has exhibits.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.domain.countries import flag
from bot.domain.meetings import MeetingError
from bot.domain.ratelimit import RateLimit
from bot.domain.scheduling import slot_key, slot_start_from_key
from bot.i18n import Translator
from bot.services import Services
from bot.services.meetings import Party
from bot.services.web import GridSlot, SlotState
from handlers.meetings.common import error_text, languages_line, table_text, when_text
from handlers.web import catalogue
from handlers.web.auth import BURST, LIMIT, PER_SECOND, authenticated
from handlers.web.common import (
    day_label,
    hours,
    json_error,
    page_direction,
    plain,
    services_of,
)

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"


def _person(party: Party | None, tr: Translator) -> dict[str, Any]:
    if party is None:
        return {"name": tr.label("a delegate"), "org": "", "flag": ""}
    return {
        "id": party.id,
        "name": party.name or tr.label("a delegate"),
        "org": party.organization or "",
        "flag": flag(party.country or ""),
    }


def _day(request: web.Request, services: Services) -> dt.date:
    days = services.web.days()
    text = request.query.get("date", "")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        today = services.clock.now().astimezone(services.settings.schedule.zone).date()
        return next((d for d in days if d >= today), days[-1] if days else today)
    if day not in days:
        raise web.HTTPNotFound()
    return day


def _counterpart_id(request: web.Request) -> int:
    try:
        return int(request.query["with"])
    except (KeyError, ValueError):
        raise web.HTTPBadRequest() from None


async def page(request: web.Request) -> web.FileResponse:
    """The shell; it has no data, so it needs no launch data."""
    return web.FileResponse(
        _STATIC / "app.html",
        headers={"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"},
    )


async def session(request: web.Request) -> web.Response:
    """Who I am, my language and its direction, the interface texts, the days, my matches."""
    who = await authenticated(request)
    services = services_of(request)
    tr = who.tr
    labels = {
        "my_day": tr.label("My day"),
        "book": tr.label("Book a meeting"),
        # Translators: the Mini App, the column of my own free slots beside a counterpart's.
        "me": tr.label("Me"),
        "free": tr.label("Free"),
        # Translators: a person has something else in this slot (the Mini App).
        "busy": tr.label("Busy"),
        # Translators: a button on a free slot: send a meeting request for it.
        "request": tr.label("Request"),
        "choose": tr.label("Choose a delegate"),
        "none": tr.label("No matches to book yet: add an offer or a need in the chat."),
        "no_slots": tr.label("No slots on this day."),
        "sending": tr.label("Sending…"),
        "failed": tr.label("Something went wrong. Please try again."),
        **catalogue.labels(tr),
    }
    tabs = ["day", "book"]
    if await services.exhibits.size():
        tabs.append("catalogue")
    days = [{"date": d.isoformat(), "label": day_label(tr, d)} for d in services.web.days()]
    return web.json_response(
        {
            "lang": tr.locale,
            "dir": page_direction(tr),
            "name": who.delegate.name or "",
            "tabs": tabs,
            "labels": labels,
            "days": days,
            "today": _day(request, services).isoformat(),
        }
    )


async def counterparts(request: web.Request) -> web.Response:
    """My best matches that I may book (ranking costs as much as /matches: asked only when the
    Book tab opens without a counterpart)."""
    who = await authenticated(request)
    services = services_of(request)
    found = await services.web.counterparts(who.delegate.id)
    return web.json_response({"counterparts": [_person(p, who.tr) for p in found]})


def _grid_text(row: GridSlot, tr: Translator, services: Services, me: int) -> str:
    name = _person(row.counterpart, tr)["name"]
    if row.state is SlotState.MEETING and row.meeting is not None:
        return tr.label(
            "Meeting with {name}, {table}",
            name=name,
            table=plain(table_text(row.meeting.table, services, tr)),
        )
    if row.state is SlotState.REQUESTED and row.meeting is not None:
        if row.meeting.requester_id == me:
            return tr.label("Waiting for {name} to answer", name=name)
        return tr.label("{name} asks to meet you: answer in the chat", name=name)
    texts = {
        # Translators: a time slot that is already over (the Mini App's day grid).
        SlotState.PAST: tr.label("Over"),
        SlotState.FREE: tr.label("Free"),
        SlotState.FULL: tr.label("No table left"),
        SlotState.BLOCKED: tr.label("Blocked"),
    }
    return texts.get(row.state, "")


async def day(request: web.Request) -> web.Response:
    """My day, slot by slot."""
    who = await authenticated(request)
    services = services_of(request)
    zone = services.settings.schedule.zone
    grid = await services.web.day_grid(who.delegate.id, _day(request, services))
    rows = [
        {
            "key": slot_key(row.slot.start),
            "time": hours(who.tr, row.slot.start, row.slot.end, zone),
            "state": row.state.value,
            "text": _grid_text(row, who.tr, services, who.delegate.id),
        }
        for row in grid
    ]
    return web.json_response({"rows": rows})


async def pair(request: web.Request) -> web.Response:
    """My day and a counterpart's side by side, with the slots a request can go to."""
    who = await authenticated(request)
    services = services_of(request)
    other_id = _counterpart_id(request)
    tr = who.tr
    try:
        day = _day(request, services)
        other, grid = await services.web.side_by_side(who.delegate.id, other_id, day)
    except MeetingError as error:
        return json_error(403, plain(error_text(error, tr, services)))
    zone = services.settings.schedule.zone
    me = await services.web.party(who.delegate.id)
    return web.json_response(
        {
            "them": _person(other, tr),
            "languages": plain(languages_line(me, other, tr)),
            "rows": [
                {
                    "key": slot_key(row.slot.start),
                    "time": hours(tr, row.slot.start, row.slot.end, zone),
                    "mine": row.mine_free,
                    "theirs": row.theirs_free,
                    "bookable": row.bookable,
                }
                for row in grid
            ],
        }
    )


async def request_meeting(request: web.Request) -> web.Response:
    """Tap on a slot: the request goes out as from the chat; the counterpart is told there."""
    who = await authenticated(request)
    services = services_of(request)
    tr = who.tr
    try:
        body = await request.json()
        other_id = int(body["with"])
        start = slot_start_from_key(int(body["slot"]))
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest() from None
    try:
        meeting = await services.web.request(who.delegate.id, other_id, start, reason=None)
    except MeetingError as error:
        return json_error(409, plain(error_text(error, tr, services)))
    other = await services.web.party(other_id)
    text = tr.label(
        "✉️ Request sent to {name} for {when}. I will tell you when they answer.",
        name=_person(other, tr)["name"],
        when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
    )
    return web.json_response({"message": text, "meeting": meeting.id})


def add_routes(app: web.Application) -> None:
    """The Mini App's paths."""
    app[LIMIT] = RateLimit(burst=BURST, per_second=PER_SECOND)
    app.router.add_get("/app", page)
    app.router.add_get("/app/api/session", session)
    app.router.add_get("/app/api/day", day)
    app.router.add_get("/app/api/counterparts", counterparts)
    app.router.add_get("/app/api/pair", pair)
    app.router.add_post("/app/api/request", request_meeting)
    catalogue.add_routes(app)
