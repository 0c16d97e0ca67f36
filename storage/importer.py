"""Imported delegates: insert or update by external_id, and the claim links that bind them."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.domain.clock import Clock, to_iso
from bot.domain.importing import ImportedDelegate
from storage.db import Database

CLAIM_PREFIX = "c_"  # booking links use "b_": a claim token never books, a booking never binds
_CLAIM_BYTES = 24  # 32 URL-safe characters after the prefix

# The profile columns an import writes, and the texts it turns into items.
PROFILE_COLUMNS = (
    "name", "organization", "country", "locale", "role", "meeting_languages", "contact",
    "contact_kind", "second_contact", "consent", "telegram_username", "host_external_id",
)  # fmt: skip
TEXT_KEYS = ("offer", "need")
# Columns that change together: a delegate who typed another contact keeps all three.
_GROUPS: tuple[tuple[str, ...], ...] = (("contact", "contact_kind", "second_contact"),)


def new_claim_token() -> str:
    """Return an unguessable claim token: "c_" and 32 characters of A-Z a-z 0-9 _ -."""
    return CLAIM_PREFIX + secrets.token_urlsafe(_CLAIM_BYTES)


def is_claim_token(payload: str) -> bool:
    """Tell whether a /start payload has the shape of a claim token."""
    body = payload[len(CLAIM_PREFIX) :]
    return (
        payload.startswith(CLAIM_PREFIX)
        and 8 <= len(body) <= 62
        and all(c.isascii() and (c.isalnum() or c in "_-") for c in body)
    )


def import_values(d: ImportedDelegate) -> dict[str, Any]:
    """The column values and texts one valid row of the file stands for.

    The profile has one contact: the e-mail when given, else the phone; with both, the phone
    goes to second_contact.
    """
    contact, kind, second = None, None, None
    if d.email:
        contact, kind, second = d.email, "email", d.phone
    elif d.phone:
        contact, kind = d.phone, "phone"
    return {
        "name": d.name,
        "organization": d.organization,
        "country": d.country,
        "locale": d.language,
        "role": d.role.value,
        "meeting_languages": " ".join(d.meeting_languages),
        "contact": contact,
        "contact_kind": kind,
        "second_contact": second,
        "consent": int(d.consent),
        "telegram_username": d.telegram_username,
        "host_external_id": d.host_external_id,
        "offer": d.offer,
        "need": d.need,
    }


def merge(
    current: Mapping[str, Any], previous: Mapping[str, Any], incoming: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the profile columns to write: the file's values where the delegate kept the last
    import's, the delegate's own where they changed them in chat."""
    merged: dict[str, Any] = {}
    grouped = {column for group in _GROUPS for column in group}
    groups = [*_GROUPS, *((c,) for c in PROFILE_COLUMNS if c not in grouped)]
    for group in groups:
        untouched = all(current.get(c) == previous.get(c) for c in group)
        for column in group:
            merged[column] = incoming.get(column) if untouched else current.get(column)
    return merged


@dataclass(frozen=True)
class StoredImport:
    """What the database holds for one external_id."""

    delegate_id: int
    deleted: bool
    claimed: bool
    current: dict[str, Any]  # the profile columns as they are now
    previous: dict[str, Any]  # what the last import wrote (columns and texts)


@dataclass(frozen=True)
class ClaimTarget:
    """An imported profile as the claim flow sees it."""

    delegate_id: int
    external_id: str
    name: str
    organization: str
    locale: str | None
    telegram_user_id: int | None
    claimed: bool
    deleted: bool


@dataclass(frozen=True)
class ClaimLink:
    """One line of the organizers' links file."""

    external_id: str
    name: str
    token: str | None  # None once the profile was claimed: the link is dead


_TARGET_COLUMNS = (
    "id, external_id, name, organization, locale, telegram_user_id, claimed_at, deleted_at"
)


