"""Leads for exhibitors, an organization's representatives and roadshows, over the fake Bot API."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import BotApplication
from bot.cli import main
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.fake_api_chat import FakeUser
from bot.services.programme import parse_toml
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seen, t
from tests.flows.test_meetings import SCHEDULE, registered, run_due, services_of
from tests.storage.test_meetings_exports import config  # noqa: F401  (the fixture)

ORG = "Xi'an Jiaotong University"
CATALOGUE = (
    "key,organization,owner_external_id,booth,hall,title_zh,title_en,roadshow\n"
    f"E1,{ORG},OWNER1,B12,A,锂电池快速充电技术,Fast charging of lithium batteries,\n"
    f"E2,{ORG},,B14,A,氢燃料电池,Hydrogen fuel cells,\n"
    "E3,西北农林,,C3,B,小麦抗旱品种,Drought-tolerant wheat,\n"
    "R1,Tomsk Polytechnic,PRES1,,,,Plasma water treatment,pitch\n"
    "R2,KAIST,PRES2,,,,Soft robotic gripper,pitch\n"
)
PROGRAMME = """\
[[sessions]]
key = "pitch"
kind = "roadshow"
starts = 2026-11-24T11:00:00
ends = 2026-11-24T12:00:00
title = { en = "Roadshow: water and robots", ru = "Роуд-шоу: вода и роботы", ar = "عرض ترويجي: المياه والروبوتات" }
"""  # noqa: E501
PITCH_END = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
ORGANIZER = 900


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "leads.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def person(
    bot: BotApplication,
    user: FakeUser,
    locale: str,
    name: str,
    *,
    organization: str | None = None,
    external_id: str | None = None,
) -> int:
    """A registered delegate, of an organization and with an external id when given."""
    delegate_id = await registered(
        bot, user, locale, name, f"{locale} en", f"{user.user_id}@x.org"
    )
    db = services_of(bot).db
    if organization is not None:
        await db.execute(
            "UPDATE delegates SET organization = ? WHERE id = ?", (organization, delegate_id)
        )
    if external_id is not None:
        await db.execute(
            "UPDATE delegates SET external_id = ? WHERE id = ?", (external_id, delegate_id)
        )
    return delegate_id


async def catalogue(bot: BotApplication) -> dict[str, str]:
    """Import the exhibits; their booth-link tokens by key."""
    services = services_of(bot)
    await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    return {e.data.key: e.token for e in await services.exhibits.repo.all()}


async def test_a_request_from_an_organizations_card_goes_to_every_representative(
    api: FakeBotApi, bot: BotApplication
) -> None:
    # Two representatives whose organization is spelled differently; E2 has no owner.
    wang = api.user(501, "王芳", language_code="zh")
    ahmad = api.user(502, "أحمد", language_code="ar")
    anna = api.user(503, "Anna", language_code="en")
    await person(bot, wang, "zh", "王芳", organization="XI'AN JIAOTONG UNIVERSITY")
    ahmad_id = await person(bot, ahmad, "ar", "أحمد", organization="Xi'an Jiaotong  University")
    await person(bot, anna, "en", "Anna", organization="Tomsk Polytechnic")
    tokens = await catalogue(bot)

    await anna.open_link(tokens["E2"])
    card = await anna.expect("Hydrogen fuel cells")
    await anna.press("🤝 Request a meeting", card)
    page = await anna.expect("Book a meeting with")
    await anna.press(0, page)
    confirm = await anna.expect("Request a meeting with")
    await anna.press("📨 Send request", confirm)
    await anna.expect("Request sent")

    # Both are asked, each in their language.
    to_wang = await wang.expect("Anna")
    to_ahmad = await ahmad.expect("Anna")
    assert t("ar", "✅ Accept") in to_ahmad.button_texts()
    await ahmad.press(t("ar", "✅ Accept"), to_ahmad)
    await ahmad.expect(seen("ar", "✅ <b>Meeting confirmed</b>"))
    booked = await anna.expect("Meeting confirmed")
    assert "أحمد" in booked.text
    # The other one is told it is taken, and her Accept no longer books anything.
    taken = await wang.expect("已有人处理")
    assert "أحمد" in taken.text and "Anna" in taken.text
    await wang.press(t("zh", "✅ Accept"), to_wang)
    await api.settle()
    answer = wang.callback_answers[-1]
    assert answer.get("show_alert") is True
    assert answer.get("text") == t("zh", "This meeting has already been accepted.")
    services = services_of(bot)
    meetings = await services.db.fetchall("SELECT invitee_id, state FROM meetings")
    assert [(m[0], m[1]) for m in meetings] == [(ahmad_id, "accepted")]
    exhibit = await services.exhibits.repo.by_key("E2")
    assert exhibit is not None
    # Asking counts as a lead action (Anna did not leave her card, so she stays anonymous).
    counts = {c.key: c.counts for c in await services.leads.counts()}
    assert counts["E2"].asks == 1 and counts["E2"].opted_in == 0


async def test_a_colleague_who_declines_answers_for_the_organization(
    api: FakeBotApi, bot: BotApplication
) -> None:
    wang = api.user(541, "王芳", language_code="zh")
    ahmad = api.user(542, "أحمد", language_code="ar")
    anna = api.user(543, "Anna", language_code="en")
    await person(bot, wang, "zh", "王芳", organization=ORG)
    await person(bot, ahmad, "ar", "أحمد", organization=ORG)
    await person(bot, anna, "en", "Anna", organization="Tomsk Polytechnic")
    tokens = await catalogue(bot)
    await anna.open_link(tokens["E2"])
    card = await anna.expect("Hydrogen fuel cells")
    await anna.press("🤝 Request a meeting", card)
    await anna.press(0, await anna.expect("Book a meeting with"))
    await anna.press("📨 Send request", await anna.expect("Request a meeting with"))
    to_wang = await wang.expect("Anna")
    to_ahmad = await ahmad.expect("Anna")
    await ahmad.press(t("ar", "Decline"), to_ahmad)
    declined = await anna.expect("declined your meeting request")
    assert "أحمد" in declined.text and "王芳" not in declined.text
    await wang.press(t("zh", "Decline"), to_wang)
    await api.settle()
    answer = wang.callback_answers[-1]
    assert answer.get("text") == t("zh", "This request has already been declined.")


async def test_a_time_when_only_a_colleague_is_free_goes_to_that_colleague(
    api: FakeBotApi, bot: BotApplication
) -> None:
    wang = api.user(551, "王芳", language_code="zh")
    ahmad = api.user(552, "أحمد", language_code="ar")
    anna = api.user(553, "Anna", language_code="en")
    wang_id = await person(bot, wang, "zh", "王芳", organization=ORG)
    ahmad_id = await person(bot, ahmad, "ar", "أحمد", organization=ORG)
    anna_id = await person(bot, anna, "en", "Anna", organization="Tomsk Polytechnic")
    services = services_of(bot)
    first = (await services.meetings.free_slots_for([anna_id, wang_id], limit=1))[0]
    assert await services.meetings.toggle_block(wang_id, first.start) is True
    tokens = await catalogue(bot)
    await anna.open_link(tokens["E2"])
    await anna.press("🤝 Request a meeting", await anna.expect("Hydrogen fuel cells"))
    page = await anna.expect("Book a meeting with")
    await anna.press(0, page)  # the earliest time: 王芳 blocked it, أحمد is free
    await anna.press("📨 Send request", await anna.expect("Request a meeting with"))
    await anna.expect("Request sent")
    to_ahmad = await ahmad.expect("Anna")
    await wang.expect("Anna")  # asked too, as one of the organization
    row = await services.db.fetchone("SELECT invitee_id, slot_start FROM meetings")
    assert row is not None and row[0] == ahmad_id
    await ahmad.press(t("ar", "✅ Accept"), to_ahmad)
    booked = await anna.expect("Meeting confirmed")
    assert "أحمد" in booked.text


async def test_leads_opt_in_score_note_export_and_a_forged_press(
    api: FakeBotApi, bot: BotApplication
) -> None:
    wang = api.user(511, "王芳", language_code="zh")
    ahmad = api.user(512, "أحمد", language_code="ar")
    anna = api.user(513, "Anna", language_code="en")
    ivan = api.user(514, "Иван", language_code="ru")
    await person(bot, wang, "zh", "王芳", organization="Other name", external_id="OWNER1")
    await person(bot, ahmad, "ar", "أحمد", organization=ORG)
    anna_id = await person(bot, anna, "en", "=Anna", organization="Tomsk Polytechnic")
    await person(bot, ivan, "ru", "Иван", organization="ТПУ")
    tokens = await catalogue(bot)

    # Anna scans, reads what leaving her card means, and leaves it; Ivan only saves.
    await anna.open_link(tokens["E1"])
    card = await anna.expect("Fast charging")
    assert t("en", "📇 Leave my card with the exhibitor") in card.button_texts()
    assert t("en", "The exhibitor sees who you are only if you leave your card") in card.text
    await anna.press("📇 Leave my card with the exhibitor", card)
    left = await anna.expect(t("en", "📇 You left your card")[:20])
    assert t("en", "↩️ Take my card back") in left.button_texts()
    await ivan.open_link(tokens["E1"])
    ivan_card = await ivan.expect("锂电池")
    assert t("ru", "📇 Leave my card with the exhibitor") in ivan_card.button_texts()
    await ivan.press(t("ru", "Save"), ivan_card)
    await api.settle()

    # The owner scanning their own QR is not a lead of theirs.
    await wang.open_link(tokens["E1"])
    own = await wang.expect("锂电池")
    await wang.press(t("zh", "📇 Leave my card with the exhibitor"), own)
    await api.settle()
    # The owner (by external id) sees Anna only, with what she did.
    await wang.send_text("/leads")
    listing = await wang.expect(t("zh", "{n} visitor left their card.", n=1)[:6])
    assert "=Anna" in listing.text and "Иван" not in listing.text
    assert t("zh", "scanned the QR") in listing.text
    # A colleague of the exhibit's organization sees the same, in Arabic.
    await ahmad.send_text("/leads")
    arabic = await ahmad.expect("Anna")
    assert t("ar", "{n} visitor left their card.", n=1) in arabic.text

    await wang.press("1", listing)
    lead_card = await wang.expect(t("zh", "What they did: {did}", did="")[:4])
    await wang.press("4", lead_card)
    scored = await wang.expect("★★★★☆")
    assert t("zh", "Interest saved: {score}/5", score=4) == wang.callback_answers[-1]["text"]
    await wang.press(t("zh", "📝 Note"), scored)
    asked = "Type your note about {name} in one message (it replaces the old one)."
    await wang.expect(t("zh", asked, name="=Anna")[:6])
    await wang.send_text('=HYPERLINK("http://x","pilot line")')
    noted = await wang.expect(t("zh", "📝 Note saved."))
    assert "pilot line" in noted.text
    services = services_of(bot)
    lead_id = int(
        await services.db.fetchval(
            "SELECT id FROM exhibit_leads WHERE delegate_id = ?", (anna_id,)
        )
    )

    # Ivan forges a press on Anna's lead: refused, nothing changes.
    await ivan.press_data(f"ld1:sc:{lead_id}_1", ivan_card)
    await api.settle()
    assert ivan.callback_answers[-1].get("show_alert") is True
    await ivan.press_data(f"ld1:nt:{lead_id}", ivan_card)
    await api.settle()
    assert ivan.callback_answers[-1].get("show_alert") is True
    score = await services.db.fetchval("SELECT score FROM exhibit_leads WHERE id = ?", (lead_id,))
    assert score == 4
    await ivan.send_text("/leads")
    await ivan.expect(
        t("ru", "You do not present any exhibit, so there are no leads to show.")[:20]
    )

    # The exports: formula-looking cells are inert.
    await wang.send_text("/leads")
    listing = await wang.expect("★★★★☆")
    await wang.press("⬇️ CSV", listing)
    sent = await wang.expect(t("zh", "{n} lead", n=1))
    assert sent.document is not None and sent.document[0] == "leads.csv"
    rows = list(csv.DictReader(io.StringIO(sent.document[1].decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["exhibit"] == "E1" and row["title"] == "锂电池快速充电技术"
    assert row["name"] == "'=Anna" and row["score"] == "4"
    assert row["note"] == """'=HYPERLINK("http://x","pilot line")"""
    assert row["scanned_at (Asia/Shanghai)"] == "2026-11-24 09:00"
    await wang.press("⬇️ XLSX", listing)
    sheet = await wang.expect(t("zh", "{n} lead", n=1))
    assert sheet.document is not None and sheet.document[0] == "leads.xlsx"
    book = load_workbook(io.BytesIO(sheet.document[1]))
    cells = list(book.active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert cells[0][2] == "'=Anna" and cells[0][8] == 4
    assert all(c.data_type != "f" for r in book.active.iter_rows() for c in r)  # type: ignore[union-attr]

    # Taking the card back hides her again; her /delete_me leaves no trace at the exhibit.
    await anna.press("↩️ Take my card back", left)
    await api.settle()
    assert await services.leads.leads_of(await wang_id(bot)) == []
    await services.profiles.erase(anna_id, anna.chat_id)
    left_rows = await services.db.fetchval(
        "SELECT count(*) FROM exhibit_leads WHERE delegate_id = ?", (anna_id,)
    )
    assert left_rows == 0


async def wang_id(bot: BotApplication) -> int:
    value = await services_of(bot).db.fetchval(
        "SELECT id FROM delegates WHERE external_id = 'OWNER1'"
    )
    return int(value)


async def test_stats_and_the_organizer_export_count_per_exhibit_and_hall(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(521, "Anna", language_code="en")
    ivan = api.user(522, "Иван", language_code="ru")
    await person(bot, anna, "en", "Anna")
    await person(bot, ivan, "ru", "Иван")
    tokens = await catalogue(bot)
    for visitor in (anna, ivan):
        await visitor.open_link(tokens["E1"])
    card = await anna.expect("Fast charging")
    await anna.press("Save", card)
    await anna.press("📇 Leave my card with the exhibitor", card)
    await ivan.open_link(tokens["E3"])
    await api.settle()

    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/stats")
    stats = await organizer.expect("Exhibits")
    line = t(
        "en",
        "{place}: scans {scans}, saves {saves}, meeting requests {asks}, cards left {cards}",
        place="Hall A", scans=2, saves=1, asks=0, cards=1,
    )  # fmt: skip
    assert line in stats.text
    assert "Hall B: scans 1, saves 0" in stats.text
    assert "E1 (B12): scans 2, saves 1, meeting requests 0, cards left 1" in stats.text

    await organizer.send_text("/export")
    menu = await organizer.expect("CSV or Excel")
    await organizer.press("Exhibit leads · CSV", menu)
    sent = await organizer.expect("5 rows")
    assert sent.document is not None
    rows = {
        r["exhibit"]: r for r in csv.DictReader(io.StringIO(sent.document[1].decode("utf-8-sig")))
    }
    assert rows["E1"]["scans"] == "2" and rows["E1"]["cards_left"] == "1"
    assert rows["E1"]["hall"] == "A" and rows["E3"]["scans"] == "1"
    assert "name" not in rows["E1"]  # counts only, never who


async def test_roadshow_projects_meet_the_presenter_and_one_follow_up(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    services = services_of(bot)
    await services.programme.repo.load(parse_toml(PROGRAMME, services.settings.timezone).sessions)
    presenter = api.user(531, "Sergey", language_code="ru")
    ivan = api.user(532, "Иван", language_code="ru")
    layla = api.user(533, "ليلى", language_code="ar")
    await person(bot, presenter, "ru", "Sergey", organization="Tomsk Polytechnic",
                 external_id="PRES1")  # fmt: skip
    await person(bot, ivan, "ru", "Иван", organization="НГУ")
    await person(bot, layla, "ar", "ليلى", organization="KAUST")
    await catalogue(bot)

    # The session in /programme lists its two projects.
    await ivan.send_text("/programme")
    days = await ivan.expect(seen("ru", "<b>Event programme</b>\nChoose a day:"))
    await ivan.press(0, days)
    title = "Роуд-шоу: вода и роботы"
    day = await ivan.expect(title)
    projects_button = t("ru", "📋 Projects ({n}): {session}", n=2, session=title)
    assert projects_button in day.button_texts()
    await ivan.press(projects_button, day)
    heading = t("ru", "<b>Projects of {session}</b> ({hours})", session=title, hours="")
    listing = await ivan.expect(heading[:16])
    assert "Plasma water treatment" in listing.text and "Soft robotic gripper" in listing.text
    # Meet the presenter: the booking page with the project's owner.
    await ivan.press(t("ru", "🎤 Meet the presenter ({n})", n=1), listing)
    page = await ivan.expect("Sergey")
    await ivan.press(0, page)
    confirm = await ivan.expect("Sergey")
    await ivan.press(t("ru", "📨 Send request"), confirm)
    await presenter.expect("Иван")

    # Each saves a project; the card of a project says "Meet the presenter".
    await ivan.press(t("ru", "Open {n}", n=1), listing)
    card = await ivan.expect("Plasma water treatment")
    assert t("ru", "🎤 Meet the presenter") in card.button_texts()
    await ivan.press(t("ru", "Save"), card)
    layla_token = (await services.exhibits.repo.by_key("R2")).token  # type: ignore[union-attr]
    await layla.open_link(layla_token)
    layla_card = await layla.expect("Soft robotic gripper")
    await layla.press(t("ar", "Save"), layla_card)
    await api.settle()

    # Before the session's end nothing; after it, one follow-up each, and only once.
    await run_due(bot, clock, PITCH_END - dt.timedelta(minutes=1))
    await api.settle()
    ivan.drain_events()
    layla.drain_events()
    await run_due(bot, clock, PITCH_END + dt.timedelta(minutes=6))
    over = "🎤 <b>{session}</b> is over. The projects you saved there, to meet their presenters:"
    heading_ru = t("ru", over, session=title)
    follow = await ivan.expect(heading_ru[:12])
    assert "Plasma water treatment" in follow.text and "Soft robotic" not in follow.text
    assert t("ru", "🎤 Meet the presenter ({n})", n=1) in follow.button_texts()
    arabic = await layla.expect("Soft robotic gripper")
    assert "المياه والروبوتات" in arabic.text and "Plasma" not in arabic.text
    await run_due(bot, clock, PITCH_END + dt.timedelta(minutes=7))
    await run_due(bot, clock, PITCH_END + dt.timedelta(hours=1))
    await api.settle()
    owed = await services.db.fetchval(
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'roadshow:%'"
    )
    assert owed == 2
    assert not [m for m in ivan.drain_events() if "Plasma" in m.text]


def test_matchmaker_export_exhibit_leads_is_formula_safe(
    config: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exhibits = tmp_path / "exhibits.csv"
    exhibits.write_text(
        "key,organization,booth,hall,title_en\n=E9,Org,@B1,-A,Formula-looking key\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "import-exhibits", str(exhibits)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "export", "--what", "exhibit_leads"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert rows == [
        {"exhibit": "'=E9", "hall": "'-A", "booth": "'@B1", "scans": "0", "saves": "0",
         "meeting_requests": "0", "cards_left": "0"}
    ]  # fmt: skip


async def test_many_long_notes_fit_one_message_and_page(
    api: FakeBotApi, bot: BotApplication
) -> None:
    wang = api.user(561, "王芳", language_code="ar")
    wang_id = await person(bot, wang, "ar", "王芳", organization="Other", external_id="OWNER1")
    tokens = await catalogue(bot)
    services = services_of(bot)
    exhibit = await services.exhibits.by_token(tokens["E1"])
    assert exhibit is not None
    for n in range(10):
        visitor = api.user(570 + n, f"V{n}", language_code="en")
        visitor_id = await person(bot, visitor, "en", f"Visitor {n} " + "x" * 60)
        await services.leads.set_opt_in(exhibit.id, visitor_id, True)
        lead = (await services.leads.leads_of(wang_id))[0]
        await services.leads.set_note(wang_id, lead.id, "ملاحظة طويلة جدا " * 40)
    await wang.send_text("/leads")
    first = await wang.expect("Visitor")
    assert len(first.text.encode("utf-16-le")) // 2 <= 4096
    assert [label for label in first.button_texts() if label in ("◀", "▶")] == ["◀"]  # RTL: next
    await wang.press("◀", first)
    second = await wang.expect("Visitor 0")
    assert "Visitor 1 " in second.text and "Visitor 2 " not in second.text
    assert t("ar", "left their card") in second.text  # no other action: the card itself
