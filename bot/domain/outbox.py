"""Outgoing messages the bot owes delegates, and the rules for sending them.

Everything here is pure: what an outbox item is, in which order items go out, when a failed one
is tried again, and how fast Telegram lets us send. The database and Telegram live elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Literal

# Telegram's limit for a photo's or document's caption, in UTF-16 units after entity parsing.
CAPTION_LIMIT = 1024

AttachmentKind = Literal["photo", "document"]
ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = ("photo", "document")


class Priority(IntEnum):
    """Who goes first when the budget is short: lower values are sent earlier.

    A direct reply to the user's own action is never stored; REPLY only ranks it in the limiter.
    """

    REPLY = 0
    REMINDER = 10
    CONFIRMATION = 20
    NOTICE = 30
    BROADCAST = 40


class State(StrEnum):
    """Where an outbox item is in its life."""

    PENDING = "pending"
    SENDING = "sending"  # claimed and possibly in flight; a crash leaves it here
    SENT = "sent"
    DROPPED = "dropped"  # the recipient blocked the bot or is gone; not retried
    DEAD = "dead"  # failed for good; organizers can see and retry it


class DeadReason(StrEnum):
    """Why an item was given up on; organizers see dead letters grouped by it."""

    REFUSED = "refused"  # Telegram refused the message as it is (400)
    EXPIRED = "expired"  # Telegram kept failing until the message no longer made sense
    RENDER = "render"  # the message could not be written (a bug, or its subject is gone)


# A button is (label, callback data); rows of them make an inline keyboard.
Button = tuple[str, str]
Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Attachment:
    """A photo or document Telegram already holds, sent again by its file_id; or a file a
    renderer wrote at send time (`data` and `filename`, such as an .ics), uploaded."""

    kind: AttachmentKind
    file_id: str = ""
    data: bytes | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ATTACHMENT_KINDS:
            raise ValueError(f"unknown attachment kind {self.kind!r}")
        if not self.file_id and not (self.data and self.filename):
            raise ValueError("an attachment needs a file_id, or data and a file name")


@dataclass(frozen=True)
class Rendered:
    """A message already written in its recipient's language.

    With an attachment the text goes out as its caption (at most CAPTION_LIMIT characters).
    """

    text: str
    buttons: Buttons = ()
    attachment: Attachment | None = None

    def __post_init__(self) -> None:
        if not self.text:
            raise ValueError("a message needs text")


@dataclass(frozen=True)
class TemplateRef:
    """A message rendered at send time in the recipient's language by a registered renderer."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a template needs a key")
        # Refuse what cannot be stored now, inside the caller's transaction, not at send time.
        encode_params(self.params)


Content = Rendered | TemplateRef


@dataclass(frozen=True)
class Outgoing:
    """A message to put in the outbox."""

    chat_id: int
    content: Content
    priority: Priority = Priority.NOTICE
    not_before: dt.datetime | None = None
    dedupe_key: str | None = None
    delegate_id: int | None = None
    # When the message stops making sense (a reminder: its meeting's start); None: its
    # kind's retry horizon after it was owed.
    expires_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.priority is Priority.REPLY:
            raise ValueError("direct replies are sent at once, not through the outbox")
        if self.not_before is not None and self.not_before.tzinfo is None:
            raise ValueError("not_before must be an aware datetime")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be an aware datetime")
        if isinstance(self.content, Rendered) and self.content.attachment is not None:
            # The outbox stores a Rendered as text and buttons only: an attachment would be lost.
            raise ValueError("an attachment is sent through a template, not stored in the outbox")


@dataclass(frozen=True)
class OutboxItem:
    """A stored outbox row."""

    id: int
    chat_id: int
    delegate_id: int | None
    priority: Priority
    content: Content
    not_before: dt.datetime
    created_at: dt.datetime
    attempts: int
    state: State
    dedupe_key: str | None
    last_error: str | None
    sent_at: dt.datetime | None
    message_id: int | None
    expires_at: dt.datetime | None = None
    dead_reason: DeadReason | None = None


def encode_buttons(buttons: Buttons) -> str | None:
    """Buttons as the JSON stored in the outbox, None for none."""
    if not buttons:
        return None
    return json.dumps([[list(button) for button in row] for row in buttons], ensure_ascii=False)


def decode_buttons(text: str | None) -> Buttons:
    """Buttons back from their stored JSON."""
    if not text:
        return ()
    rows: list[list[list[str]]] = json.loads(text)
    return tuple(tuple((str(label), str(data)) for label, data in row) for row in rows)


def encode_params(params: Mapping[str, Any]) -> str:
    """Template parameters as stored JSON; raises TypeError for values JSON cannot hold."""
    return json.dumps(dict(params), ensure_ascii=False, sort_keys=True, allow_nan=False)


