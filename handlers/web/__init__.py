"""The web face: one aiohttp server in the bot process for the venue board and the Mini App.

Plain aiohttp views, no template engine: the pages are small shells (the board's is built here
with its labels, the Mini App's is a static file) and everything else is JSON that the page's
own script renders, so no second dependency and no second place where texts live. In webhook
mode the same server receives Telegram's updates (`webhook`), so one port serves both behind the
reverse proxy. Like any handler, this layer reads services only.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.services import Services
from handlers.web import board, miniapp
from handlers.web.common import SERVICES, AccessLog

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

UpdateSink = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, the secret it sends with them, and who takes them."""

    path: str
    secret: str
    deliver: UpdateSink


def _security_headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    _security_headers(response)
    return response


def _webhook_view(hook: Webhook) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), hook.secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        await hook.deliver(data)
        return web.Response()

    return receive


def build_web_app(services: Services, *, webhook: Webhook | None = None) -> web.Application:
    """The aiohttp application: board, Mini App, static files, and the webhook if given."""
    app = web.Application(middlewares=[_headers], client_max_size=1024**2)
    app[SERVICES] = services
    app[board.FEED] = board.BoardFeed(services)
    board.add_routes(app)
    miniapp.add_routes(app)
    app.router.add_static("/static", STATIC)
    if webhook is not None:
        app.router.add_post("/" + webhook.path.lstrip("/"), _webhook_view(webhook))

    async def feed(app: web.Application) -> Any:
        await app[board.FEED].start()
        yield
        await app[board.FEED].stop()

    app.cleanup_ctx.append(feed)
    return app


class WebServer:
    """The server's life: started after the database opens, stopped before it closes."""

    def __init__(self, services: Services, *, webhook: Webhook | None = None) -> None:
        self.services = services
        self.app = build_web_app(services, webhook=webhook)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: any free port); return the port."""
        await self.services.web.open_reader()
        self._runner = web.AppRunner(
            self.app, access_log_class=AccessLog, access_log=logging.getLogger("matchmaker.web")
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("web server on http://%s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop: streams end, requests in flight finish."""
        if self._runner is not None:
            await self.app[board.FEED].stop()
            await self._runner.cleanup()
            self._runner = None
        await self.services.web.close_reader()
