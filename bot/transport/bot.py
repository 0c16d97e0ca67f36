"""The bot's Telegram client: PTB's ExtBot, tolerant of updates it cannot read.

PTB parses a getUpdates answer as a whole: one update whose object lacks a field the library
requires (Telegram's schema moved ahead of it, or a hostile fake) fails the whole batch, the
offset never passes it and the updater asks again at once, thousands of times a second, logging
the raw update (personal data included) every time. Here updates are parsed one by one; one that
fails is logged once by id and type, counted, skipped, and the next poll's offset moves past it.
Polls that keep failing in ways PTB's own retry loop repeats at once are spaced out, capped.
Methods that take no parse_mode are sent without the default one PTB adds to them.
In webhook mode `TolerantUpdater` does the same: such an update is answered 200 and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from socket import socket
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import TelegramError, TimedOut
from telegram.ext import ExtBot, Updater

log = logging.getLogger(__name__)

# Backoff before the next getUpdates after failures PTB's loop retries without a pause
# (timeouts, anything that is not a Telegram error): 0.25 s, doubling, at most this.
POLL_BACKOFF_CAP = 10.0
_POLL_BACKOFF_FIRST = 0.25

# PTB sends these through one helper that adds the default parse_mode, which none of them
# takes (Bot API 10.1): Telegram ignores it today, a stricter server refuses the call.
_NO_PARSE_MODE = frozenset(
    {
        "editMessageChecklist",
        "editMessageLiveLocation",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "forwardMessage",
        "sendChecklist",
        "sendContact",
        "sendDice",
        "sendGame",
        "sendInvoice",
        "sendLocation",
        "sendPoll",
        "sendSticker",
        "sendVenue",
        "sendVideoNote",
        "setGameScore",
        "stopMessageLiveLocation",
    }
)


def update_kind(data: object) -> str:
    """The update's type, the name of its one field besides update_id ("message", "poll")."""
    if not isinstance(data, dict):
        return type(data).__name__
    return next((str(key) for key in data if key != "update_id"), "empty")


class MatchmakerBot(ExtBot[Any]):
    """ExtBot that skips unparseable updates, spaces out failing polls, sends documented calls."""

    __slots__ = ("_poll_failures", "_skip_past", "_skipped")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # PTB freezes its objects after __init__; underscore attributes stay writable.
        self._skipped = 0
        # The next poll's offset is at least this: past the last update skipped.
        self._skip_past = 0
        self._poll_failures = 0

    @property
    def skipped_updates(self) -> int:
        """Updates skipped since start because they could not be parsed."""
        return self._skipped

    def parse_update(self, data: object) -> Update | None:
        """The update in `data`, or None (logged once and counted) when it cannot be parsed."""
        update = self._parsed(data)
        if update is not None:
            self.insert_callback_data(update)
        return update

    def _parsed(self, data: object) -> Update | None:
        try:
            if not isinstance(data, dict):
                raise TypeError("an update is a JSON object")
            return Update.de_json(data, self)
        except Exception as error:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            self._skip(update_id, update_kind(data), error)
            return None

    def _skip(self, update_id: object, kind: str, error: Exception) -> None:
        self._skipped += 1
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            self._skip_past = max(self._skip_past, update_id + 1)
        # Id, type and the error's class only: the update's content is what people typed.
        log.warning(
            "skipped update %s (%s): it could not be parsed (%s); %d skipped since start",
            update_id,
            kind,
            type(error).__name__,
            self._skipped,
        )

    def poll_backoff(self) -> float:
        """Seconds to wait before the next getUpdates, after the failures so far."""
        if self._poll_failures == 0:
            return 0.0
        return float(min(POLL_BACKOFF_CAP, _POLL_BACKOFF_FIRST * 2 ** (self._poll_failures - 1)))

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        post = super()._do_post
        timeouts = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        if endpoint in _NO_PARSE_MODE and "parse_mode" in data:
            data = {key: value for key, value in data.items() if key != "parse_mode"}
        if endpoint != "getUpdates":
            return await post(endpoint, data, **timeouts)
        delay = self.poll_backoff()
        if delay:
            await asyncio.sleep(delay)
        offset = data.get("offset")
        if self._skip_past and (offset is None or 0 <= int(offset) < self._skip_past):
            data = {**data, "offset": self._skip_past}
        try:
            result = await post(endpoint, data, **timeouts)
        except TelegramError as error:
            # PTB's retry loop already waits after these, growing to 30 s; not after timeouts.
            if isinstance(error, TimedOut):
                self._poll_failures += 1
            raise
        except Exception:
            self._poll_failures += 1
            raise
        if not isinstance(result, list):
            self._poll_failures += 1
            log.warning("getUpdates answered with %s instead of a list", type(result).__name__)
            return []
        self._poll_failures = 0
        # Parsed here one by one to drop the bad ones; PTB parses the survivors again.
        return [raw for raw in result if self._parsed(raw) is not None]


class TolerantUpdater(Updater):
    """PTB's Updater whose webhook answers 200 to an update it cannot parse, and skips it."""

    bot: MatchmakerBot

    async def _start_webhook(
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Sequence[str] | None,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> None:
        # PTB's own _start_webhook, with our handler and without TLS (the reverse proxy's job).
        from telegram.ext._utils.webhookhandler import WebhookServer

        from bot.transport.webhook import WebhookApp

        if cert is not None or key is not None:
            raise RuntimeError("the webhook serves plain HTTP; TLS is the reverse proxy's job")
        path = url_path if url_path.startswith("/") else f"/{url_path}"
        app = WebhookApp(path, self.bot, self.update_queue, secret_token)
        self._httpd = WebhookServer(listen, port, app, None, unix)
        await self._bootstrap(
            max_retries=bootstrap_retries,
            drop_pending_updates=drop_pending_updates,
            webhook_url=webhook_url or f"http://{listen}:{port}{path}",
            allowed_updates=allowed_updates,
            ip_address=ip_address,
            max_connections=max_connections,
            secret_token=secret_token,
        )
        await self._httpd.serve_forever(ready=ready)
