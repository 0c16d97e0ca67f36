"""Updates of different users run concurrently; each user's own updates run one at a time.

Why: with one update at a time, a reply that must wait (Telegram's one message per second to a
chat, a slow answer from Telegram) stalls every other delegate behind it. Why per user: a
person's answers must be read in the order they were typed, and registration, offers and
wizards keep their step in the database, read and written by one update after the other.

What runs concurrently therefore only ever meets another person's work in the database, where
writes that must agree share a transaction (`Database.transaction()`) or are single statements,
and the schema's constraints decide races (one booking per slot, one claim per link).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64
# Updates taken from Telegram but waiting for their owner's previous one: a bound on memory, not
# on work, so that one person pressing a button fifty times does not hold up everyone else.
WAITING_LIMIT = 4096

log = logging.getLogger(__name__)


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    using: int = 0


def owner_of(update: object) -> int | None:
    """Whose update it is: the user, else the chat; None for updates of neither."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Runs up to `running` updates at once, in arrival order per owner."""

    def __init__(self, running: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(WAITING_LIMIT)
        self._running = asyncio.BoundedSemaphore(running)
        self._lanes: dict[int | None, _Lane] = {}

    @property
    def busy_owners(self) -> int:
        """How many users have an update running or waiting (for logs and tests)."""
        return len(self._lanes)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # PTB starts one task per update in arrival order and its semaphore before this point
        # is first-come first-served, so the lock's FIFO queue keeps each owner's order. The
        # running limit is taken inside the lane: waiting for one's turn takes no work slot.
        owner = owner_of(update)
        lane = self._lanes.get(owner)
        if lane is None:
            lane = self._lanes[owner] = _Lane()
        lane.using += 1
        try:
            async with lane.lock, self._running:
                started = time.perf_counter()
                await coroutine
                # Ids and timing only: what the update says stays out of the logs.
                log.debug(
                    "update %s handled in %.1f ms",
                    getattr(update, "update_id", "?"),
                    (time.perf_counter() - started) * 1000,
                )
        finally:
            lane.using -= 1
            if lane.using == 0:
                del self._lanes[owner]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: running updates are awaited by the application."""
