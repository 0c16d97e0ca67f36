"""Claims: binding a Telegram account to an imported profile, once (the c_ links an import prints).

Every write joins the caller's transaction; `bind` is atomic against a concurrent claim.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, to_iso
from storage.db import Database


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


class ClaimRepository:
    """Reads claim links and targets, binds accounts to imported profiles."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

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


class _Taken(Exception):
    """A concurrent claim bound the profile first; the transaction rolls back."""
