"""The one sending budget shared by direct replies and the outbox, as a PTB rate limiter.

Every request the bot makes passes through `DeliveryLimiter.process_request`. Requests that
Telegram counts as messages (sendX, copy, forward) wait for a slot in `SendBudget`; the waiting
line is ordered by rank, so a direct reply (no rate_limit_args) overtakes outbox sends, and among
those a reminder overtakes a broadcast. Everything else (answerCallbackQuery, edits, getMe) goes
straight through: Telegram does not count it against the message limits.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.domain.outbox import Priority, SendBudget

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

_NOT_MESSAGES = frozenset({"sendChatAction", "sendMessageDraft"})
_MESSAGES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def counts_as_message(endpoint: str) -> bool:
    """Whether Telegram counts a Bot API method against the message limits."""
    return (endpoint.startswith("send") and endpoint not in _NOT_MESSAGES) or endpoint in _MESSAGES


def retry_after_seconds(error: RetryAfter) -> float:
    """The pause a 429 asks for, whether PTB reports it as seconds or as a timedelta."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Withdrawn(Exception):
    """An outbox item was dropped while it waited for its slot (its delegate left, for one)."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"outbox item {item_id} was withdrawn before it could be sent")
        self.item_id = item_id


@dataclass(frozen=True)
class SendOrder:
    """rate_limit_args of an outbox send: its place in the line; replies pass none."""

    priority: Priority
    item_id: int | None = None


# (rank, arrival number, chat, future): sorted by rank then arrival; futures never compared.
_Waiter = tuple[int, int, int | None, "asyncio.Future[None]"]


class DeliveryLimiter(BaseRateLimiter[SendOrder]):
    """Paces messages to Telegram's limits, replies first; pauses everything after a 429.

    per_second=None and chat_gap=None switch pacing off (rate limiting disabled) but keep the
    429 pause. A direct reply that meets a 429 is tried again after the pause (up to
    `reply_retries` times); an outbox send re-raises so the sender can put its item back.
    """

    def __init__(
        self,
        per_second: int | None = 30,
        *,
        chat_gap: float | None = 1.0,
        window: float = 1.0,
        reply_retries: int = 3,
    ) -> None:
        self.budget = SendBudget(per_second, window=window, chat_gap=chat_gap)
        self.reply_retries = reply_retries
        self.throttled = 0  # 429 answers seen, for logs and benchmarks
        self._waiters: list[_Waiter] = []
        self._arrivals = 0
        self._timer: asyncio.TimerHandle | None = None
        # Asked once an outbox send has its slot, right before Telegram is called: a broadcast
        # copy can wait seconds for its slot, and its recipient may erase their data meanwhile.
        self.still_wanted: Callable[[int], Awaitable[bool]] | None = None

    async def initialize(self) -> None:
        """Nothing to set up: state is created lazily on the running loop."""

    async def shutdown(self) -> None:
        """Forget the wake-up timer; waiting callers are cancelled by their owners."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def waiting(self) -> int:
        """How many messages wait for a slot."""
        return sum(1 for *_, future in self._waiters if not future.done())

    def pause(self, seconds: float) -> None:
        """Stop sending messages for `seconds` (Telegram answered 429)."""
        loop = asyncio.get_running_loop()
        self.budget.pause(loop.time() + seconds)
        self._grant()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendOrder | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for a slot if the request is a message, make it, and honour a 429."""
        if not counts_as_message(endpoint):
            return await callback(*args, **kwargs)
        chat = _chat_key(data.get("chat_id"))
        rank = int(Priority.REPLY if rate_limit_args is None else rate_limit_args.priority)
        loop = asyncio.get_running_loop()
        retries = 0
        while True:
            await self._acquire(rank, chat)
            try:
                if rate_limit_args is not None and rate_limit_args.item_id is not None:
                    await self._check_wanted(rate_limit_args.item_id)
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.throttled += 1
                seconds = retry_after_seconds(error)
                log.warning("Telegram asked to pause for %.1f s (%s)", seconds, endpoint)
                self.budget.pause(loop.time() + seconds)
                if rate_limit_args is not None or retries >= self.reply_retries:
                    raise
                retries += 1
            finally:
                self.budget.finish(loop.time(), chat)
                self._grant()

    async def _check_wanted(self, item_id: int) -> None:
        if self.still_wanted is not None and not await self.still_wanted(item_id):
            raise Withdrawn(item_id)

    async def _acquire(self, rank: int, chat: int | None) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not self._waiters:
            ready = self.budget.ready_at(now, chat)
            if ready is not None and ready <= now:
                self.budget.start(now, chat)
                return
        future: asyncio.Future[None] = loop.create_future()
        self._arrivals += 1
        bisect.insort(self._waiters, (rank, self._arrivals, chat, future))
        self._grant()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # The slot was granted just as the caller gave up: hand it back.
                self.budget.finish(loop.time(), chat)
            self._waiters = [w for w in self._waiters if w[3] is not future]
            self._grant()
            raise

    def _grant(self) -> None:
        """Let every waiter go that may go now, best rank first; wake up later for the rest."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        wake_at: float | None = None
        kept: list[_Waiter] = []
        for waiter in self._waiters:
            _, _, chat, future = waiter
            if future.done():
                continue
            ready = self.budget.ready_at(now, chat)
            if ready is not None and ready <= now:
                self.budget.start(now, chat)
                future.set_result(None)
                continue
            kept.append(waiter)
            if ready is not None and (wake_at is None or ready < wake_at):
                wake_at = ready
        self._waiters = kept
        if wake_at is None:
            return
        if self._timer is not None:
            if self._timer.when() <= wake_at and not self._timer.cancelled():
                return
            self._timer.cancel()
        self._timer = loop.call_at(wake_at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._grant()


def _chat_key(chat_id: object) -> int | None:
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str):
        # Channel usernames are chats too; any stable number keeps them apart.
        return hash(chat_id)
    return None
