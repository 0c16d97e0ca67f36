"""The exhibits repository: the catalogue loaded from the organizers' file, and shortlists."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, to_iso
from bot.domain.exhibits import ExhibitData
from bot.domain.links import new_exhibit_token
from storage.db import Database

_COLUMNS = (
    "id, key, token, organization, owner_external_id, booth, hall, titles, descriptions, "
    "trl, ip_status, deal_kinds, roadshow, image_url"
)


@dataclass(frozen=True)
class Exhibit:
    """A stored exhibit."""

    id: int
    token: str  # x_…, the booth QR's deep-link payload
    data: ExhibitData


@dataclass(frozen=True)
class ImportSummary:
    """What an import changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


def _row(row: aiosqlite.Row) -> Exhibit:
    return Exhibit(
        id=row["id"],
        token=row["token"],
        data=ExhibitData(
            key=row["key"],
            organization=row["organization"],
            titles=json.loads(row["titles"]),
            descriptions=json.loads(row["descriptions"]),
            owner_external_id=row["owner_external_id"],
            booth=row["booth"],
            hall=row["hall"],
            trl=row["trl"],
            ip_status=row["ip_status"],
            deal_kinds=tuple(json.loads(row["deal_kinds"])),
            roadshow=row["roadshow"],
            image_url=row["image_url"],
        ),
    )


def _values(d: ExhibitData) -> tuple[object, ...]:
    return (
        d.organization,
        d.owner_external_id,
        d.booth,
        d.hall,
        json.dumps(dict(d.titles), ensure_ascii=False),
        json.dumps(dict(d.descriptions), ensure_ascii=False),
        d.trl,
        d.ip_status,
        json.dumps(list(d.deal_kinds)),
        d.roadshow,
        d.image_url,
    )


class ExhibitRepository:
    """Exhibits by key and token, and each visitor's saved exhibits."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def upsert(self, exhibits: Iterable[ExhibitData]) -> ImportSummary:
        """Insert or update exhibits by key in one transaction; an unchanged row is not written."""
        added = updated = unchanged = 0
        now = to_iso(self._clock.now())
        async with self._db.transaction():
            for data in exhibits:
                row = await self._db.fetchone(
                    f"SELECT {_COLUMNS} FROM exhibits WHERE key = ?",  # noqa: S608 - fixed
                    (data.key,),
                )
                if row is None:
                    await self._db.insert(
                        "INSERT INTO exhibits (key, token, organization, owner_external_id, "
                        "booth, hall, titles, descriptions, trl, ip_status, deal_kinds, "
                        "roadshow, image_url, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (data.key, new_exhibit_token(), *_values(data), now, now),
                    )
                    added += 1
                elif _row(row).data == data:
                    unchanged += 1
                else:
                    await self._db.execute(
                        "UPDATE exhibits SET organization = ?, owner_external_id = ?, "
                        "booth = ?, hall = ?, titles = ?, descriptions = ?, trl = ?, "
                        "ip_status = ?, deal_kinds = ?, roadshow = ?, image_url = ?, "
                        "updated_at = ? WHERE key = ?",
                        (*_values(data), now, data.key),
                    )
                    updated += 1
        return ImportSummary(added, updated, unchanged)

    async def all(self) -> list[Exhibit]:
        """Every exhibit, in key order."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM exhibits ORDER BY key"  # noqa: S608 - fixed columns
        )
        return [_row(r) for r in rows]

    async def get(self, exhibit_id: int) -> Exhibit | None:
        """One exhibit by id."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM exhibits WHERE id = ?",  # noqa: S608 - fixed columns
            (exhibit_id,),
        )
        return _row(row) if row is not None else None

    async def by_token(self, token: str) -> Exhibit | None:
        """The exhibit a booth QR's token opens."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM exhibits WHERE token = ?",  # noqa: S608 - fixed columns
            (token,),
        )
        return _row(row) if row is not None else None

    async def by_key(self, key: str) -> Exhibit | None:
        """One exhibit by the file's key."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM exhibits WHERE key = ?",  # noqa: S608 - fixed columns
            (key,),
        )
        return _row(row) if row is not None else None

    async def known_owners(self, external_ids: Iterable[str]) -> set[str]:
        """The external ids among these that belong to a live delegate."""
        wanted = sorted(set(external_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT external_id FROM delegates "  # noqa: S608 - only marks
                f"WHERE deleted_at IS NULL AND external_id IN ({marks})",
                chunk,
            )
            found.update(r["external_id"] for r in rows)
        return found

    async def owner_delegate(self, external_id: str) -> int | None:
        """The live delegate with this external id."""
        value = await self._db.fetchval(
            "SELECT id FROM delegates WHERE deleted_at IS NULL AND external_id = ?",
            (external_id,),
        )
        return int(value) if value is not None else None

    async def save(self, delegate_id: int, exhibit_id: int) -> bool:
        """Add an exhibit to a visitor's shortlist; False if it was there already."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO exhibit_saves (delegate_id, exhibit_id, created_at) "
            "VALUES (?, ?, ?)",
            (delegate_id, exhibit_id, to_iso(self._clock.now())),
        )
        return changed > 0

    async def unsave(self, delegate_id: int, exhibit_id: int) -> bool:
        """Take an exhibit off a visitor's shortlist."""
        changed = await self._db.execute(
            "DELETE FROM exhibit_saves WHERE delegate_id = ? AND exhibit_id = ?",
            (delegate_id, exhibit_id),
        )
        return changed > 0

    async def saved(self, delegate_id: int) -> list[Exhibit]:
        """A visitor's shortlist, the latest saved first."""
        rows = await self._db.fetchall(
            f"SELECT {', '.join('e.' + c for c in _COLUMNS.split(', '))} "  # noqa: S608
            "FROM exhibit_saves s JOIN exhibits e ON e.id = s.exhibit_id "
            "WHERE s.delegate_id = ? ORDER BY s.created_at DESC, e.key",
            (delegate_id,),
        )
        return [_row(r) for r in rows]
