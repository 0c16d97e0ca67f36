"""Migration 0014: the interpreter role, meeting messages and guests, checked by the schema."""

from __future__ import annotations

import sqlite3

import pytest

from storage.db import Database

NOW = "2026-11-01T00:00:00.000000+00:00"


async def delegate(db: Database, role: str) -> int:
    return await db.insert(
        "INSERT INTO delegates (name, organization, role, created_at, updated_at) "
        "VALUES ('A', 'Org', ?, ?, ?)",
        (role, NOW, NOW),
    )


async def test_the_interpreter_role_is_allowed_and_other_unknown_roles_still_refused(
    db: Database,
) -> None:
    await delegate(db, "interpreter")
    await delegate(db, "government")
    with pytest.raises(sqlite3.IntegrityError):
        await delegate(db, "wizard")
    # The edited definition is what the schema holds, and the file is sound.
    sql = await db.fetchval("SELECT sql FROM sqlite_master WHERE name = 'delegates'")
    assert "'government', 'interpreter')" in sql
    assert await db.fetchval("PRAGMA integrity_check") == "ok"


async def test_a_guest_is_one_per_party_and_never_one_of_the_two(db: Database) -> None:
    a, b, c, d = [await delegate(db, "company") for _ in range(4)]
    meeting = await db.insert(
        "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
        "table_name, expires_at, created_at, updated_at) "
        "VALUES (?, ?, '2026-11-24T01:30', '2026-11-24T01:50', 'accepted', 'A1', ?, ?, ?)",
        (a, b, NOW, NOW, NOW),
    )
    insert = (
        "INSERT INTO meeting_guests (meeting_id, guest_id, added_by, kind, created_at) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    await db.execute(insert, (meeting, c, a, "colleague", NOW))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(insert, (meeting, d, a, "interpreter", NOW))  # a brings one only
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(insert, (meeting, b, b, "colleague", NOW))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(insert, (meeting, d, b, "friend", NOW))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO meeting_messages (meeting_id, author_id, recipient_id, body, "
            "language_basis, created_at) VALUES (?, ?, ?, '', 'none', ?)",
            (meeting, a, b, NOW),
        )