def decode_params(text: str | None) -> dict[str, Any]:
    """Template parameters back from their stored JSON."""
    if not text:
        return {}
    params: dict[str, Any] = json.loads(text)
    return params


def sending_order(items: Iterable[OutboxItem]) -> list[OutboxItem]:
    """Due items in the order they go out: priority, then longest due, then first written."""
    return sorted(items, key=lambda item: (item.priority, item.not_before, item.id))


# How long a message still makes sense after it was owed, when it names no expiry of its own
# (a meeting reminder expires when its meeting starts). Transient failures are retried until
# then; README: MATCHMAKER_RETRY_HORIZONS.
DEFAULT_HORIZONS: Mapping[Priority, dt.timedelta] = {
    Priority.REMINDER: dt.timedelta(hours=1),
    Priority.CONFIRMATION: dt.timedelta(hours=6),
    Priority.NOTICE: dt.timedelta(hours=6),
    Priority.BROADCAST: dt.timedelta(hours=12),
}

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """A duration such as `90s`, `15m`, `6h` or `2d`; raises ValueError otherwise."""
    value = text.strip().lower()
    if len(value) < 2 or value[-1] not in _UNITS or not value[:-1].isdigit():
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 6h or 2d")
    seconds = int(value[:-1]) * _UNITS[value[-1]]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return dt.timedelta(seconds=seconds)


def parse_horizons(text: str) -> dict[Priority, dt.timedelta]:
    """Horizons such as `broadcast=24h,notice=3h`; kinds not named keep their default."""
    horizons = dict(DEFAULT_HORIZONS)
    names = {p.name.lower(): p for p in DEFAULT_HORIZONS}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, duration = part.partition("=")
        kind = names.get(name.strip().lower())
        if not sep or kind is None:
            raise ValueError(
                f"{part.strip()!r} is not KIND=DURATION with KIND one of {', '.join(names)}"
            )
        horizons[kind] = parse_duration(duration)
    return horizons


@dataclass(frozen=True)
class RetryPolicy:
    """How a transient failure (5xx, timeout, lost connection) is tried again.

    Doubling delays, capped, for as long as the message still makes sense: until its own
    expiry, else its kind's horizon after it was owed. Only then is it a dead letter.
    """

    first_delay: dt.timedelta = dt.timedelta(seconds=2)
    max_delay: dt.timedelta = dt.timedelta(minutes=5)
    horizons: Mapping[Priority, dt.timedelta] = field(
        default_factory=lambda: dict(DEFAULT_HORIZONS)
    )

    def delay(self, failures: int) -> dt.timedelta:
        """The wait after the given number of failures: doubling, capped."""
        if failures < 1:
            return dt.timedelta()
        return min(self.first_delay * (1 << min(failures - 1, 30)), self.max_delay)

    def deadline(self, item: OutboxItem) -> dt.datetime:
        """The moment after which the item no longer makes sense."""
        if item.expires_at is not None:
            return item.expires_at
        return item.created_at + self.horizons.get(item.priority, DEFAULT_HORIZONS[item.priority])

    def after_failure(self, item: OutboxItem, now: dt.datetime) -> dt.datetime | None:
        """When to try a failed item again (never past its deadline), or None to give up."""
        # The last try comes a moment before the deadline, so it is still sent when due.
        last_chance = self.deadline(item) - dt.timedelta(seconds=1)
        if now >= last_chance:
            return None
        return min(now + self.delay(item.attempts + 1), last_chance)


class Permit(StrEnum):
    """What the outage gate allows a worker to do now."""

    SEND = "send"  # Telegram answers: claim as usual
    PROBE = "probe"  # Telegram was failing: this one send finds out whether it is back


