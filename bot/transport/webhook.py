"""The webhook's request handler: answers 200 to an update it cannot parse, and skips it.

PTB's handler answers such an update with 400 and logs its raw content: Telegram then sends it
again and again and holds back every update behind it. PTB's handler class is private and has
no hook, so `TolerantUpdater` (bot.py beside this) serves this small tolerant one in
its place; the server around it and the secret-token check stay PTB's. Imported only in
webhook mode: tornado is needed there alone.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Protocol, cast

import tornado.web
from telegram import Bot, Update
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookAppClass


class ParsesUpdates(Protocol):
    """The bot's tolerant parser (MatchmakerBot.parse_update): None for an unreadable update."""

    def parse_update(self, data: object) -> Update | None: ...


class TolerantHandler(TelegramHandler):
    """PTB's handler, except that an update that fails to parse is answered 200 and skipped."""

    async def post(self) -> None:
        self._validate_post()
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST, reason="not JSON") from None
        # 200 whatever the update holds: a refused update would come back forever.
        self.set_status(HTTPStatus.OK)
        update = cast(ParsesUpdates, self.bot).parse_update(data)
        if update is not None:
            await self.update_queue.put(update)


class WebhookApp(WebhookAppClass):
    """PTB's webhook application (one route, no access log), routed to TolerantHandler."""

    def __init__(
        self, path: str, bot: Bot, queue: asyncio.Queue[object], secret: str | None
    ) -> None:
        self.shared_objects = {"bot": bot, "update_queue": queue, "secret_token": secret}
        # PTB's __init__ would route to its own handler; build the tornado app directly.
        tornado.web.Application.__init__(
            self, [(rf"{path}/?", TolerantHandler, self.shared_objects)]
        )
