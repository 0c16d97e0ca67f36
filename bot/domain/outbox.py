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


# A button is (label, callback data); rows of them make an inline keyboard.
Button = tuple[str, str]
Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Attachment:
    """A photo or document Telegram already holds, sent again by its file_id."""

    kind: AttachmentKind
    file_id: str

    def __post_init__(self) -> None:
        if self.kind not in ATTACHMENT_KINDS:
            raise ValueError(f"unknown attachment kind {self.kind!r}")
        if not self.file_id:
            raise ValueError("an attachment needs a file_id")


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

    def __post_init__(self) -> None:
        if self.priority is Priority.REPLY:
            raise ValueError("direct replies are sent at once, not through the outbox")
        if self.not_before is not None and self.not_before.tzinfo is None:
            raise ValueError("not_before must be an aware datetime")
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


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart a transient failure (5xx, network) is tried again."""

    max_attempts: int = 5
    first_delay: dt.timedelta = dt.timedelta(seconds=2)
    max_delay: dt.timedelta = dt.timedelta(minutes=5)

    def delay(self, failures: int) -> dt.timedelta:
        """The wait after the given number of failures: doubling, capped."""
        if failures < 1:
            return dt.timedelta()
        return min(self.first_delay * (1 << min(failures - 1, 30)), self.max_delay)

    def after_failure(self, failures: int, now: dt.datetime) -> dt.datetime | None:
        """When to try again after `failures` failures so far, or None to give up."""
        if failures >= self.max_attempts:
            return None
        return now + self.delay(failures)


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
