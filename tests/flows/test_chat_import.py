"""A delegate file sent in chat: imported in the background with a progress message that is
edited as batches commit, one import at a time, and a row limit, refused in the reader's
language."""

from __future__ import annotations

import io

import pytest

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from bot.services.importing import import_lock
from handlers.organizer import importing
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of

HEADER = "external_id,name,organization,country,language,role,offer,need,consent\n"


def delegates_file(rows: int) -> bytes:
    """A file of `rows` delegates, each with an offer of their own."""
    lines = [HEADER]
    for n in range(rows):
        lines.append(
            f"X{n},Delegate {n},Org {n % 97},CN,zh,company,"
            f"Membrane water treatment for plant {n},,yes\n"
        )
    return "".join(lines).encode("utf-8")


async def test_a_large_file_imports_in_the_background_with_progress_edits(
    api: FakeBotApi, bot: BotApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 0.0)  # edit after every batch
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    other = await seed(api, bot, 1701, locale="en")
    await organizer.send_document("delegates.csv", delegates_file(650))
    await other.send_text("/help")
    progress = await organizer.expect("Importing delegates.csv: 0 of 650 rows written")
    await other.expect("What I can do")
    # Batches end after 200 rows or 0.1 s of writing, whichever comes first.
    edited = await organizer.expect(r"Importing delegates.csv: [1-9]\d* of 650 rows written")
    assert edited.edited and edited.message_id == progress.message_id
    done = await organizer.expect("Imported delegates.csv: 650 rows read", timeout=60)
    assert done.message_id == progress.message_id
    report = await organizer.expect("650 inserted", timeout=30)
    assert "delegates.csv: 650 inserted, 0 updated" in report.text
    services = services_of(bot)
    assert (
        await services.db.fetchval("SELECT count(*) FROM delegates WHERE source = 'import'") == 650
    )
    # The lock is given back: the same file again imports (and changes nothing).
    await organizer.send_document("delegates.csv", delegates_file(650))
    again = await organizer.expect("650 unchanged", timeout=60)
    assert "0 inserted" in again.text


async def test_a_second_import_while_one_runs_is_refused_politely(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    database = services_of(bot).db.path
    # As `matchmaker import-delegates` on the server would hold it.
    with import_lock(database, "matchmaker import-delegates", "big.csv", "2026-11-24 08:00"):
        await organizer.send_document("delegates.csv", delegates_file(3))
        refusal = await organizer.expect("Another import is running")
    assert "(big.csv)" in refusal.text and "Nothing was imported" in refusal.text
    assert await services_of(bot).db.fetchval("SELECT count(*) FROM delegates") == 0
    await organizer.send_document("delegates.csv", delegates_file(3))
    await organizer.expect("3 inserted")


async def test_a_file_above_the_row_limit_is_refused_in_the_readers_language(
    api: FakeBotApi, bot: BotApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_IMPORT_ROWS", 5)
    services = services_of(bot)
    await services.delegates.start_draft(ORGANIZER, ORGANIZER)
    draft = await services.delegates.by_telegram_user(ORGANIZER)
    assert draft is not None
    await services.delegates.update(draft.id, locale="ru")
    organizer = api.user(ORGANIZER, "Ольга", language_code="ru")
    await organizer.send_document("delegates.csv", delegates_file(6))
    refusal = await organizer.expect("delegates.csv")
    assert "6" in refusal.text and "5" in refusal.text
    assert "Nothing was imported" not in refusal.text, "in Russian, not English"
    assert (
        await services.db.fetchval("SELECT count(*) FROM delegates WHERE source = 'import'") == 0
    )


EXHIBITS = (
    "key,organization,booth,hall,title_zh,title_en\n"
    "E1,西安交大,B12,A,锂电池快速充电技术,Fast charging of lithium batteries\n"
    "E2,Tomsk Uni,C3,B,,Water purification membrane\n"
    "E3,No title,,,,\n"
)


def exhibits_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in EXHIBITS.splitlines():
        sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_exhibits_file_sent_in_chat_is_imported_with_the_row_report(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    visitor = await seed(api, bot, 1702, locale="en")
    await organizer.send_document("exhibits.csv", EXHIBITS.encode("utf-8"))
    progress = await organizer.expect("Importing exhibits.csv: 0 of 2 rows written")
    done = await organizer.expect("Imported exhibits.csv: 3 rows read")
    assert done.message_id == progress.message_id and done.edited
    report = await organizer.expect("exhibit\\(s\\) read")
    assert "exhibits.csv: row 4 (title_en): at least one title_<lang> is required" in report.text
    assert "2 exhibit(s) read: 2 added, 0 updated, 0 unchanged; 1 row(s) skipped" in report.text
    services = services_of(bot)
    assert await services.db.fetchval("SELECT count(*) FROM exhibits") == 2
    assert await services.db.fetchval("SELECT count(*) FROM delegates") == 1  # no delegate rows
    # The running bot searches the new catalogue at once.
    await visitor.send_text("/search lithium battery charging")
    found = await visitor.expect("Exhibits for")
    assert "Fast charging of lithium batteries" in found.text
    # The same rows as XLSX change nothing.
    await organizer.send_document("exhibits.xlsx", exhibits_xlsx())
    again = await organizer.expect("0 added, 0 updated, 2 unchanged")
    assert "row 4 (title_en)" in again.text


async def test_exhibits_files_that_cannot_be_read_or_wait_for_another_import_are_answered(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_document("exhibits.xlsx", b"this is not a spreadsheet")
    broken = await organizer.expect("exhibits.xlsx")
    assert "cannot be read as XLSX" in broken.text and "Nothing was imported" in broken.text
    await organizer.send_document("exhibits.csv", b"key,title_en\nE1,Membranes\n")
    missing = await organizer.expect("organization")
    assert "Nothing was imported" in missing.text
    with import_lock(services_of(bot).db.path, "matchmaker import-exhibits", "big.xlsx", "now"):
        await organizer.send_document("exhibits.csv", EXHIBITS.encode("utf-8"))
        refusal = await organizer.expect("Another import is running")
    assert "(big.xlsx)" in refusal.text
    assert await services_of(bot).db.fetchval("SELECT count(*) FROM exhibits") == 0
