"""The venue board: `/board/<secret>` for the hall's screen, `/board/<secret>/table/<name>`.

Plain aiohttp views: the page is a small shell in the reader's language (labels from the
gettext catalogs), its data comes as JSON over Server-Sent Events. One feed computes the board
once a second for all screens and pushes only when something changed, so 200 screens cost one
query a second, and a booking made in chat (or by another process) reaches them within it.
Without the live secret every path answers 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from typing import Any

from aiohttp import web

from bot.domain.board import BoardMeeting, BoardPerson, TableView
from bot.domain.countries import flag
from bot.domain.languages import ENDONYMS, INTERFACE_LANGUAGES
from bot.i18n import N_, Translator
from bot.services import Services
from handlers.web.common import day_label, hours, page_direction, services_of

log = logging.getLogger(__name__)

# The organization type's own name ("Interpreter"), the same text registration shows.
INTERPRETER = N_("Interpreter")
FEED_INTERVAL = 1.0  # seconds between two looks at the database while screens watch
HEARTBEAT = 10.0  # seconds: the hall clock is set again, and dead connections show
# A change wakes the screens this many at a time, the event loop free for other work (a chat
# update) between two groups: 200 screens written at once hold the loop for tens of ms.
FAN_OUT = 20


class BoardFeed:
    """The board as data, recomputed while anyone watches; subscribers hear of each change."""

    def __init__(self, services: Services, *, interval: float = FEED_INTERVAL) -> None:
        self.services = services
        self.interval = interval
        self.version = 0
        self._tables: list[TableView] | None = None
        self._rendered: dict[str, bytes] = {}
        self._watchers: set[asyncio.Queue[int]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start looking at the database."""
        self._task = asyncio.create_task(self._run(), name="board-feed")

    async def stop(self) -> None:
        """Stop looking, and end every stream (a closed queue hears -1)."""
        for queue in self._watchers:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(-1)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> bool:
        """Compute the board now; True (and subscribers told) when it changed."""
        tables = await self.services.web.board(self.services.clock.now())
        if tables == self._tables:
            return False
        self._tables = tables
        self._rendered.clear()
        self.version += 1
        for n, queue in enumerate(list(self._watchers), start=1):
            if queue.empty():
                queue.put_nowait(self.version)
            if n % FAN_OUT == 0:
                await asyncio.sleep(0)  # these screens write now, the next group after
        return True

    async def _run(self) -> None:
        while True:
            try:
                if self._watchers or self._tables is None:
                    await self.refresh()
            except Exception:
                log.exception("the board feed could not read the board")
            await asyncio.sleep(self.interval)

    def watch(self) -> asyncio.Queue[int]:
        """A queue that receives the version after each change."""
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[int]) -> None:
        """Stop telling this queue."""
        self._watchers.discard(queue)

    @property
    def watchers(self) -> int:
        """How many screens are connected."""
        return len(self._watchers)

    async def payload(self, tr: Translator) -> bytes:
        """The board in one reader's language, as JSON (cached until the next change)."""
        if self._tables is None:
            await self.refresh()
        cached = self._rendered.get(tr.locale)
        if cached is None:
            cached = json.dumps(
                {
                    "version": self.version,
                    "tables": [self._table(t, tr) for t in self._tables or []],
                },
                ensure_ascii=False,
            ).encode()
            self._rendered[tr.locale] = cached
        return cached

    def _table(self, table: TableView, tr: Translator) -> dict[str, Any]:
        return {
            "name": table.name,
            "now": self._meeting(table.now, tr),
            "next": self._meeting(table.next, tr),
        }

    def _meeting(self, meeting: BoardMeeting | None, tr: Translator) -> dict[str, Any] | None:
        if meeting is None:
            return None
        zone = self.services.settings.schedule.zone
        when = hours(tr, meeting.start, meeting.end, zone)
        local_day = meeting.start.astimezone(zone).date()
        if local_day != self.services.clock.now().astimezone(zone).date():
            when = f"{day_label(tr, local_day)} {when}"
        return {
            "time": when,
            "people": [_person(p) for p in meeting.people],
            # Colleagues show as people do; an interpreter is named as one.
            "guests": [
                _person(g.person) | {"role": tr.label(INTERPRETER) if g.interpreter else ""}
                for g in meeting.guests
            ],
        }


def _person(person: BoardPerson) -> dict[str, str]:
    return {
        "name": person.name,
        "org": person.organization or "",
        "flag": flag(person.country or ""),
    }


FEED = web.AppKey("board_feed", BoardFeed)


async def _secret_or_404(request: web.Request) -> None:
    if not await services_of(request).web.is_board_secret(request.match_info["secret"]):
        raise web.HTTPNotFound()