@dataclass
class OutageGate:
    """Holds the outbox back while Telegram fails, so an outage costs a probe, not a storm.

    A transient failure while sending freely closes the gate; from then on one probe at a time
    goes out, doubling the wait after each failed probe (capped). Any answer from Telegram
    (sent, refused, blocked) opens it again and says when the outage began, so what failed
    meanwhile can be brought forward instead of waiting out its own backoff.
    """

    first_delay: dt.timedelta = dt.timedelta(seconds=2)
    max_delay: dt.timedelta = dt.timedelta(seconds=15)
    level: int = 0
    reopens_at: dt.datetime | None = None
    since: dt.datetime | None = None
    probing: bool = False

    @property
    def closed(self) -> bool:
        """Whether Telegram is failing as far as the sender knows."""
        return self.level > 0

    def waiting(self, now: dt.datetime) -> bool:
        """Whether nothing may be claimed now: a probe is out or the next one is not due."""
        if self.level == 0:
            return False
        return self.probing or (self.reopens_at is not None and now < self.reopens_at)

    def permit(self, now: dt.datetime) -> Permit | None:
        """May a worker claim now, and as what; None while the gate waits or a probe is out."""
        if self.level == 0:
            return Permit.SEND
        if self.waiting(now):
            return None
        self.probing = True
        return Permit.PROBE

    def withdraw(self, permit: Permit | None) -> None:
        """A permit was not used (nothing was due, or Telegram asked to slow down)."""
        if permit is Permit.PROBE:
            self.probing = False

    def failed(self, now: dt.datetime, permit: Permit | None) -> None:
        """A send failed transiently; concurrent failures of one outage count once."""
        if permit is Permit.PROBE:
            self.probing = False
        elif self.level > 0:
            return
        if self.level == 0:
            self.since = now
        self.level += 1
        wait = min(self.first_delay * (1 << min(self.level - 1, 30)), self.max_delay)
        self.reopens_at = now + wait

    def answered(self, permit: Permit | None) -> dt.datetime | None:
        """Telegram answered; return when the outage that just ended began (None if none)."""
        if permit is Permit.PROBE:
            self.probing = False
        since = self.since if self.level > 0 else None
        self.level, self.reopens_at, self.since = 0, None, None
        return since


class SendBudget:
    """Telegram's pacing, in monotonic seconds: a shared global window and a gap per chat.

    A send takes a slot when it starts and gives it back `window` seconds after it *finishes*.
    Telegram counts a message when it arrives, somewhere between our start and our finish, so
    counting from the finish keeps any `per_window + 1` arrivals at least `window` apart however
    the network delays them. The same holds per chat with `chat_gap`. None switches a limit off.
    Starts are also spaced `window / per_window` apart: without that the window is spent in one
    burst and a reply that comes just after it waits for the next window; with it a slot frees
    every 1/30 s and a reply waits for the next one. A 429 pauses everything until the time it
    names.

    This is real time, not business time: it never asks the event Clock, which tests move.
    """

    def __init__(
        self, per_window: int | None = 30, *, window: float = 1.0, chat_gap: float | None = 1.0
    ) -> None:
        if per_window is not None and per_window < 1:
            raise ValueError("per_window must be at least 1")
        self.per_window = per_window
        self.window = window
        self.chat_gap = chat_gap
        self.spacing = window / per_window if per_window is not None else 0.0
        self.in_flight = 0
        self._last_start = -math.inf
        self._cooling: deque[float] = deque()  # release times, ascending
        self._chat_busy: dict[int, int] = {}
        self._chat_free_at: dict[int, float] = {}
        self.paused_until = -math.inf

    def ready_at(self, now: float, chat_id: int | None) -> float | None:
        """The earliest time a send may start, or None while it waits for a send to finish."""
        at = max(now, self.paused_until, self._last_start + self.spacing)
        if self.per_window is not None:
            while self._cooling and self._cooling[0] <= now:
                self._cooling.popleft()
            used = self.in_flight + len(self._cooling)
            if used >= self.per_window:
                # `excess + 1` slots must come back; cooling ones do so in order.
                excess = used - self.per_window
                if excess >= len(self._cooling):
                    return None
                at = max(at, self._cooling[excess])
        if chat_id is not None and self.chat_gap is not None:
            if self._chat_busy.get(chat_id):
                return None
            at = max(at, self._chat_free_at.get(chat_id, at))
        return at

    def start(self, now: float, chat_id: int | None) -> None:
        """Take a slot for a send starting now."""
        self.in_flight += 1
        self._last_start = max(self._last_start, now)
        if chat_id is not None:
            self._chat_busy[chat_id] = self._chat_busy.get(chat_id, 0) + 1

    def finish(self, now: float, chat_id: int | None) -> None:
        """Give the slot back; it becomes free again after the window."""
        self.in_flight = max(0, self.in_flight - 1)
        if self.per_window is not None:
            self._cooling.append(now + self.window)
        if chat_id is not None:
            busy = self._chat_busy.get(chat_id, 0) - 1
            if busy > 0:
                self._chat_busy[chat_id] = busy
            else:
                self._chat_busy.pop(chat_id, None)
            if self.chat_gap is not None:
                self._chat_free_at[chat_id] = now + self.chat_gap
                if len(self._chat_free_at) > 4096:
                    self._forget_idle_chats(now)

    def pause(self, until: float) -> None:
        """Send nothing before `until` (Telegram answered 429)."""
        self.paused_until = max(self.paused_until, until)

    def _forget_idle_chats(self, now: float) -> None:
        stale = [chat for chat, free_at in self._chat_free_at.items() if free_at <= now]
        for chat in stale:
            del self._chat_free_at[chat]
