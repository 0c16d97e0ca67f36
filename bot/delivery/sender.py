"""The outbox sender: claims due items, renders them, sends them within the shared budget.

Delivery is at least once. An item is marked 'sending' before Telegram is called and 'sent' only
after Telegram accepted it; after a crash the items still 'sending' go back to pending, so at most
the items that were in flight (never more than `concurrency`) are sent twice.

A transient failure (5xx, timeout, lost connection) is retried with capped backoff until the item
no longer makes sense (RetryPolicy.deadline); only then, or when Telegram refuses the message
(400), is it a dead letter. While Telegram fails, the outage gate lets one probe out at a time;
the first answer reopens it and brings forward whatever failed during the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.domain.clock import Clock
from bot.domain.crash import crash_point
from bot.domain.outbox import (
    Buttons,
    DeadReason,
    OutageGate,
    OutboxItem,
    Permit,
    Rendered,
    RetryPolicy,
    TemplateRef,
)
from bot.i18n import I18n, Translator
from bot.transport.limiter import SendOrder, Withdrawn
from storage.outbox import OutboxRepository, Recipient

log = logging.getLogger(__name__)

Renderer = Callable[[Translator, Mapping[str, Any]], Awaitable[Rendered]]

# Sends in flight at once: enough to keep 30/s flowing over HTTP, and the bound on how many
# messages a crash can make us send twice.
DEFAULT_CONCURRENCY = 8


class UnknownTemplate(LookupError):
    """An outbox item names a template no feature registered."""


class Renderers:
    """Template key -> the function that writes that message in the recipient's language.

    Features register theirs in their `register(app)`; a renderer may close over services to
    read current data, since it runs when the message is sent, not when it was enqueued.
    """

    def __init__(self) -> None:
        self._renderers: dict[str, Renderer] = {}

    def add(self, key: str, renderer: Renderer) -> None:
        """Register the renderer for a template key (once per key)."""
        if key in self._renderers:
            raise ValueError(f"a renderer for {key!r} is already registered")
        self._renderers[key] = renderer

    def __contains__(self, key: object) -> bool:
        return key in self._renderers

    async def render(self, template: TemplateRef, tr: Translator) -> Rendered:
        """Write the message for one recipient."""
        renderer = self._renderers.get(template.key)
        if renderer is None:
            raise UnknownTemplate(f"no renderer registered for template {template.key!r}")
        return await renderer(tr, template.params)


class Outcome(enum.StrEnum):
    """What became of one delivery attempt."""

    SENT = "sent"
    THROTTLED = "throttled"  # 429: put back untouched
    RETRY = "retry"  # transient failure: tried again later
    DROPPED = "dropped"  # recipient unreachable
    DEAD = "dead"  # given up on


class Telegram(enum.Enum):
    """What one delivery attempt tells about Telegram, for the outage gate."""

    UP = "up"  # it answered: sent, refused, blocked or asked to slow down (429)
    FAILING = "failing"  # 5xx, timeout or lost connection
    UNTRIED = "untried"  # it was not called (unreachable, withdrawn, expired, not written)


def inline_keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    """Build the inline keyboard of stored buttons."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