def _row_to_target(row: aiosqlite.Row) -> ClaimTarget:
    return ClaimTarget(
        delegate_id=row["id"],
        external_id=row["external_id"],
        name=row["name"] or "",
        organization=row["organization"] or "",
        locale=row["locale"],
        telegram_user_id=row["telegram_user_id"],
        claimed=row["claimed_at"] is not None or row["telegram_user_id"] is not None,
        deleted=row["deleted_at"] is not None,
    )


class ImportRepository:
    """Reads and writes imported profiles; every write joins the caller's transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # -- the import -------------------------------------------------------------------------

    async def stored(self, external_ids: Iterable[str]) -> dict[str, StoredImport]:
        """Return what is stored for these external ids (erased profiles included)."""
        wanted = list(dict.fromkeys(external_ids))
        found: dict[str, StoredImport] = {}
        columns = ", ".join(PROFILE_COLUMNS)
        # SQLite allows 32766 parameters; chunks keep far below.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._db.fetchall(
                f"SELECT id, external_id, deleted_at, claimed_at, telegram_user_id, import_data, "
                f"{columns} FROM delegates WHERE external_id IN ({marks})",
                chunk,
            )
            for row in rows:
                found[row["external_id"]] = StoredImport(
                    delegate_id=row["id"],
                    deleted=row["deleted_at"] is not None,
                    claimed=row["claimed_at"] is not None or row["telegram_user_id"] is not None,
                    current={c: row[c] for c in PROFILE_COLUMNS},
                    previous=json.loads(row["import_data"]) if row["import_data"] else {},
                )
        return found

    async def insert(self, external_id: str, values: Mapping[str, Any]) -> int:
        """Create a registered profile from a row of the file, with a fresh claim token."""
        now = to_iso(self._clock.now())
        columns = ", ".join(PROFILE_COLUMNS)
        marks = ", ".join("?" for _ in PROFILE_COLUMNS)
        return await self._db.insert(
            f"INSERT INTO delegates (source, external_id, claim_token, import_data, step, "
            f"created_at, updated_at, registered_at, {columns}) "
            f"VALUES ('import', ?, ?, ?, 'done', ?, ?, ?, {marks})",
            (
                external_id,
                new_claim_token(),
                _encode(values),
                now,
                now,
                now,
                *(values[c] for c in PROFILE_COLUMNS),
            ),
        )

    async def update(
        self, delegate_id: int, columns: Mapping[str, Any], import_data: Mapping[str, Any]
    ) -> None:
        """Write merged profile columns and remember what this import said."""
        assignments = ", ".join(f"{c} = ?" for c in PROFILE_COLUMNS)
        await self._db.execute(
            f"UPDATE delegates SET {assignments}, import_data = ?, updated_at = ? WHERE id = ?",
            (
                *(columns[c] for c in PROFILE_COLUMNS),
                _encode(import_data),
                to_iso(self._clock.now()),
                delegate_id,
            ),
        )

    async def known_external_ids(self, external_ids: Iterable[str]) -> set[str]:
        """Return which of these external ids belong to a live delegate."""
        wanted = list(dict.fromkeys(external_ids))
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._db.fetchall(
                f"SELECT external_id FROM delegates WHERE external_id IN ({marks}) "
                "AND deleted_at IS NULL",
                chunk,
            )
            known.update(row[0] for row in rows)
        return known

    # -- claim links ------------------------------------------------------------------------

    async def links(self, external_ids: Iterable[str]) -> list[ClaimLink]:
        """Return the claim links of these imported delegates, in the given order."""
        wanted = list(dict.fromkeys(external_ids))
        by_id: dict[str, ClaimLink] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._db.fetchall(
                "SELECT external_id, name, claim_token, claimed_at, telegram_user_id "
                f"FROM delegates WHERE external_id IN ({marks}) AND deleted_at IS NULL",
                chunk,
            )
            for row in rows:
                live = row["claimed_at"] is None and row["telegram_user_id"] is None
                by_id[row["external_id"]] = ClaimLink(
                    row["external_id"], row["name"] or "", row["claim_token"] if live else None
                )
        return [by_id[e] for e in wanted if e in by_id]

    async def by_claim_token(self, token: str) -> ClaimTarget | None:
        """Return the profile a claim token belongs to (claimed or not)."""
        row = await self._db.fetchone(
            f"SELECT {_TARGET_COLUMNS} FROM delegates WHERE claim_token = ?", (token,)
        )
        return _row_to_target(row) if row else None

    async def unclaimed_by_username(self, username: str) -> list[ClaimTarget]:
        """Return live imported profiles nobody claimed whose telegram_username is this one."""
        rows = await self._db.fetchall(
            f"SELECT {_TARGET_COLUMNS} FROM delegates WHERE telegram_username = ? "
            "COLLATE NOCASE AND source = 'import' AND telegram_user_id IS NULL "
            "AND claimed_at IS NULL AND deleted_at IS NULL ORDER BY id",
            (username.lstrip("@"),),
        )
        return [_row_to_target(row) for row in rows]

    async def target(self, delegate_id: int) -> ClaimTarget | None:
        """Return an imported profile by id."""
        row = await self._db.fetchone(
            f"SELECT {_TARGET_COLUMNS} FROM delegates WHERE id = ? AND source = 'import'",
            (delegate_id,),
        )
        return _row_to_target(row) if row else None

    async def bind(self, delegate_id: int, telegram_user_id: int, chat_id: int) -> bool:
        """Bind an unclaimed imported profile to a Telegram account; False if it was taken.

        The account's unfinished draft, if any, is erased first (the account holds one profile).
        A registered profile of the account is never touched: the caller refuses that case.
        """
        now = to_iso(self._clock.now())
        try:
            async with self._db.transaction() as db:
                await db.execute(
                    "UPDATE delegates SET telegram_user_id = NULL, chat_id = NULL, "
                    "deleted_at = ?, updated_at = ? "
                    "WHERE telegram_user_id = ? AND registered_at IS NULL",
                    (now, now, telegram_user_id),
                )
                bound = await db.execute(
                    "UPDATE delegates SET telegram_user_id = ?, chat_id = ?, claimed_at = ?, "
                    "reachable = 1, updated_at = ? WHERE id = ? AND source = 'import' "
                    "AND telegram_user_id IS NULL AND claimed_at IS NULL AND deleted_at IS NULL",
                    (telegram_user_id, chat_id, now, now, delegate_id),
                )
                if bound != 1:
                    # Someone else was faster: the draft's erasure is undone with the rest.
                    raise _Taken
        except (_Taken, sqlite3.IntegrityError):
            # IntegrityError: the account holds a registered profile (telegram_user_id UNIQUE).
            return False
        return True

    async def decline(self, delegate_id: int) -> None:
        """Remember that an account said it is not the imported delegate its username matched."""
        await self._db.execute(
            "UPDATE delegates SET claim_declined_at = ?, updated_at = ? WHERE id = ?",
            (to_iso(self._clock.now()),) * 2 + (delegate_id,),
        )

    async def has_declined(self, delegate_id: int) -> bool:
        """Tell whether a chat draft already answered "No" to the username question."""
        value = await self._db.fetchval(
            "SELECT claim_declined_at FROM delegates WHERE id = ?", (delegate_id,)
        )
        return value is not None

    # -- identities for outside tools -------------------------------------------------------

    async def public_ids(self) -> dict[int, str]:
        """Map every live registered delegate to the id outside tools use.

        The external_id for imported delegates, "tg:<telegram user id>" for those who
        registered in chat.
        """
        rows = await self._db.fetchall(
            "SELECT id, external_id, telegram_user_id FROM delegates "
            "WHERE deleted_at IS NULL AND registered_at IS NOT NULL ORDER BY id"
        )
        ids: dict[int, str] = {}
        for row in rows:
            if row["external_id"]:
                ids[row["id"]] = row["external_id"]
            elif row["telegram_user_id"] is not None:
                ids[row["id"]] = f"tg:{row['telegram_user_id']}"
        return ids


class _Taken(Exception):
    """A concurrent claim bound the profile first; the transaction rolls back."""


def _encode(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