def _translator(request: web.Request) -> Translator:
    services = services_of(request)
    wanted = request.query.get("lang")
    if wanted in INTERFACE_LANGUAGES:
        return services.i18n.translator(wanted)
    return services.i18n.translator(services.settings.default_language)


def _page(tr: Translator, services: Services, table: str | None, secret: str) -> str:
    zone = services.settings.schedule.zone
    labels = {
        # Translators: the venue board, above the meeting at a table right now.
        "now": tr.label("Now"),
        # Translators: the venue board, above the table's next meeting.
        "next": tr.label("Next"),
        # Translators: a table or a time slot with no meeting (board and Mini App).
        "free": tr.label("Free"),
        # Translators: the board lost its connection to the bot and is trying again.
        "offline": tr.label("Reconnecting…"),
        "table": tr.label("Table {table}", table="{table}"),
    }
    config = {
        "zone": zone.key,
        "locale": tr.locale.replace("_", "-"),
        "table": table,
        "labels": labels,
        # Absolute: the table page's own path would resolve a relative one wrongly.
        "events": f"/board/{secret}/events?lang={tr.locale}",
    }
    title = services.settings.event_name
    if table is not None:
        heading = tr.label("Table {table}", table=table)
    else:
        room = services.settings.schedule.room
        # Translators: the venue board's heading; {room} is the hall, such as "Hall 3".
        heading = tr.label("Tables, {room}", room=room) if room else tr.label("Tables")
    current = ' aria-current="true"'
    switch = "".join(
        f'<a href="?lang={code}" lang="{code}"{current if code == tr.locale else ""}>'
        f"{html.escape(ENDONYMS[code])}</a>"
        for code in INTERFACE_LANGUAGES
    )
    esc = html.escape
    # Script text is not HTML-decoded: keep JSON as it is, with no "</script>" possible in it.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="{esc(tr.locale)}" dir="{page_direction(tr)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{esc(title)} · {esc(heading)}</title>
<link rel="stylesheet" href="/static/board.css">
</head>
<body class="board{" single" if table else ""}">
<header>
  <div class="titles"><h1><bdi>{esc(title)}</bdi></h1><h2>{esc(heading)}</h2></div>
  <time id="clock" dir="ltr"></time>
  <nav class="languages">{switch}</nav>
</header>
<p id="status" hidden></p>
<main id="tables" aria-live="polite"></main>
<script id="config" type="application/json">{data}</script>
<script src="/static/board.js"></script>
</body>
</html>"""


async def board_page(request: web.Request) -> web.Response:
    """The whole hall."""
    await _secret_or_404(request)
    services = services_of(request)
    return _html(_page(_translator(request), services, None, request.match_info["secret"]))


async def table_page(request: web.Request) -> web.Response:
    """One table's small screen."""
    await _secret_or_404(request)
    services = services_of(request)
    name = request.match_info["table"]
    if name not in services.settings.schedule.tables:
        raise web.HTTPNotFound()
    return _html(_page(_translator(request), services, name, request.match_info["secret"]))


def _html(text: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _event(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def _clock(services: Services) -> bytes:
    return json.dumps({"now": services.clock.now().timestamp() * 1000}).encode()


async def state(request: web.Request) -> web.Response:
    """The board once, as JSON (for a screen that cannot stream, and for checks)."""
    await _secret_or_404(request)
    feed = request.app[FEED]
    body = await feed.payload(_translator(request))
    return web.Response(body=body, content_type="application/json")


async def events(request: web.Request) -> web.StreamResponse:
    """The board as a stream: the board at once, again after each change, the clock always."""
    await _secret_or_404(request)
    services = services_of(request)
    feed = request.app[FEED]
    tr = _translator(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            # Tell nginx not to buffer the stream.
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue = feed.watch()
    try:
        # One write (one system call) per wake-up: 200 screens, 200 writes per change.
        await response.write(
            _event("clock", _clock(services)) + _event("board", await feed.payload(tr))
        )
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT):  # no task per wait, unlike wait_for
                    version = await queue.get()
            except TimeoutError:
                # A replaced secret (board-link --new) ends the streams opened with the old one.
                if not await services.web.is_board_secret(request.match_info["secret"]):
                    break
                await response.write(_event("clock", _clock(services)))
                continue
            if version < 0:
                break
            payload = await feed.payload(tr)
            await response.write(_event("clock", _clock(services)) + _event("board", payload))
    except ConnectionResetError:
        pass
    finally:
        feed.unwatch(queue)
    return response


def add_routes(app: web.Application) -> None:
    """The board's paths."""
    app.router.add_get("/board/{secret}", board_page)
    app.router.add_get("/board/{secret}/events", events)
    app.router.add_get("/board/{secret}/state", state)
    app.router.add_get("/board/{secret}/table/{table}", table_page)
