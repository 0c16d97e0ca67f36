"""Delivery and due work: the outbox sender, the shared rate limiter and the repeating job.

Features owe messages with `services.outbox.enqueue(...)` inside the transaction of the change
that caused them, register a renderer for template messages with
`services.delivery.renderers.add(key, fn)`, and add timed work with
`services.delivery.dispatcher.add_hook(name, fn)`. The database is the only source of truth:
one repeating job asks it what is due at `clock.now()`, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from telegram.ext import ExtBot

from bot.config import Settings
from bot.delivery.sender import (
    DEFAULT_CONCURRENCY,
    OutboxSender,
    Outcome,
    Renderer,
    Renderers,
    UnknownTemplate,
)
from bot.domain.clock import Clock
from bot.domain.outbox import RetryPolicy
from bot.i18n import I18n
from bot.transport.limiter import DeliveryLimiter, SendOrder
from storage.outbox import OutboxRepository

__all__ = [
    "Delivery",
    "DeliveryLimiter",
    "DueWorkDispatcher",
    "Hook",
    "MovableClock",
    "OutboxSender",
    "Outcome",
    "Renderer",
    "Renderers",
    "SendOrder",
    "UnknownTemplate",
]

log = logging.getLogger(__name__)

# A hook does whatever is due at `now` and may return a count or summary for logs and tests.
Hook = Callable[[dt.datetime], Awaitable[object]]

DUE_WORK_INTERVAL = 2.0
DUE_WORK_JOB = "due-work"


@runtime_checkable
class MovableClock(Protocol):
    """A clock that can be moved forward: ManualClock in tests, OffsetClock in the sandbox."""

    def now(self) -> dt.datetime: ...

    def advance(self, delta: dt.timedelta) -> dt.datetime: ...


class DueWorkDispatcher:
    """Runs every registered hook with the time it should consider "now"."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._hooks: dict[str, Hook] = {}
        self._running = asyncio.Lock()

    @property
    def hooks(self) -> tuple[str, ...]:
        """The registered hook names, in the order they run."""
        return tuple(self._hooks)

    def add_hook(self, name: str, hook: Hook) -> None:
        """Register timed work (reminders, expiries, follow-ups); names are unique."""
        if name in self._hooks:
            raise ValueError(f"a due-work hook named {name!r} is already registered")
        self._hooks[name] = hook

    async def run_due(self, now: dt.datetime | None = None) -> dict[str, object]:
        """Do everything due at `now` (default the clock's now); one failing hook spares others."""
        moment = now if now is not None else self.clock.now()
        if moment.tzinfo is None:
            raise ValueError("run_due needs an aware datetime")
        results: dict[str, object] = {}
        async with self._running:
            for name, hook in list(self._hooks.items()):
                try:
                    results[name] = await hook(moment)
                except Exception as error:
                    log.exception("due-work hook %s failed", name)
                    results[name] = error
        return results

    async def advance_clock(self, delta: dt.timedelta) -> dict[str, object]:
        """Move a movable clock forward (the sandbox's /clock +15m) and do what fell due."""
        if not isinstance(self.clock, MovableClock):
            raise TypeError(f"{type(self.clock).__name__} cannot be moved forward")
        return await self.run_due(self.clock.advance(delta))

    async def tick(self, context: object) -> None:
        """The JobQueue callback; skips a tick while the previous one still runs."""
        if self._running.locked():
            return
        await self.run_due()


class Delivery:
    """Everything that gets messages out: limiter, renderers, sender and the due-work job."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        outbox: OutboxRepository,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.outbox = outbox
        if settings.rate_limit:
            self.limiter = DeliveryLimiter(
                settings.send_per_second, chat_gap=settings.chat_send_interval
            )
        else:
            self.limiter = DeliveryLimiter(None, chat_gap=None)
        self.limiter.still_wanted = outbox.still_sending
        self.renderers = Renderers()
        self.sender = OutboxSender(
            outbox,
            clock,
            i18n,
            self.renderers,
            concurrency=concurrency,
            policy=RetryPolicy(horizons=settings.retry_horizons),
        )
        outbox.on_enqueue(self.sender.wake)
        self.dispatcher = DueWorkDispatcher(clock)
        self.dispatcher.add_hook("outbox", self._wake_sender)

    async def _wake_sender(self, now: dt.datetime) -> int:
        # While Telegram fails, what waits out a retry delay may serve as the next probe.
        due = await self.outbox.count_due(now, retrying=self.sender.gate.closed)
        if due:
            self.sender.wake(now)
        return due

    async def start(self, bot: ExtBot[Any]) -> int:
        """Start sending (after the database is open); return the items recovered from a crash."""
        return await self.sender.start(bot)

    async def stop(self) -> None:
        """Stop sending (before the database closes); safe to call twice."""
        await self.sender.stop()
