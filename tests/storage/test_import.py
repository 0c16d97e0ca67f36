"""Importing the organizers' delegate file: insert, update, skip, and the claim tokens."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from bot.domain.importing import parse_delegate_csv
from bot.domain.links import is_claim_token, new_claim_token
from bot.services.importing import ImportReport, import_delegates
from storage.claims import ClaimRepository
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.importer import ImportRepository
from storage.items import ItemRepository

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
HEADER = "external_id,name,organization,country,language,role,offer,need,consent\n"
TOKEN = re.compile(r"^c_[A-Za-z0-9_-]{32}$")


def fake_classify(text: str) -> list[str]:
    """Fields without the real classifier: storage tests need only a stable answer."""
    watery = any(word in text for word in ("water", "废水", "сточных вод"))
    return ["env.wastewater"] if watery else ["energy.hydrogen"]


async def run(db: Database, clock: ManualClock, data: bytes | str) -> ImportReport:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return await import_delegates(
        db, ImportRepository(db, clock), ItemRepository(db, clock), fake_classify,
        parse_delegate_csv(raw),
    )  # fmt: skip


async def count(db: Database, sql: str = "SELECT count(*) FROM delegates") -> int:
    return int(await db.fetchval(sql))


async def test_import_creates_registered_profiles_with_items_and_claim_tokens(
    db: Database, clock: ManualClock
) -> None:
    report = await run(db, clock, FIXTURE.read_bytes())
    assert (report.inserted, report.updated, report.unchanged, report.skipped) == (6, 0, 0, [])
    assert report.external_ids == ["A1", "A2", "A3", "A4", "A5", "A6"]

    ids = await ImportRepository(db, clock).public_ids()
    by_external = {v: k for k, v in ids.items()}
    delegates = DelegateRepository(db, clock)
    ivan = await delegates.get(by_external["A1"])
    assert ivan is not None and ivan.is_registered and ivan.telegram_user_id is None
    assert (ivan.name, ivan.country, ivan.locale, ivan.role and ivan.role.value) == (
        "Ivan Petrov", "RU", "ru", "university",
    )  # fmt: skip
    assert ivan.meeting_languages == ("ru", "en") and ivan.consent is True
    assert (ivan.contact, ivan.contact_kind and ivan.contact_kind.value) == (
        "ivan@tpu.example", "email",
    )  # fmt: skip
    wang = await delegates.get(by_external["A2"])
    assert wang is not None and wang.locale == "zh" and wang.contact == "+8613800000000"
    kim = await db.fetchone(
        "SELECT contact, second_contact, source FROM delegates WHERE external_id = 'A3'"
    )
    assert kim is not None and tuple(kim) == ("kim@h2.example", "+821012345678", "import")
    olga = await delegates.get(by_external["A5"])
    assert olga is not None and olga.consent is False  # no consent column value: hidden

    items = await ItemRepository(db, clock).for_delegate(by_external["A1"])
    assert [(i.side, i.imported, i.fields) for i in items] == [
        ("offer", True, ("env.wastewater",))
    ]
    tokens = [row[0] for row in await db.fetchall("SELECT claim_token FROM delegates")]
    assert len(set(tokens)) == 6 and all(TOKEN.match(t) and len(t) <= 64 for t in tokens)


async def test_the_same_file_twice_changes_nothing(db: Database, clock: ManualClock) -> None:
    await run(db, clock, FIXTURE.read_bytes())
    before = [tuple(r) for r in await db.fetchall("SELECT * FROM delegates ORDER BY id")]
    items_before = [tuple(r) for r in await db.fetchall("SELECT * FROM items ORDER BY id")]
    clock.advance(dt.timedelta(hours=1))  # a write would show in updated_at
    again = await run(db, clock, FIXTURE.read_bytes())
    assert (again.inserted, again.updated, again.unchanged, again.changed) == (0, 0, 6, 0)
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM delegates ORDER BY id")] == before
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM items ORDER BY id")] == items_before


async def test_a_changed_row_updates_the_delegate_with_its_external_id(
    db: Database, clock: ManualClock
) -> None:
    await run(db, clock, HEADER + "X1,Li Na,Old Org,CN,zh,company,PEM hydrogen stacks,,yes\n")
    token = await db.fetchval("SELECT claim_token FROM delegates WHERE external_id = 'X1'")
    report = await run(
        db, clock, HEADER + "X1,Li Na,New Org,CN,zh,company,industrial wastewater plant,,yes\n"
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    row = await db.fetchone(
        "SELECT organization, claim_token FROM delegates WHERE external_id = 'X1'"
    )
    assert row is not None and tuple(row) == ("New Org", token)  # a sent link stays valid
    items = await db.fetchall("SELECT text, fields FROM items")
    assert [tuple(r) for r in items] == [("industrial wastewater plant", "env.wastewater")]
    assert await count(db) == 1


async def test_a_reimport_keeps_what_the_delegate_changed_in_chat(
    db: Database, clock: ManualClock
) -> None:
    await run(db, clock, HEADER + "X1,Li Na,Old Org,CN,zh,company,PEM hydrogen stacks,,\n")
    delegate_id = next(iter(await ImportRepository(db, clock).public_ids()))
    assert await ClaimRepository(db, clock).bind(delegate_id, 501, 501)
    delegates = DelegateRepository(db, clock)
    await delegates.update(delegate_id, consent=True, locale="en")
    items = ItemRepository(db, clock)
    (offer,) = await items.for_delegate(delegate_id)
    await items.update(offer.id, fields=("energy.storage",))  # corrected in chat

    report = await run(
        db, clock, HEADER + "X1,Li Na,New Org,CN,zh,company,PEM hydrogen stacks,,\n"
    )
    assert report.updated == 1
    saved = await delegates.get(delegate_id)
    assert saved is not None
    assert (saved.organization, saved.consent, saved.locale) == ("New Org", True, "en")
    assert saved.telegram_user_id == 501
    (kept,) = await items.for_delegate(delegate_id)
    assert kept.fields == ("energy.storage",)


async def test_bad_rows_are_skipped_with_their_line_and_the_rest_imported(
    db: Database, clock: ManualClock
) -> None:
    huge = "x" * (10 * 1024 * 1024)
    text = (
        HEADER
        + "G1,Good One,Org,CN,zh,company,PEM hydrogen stacks,,yes\n"
        + "B1,Bad Country,Org,XX,en,company,,,yes\n"
        + f'B2,Huge Cell,Org,CN,en,company,"{huge}",,yes\n'
        + "G1,Second Use,Other Org,KR,ko,company,,,yes\n"
        + f"B3,Long Offer,Org,CN,en,company,{'a' * 1001},,yes\n"
        + "G2,Good Two,Org,RU,ru,investor,,,no\n"
    )
    report = await run(db, clock, text)
    assert report.inserted == 2 and report.skipped_rows == 4
    lines = {error.line: error.reason for error in report.skipped}
    assert set(lines) == {3, 4, 5, 6}
    assert "unknown country code 'XX'" in lines[3]
    assert "too long" in lines[4]
    assert "duplicate external_id" in lines[5] and "row 2" in lines[5]
    assert "offer is longer than 1000 characters" in lines[6]
    rows = await db.fetchall("SELECT external_id, name FROM delegates ORDER BY id")
    assert [tuple(r) for r in rows] == [("G1", "Good One"), ("G2", "Good Two")]


async def test_a_file_that_cannot_be_read_is_refused_before_any_write(
    db: Database, clock: ManualClock
) -> None:
    with pytest.raises(ValueError):
        await run(db, clock, "id,name\n1,x\n")
    assert await count(db) == 0


async def test_a_delegate_who_erased_their_data_is_not_imported_again(
    db: Database, clock: ManualClock
) -> None:
    row = "X1,Li Na,Org,CN,zh,company,PEM hydrogen stacks,,yes\n"
    await run(db, clock, HEADER + row)
    delegate_id = next(iter(await ImportRepository(db, clock).public_ids()))
    await DelegateRepository(db, clock).erase(delegate_id)
    report = await run(db, clock, HEADER + row)
    assert report.inserted == 0 and report.skipped_rows == 1
    assert "deleted their data" in report.skipped[0].reason
    erased = await db.fetchone("SELECT name, import_data, claim_token FROM delegates")
    assert erased is not None and tuple(erased) == (None, None, None)


async def test_notes_flag_unknown_hosts_and_shared_usernames(
    db: Database, clock: ManualClock
) -> None:
    header = (
        "external_id,name,organization,country,language,role,telegram_username,host_external_id\n"
    )
    report = await run(
        db,
        clock,
        header
        + "H1,Host,Org,CN,zh,agency,same_name,\n"
        + "D1,Guest,Org,CN,zh,company,Same_Name,H1\n"
        + "D2,Guest Two,Org,CN,zh,company,,NOBODY\n",
    )
    assert report.inserted == 3
    notes = {(n.line, n.column) for n in report.notes}
    assert notes == {(3, "telegram_username"), (4, "host_external_id")}


async def test_a_claim_token_binds_once(db: Database, clock: ManualClock) -> None:
    await run(db, clock, FIXTURE.read_bytes())
    repo = ClaimRepository(db, clock)
    token = await db.fetchval("SELECT claim_token FROM delegates WHERE external_id = 'A4'")
    target = await repo.by_claim_token(token)
    assert target is not None and not target.claimed and target.name == "Anna Smith"
    assert await repo.bind(target.delegate_id, 701, 701)
    assert not await repo.bind(target.delegate_id, 702, 702)  # a second account
    used = await repo.by_claim_token(token)
    assert used is not None and used.claimed and used.telegram_user_id == 701
    assert await DelegateRepository(db, clock).by_telegram_user(702) is None
    links = await repo.links(["A4", "A1"])
    assert [(x.external_id, x.token is None) for x in links] == [("A4", True), ("A1", False)]


async def test_binding_replaces_a_draft_but_never_a_registered_profile(
    db: Database, clock: ManualClock
) -> None:
    await run(db, clock, FIXTURE.read_bytes())
    repo = ClaimRepository(db, clock)
    delegates = DelegateRepository(db, clock)
    ids = {v: k for k, v in (await ImportRepository(db, clock).public_ids()).items()}
    draft = await delegates.start_draft(801, 801)
    assert await repo.bind(ids["A1"], 801, 801)
    assert (await delegates.by_telegram_user(801)).id == ids["A1"]  # type: ignore[union-attr]
    assert await delegates.get(draft.id) is None  # the draft was dropped

    registered = await delegates.start_draft(802, 802)
    await delegates.update(registered.id, name="Own", registered_at=clock.now())
    assert not await repo.bind(ids["A2"], 802, 802)
    assert (await delegates.by_telegram_user(802)).id == registered.id  # type: ignore[union-attr]
    target = await repo.target(ids["A2"])
    assert target is not None and not target.claimed


async def test_username_lookup_ignores_case_and_claimed_profiles(
    db: Database, clock: ManualClock
) -> None:
    await run(db, clock, FIXTURE.read_bytes())
    repo = ClaimRepository(db, clock)
    (anna,) = await repo.unclaimed_by_username("anna_h2")
    assert anna.external_id == "A4"
    assert [t.external_id for t in await repo.unclaimed_by_username("@IVAN_PETROV")] == ["A1"]
    assert await repo.bind(anna.delegate_id, 901, 901)
    assert await repo.unclaimed_by_username("Anna_H2") == []


async def test_public_ids_name_imported_and_chat_delegates(
    db: Database, clock: ManualClock
) -> None:
    await run(db, clock, HEADER + "X1,Li Na,Org,CN,zh,company,,,yes\n")
    delegates = DelegateRepository(db, clock)
    chat = await delegates.start_draft(4242, 4242)
    await delegates.update(chat.id, name="Chat", registered_at=clock.now())
    await delegates.start_draft(4343, 4343)  # unfinished: not listed
    assert sorted((await ImportRepository(db, clock).public_ids()).values()) == ["X1", "tg:4242"]


def test_claim_tokens_are_distinct_and_link_safe() -> None:
    tokens = {new_claim_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(TOKEN.match(t) and is_claim_token(t) for t in tokens)
    assert not is_claim_token("b_" + "x" * 32)  # a booking token never claims
    assert not is_claim_token("c_short")
    assert not is_claim_token("c_" + "é" * 20)
