"""The delegates repository."""

from __future__ import annotations

import sqlite3

import pytest

from bot.domain.clock import ManualClock
from bot.domain.models import Role, Step
from storage.db import Database
from storage.delegates import DelegateRepository


async def test_draft_is_created_once_and_answers_are_saved(
    db: Database, clock: ManualClock
) -> None:
    repo = DelegateRepository(db, clock)
    first = await repo.start_draft(42, 42)
    again = await repo.start_draft(42, 42)
    assert first.id == again.id and first.step is Step.LANGUAGE
    saved = await repo.update(first.id, locale="ru", name="Иван", step=Step.ORGANIZATION)
    assert (saved.locale, saved.name, saved.step) == ("ru", "Иван", Step.ORGANIZATION)
    saved = await repo.update(first.id, role=Role.INVESTOR.value, meeting_languages=("en", "ru"))
    assert saved.role is Role.INVESTOR and saved.meeting_languages == ("en", "ru")


async def test_schema_refuses_what_the_rules_refuse(db: Database, clock: ManualClock) -> None:
    repo = DelegateRepository(db, clock)
    draft = await repo.start_draft(1, 1)
    with pytest.raises(sqlite3.IntegrityError):
        await repo.update(draft.id, name="x" * 81)
    with pytest.raises(sqlite3.IntegrityError):
        await repo.update(draft.id, role="pirate")
    with pytest.raises(ValueError):
        await repo.update(draft.id, deleted_at="now")


async def test_erase_removes_personal_data_and_frees_the_account(
    db: Database, clock: ManualClock
) -> None:
    repo = DelegateRepository(db, clock)
    draft = await repo.start_draft(5, 5)
    await repo.update(
        draft.id,
        name="Secret",
        contact="a@b.cn",
        contact_kind="email",
        country="CN",
        registered_at=clock.now(),
    )
    await repo.erase(draft.id)
    assert await repo.by_telegram_user(5) is None
    row = await db.fetchone(
        "SELECT name, contact, country FROM delegates WHERE id = ?", (draft.id,)
    )
    assert row is not None and (row["name"], row["contact"], row["country"]) == (None, None, "CN")
    fresh = await repo.start_draft(5, 5)
    assert fresh.id != draft.id