class OutboxSender:
    """Drains the outbox with a fixed number of workers; every send goes through the limiter."""

    def __init__(
        self,
        outbox: OutboxRepository,
        clock: Clock,
        i18n: I18n,
        renderers: Renderers,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.outbox = outbox
        self.clock = clock
        self.i18n = i18n
        self.renderers = renderers
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.gate = OutageGate()
        self.stats: Counter[Outcome] = Counter()
        self._bot: ExtBot[Any] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._busy = 0
        self._horizon: dt.datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the workers are draining."""
        return bool(self._workers)

    @property
    def in_flight(self) -> int:
        """Workers busy claiming or delivering an item."""
        return self._busy

    def attach(self, bot: ExtBot[Any]) -> None:
        """Give the sender the bot it sends with (without starting workers)."""
        self._bot = bot

    async def start(self, bot: ExtBot[Any]) -> int:
        """Recover items a crash left in flight and start the workers; return how many."""
        self.attach(bot)
        recovered = await self.outbox.requeue_in_flight()
        if recovered:
            log.warning(
                "%d outbox item(s) were in flight at the last stop; sending again", recovered
            )
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._workers = [
            asyncio.create_task(self._work(), name=f"outbox-worker-{n}")
            for n in range(self.concurrency)
        ]
        self.wake()
        return recovered

    def halt_claiming(self) -> None:
        """Claim nothing more from now on; sends in flight go on (the first step of a stop)."""
        self._stopping = True
        self._wakeup.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; let sends in flight finish for up to `grace` seconds, then cancel."""
        if not self._workers:
            return
        self.halt_claiming()
        workers, self._workers = self._workers, []
        _, late = await asyncio.wait(workers, timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self, due_at: dt.datetime | None = None) -> None:
        """Tell the workers that items may be due (at `due_at`, default the clock's now)."""
        if due_at is not None and (self._horizon is None or due_at > self._horizon):
            self._horizon = due_at
        self._wakeup.set()

    def _due_time(self) -> dt.datetime:
        now = self.clock.now()
        return now if self._horizon is None or self._horizon < now else self._horizon

    async def drain_once(self) -> int:
        """Claim up to `concurrency` due items and deliver them; return how many were handled."""
        self._busy += 1
        permit = self.gate.permit(self.clock.now())
        try:
            if permit is None:
                return 0
            probe = permit is Permit.PROBE
            limit = 1 if probe else self.concurrency
            items = await self.outbox.claim(self._due_time(), limit, retrying=probe)
            if not items:
                self.gate.withdraw(permit)
            await asyncio.gather(*(self.deliver(item, permit) for item in items))
            return len(items)
        finally:
            self._busy -= 1

    # The timeout parameter bounds a test's wait; it is not an I/O timeout.
    async def wait_idle(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until nothing is in flight and nothing is due (the workers must be running)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._busy == 0 and await self._nothing_to_claim():
                # Look again after a beat: a worker woken a moment ago may not have claimed yet.
                await asyncio.sleep(0.01)
                if self._busy == 0 and await self._nothing_to_claim():
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"the outbox did not drain within {timeout} s")
            await asyncio.sleep(0.02)

    async def _nothing_to_claim(self) -> bool:
        # While the outage gate waits, what is due cannot be claimed: the sender is idle.
        if self.gate.waiting(self.clock.now()):
            return True
        return await self.count_claimable() == 0

    async def count_claimable(self) -> int:
        """Items a worker would claim now: the due ones, and while probing the retried ones."""
        return await self.outbox.count_due(self._due_time(), retrying=self.gate.closed)

    async def _work(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            self._busy += 1
            permit: Permit | None = None
            try:
                permit = self.gate.permit(self.clock.now())
                probe = permit is Permit.PROBE
                items = (
                    await self.outbox.claim(self._due_time(), 1, retrying=probe) if permit else []
                )
                if items:
                    await self.deliver(items[0], permit)
                else:
                    self.gate.withdraw(permit)
            except Exception:
                log.exception("the outbox worker failed; going on in a second")
                items = []
                await asyncio.sleep(1.0)
            finally:
                self._busy -= 1
            if not items and not self._stopping:
                await self._wakeup.wait()

    async def deliver(self, item: OutboxItem, permit: Permit | None = Permit.SEND) -> Outcome:
        """Send one claimed item, record the outcome and tell the outage gate."""
        try:
            outcome, telegram = await self._deliver(item)
        except BaseException:
            self.gate.withdraw(permit)
            raise
        self.stats[outcome] += 1
        now = self.clock.now()
        if telegram is Telegram.FAILING:
            self.gate.failed(now, permit)
        elif telegram is Telegram.UNTRIED:
            self.gate.withdraw(permit)
            if permit is Permit.PROBE:
                self.wake()  # the probe found nothing to ask Telegram: another item may
        else:
            since = self.gate.answered(permit)
            if since is not None:
                moved = await self.outbox.bring_forward(since, now)
                log.warning("Telegram answers again; %d failed item(s) are due now", moved)
                self.wake()
        return outcome

    async def _deliver(self, item: OutboxItem) -> tuple[Outcome, Telegram]:
        """The outcome, and what the attempt tells about Telegram."""
        if self._bot is None:
            raise RuntimeError("the sender has no bot; call start() or attach() first")
        recipient = await self.outbox.recipient(item)
        if recipient is not None and not recipient.reachable:
            await self.outbox.drop(item.id, "the recipient cannot be reached")
            return Outcome.DROPPED, Telegram.UNTRIED
        if self.clock.now() >= self.policy.deadline(item):
            # Owed while the bot was down past the moment it made sense (a reminder for a
            # meeting that has begun): not sent late; organizers can still retry it.
            error = "expired before it could be sent"
            if item.last_error:
                error = f"expired after {item.attempts} attempt(s); last: {item.last_error}"
            await self.outbox.dead_letter(item.id, error, DeadReason.EXPIRED, count_attempt=False)
            log.warning("outbox item %d expired before it could be sent", item.id)
            return Outcome.DEAD, Telegram.UNTRIED
        try:
            rendered = await self._render(item, recipient)
        except Exception as error:
            log.exception("could not render outbox item %d", item.id)
            await self.outbox.dead_letter(item.id, f"render failed: {error!r}", DeadReason.RENDER)
            return Outcome.DEAD, Telegram.UNTRIED
        crash_point("outbox.before_send")
        try:
            message: Message = await self._send(item, rendered)
        except RetryAfter:
            await self.outbox.release(item.id)
            # A 429 is an answer: Telegram is up, only asking us to slow down.
            return Outcome.THROTTLED, Telegram.UP
        except Withdrawn:
            # Dropped in the database while it waited for its slot; Telegram was not called.
            return Outcome.DROPPED, Telegram.UNTRIED
        except Forbidden as error:
            dropped = await self.outbox.mark_unreachable(
                item.chat_id, f"Forbidden: {error.message}", item_id=item.id
            )
            log.info("chat %d blocked the bot; dropped %d item(s)", item.chat_id, dropped)
            return Outcome.DROPPED, Telegram.UP
        except BadRequest as error:
            # Telegram refuses this message as it is; sending it again would not help.
            await self.outbox.dead_letter(
                item.id, f"BadRequest: {error.message}", DeadReason.REFUSED
            )
            log.warning("outbox item %d refused: %s", item.id, error.message)
            return Outcome.DEAD, Telegram.UP
        except (TelegramError, OSError) as error:
            # 5xx, timeouts and lost connections: Telegram may be back in a minute.
            return await self._failed(item, f"{type(error).__name__}: {error}"), Telegram.FAILING
        crash_point("outbox.after_send")
        await self.outbox.mark_sent(item.id, message.message_id)
        crash_point("outbox.after_mark")
        return Outcome.SENT, Telegram.UP

    async def _send(self, item: OutboxItem, rendered: Rendered) -> Message:
        """One Telegram call for one item: a text, or an attachment with the text as caption."""
        assert self._bot is not None
        markup = inline_keyboard(rendered.buttons)
        order = SendOrder(item.priority, item.id)
        attachment = rendered.attachment
        if attachment is None:
            return await self._bot.send_message(
                item.chat_id, rendered.text, reply_markup=markup, rate_limit_args=order
            )
        if attachment.kind == "photo":
            return await self._bot.send_photo(
                item.chat_id,
                attachment.file_id,
                caption=rendered.text,
                reply_markup=markup,
                rate_limit_args=order,
            )
        return await self._bot.send_document(
            item.chat_id,
            attachment.data if attachment.data is not None else attachment.file_id,
            filename=attachment.filename,
            caption=rendered.text,
            reply_markup=markup,
            rate_limit_args=order,
        )

    async def _failed(self, item: OutboxItem, error: str) -> Outcome:
        failures = item.attempts + 1
        retry_at = self.policy.after_failure(item, self.clock.now())
        if retry_at is None:
            await self.outbox.dead_letter(item.id, error, DeadReason.EXPIRED)
            log.warning(
                "outbox item %d failed %d times until it expired; dead letter: %s",
                item.id, failures, error,
            )  # fmt: skip
            return Outcome.DEAD
        await self.outbox.retry_later(item.id, retry_at, error)
        log.info("outbox item %d failed (%s); retry at %s", item.id, error, retry_at.isoformat())
        return Outcome.RETRY

    async def _render(self, item: OutboxItem, recipient: Recipient | None) -> Rendered:
        content = item.content
        if isinstance(content, Rendered):
            return content
        tr = self.i18n.translator(recipient.locale if recipient is not None else None)
        return await self.renderers.render(content, tr)
