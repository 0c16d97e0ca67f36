"""The organizer role: invite codes, and refusals on every organizer command and button."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import BotApplication
from bot.cli import main
from bot.formats.schedules import HEADER as SCHEDULE_HEADER
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of, write_broadcast

REFUSAL = "only available to the event organizers"
FORGED = [
    "o1:stats:",
    "o1:retry:expired",
    "bc1:send:1",
    "bc1:stop:1",
    "bc1:drop:1",
    "bc1:aud:1-all",
    "bc1:val:1-role-investor",
]


@pytest.mark.parametrize("command", ["/stats", "/broadcast"])
async def test_commands_refuse_delegates_politely(
    api: FakeBotApi, bot: BotApplication, command: str
) -> None:
    anna = await seed(api, bot, 401, locale="ru")
    await anna.send_text(command)
    refusal = await anna.expect("организатор")
    assert "/" not in refusal.text
    assert await services_of(bot).broadcasts.draft(anna.user_id) is None


async def test_forged_buttons_do_nothing(api: FakeBotApi, bot: BotApplication) -> None:
    await seed(api, bot, 402, locale="en")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Secret plan"})
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 1 delegate")
    mallory = api.user(666, "Mallory", language_code="en")
    await mallory.send_text("/start")
    await api.settle()
    for data in FORGED:
        await mallory.press_data(data, confirm)
        await api.settle()
        assert REFUSAL in mallory.callback_answers[-1].get("text", ""), data
        assert mallory.callback_answers[-1].get("show_alert") is True
    services = services_of(bot)
    draft = await services.broadcasts.draft(ORGANIZER)
    assert draft is not None and draft.state == "draft"
    assert sum((await services.outbox.counts()).values()) == 0
    assert not any("Secret plan" in m.text for m in mallory.messages)
    # The organizer's own forged or stale data is refused too (unknown action, other draft).
    await organizer.press_data("bc1:send:99", confirm)
    await api.settle()
    assert "no longer active" in organizer.callback_answers[-1].get("text", "")
    await organizer.press_data("bc1:zap:1", confirm)
    await api.settle()
    assert "no longer active" in organizer.callback_answers[-1].get("text", "")


async def test_invite_code_works_once(api: FakeBotApi, bot: BotApplication) -> None:
    services = services_of(bot)
    code = await services.organizers.create_invite(ORGANIZER)
    olga = api.user(410, "Olga", language_code="en")
    await olga.send_text("/stats")
    await olga.expect(REFUSAL)
    await olga.send_text(f"/organizer {code}")
    await olga.expect("Welcome to the organizers")
    await olga.send_text("/stats")
    await olga.expect("Registration")
    await olga.send_text(f"/organizer {code}")
    await olga.expect("already an organizer")
    eve = api.user(411, "Eve", language_code="en")
    await eve.send_text(f"/organizer {code}")
    await eve.expect("not valid or was already used")
    await eve.send_text("/organizer org_guessed")
    await eve.expect("not valid or was already used")
    await eve.send_text("/broadcast")
    await eve.expect(REFUSAL)
    entries = await services.organizers.audit.recent()
    assert [e.action for e in entries][:2] == ["became_organizer", "invite_organizer"]
    row = await services.db.fetchval("SELECT code_hash FROM organizer_invites")
    assert code not in str(row)


async def test_stats_shows_every_section(api: FakeBotApi, bot: BotApplication) -> None:
    await seed(api, bot, 420, locale="ru", country="RU")
    await seed(api, bot, 421, locale="zh", country="CN")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/stats")
    stats = await organizer.expect("Registration")
    for part in (
        "2 delegates registered",
        "By country",
        "By language: ",
        "Offers: 0",
        "Meetings",
        "Requests: 0",
        "dead letters",
        "Announcements: 0",
    ):
        assert part in stats.text, part
    await organizer.press("Refresh", stats)
    await api.settle()


@pytest.mark.parametrize(
    ("locale", "by_country"),
    [
        ("ru", "По странам: 🇨🇳 Китай 1 и 🇷🇺 Россия 1"),
        ("ar", "🇨🇳 الصين 1 و🇷🇺 روسيا 1"),
        ("zh", "🇨🇳 中国 1和🇷🇺 俄罗斯 1"),
    ],
)
async def test_stats_lists_read_as_the_organizers_language_lists(
    api: FakeBotApi, bot: BotApplication, locale: str, by_country: str
) -> None:
    await seed(api, bot, 420, locale="ru", country="RU")
    await seed(api, bot, 421, locale="zh", country="CN")
    organizer = api.user(ORGANIZER, "Olga", language_code=locale)
    await organizer.send_text("/stats")
    stats = await organizer.expect("")
    assert by_country in stats.text.replace("\u2068", "").replace("\u2069", ""), stats.text


def test_cli_invite_organizer_prints_a_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "cli.db"
    assert main(["invite-organizer", "--db", str(database)]) == 0
    code = capsys.readouterr().out.strip()
    assert code.startswith("org_") and len(code) > 12
    assert main(["stats", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert "delegates: 0 registered" in out and "dead letters: 0" in out


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"


async def test_csv_import_in_chat_reports_bad_rows(api: FakeBotApi, bot: BotApplication) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    good = FIXTURE.read_bytes()
    bad = good + b"A99,,No Name Org,ZZ,xx,alien,,,en,not-an-email,,,,yes\n"
    await organizer.send_document("delegates.csv", bad)
    report = await organizer.expect("inserted")
    assert "line " in report.text and "skipped" in report.text
    assert "delegates.csv: " in report.text
    services = services_of(bot)
    imported = await services.db.fetchval("SELECT count(*) FROM delegates WHERE source = 'import'")
    assert imported > 0
    await organizer.send_document("delegates.csv", good)
    again = await organizer.expect("unchanged")
    assert "0 inserted" in again.text
    # A delegate's document is not an import.
    anna = await seed(api, bot, 430, locale="en")
    await anna.send_document("delegates.csv", good)
    await api.settle()
    assert not any("inserted" in m.text for m in anna.messages)


async def test_export_sends_csv_with_bom_and_xlsx(api: FakeBotApi, bot: BotApplication) -> None:
    await seed(api, bot, 440, locale="zh")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/export")
    menu = await organizer.expect("CSV or Excel")
    await organizer.press("Delegates · CSV", menu)
    document = await organizer.expect("1 row")
    assert document.document is not None
    name, content = document.document
    assert name == "delegates.csv" and content.startswith(b"\xef\xbb\xbf")
    assert "Delegate 440" in content.decode("utf-8-sig")
    await organizer.press("Schedule · XLSX", menu)
    sheet = await organizer.expect("0 rows")
    assert sheet.document is not None and sheet.document[0].endswith(".xlsx")
    book = load_workbook(io.BytesIO(sheet.document[1]))
    assert [cell.value for cell in book.active[1]] == list(SCHEDULE_HEADER)
    assert book.active.max_row == 1
    mallory = api.user(666, "Mallory", language_code="en")
    await mallory.press_data("o1:exp:delegates-csv", menu)
    await api.settle()
    assert REFUSAL in mallory.callback_answers[-1].get("text", "")
    assert mallory.messages == []
    await mallory.send_text("/export")
    await mallory.expect(REFUSAL)


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "cli.db"
    assert main(["invite-organizer", "--db", str(database)]) == 0
    out = tmp_path / "needs.xlsx"
    assert main(["export", "--db", str(database), "--what", "needs", "--format", "xlsx",
                 "--out", str(out)]) == 0  # fmt: skip
    header = next(load_workbook(out).active.iter_rows(max_row=1, values_only=True))
    assert header[:4] == ("id", "delegate_id", "external_id", "name")
    capsys.readouterr()
    assert main(["export", "--db", str(database), "--what", "delegates"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("\ufeffid,external_id,name")
    assert "0 row(s) of delegates exported" in printed.err


def test_cli_stats_count_matches_of_an_imported_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "event.db"
    env_bot = {"MATCHMAKER_BOT_USERNAME": "stats_bot"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env_bot.items():
            patch.setenv(key, value)
        assert main(["import-delegates", str(FIXTURE), "--db", str(database)]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if text.startswith("matches: "))
    pairs = int(line.split()[1])
    assert pairs > 0 and "delegates have at least one" in line
