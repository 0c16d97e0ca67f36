"""Imported delegates: insert or update by external_id, and the claim links that bind them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.clock import Clock, to_iso
from bot.domain.importing import ImportedDelegate
from bot.domain.links import new_claim_token
from storage.db import Database

# The profile columns an import writes, and the texts it turns into items.
PROFILE_COLUMNS = (
    "name", "organization", "country", "locale", "role", "meeting_languages", "contact",
    "contact_kind", "second_contact", "consent", "telegram_username", "host_external_id",
)  # fmt: skip
TEXT_KEYS = ("offer", "need")
# Columns that change together: a delegate who typed another contact keeps all three.
_GROUPS: tuple[tuple[str, ...], ...] = (("contact", "contact_kind", "second_contact"),)


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


def _encode(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
