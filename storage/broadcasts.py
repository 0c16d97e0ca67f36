"""Organizer invites and broadcasts: drafts, audiences, and delivery progress from the outbox."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.domain.clock import Clock, to_iso
from bot.domain.outbox import Attachment
from storage.db import Database

AUDIENCE_KINDS = ("all", "language", "country", "role", "today", "field")
CANCELLED = "cancelled by an organizer"

_COLUMNS = (
    "id, organizer_id, chat_id, locale, state, step, main_locale, versions, audience_kind, "
    "audience_value, total, excluded, progress_message_id, attachment_kind, attachment_file_id"
)
_WRITABLE = frozenset(
    {
        "step",
        "main_locale",
        "versions",
        "audience_kind",
        "audience_value",
        "locale",
        "chat_id",
        "attachment_kind",
        "attachment_file_id",
    }
)


@dataclass(frozen=True)
class Broadcast:
    """An announcement: written step by step, then sent through the outbox."""

    id: int
    organizer_id: int
    chat_id: int
    locale: str
    state: str
    step: str
    main_locale: str | None
    versions: dict[str, str]
    audience_kind: str | None
    audience_value: str | None
    total: int
    excluded: int
    progress_message_id: int | None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Audience:
    """Who is to receive a broadcast: a kind and, for most kinds, one value."""

    kind: str
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"unknown audience kind {self.kind!r}")
        if (self.kind in ("all", "today")) != (self.value is None):
            raise ValueError(f"audience {self.kind!r} takes {'no' if self.value else 'a'} value")


@dataclass(frozen=True)
class Recipient:
    """A delegate a broadcast goes to."""

    delegate_id: int
    chat_id: int
    locale: str  # the language they read, the event's default when they chose none


@dataclass(frozen=True)
class Progress:
    """Where a broadcast's messages are; `left` are still owed."""

    sent: int
    failed: int
    unreachable: int
    cancelled: int
    left: int

    @property
    def total(self) -> int:
        """Every message of the broadcast."""
        return self.sent + self.failed + self.unreachable + self.cancelled + self.left


def dedupe_key(broadcast_id: int, delegate_id: int) -> str:
    """The outbox dedupe key of one recipient's copy: a broadcast reaches a person once."""
    return f"bc:{broadcast_id}:{delegate_id}"


def _key_range(broadcast_id: int) -> tuple[str, str]:
    # ';' sorts right after ':', so the range is exactly this broadcast's keys (index-friendly).
    return f"bc:{broadcast_id}:", f"bc:{broadcast_id};"


def _tally(rows: list[aiosqlite.Row]) -> Progress:
    # Rows of (outbox state, dropped by a cancel?, count).
    counts = {"sent": 0, "dead": 0, "dropped": 0, "cancelled": 0, "left": 0}
    for row in rows:
        state, cancelled, n = row[0], bool(row[1]), int(row[2])
        if state in ("pending", "sending"):
            counts["left"] += n
        elif state == "dropped" and cancelled:
            counts["cancelled"] += n
        else:
            counts[state] += n
    return Progress(
        counts["sent"], counts["dead"], counts["dropped"], counts["cancelled"], counts["left"]
    )


def _row_to_broadcast(row: aiosqlite.Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        organizer_id=row["organizer_id"],
        chat_id=row["chat_id"],
        locale=row["locale"],
        state=row["state"],
        step=row["step"],
        main_locale=row["main_locale"],
        versions=dict(json.loads(row["versions"])),
        audience_kind=row["audience_kind"],
        audience_value=row["audience_value"],
        total=row["total"],
        excluded=row["excluded"],
        progress_message_id=row["progress_message_id"],
        attachment=(
            Attachment(row["attachment_kind"], row["attachment_file_id"])
            if row["attachment_kind"] and row["attachment_file_id"]
            else None
        ),
    )


