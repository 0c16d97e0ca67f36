"""The outbox repository: messages owed, claimed for sending, and their outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.crash import crash_point
from bot.domain.outbox import (
    DEFAULT_HORIZONS,
    Content,
    DeadReason,
    OutboxItem,
    Outgoing,
    Priority,
    Rendered,
    State,
    TemplateRef,
    decode_buttons,
    decode_params,
    encode_buttons,
    encode_params,
)
from storage.db import Database

_COLUMNS = (
    "id, chat_id, delegate_id, priority, text, buttons, template, params, not_before, "
    "created_at, attempts, state, dedupe_key, last_error, sent_at, message_id, expires_at, "
    "dead_reason"
)

_INSERT = (
    "INSERT INTO outbox (chat_id, delegate_id, priority, text, buttons, template, params, "
    "not_before, created_at, updated_at, dedupe_key, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
)

# Errors are kept for organizers to read, not whole tracebacks.
_ERROR_LIMIT = 500

# A dead letter an organizer retries gets this long to go out before it is given up again.
RETRY_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Recipient:
    """What the sender needs to know about whom it writes to."""

    delegate_id: int | None
    locale: str | None
    reachable: bool


def _row_to_item(row: aiosqlite.Row) -> OutboxItem:
    content: Content
    if row["template"] is not None:
        content = TemplateRef(row["template"], decode_params(row["params"]))
    else:
        content = Rendered(row["text"], decode_buttons(row["buttons"]))
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        delegate_id=row["delegate_id"],
        priority=Priority(row["priority"]),
        content=content,
        not_before=from_iso(row["not_before"]),
        created_at=from_iso(row["created_at"]),
        attempts=row["attempts"],
        state=State(row["state"]),
        dedupe_key=row["dedupe_key"],
        last_error=row["last_error"],
        sent_at=from_iso(row["sent_at"]) if row["sent_at"] else None,
        message_id=row["message_id"],
        expires_at=from_iso(row["expires_at"]) if row["expires_at"] else None,
        dead_reason=DeadReason(row["dead_reason"]) if row["dead_reason"] else None,
    )


def _error(text: str) -> str:
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"


class OutboxRepository:
    """Reads and writes the outbox; enqueueing joins the caller's transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        horizons: Mapping[Priority, dt.timedelta] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._horizons = horizons if horizons is not None else DEFAULT_HORIZONS
        self._listeners: list[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every enqueue (the sender wakes up).

        It may run before the enclosing transaction commits; a claim cannot overtake the commit
        because the database serialises statements, and after a rollback it simply finds nothing.
        """
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    def _row_values(self, message: Outgoing, now: str) -> tuple[object, ...]:
        content = message.content
        text = buttons = key = params = None
        if isinstance(content, Rendered):
            text, buttons = content.text, encode_buttons(content.buttons)
        else:
            key, params = content.key, encode_params(content.params)
        not_before = to_iso(message.not_before) if message.not_before is not None else now
        expiry = message.expires_at
        if expiry is None and message.not_before is not None:
            # A message owed for later makes sense for its horizon from then, not from now;
            # its retries move not_before, so the expiry is written down now.
            expiry = message.not_before + self._horizons[message.priority]
        expires_at = to_iso(expiry) if expiry is not None else None
        return (
            message.chat_id, message.delegate_id, int(message.priority), text, buttons, key,
            params, not_before, now, now, message.dedupe_key, expires_at,
        )  # fmt: skip

    async def enqueue(
        self,
        chat_id: int,
        content: Content,
        *,
        priority: Priority = Priority.NOTICE,
        not_before: dt.datetime | None = None,
        dedupe_key: str | None = None,
        delegate_id: int | None = None,
        expires_at: dt.datetime | None = None,
    ) -> int | None:
        """Owe a message; return its id, or None when dedupe_key was already used.

        `expires_at` is when it stops making sense (a reminder: its meeting's start); until
        then transient failures are retried. None: its kind's retry horizon.
        """
        message = Outgoing(
            chat_id, content, priority, not_before, dedupe_key, delegate_id, expires_at
        )
        values = self._row_values(message, to_iso(self._clock.now()))
        async with self._db.transaction() as db:
            changed = await db.execute(_INSERT, values)
            item_id = await db.fetchval("SELECT last_insert_rowid()") if changed else None
            crash_point("outbox.enqueued")
            self._notify()
        return int(item_id) if item_id is not None else None

    async def enqueue_many(self, messages: Iterable[Outgoing]) -> int:
        """Owe many messages at once (a broadcast); return how many were new."""
        now = to_iso(self._clock.now())
        rows = [self._row_values(message, now) for message in messages]
        async with self._db.transaction() as db:
            before = int(await db.fetchval("SELECT total_changes()"))
            await db.executemany(_INSERT, rows)
            added = int(await db.fetchval("SELECT total_changes()")) - before
            crash_point("outbox.enqueued")
            self._notify()
        return added

    async def get(self, item_id: int) -> OutboxItem | None:
        """Return one item."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (item_id,))
        return _row_to_item(row) if row else None

    async def claim(
        self, now: dt.datetime, limit: int = 1, *, retrying: bool = False
    ) -> list[OutboxItem]:
        """Mark up to `limit` due items 'sending' and return them in sending order.

        A chat gets one item at a time, its first in sending order, so messages to one person
        arrive in order and a blocked chat costs one failed call, not one per item.
        With `retrying`, items waiting out a retry delay count as due too (an outage probe).
        """
        due = to_iso(now)
        rows = await self._db.fetchall(
            "UPDATE outbox SET state = 'sending', updated_at = ? WHERE id IN ("
            " SELECT o.id FROM outbox AS o"
            " WHERE o.state = 'pending' AND (o.not_before <= ? OR (? AND o.attempts > 0))"
            "  AND o.chat_id NOT IN (SELECT chat_id FROM outbox WHERE state = 'sending')"
            "  AND NOT EXISTS (SELECT 1 FROM outbox AS e"
            "   WHERE e.chat_id = o.chat_id AND e.state = 'pending' AND e.not_before <= ?"
            "   AND (e.priority, e.not_before, e.id) < (o.priority, o.not_before, o.id))"
            " ORDER BY o.priority, o.not_before, o.id LIMIT ?"
            f") RETURNING {_COLUMNS}",
            (to_iso(self._clock.now()), due, int(retrying), due, limit),
        )
        items = [_row_to_item(row) for row in rows]
        items.sort(key=lambda item: (item.priority, item.not_before, item.id))
        return items

    async def recipient(self, item: OutboxItem) -> Recipient | None:
        """The delegate an item is for (by id, else by chat), None when no delegate matches."""
        if item.delegate_id is not None:
            row = await self._db.fetchone(
                "SELECT id, locale, reachable, deleted_at FROM delegates WHERE id = ?",
                (item.delegate_id,),
            )
        else:
            row = await self._db.fetchone(
                "SELECT id, locale, reachable, deleted_at FROM delegates "
                "WHERE chat_id = ? AND deleted_at IS NULL ORDER BY id LIMIT 1",
                (item.chat_id,),
            )
        if row is None:
            return None
        reachable = bool(row["reachable"]) and row["deleted_at"] is None
        return Recipient(row["id"], row["locale"], reachable)

    async def mark_sent(self, item_id: int, message_id: int | None) -> bool:
        """Record that Telegram accepted the item."""
        now = to_iso(self._clock.now())
        changed = await self._db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, updated_at = ?, message_id = ?, "
            "last_error = NULL WHERE id = ? AND state = 'sending'",
            (now, now, message_id, item_id),
        )
        return changed == 1

    async def still_sending(self, item_id: int) -> bool:
        """Whether a claimed item is still to be sent (nobody dropped it meanwhile)."""
        row = await self._db.fetchone("SELECT state FROM outbox WHERE id = ?", (item_id,))
        return row is not None and row[0] == "sending"

    async def release(self, item_id: int) -> None:
        """Put a claimed item back untouched (Telegram asked us to slow down)."""
        await self._db.execute(
            "UPDATE outbox SET state = 'pending', updated_at = ? "
            "WHERE id = ? AND state = 'sending'",
            (to_iso(self._clock.now()), item_id),
        )

    async def retry_later(self, item_id: int, not_before: dt.datetime, error: str) -> None:
        """Count a failed attempt and try again at `not_before`."""
        await self._db.execute(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, not_before = ?, "
            "last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending'",
            (to_iso(not_before), _error(error), to_iso(self._clock.now()), item_id),
        )

    async def dead_letter(
        self, item_id: int, error: str, reason: DeadReason, *, count_attempt: bool = True
    ) -> None:
        """Give up on an item; organizers see it among the dead letters, by reason."""
        await self._db.execute(
            "UPDATE outbox SET state = 'dead', attempts = attempts + ?, last_error = ?, "
            "dead_reason = ?, updated_at = ? WHERE id = ? AND state = 'sending'",
            (int(count_attempt), _error(error), str(reason), to_iso(self._clock.now()), item_id),
        )

    async def bring_forward(self, since: dt.datetime, now: dt.datetime) -> int:
        """Make what failed since `since` due at `now` (Telegram is back after an outage)."""
        return await self._db.execute(
            "UPDATE outbox SET not_before = ? WHERE state = 'pending' AND attempts > 0 "
            "AND not_before > ? AND updated_at >= ?",
            (to_iso(now), to_iso(now), to_iso(since)),
        )

    async def drop(self, item_id: int, reason: str) -> None:
        """Drop a claimed item whose recipient cannot or may not receive it."""
        await self._db.execute(
            "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('pending', 'sending')",
            (_error(reason), to_iso(self._clock.now()), item_id),
        )

    async def drop_for_chat(self, chat_id: int, reason: str) -> int:
        """Drop every item still owed to a chat (e.g. its delegate erased their data).

        Items being sent are dropped too: the sender asks `still_sending` right before it calls
        Telegram, so one still waiting for its slot is not sent.
        """
        return await self._db.execute(
            "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
            "WHERE chat_id = ? AND state IN ('pending', 'sending')",
            (_error(reason), to_iso(self._clock.now()), chat_id),
        )

    async def mark_unreachable(
        self, chat_id: int, reason: str, *, item_id: int | None = None
    ) -> int:
        """The chat blocked the bot: flag its delegate and drop what is owed; return the count."""
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE delegates SET reachable = 0, updated_at = ? "
                "WHERE chat_id = ? AND reachable = 1 AND deleted_at IS NULL",
                (now, chat_id),
            )
            dropped = 0
            if item_id is not None:
                dropped += await db.execute(
                    "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
                    "WHERE id = ? AND state = 'sending'",
                    (_error(reason), now, item_id),
                )
            dropped += await db.execute(
                "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
                "WHERE chat_id = ? AND state = 'pending'",
                (_error(reason), now, chat_id),
            )
        return dropped

    async def mark_reachable(self, chat_id: int) -> bool:
        """The chat accepts messages again (the user unblocked the bot)."""
        changed = await self._db.execute(
            "UPDATE delegates SET reachable = 1, updated_at = ? "
            "WHERE chat_id = ? AND reachable = 0 AND deleted_at IS NULL",
            (to_iso(self._clock.now()), chat_id),
        )
        return changed > 0

    async def requeue_in_flight(self) -> int:
        """After a crash, items left 'sending' go back to pending; return how many."""
        return await self._db.execute(
            "UPDATE outbox SET state = 'pending', updated_at = ? WHERE state = 'sending'",
            (to_iso(self._clock.now()),),
        )

    async def count_due(self, now: dt.datetime, *, retrying: bool = False) -> int:
        """How many pending items may be sent at `now` (with `retrying`: or are retried)."""
        value = await self._db.fetchval(
            "SELECT count(*) FROM outbox WHERE state = 'pending' "
            "AND (not_before <= ? OR (? AND attempts > 0))",
            (to_iso(now), int(retrying)),
        )
        return int(value or 0)

    async def next_due(self) -> dt.datetime | None:
        """The earliest not-before time among pending items."""
        value = await self._db.fetchval(
            "SELECT min(not_before) FROM outbox WHERE state = 'pending'"
        )
        return from_iso(value) if value else None

    async def counts(self) -> dict[State, int]:
        """How many items are in each state (every state present, zero if none)."""
        rows = await self._db.fetchall("SELECT state, count(*) FROM outbox GROUP BY state")
        found = {State(row[0]): int(row[1]) for row in rows}
        return {state: found.get(state, 0) for state in State}

    async def dead_letters(
        self, *, limit: int = 100, reason: DeadReason | None = None
    ) -> list[OutboxItem]:
        """The items given up on (all, or those of one reason), most recent first."""
        where, args = ("AND dead_reason = ? ", (str(reason),)) if reason is not None else ("", ())
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'dead' {where}"
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [_row_to_item(row) for row in rows]

    async def count_dead(self) -> int:
        """How many items were given up on."""
        value = await self._db.fetchval("SELECT count(*) FROM outbox WHERE state = 'dead'")
        return int(value or 0)

    async def dead_by_reason(self) -> dict[DeadReason, int]:
        """How many dead letters each reason holds (only reasons that have some)."""
        rows = await self._db.fetchall(
            "SELECT coalesce(dead_reason, 'expired'), count(*) FROM outbox "
            "WHERE state = 'dead' GROUP BY 1"
        )
        counts = {DeadReason(row[0]): int(row[1]) for row in rows}
        return {reason: counts[reason] for reason in DeadReason if counts.get(reason)}

    async def retry_dead(
        self, item_ids: Iterable[int] | None = None, *, reason: DeadReason | None = None
    ) -> int:
        """Owe dead letters again from now (all, the given ones, or one reason's).

        Each gets RETRY_WINDOW of fresh retries: its old expiry has passed or it was refused.
        """
        now = self._clock.now()
        stamp, until = to_iso(now), to_iso(now + RETRY_WINDOW)
        revive = (
            "UPDATE outbox SET state = 'pending', attempts = 0, not_before = ?, updated_at = ?, "
            "expires_at = ?, dead_reason = NULL WHERE state = 'dead'"
        )
        if item_ids is None:
            if reason is None:
                changed = await self._db.execute(revive, (stamp, stamp, until))
            else:
                changed = await self._db.execute(
                    revive + " AND coalesce(dead_reason, 'expired') = ?",
                    (stamp, stamp, until, str(reason)),
                )
        else:
            changed = 0
            async with self._db.transaction() as db:
                for item_id in item_ids:
                    changed += await db.execute(
                        revive + " AND id = ?", (stamp, stamp, until, item_id)
                    )
        if changed:
            self._notify()
        return changed
