"""The delegates repository."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.models import ContactKind, Delegate, Role, Step
from storage.db import Database

_COLUMNS = (
    "id, telegram_user_id, chat_id, locale, name, organization, country, role, "
    "meeting_languages, contact, contact_kind, consent, step, editing, reachable, "
    "created_at, updated_at, registered_at, notify_matches, nudges"
)

# Columns an answer may set; anything else is refused so no caller can build SQL from input.
_WRITABLE = frozenset(
    {
        "locale", "name", "organization", "country", "role", "meeting_languages", "contact",
        "contact_kind", "consent", "step", "editing", "registered_at", "chat_id", "reachable",
        "notify_matches", "nudges",
    }
)  # fmt: skip


@dataclass(frozen=True)
class RegistrationCounts:
    """How many delegates registered and how many are part-way through."""

    registered: int
    drafts: int


def _row_to_delegate(row: aiosqlite.Row) -> Delegate:
    return Delegate(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        chat_id=row["chat_id"],
        locale=row["locale"],
        name=row["name"],
        organization=row["organization"],
        country=row["country"],
        role=Role(row["role"]) if row["role"] else None,
        meeting_languages=tuple(row["meeting_languages"].split()),
        contact=row["contact"],
        contact_kind=ContactKind(row["contact_kind"]) if row["contact_kind"] else None,
        consent=None if row["consent"] is None else bool(row["consent"]),
        step=Step(row["step"]),
        editing=bool(row["editing"]),
        reachable=bool(row["reachable"]),
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
        registered_at=from_iso(row["registered_at"]) if row["registered_at"] else None,
        notify_matches=bool(row["notify_matches"]),
        nudges=bool(row["nudges"]),
    )


def _to_column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, dt.datetime):
        return to_iso(value)
    return value


class DelegateRepository:
    """Reads and writes delegates."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, delegate_id: int) -> Delegate | None:
        """Return a live delegate by id."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM delegates WHERE id = ? AND deleted_at IS NULL",
            (delegate_id,),
        )
        return _row_to_delegate(row) if row else None

    async def by_telegram_user(self, telegram_user_id: int) -> Delegate | None:
        """Return the delegate bound to a Telegram account, if any."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM delegates WHERE telegram_user_id = ? AND deleted_at IS NULL",
            (telegram_user_id,),
        )
        return _row_to_delegate(row) if row else None

    async def start_draft(self, telegram_user_id: int, chat_id: int) -> Delegate:
        """Return the account's delegate, creating an empty draft on first contact."""
        now = to_iso(self._clock.now())
        await self._db.execute(
            "INSERT INTO delegates (telegram_user_id, chat_id, step, created_at, updated_at) "
            "VALUES (?, ?, 'language', ?, ?) ON CONFLICT (telegram_user_id) DO NOTHING",
            (telegram_user_id, chat_id, now, now),
        )
        delegate = await self.by_telegram_user(telegram_user_id)
        if delegate is None:
            raise RuntimeError("draft vanished right after it was written")
        return delegate

    async def update(self, delegate_id: int, **fields: Any) -> Delegate:
        """Save answered fields at once and return the delegate as stored."""
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"not writable: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [_to_column(value) for value in fields.values()]
        await self._db.execute(
            f"UPDATE delegates SET {assignments}, updated_at = ? WHERE id = ?",
            (*values, to_iso(self._clock.now()), delegate_id),
        )
        delegate = await self.get(delegate_id)
        if delegate is None:
            raise LookupError(f"delegate {delegate_id} does not exist")
        return delegate

    async def erase(self, delegate_id: int) -> None:
        """Remove personal data; country, role and language stay as anonymous counts."""
        now = to_iso(self._clock.now())
        await self._db.execute(
            "UPDATE delegates SET telegram_user_id = NULL, chat_id = NULL, name = NULL, "
            "organization = NULL, contact = NULL, contact_kind = NULL, consent = 0, "
            "meeting_languages = '', step = 'done', editing = 0, deleted_at = ?, updated_at = ?, "
            # An import's copy of the data goes too; external_id stays (the organizers' own
            # id, not personal) so a re-import does not bring the profile back.
            "telegram_username = NULL, second_contact = NULL, host_external_id = NULL, "
            "import_data = NULL, claim_token = NULL, pending_link = NULL "
            "WHERE id = ?",
            (now, now, delegate_id),
        )
        # Whom they wished to meet, and who wished to meet them, goes with the profile.
        await self._db.execute(
            "DELETE FROM wishes WHERE delegate_id = ? OR counterpart_id = ?",
            (delegate_id, delegate_id),
        )

    async def remember_link(self, delegate_id: int, payload: str) -> None:
        """Keep a deep link opened before registration was complete (the latest one wins)."""
        await self._db.execute(
            "UPDATE delegates SET pending_link = ? WHERE id = ?", (payload, delegate_id)
        )

    async def take_link(self, delegate_id: int) -> str | None:
        """The deep link waiting for the registration to be complete, removed as it is read:
        it is followed once."""
        async with self._db.transaction() as db:
            payload = await db.fetchval(
                "SELECT pending_link FROM delegates WHERE id = ?", (delegate_id,)
            )
            if payload is not None:
                await db.execute(
                    "UPDATE delegates SET pending_link = NULL WHERE id = ?", (delegate_id,)
                )
        return str(payload) if payload else None

    async def registration_counts(self) -> RegistrationCounts:
        """Count delegates who finished registration and those still filling it in."""
        row = await self._db.fetchone(
            "SELECT count(registered_at), count(*) - count(registered_at) FROM delegates "
            "WHERE deleted_at IS NULL"
        )
        return RegistrationCounts(int(row[0]), int(row[1])) if row else RegistrationCounts(0, 0)