class BroadcastRepository:
    """Broadcast rows, their audiences and their progress as read from the outbox."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """Return one broadcast."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return _row_to_broadcast(row) if row else None

    async def draft_for(self, organizer_id: int) -> Broadcast | None:
        """The organizer's draft, if they are writing one."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE organizer_id = ? AND state = 'draft'",
            (organizer_id,),
        )
        return _row_to_broadcast(row) if row else None

    async def start_draft(self, organizer_id: int, chat_id: int, locale: str) -> Broadcast:
        """Begin a new draft, discarding an unfinished one."""
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM broadcasts WHERE organizer_id = ? AND state = 'draft'",
                (organizer_id,),
            )
            new_id = await db.insert(
                "INSERT INTO broadcasts (organizer_id, chat_id, locale, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (organizer_id, chat_id, locale, now, now),
            )
        found = await self.get(new_id)
        assert found is not None
        return found

    async def discard_draft(self, organizer_id: int) -> bool:
        """Throw the organizer's draft away."""
        changed = await self._db.execute(
            "DELETE FROM broadcasts WHERE organizer_id = ? AND state = 'draft'", (organizer_id,)
        )
        return changed > 0

    async def update_draft(self, broadcast_id: int, **fields: Any) -> Broadcast:
        """Save wizard answers on a draft."""
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"not writable: {sorted(unknown)}")
        values = [
            json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, dict) else v
            for v in fields.values()
        ]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._db.execute(
            f"UPDATE broadcasts SET {assignments}, updated_at = ? "
            "WHERE id = ? AND state = 'draft'",
            (*values, to_iso(self._clock.now()), broadcast_id),
        )
        found = await self.get(broadcast_id)
        if found is None:
            raise LookupError(f"broadcast {broadcast_id} does not exist")
        return found

    async def audience(
        self,
        audience: Audience,
        *,
        default_locale: str,
        day: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> tuple[list[Recipient], int]:
        """The reachable recipients of an audience, and how many unreachable ones were left out."""
        where = ""
        params: list[Any] = [default_locale]
        if audience.kind == "language":
            where, params = "AND coalesce(d.locale, ?) = ?", [*params, default_locale]
            params.append(audience.value)
        elif audience.kind in ("country", "role"):
            where = f"AND d.{audience.kind} = ?"
            params.append(audience.value)
        elif audience.kind == "today":
            if day is None:
                raise ValueError("a 'today' audience needs the day's bounds")
            where = (
                "AND EXISTS (SELECT 1 FROM meetings AS m WHERE m.state = 'accepted' "
                "AND d.id IN (m.requester_id, m.invitee_id) "
                "AND m.slot_start >= ? AND m.slot_start < ?)"
            )
            params += [to_iso(day[0]), to_iso(day[1])]
        elif audience.kind == "field":
            where = (
                "AND EXISTS (SELECT 1 FROM items AS i WHERE i.delegate_id = d.id "
                "AND i.complete = 1 AND (' ' || i.fields || ' ') LIKE ?)"
            )
            params.append(f"% {audience.value} %")
        rows = await self._db.fetchall(
            "SELECT d.id, d.chat_id, coalesce(d.locale, ?) AS locale, d.reachable "
            "FROM delegates AS d WHERE d.deleted_at IS NULL AND d.registered_at IS NOT NULL "
            f"AND d.chat_id IS NOT NULL {where} ORDER BY d.id",
            params,
        )
        recipients = [
            Recipient(row["id"], row["chat_id"], row["locale"]) for row in rows if row["reachable"]
        ]
        return recipients, len(rows) - len(recipients)

    async def countries(self) -> list[str]:
        """Countries of registered delegates, most delegates first."""
        rows = await self._db.fetchall(
            "SELECT country FROM delegates WHERE deleted_at IS NULL AND registered_at IS NOT NULL "
            "AND country IS NOT NULL GROUP BY country ORDER BY count(*) DESC, country"
        )
        return [row[0] for row in rows]

    async def fields(self) -> list[str]:
        """Field codes used by complete offers and needs, most used first."""
        rows = await self._db.fetchall("SELECT fields FROM items WHERE complete = 1")
        counts: dict[str, int] = {}
        for row in rows:
            for code in str(row[0]).split():
                counts[code] = counts.get(code, 0) + 1
        return sorted(counts, key=lambda code: (-counts[code], code))

    async def mark_sending(self, broadcast_id: int, total: int, excluded: int) -> bool:
        """Turn a draft into a broadcast being sent (joins the caller's transaction)."""
        now = to_iso(self._clock.now())
        changed = await self._db.execute(
            "UPDATE broadcasts SET state = 'sending', step = 'sent', total = ?, excluded = ?, "
            "started_at = ?, updated_at = ? WHERE id = ? AND state = 'draft'",
            (total, excluded, now, now, broadcast_id),
        )
        return changed == 1

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember the organizer's progress message, to edit it."""
        await self._db.execute(
            "UPDATE broadcasts SET progress_message_id = ? WHERE id = ?",
            (message_id, broadcast_id),
        )

    async def sending(self) -> list[Broadcast]:
        """Broadcasts whose messages are going out."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE state = 'sending' ORDER BY id"
        )
        return [_row_to_broadcast(row) for row in rows]

    async def progress(self, broadcast_id: int) -> Progress:
        """Count the broadcast's outbox items by outcome."""
        low, high = _key_range(broadcast_id)
        rows = await self._db.fetchall(
            "SELECT state, last_error = ? AS cancelled, count(*) FROM outbox "
            "WHERE dedupe_key >= ? AND dedupe_key < ? GROUP BY 1, 2",
            (CANCELLED, low, high),
        )
        return _tally(rows)

    async def cancel(self, broadcast_id: int) -> int:
        """Stop a broadcast: drop its items still pending; return how many were dropped."""
        low, high = _key_range(broadcast_id)
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            changed = await db.execute(
                "UPDATE broadcasts SET state = 'cancelled', finished_at = ?, updated_at = ? "
                "WHERE id = ? AND state = 'sending'",
                (now, now, broadcast_id),
            )
            if not changed:
                return 0
            return await db.execute(
                "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
                "WHERE dedupe_key >= ? AND dedupe_key < ? AND state = 'pending'",
                (CANCELLED, now, low, high),
            )

    async def finish(self, broadcast_id: int) -> bool:
        """Record that every message of the broadcast was dealt with."""
        now = to_iso(self._clock.now())
        changed = await self._db.execute(
            "UPDATE broadcasts SET state = 'done', finished_at = ?, updated_at = ? "
            "WHERE id = ? AND state = 'sending'",
            (now, now, broadcast_id),
        )
        return changed == 1

    async def delivery_totals(self) -> Progress:
        """Every broadcast message by outcome, for statistics."""
        rows = await self._db.fetchall(
            "SELECT state, last_error = ?, count(*) FROM outbox "
            "WHERE dedupe_key >= 'bc:' AND dedupe_key < 'bc;' GROUP BY 1, 2",
            (CANCELLED,),
        )
        return _tally(rows)
