"""/broadcast as an organizer uses it, over the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from benchmarks import broadcast as bench
from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.crash import EXIT_CODE
from bot.domain.models import Role
from bot.domain.outbox import State
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of, write_broadcast

TEXTS = {
    "en": "Lunch is served in <Hall 2> & coffee is free",
    "ru": "Обед подан в зале 2",
    "zh": "午餐在二号厅供应",
}


async def finish(app: BotApplication) -> None:
    services = services_of(app)
    await services.delivery.sender.wait_idle(timeout=10)
    await services.delivery.dispatcher.run_due()


async def test_three_languages_each_chat_gets_its_own(
    api: FakeBotApi, bot: BotApplication
) -> None:
    en = await seed(api, bot, 301, locale="en")
    ru = await seed(api, bot, 302, locale="ru", country="RU", role=Role.UNIVERSITY)
    zh = await seed(api, bot, 303, locale="zh")
    ko = await seed(api, bot, 304, locale="ko")  # no Korean version: the default (English)
    unset = await seed(api, bot, 305, locale=None)  # never chose: the event's default
    gone = await seed(api, bot, 306, locale="ru", reachable=False)
    organizer = api.user(ORGANIZER, "Olga", language_code="en")

    audience = await write_broadcast(api, organizer, TEXTS, bold="coffee")
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 5 delegates")
    assert "1 unreachable delegate is left out" in confirm.text
    previews = organizer.messages
    assert any("Обед" in m.text for m in previews) and any("午餐" in m.text for m in previews)
    await organizer.press("Send now", confirm)
    progress = await organizer.expect("Announcement #")
    assert "⏹ Stop sending" in progress.button_texts()
    await finish(bot)

    for user, word in ((en, "Lunch"), (ko, "Lunch"), (unset, "Lunch"), (ru, "Обед"), (zh, "午餐")):
        got = [m for m in user.messages if word in m.text]
        assert len(got) == 1, (user, user.dump())
        others = {w for w in ("Lunch", "Обед", "午餐") if w != word}
        assert not any(o in m.text for m in user.messages for o in others)
    english = next(m for m in en.messages if "Lunch" in m.text)
    assert "<b>coffee</b>" in (english.html or "")
    assert "&lt;Hall 2&gt;" in (english.html or "")
    assert gone.messages == []
    report = await organizer.expect("Finished")
    assert "Sent: 5" in report.text and "Left: 0" in report.text


async def test_audience_by_language_and_role(api: FakeBotApi, bot: BotApplication) -> None:
    en = await seed(api, bot, 311, locale="en", role=Role.INVESTOR)
    ru = await seed(api, bot, 312, locale="ru", role=Role.UNIVERSITY)
    ru2 = await seed(api, bot, 313, locale="ru", role=Role.INVESTOR)
    organizer = api.user(ORGANIZER, "Olga", language_code="en")

    audience = await write_broadcast(api, organizer, {"en": "Investors meet at 5"})
    await organizer.press("By role", audience)
    roles = await organizer.expect("By role")
    await organizer.press("Investor", roles)
    confirm = await organizer.expect("Send the announcement to 2 delegates")
    await organizer.press("Send now", confirm)
    await finish(bot)
    assert len([m for m in en.messages if "Investors meet" in m.text]) == 1
    assert len([m for m in ru2.messages if "Investors meet" in m.text]) == 1
    assert ru.messages == []

    audience = await write_broadcast(api, organizer, {"en": "Russian speakers: bus at 6"})
    await organizer.press("By language", audience)
    languages = await organizer.expect("By language")
    await organizer.press("Русский", languages)
    confirm = await organizer.expect("Send the announcement to 2 delegates")
    await organizer.press("Send now", confirm)
    await finish(bot)
    assert [m for m in en.messages if "bus at 6" in m.text] == []
    assert len([m for m in ru.messages if "bus at 6" in m.text]) == 1


async def test_broadcast_survives_429_403_and_5xx(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    users = [await seed(api, bot, 320 + n, locale="en") for n in range(6)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Doors open at nine"})
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 6 delegates")
    services = services_of(bot)
    await services.delivery.sender.stop()  # the failures below are meant for the broadcast
    await organizer.press("Send now", confirm)
    await organizer.expect("Announcement #")
    api.block_user(users[0].user_id)
    api.fail_next("sendMessage", status=429, retry_after=1)
    api.fail_next("sendMessage", status=502, count=2)
    assert bot.bot is not None
    await services.delivery.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=15)
    clock.advance(dt.timedelta(minutes=1))
    await services.delivery.dispatcher.run_due(clock.now())
    await finish(bot)
    for user in users[1:]:
        assert len([m for m in user.messages if "Doors open" in m.text]) == 1, user.dump()
    assert users[0].messages == []
    broadcast_id = (await services.broadcasts.repo.sending() or [None])[0]
    assert broadcast_id is None  # finished
    report = await organizer.expect("Finished")
    assert "Sent: 5" in report.text and "Unreachable: 1" in report.text
    assert "Left: 0" in report.text
    assert (await services.outbox.counts())[State.DEAD] == 0


async def test_stop_drops_what_is_still_owed(api: FakeBotApi, bot: BotApplication) -> None:
    users = [await seed(api, bot, 340 + n, locale="en") for n in range(5)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Programme changed"})
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 5 delegates")
    services = services_of(bot)
    await services.delivery.sender.stop()  # nothing goes out before the organizer stops it
    await organizer.press("Send now", confirm)
    progress = await organizer.expect("Announcement #")
    assert "Left: 5" in progress.text
    await organizer.press("Stop sending", progress)
    stopped = await organizer.expect("Stopped by an organizer")
    assert "Not sent (stopped): 5" in stopped.text and stopped.button_texts() == []
    assert bot.bot is not None
    await services.delivery.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=10)
    assert all(u.messages == [] for u in users)
    # A second press on the stale button changes nothing.
    await organizer.press_data(progress.buttons[0][0][1] or "", progress)
    await api.settle()
    assert "no longer active" in organizer.callback_answers[-1].get("text", "")


async def test_a_kill_mid_broadcast_then_a_restart_sends_each_copy_once(
    tmp_path: Path,
) -> None:
    recipients = 60
    database = tmp_path / "crash.db"
    await bench.prepare_database(database, recipients)
    async with FakeBotApi() as api:
        users = [api.user(bench.RECIPIENT_BASE + n, f"D{n}") for n in range(recipients)]
        env = bench.broadcast_environment(api, database, rate_limit=False)
        crashing = await bench.start_bot(
            env | {"MATCHMAKER_CRASH_AT": "outbox.after_send:30"}, tmp_path / "first.log"
        )
        try:
            await bench.send_announcement(api, timeout=20)
            assert await asyncio.wait_for(crashing.wait(), 60) == EXIT_CODE
        finally:
            if crashing.returncode is None:
                crashing.kill()
                await crashing.wait()
        in_flight = bench.count_state(database, "sending")
        assert 0 < bench.count_state(database, "sent") < recipients, "the crash came mid-way"
        restarted = await bench.start_bot(env, tmp_path / "second.log")
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while bench.count_state(database, "sent") < recipients:
                assert asyncio.get_running_loop().time() < deadline, "not everything was sent"
                await asyncio.sleep(0.1)
        finally:
            await bench.stop_process(restarted)
        await api.settle()
        missed, wrong, duplicates = bench.audit(users)
        assert api.rejected == []
    assert (missed, wrong) == (0, 0)
    # Only items left 'sending' at the kill can arrive twice.
    assert 1 <= duplicates <= in_flight


async def test_an_audience_that_empties_before_sending_sends_nothing(
    api: FakeBotApi, bot: BotApplication
) -> None:
    only = await seed(api, bot, 360, locale="en")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Too late"})
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 1 delegate")
    services = services_of(bot)
    await services.outbox.mark_unreachable(only.chat_id, "blocked meanwhile")
    await organizer.press("Send now", confirm)
    await api.settle()
    assert "Nobody is in this audience" in organizer.callback_answers[-1].get("text", "")
    draft = await services.broadcasts.draft(ORGANIZER)
    assert draft is not None and draft.state == "draft"
    assert only.messages == []


async def test_too_long_a_text_is_refused_and_the_draft_waits(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/broadcast")
    await organizer.expect("New announcement")
    await organizer.send_text("x" * 3801)
    await organizer.expect("too long")
    await organizer.send_text("Short enough")
    await organizer.expect("Versions written")


PHOTO = b"\x89PNG\r\n\x1a\nthe venue map"


async def texts_then_attach(
    organizer: FakeUser, versions: dict[str, str], attach: Callable[[], Awaitable[None]]
) -> BotMessage:
    """Write the versions, attach a file and return the versions menu that shows it."""
    labels = {"ru": "Русский", "zh": "中文"}
    await organizer.send_text("/broadcast")
    await organizer.expect("New announcement")
    first, *others = versions
    await organizer.send_text(versions[first])
    menu = await organizer.expect("Versions written")
    for locale in others:
        await organizer.press("➕ " + labels[locale], menu)
        await organizer.expect("Send the announcement in")
        await organizer.send_text(versions[locale])
        menu = await organizer.expect("Versions written")
    await organizer.press("📎 Attach a photo or document", menu)
    await organizer.expect("Send the photo or document to attach")
    await attach()
    return await organizer.expect("Versions written")


async def send_to_everyone(organizer: FakeUser, menu: BotMessage, n: int) -> None:
    await organizer.press(-2, menu)  # keep one text / choose the audience
    audience = await organizer.expect("Who should receive")
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect(f"Send the announcement to {n} delegate")
    await organizer.press("Send now", confirm)
    await organizer.expect("Announcement #")


async def test_photo_in_two_languages_one_photo_per_chat(
    api: FakeBotApi, bot: BotApplication
) -> None:
    en = await seed(api, bot, 341, locale="en")
    ru = await seed(api, bot, 342, locale="ru")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    versions = {"en": "Lunch is in <Hall 2>: see the map", "ru": "Обед в зале 2: см. карту"}

    menu = await texts_then_attach(organizer, versions, lambda: organizer.send_photo(PHOTO))
    assert "📎 Attached: photo" in menu.text
    assert "✖️ Remove attachment" in menu.button_texts()
    assert "📎 Attach a photo or document" not in menu.button_texts()
    draft = await services_of(bot).broadcasts.draft(ORGANIZER)
    assert draft is not None and draft.attachment is not None
    # The largest of the sizes Telegram offers (the last one, 800 px wide).
    assert draft.attachment.kind == "photo"
    assert draft.attachment.file_id == list(api._files)[-1]
    await send_to_everyone(organizer, menu, 2)
    previews = [m for m in organizer.messages if "Preview as" in m.text]
    assert previews and all("📎 Attached: photo" in m.text for m in previews)
    await finish(bot)

    for user, word, other in ((en, "Lunch", "Обед"), (ru, "Обед", "Lunch")):
        assert len(user.messages) == 1, user.dump()
        message = user.messages[0]
        assert message.kind == "photo", user.dump()
        assert message.photo == PHOTO
        assert word in message.text and other not in message.text
    assert "&lt;Hall 2&gt;" in (en.messages[0].html or "")
    report = await organizer.expect("Finished")
    assert "Sent: 2" in report.text


async def test_document_goes_with_the_caption(api: FakeBotApi, bot: BotApplication) -> None:
    delegates = [await seed(api, bot, 350 + n, locale="en") for n in range(2)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    content = b"%PDF-1.4 the programme"

    menu = await texts_then_attach(
        organizer,
        {"en": "The programme is attached"},
        lambda: organizer.send_document("programme.pdf", content),
    )
    assert "📎 Attached: document" in menu.text
    # Removing and attaching again works.
    await organizer.press("✖️ Remove attachment", menu)
    menu = await organizer.expect("Versions written")
    while menu.edited:  # the old menu losing its buttons
        menu = await organizer.expect("Versions written")
    assert "Attached" not in menu.text
    await organizer.press("📎 Attach a photo or document", menu)
    await organizer.expect("Send the photo or document to attach")
    await organizer.send_document("programme.pdf", content)
    menu = await organizer.expect("Versions written")
    assert "📎 Attached: document" in menu.text
    await send_to_everyone(organizer, menu, 2)
    await finish(bot)

    for user in delegates:
        assert len(user.messages) == 1, user.dump()
        message = user.messages[0]
        assert message.kind == "document"
        assert message.document is not None and message.document[1] == content
        assert "The programme is attached" in message.text


async def test_overlong_text_with_an_attachment_is_refused(
    api: FakeBotApi, bot: BotApplication
) -> None:
    delegate = await seed(api, bot, 361, locale="en")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    services = services_of(bot)
    room = services.broadcasts.caption_room()
    assert 900 < room < 1024

    # Attaching to a text too long for a caption is refused; the text can still go alone.
    await organizer.send_text("/broadcast")
    await organizer.expect("New announcement")
    await organizer.send_text("x" * (room + 1))
    menu = await organizer.expect("Versions written")
    await organizer.press("📎 Attach a photo or document", menu)
    refusal = await organizer.expect("cannot be attached")
    assert str(room) in refusal.text and "English" in refusal.text
    draft = await services.broadcasts.draft(ORGANIZER)
    assert draft is not None and draft.attachment is None and draft.step == "versions"

    # With an attachment, a version too long for a caption is refused and not stored.
    menu = await texts_then_attach(
        organizer, {"en": "y" * room}, lambda: organizer.send_photo(PHOTO)
    )
    await organizer.press("➕ Русский", menu)
    await organizer.expect("Send the announcement in")
    await organizer.send_text("ж" * (room + 1))
    refusal = await organizer.expect("too long to go with")
    assert str(room) in refusal.text
    draft = await services.broadcasts.draft(ORGANIZER)
    assert draft is not None and list(draft.versions) == ["en"]
    await organizer.press("Back", refusal)
    menu = await organizer.expect("Versions written")
    assert "📎 Attached: photo" in menu.text
    await send_to_everyone(organizer, menu, 1)
    await finish(bot)
    assert [m.kind for m in delegate.messages] == ["photo"]
    assert delegate.messages[0].text.endswith("y" * room)


async def test_a_report_that_meets_an_outage_still_reaches_the_organizer(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    users = [await seed(api, bot, 340 + n, locale="en") for n in range(3)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Buses leave at six"})
    await organizer.press("Everyone", audience)
    await organizer.press("Send now", await organizer.expect("Send the announcement to 3"))
    progress = await organizer.expect("Announcement #")
    services = services_of(bot)
    await services.delivery.sender.wait_idle(timeout=10)
    assert all(len(u.messages) == 1 for u in users)
    # Every copy went out; Telegram fails just when the final edit and report are due.
    api.outage = 502
    await services.delivery.dispatcher.run_due(clock.now())
    await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    assert "Sending" in shown(organizer, progress.message_id).text
    assert not [m for m in organizer.messages if "Finished" in m.text]
    # Telegram is back: the report is owed, not lost, and the progress message is finished.
    api.outage = None
    for _ in range(2):
        clock.advance(dt.timedelta(seconds=30))
        await services.delivery.dispatcher.run_due(clock.now())
        await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    reports = [m for m in organizer.messages if m.message_id != progress.message_id]
    finished = [m for m in reports if "Finished" in m.text]
    assert len(finished) == 1 and "Sent: 3" in finished[0].text, organizer.dump()
    assert "Finished" in shown(organizer, progress.message_id).text
    assert (await services.outbox.counts())[State.DEAD] == 0


def shown(user: FakeUser, message_id: int) -> BotMessage:
    """A message as the user sees it now, edits included."""
    return next(m for m in user.messages if m.message_id == message_id)


async def test_a_report_and_final_edit_that_meet_a_429_are_sent_after_the_pause(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    users = [await seed(api, bot, 360 + n, locale="en") for n in range(2)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Dinner at eight"})
    await organizer.press("Everyone", audience)
    await organizer.press("Send now", await organizer.expect("Send the announcement to 2"))
    progress = await organizer.expect("Announcement #")
    services = services_of(bot)
    await services.delivery.sender.wait_idle(timeout=10)
    assert all(len(u.messages) == 1 for u in users)
    api.fail_next("editMessageText", status=429, retry_after=1)
    api.fail_next("sendMessage", status=429, retry_after=1)
    await services.delivery.dispatcher.run_due(clock.now())
    report = await organizer.expect("Finished", timeout=10)
    assert report.message_id != progress.message_id and "Sent: 2" in report.text
    assert "Sending" in shown(organizer, progress.message_id).text
    await services.delivery.dispatcher.run_due(clock.now())
    await api.settle()
    assert "Finished" in shown(organizer, progress.message_id).text
    assert [c.status for c in api.calls if c.method == "editMessageText"][-2:] == [429, 200]


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        ("en", "Write the announcement in Russian (Русский)"),
        # In Arabic the same, each part isolated so the Cyrillic name cannot reorder it.
        ("ar", "\u2068\u2068الروسية\u2069 (\u2068Русский\u2069)\u2069"),
        ("zh", "俄语（Русский）"),
    ],
)
async def test_the_organizer_is_asked_for_a_language_by_both_its_names(
    api: FakeBotApi, bot: BotApplication, language_code: str, expected: str
) -> None:
    organizer = api.user(ORGANIZER, "Olga", language_code=language_code)
    await organizer.send_text("/broadcast")
    prompt = await organizer.expect("📢")
    await organizer.press("Русский", prompt)
    asked = await organizer.expect("Русский")
    assert expected in asked.text, asked.text
