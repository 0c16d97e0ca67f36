"""The fake Bot API against python-telegram-bot's real Bot and against raw HTTP requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import derive_spec
from bot.sandbox.fake_api import SUPERSEDE_GRACE, FakeBotApi

os.environ.setdefault("PTB_TIMEDELTA", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]
API_JSON = REPO_ROOT.parent / "shared" / "botapi" / "api.json"
SPEC_JSON = REPO_ROOT / "bot" / "sandbox" / "botapi_spec.json"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    client = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
    await client.initialize()
    yield client
    await client.shutdown()


@pytest.fixture
async def http(api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.base_url}{api.token}/") as client:
        yield client


def seconds(value: object) -> float:
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    assert isinstance(value, int | float)
    return float(value)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"b{i}", callback_data=d)] for i, d in enumerate(data)]
    )


async def test_get_me(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "matchmaker_test_bot"
    assert me.is_bot and me.id == 123456
    assert [c.method for c in api.calls] == ["getMe", "getMe"]
    assert api.rejected == []


async def test_long_poll_returns_pushed_update_and_offset_forgets_it(
    api: FakeBotApi, bot: Bot
) -> None:
    alice = api.user(7, "Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done(), "getUpdates must hold the request until an update arrives"
    await alice.send_text("/start hello")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start hello"
    assert message.chat.id == 7 and message.from_user is not None
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id], "unconfirmed: delivered again"
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert await bot.get_updates(timeout=0) == (), "confirmed updates are forgotten"
    await api.settle(quiet=0.01, timeout=1)
    assert api.rejected == []


async def test_html_message_is_parsed_like_telegram(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1, "Alice")
    sent = await bot.send_message(
        1,
        "<b>Anna &lt;Smith&gt;</b> &amp; Co &#128512; <a href='https://x.org/?a=1&amp;b=2'>x</a>",
        parse_mode="HTML",
    )
    assert sent.text == "Anna <Smith> & Co 😀 x"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 12),
        ("text_link", 21, 1),
    ]
    assert sent.entities[1].url == "https://x.org/?a=1&b=2"
    shown = alice.last()
    assert shown.text == "Anna <Smith> & Co 😀 x" and shown.parse_mode == "HTML"
    assert shown.html is not None and shown.html.startswith("<b>Anna &lt;")
    assert api.rejected == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("R&D", 'Character "&" at byte offset 1'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_malformed_html_is_rejected(
    api: FakeBotApi, bot: Bot, text: str, detail: str
) -> None:
    api.user(1)
    # PTB capitalizes descriptions (lowercasing the rest), so the exact text is checked on
    # the server side.
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(1, text, parse_mode="HTML")
    assert len(api.rejected) == 1 and api.rejected[0].method == "sendMessage"
    error = api.rejected[0].error
    assert error is not None and error.startswith("Bad Request: can't parse entities: ")
    assert detail in error


async def test_text_limit_counts_utf16_after_entity_parsing(api: FakeBotApi, bot: Bot) -> None:
    api.user(1)
    await bot.send_message(1, "😀" * 2048)
    await bot.send_message(1, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(1, "<b> </b>\n", parse_mode="HTML")
    assert len(api.rejected) == 2


async def test_callback_data_is_limited_to_64_bytes(api: FakeBotApi, bot: Bot) -> None:
    api.user(1)
    await bot.send_message(1, "ok", reply_markup=keyboard("é" * 32))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(1, "too long", reply_markup=keyboard("é" * 32 + "a"))
    assert [c.error for c in api.rejected] == ["Bad Request: BUTTON_DATA_INVALID"]


async def test_button_without_action_is_rejected(api: FakeBotApi, http: httpx.AsyncClient) -> None:
    api.user(1)
    markup = {"inline_keyboard": [[{"text": "plain"}]]}
    response = await http.post(
        "sendMessage", data={"chat_id": "1", "text": "x", "reply_markup": json.dumps(markup)}
    )
    assert response.status_code == 400
    assert response.json()["description"].startswith(
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed"
    )


@pytest.mark.parametrize(
    ("method", "data", "status", "description"),
    [
        ("sendMessage", {"chat_id": "1", "text": "x", "colour": "red"}, 400, "unknown parameter"),
        (
            "editMessageReplyMarkup",
            {"chat_id": "1", "message_id": "1", "parse_mode": "HTML"},
            400,
            'unknown parameter "parse_mode"',
        ),
        ("sendMessage", {"chat_id": "1"}, 400, "message text is empty"),
        ("sendMessage", {"text": "x"}, 400, "chat_id is empty"),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "disable_notification": "maybe"},
            400,
            'Field "disable_notification" must be of type Boolean',
        ),
        (
            "editMessageText",
            {"chat_id": "1", "message_id": "one", "text": "x"},
            400,
            'Field "message_id" must be of type Integer',
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": "{not json"},
            400,
            "can't parse reply keyboard markup JSON object",
        ),
        ("sendMessage", {"chat_id": "999", "text": "x"}, 400, "chat not found"),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "parse_mode": "BBCode"},
            400,
            "unsupported parse_mode",
        ),
        (
            "setMyCommands",
            {"commands": json.dumps([{"command": "Start", "description": "d"}])},
            400,
            "BOT_COMMAND_INVALID",
        ),
        ("answerCallbackQuery", {"callback_query_id": "42"}, 400, "query is too old"),
        (
            "deleteMessage",
            {"chat_id": "1", "message_id": "77"},
            400,
            "message to delete not found",
        ),
        ("sendMessages", {"chat_id": "1", "text": "x"}, 404, "Not Found"),
    ],
)
async def test_protocol_errors_are_rejected(
    api: FakeBotApi,
    http: httpx.AsyncClient,
    method: str,
    data: dict[str, str],
    status: int,
    description: str,
) -> None:
    api.user(1)
    response = await http.post(method, data=data)
    body: dict[str, Any] = response.json()
    assert response.status_code == status
    assert body["ok"] is False and body["error_code"] == status
    assert description in body["description"]
    assert len(api.rejected) == 1 and api.rejected[0].status == status


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{api.base_url}1:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert len(api.rejected) == 1


async def test_json_body_and_method_names_are_accepted(
    api: FakeBotApi, http: httpx.AsyncClient
) -> None:
    api.user(1)
    response = await http.post(
        "SENDMESSAGE",
        json={
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]},
        },
    )
    assert response.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    assert api.rejected == []


async def test_message_not_modified(api: FakeBotApi, bot: Bot) -> None:
    api.user(1)
    sent = await bot.send_message(1, "<b>same</b>", parse_mode="HTML", reply_markup=keyboard("k"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>same</b>", 1, sent.message_id, parse_mode="HTML", reply_markup=keyboard("k")
        )
    # Same text with other formatting is a modification.
    edited = await bot.edit_message_text("same", 1, sent.message_id, reply_markup=keyboard("k"))
    assert not isinstance(edited, bool) and edited.text == "same"
    # Leaving out reply_markup removes the keyboard, which is a modification too.
    await bot.edit_message_text("same", 1, sent.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(1, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 1, 999)
    assert [c.method for c in api.rejected] == [
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageText",
    ]


async def test_injected_429_gives_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.user(1)
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hi")
    assert seconds(caught.value.retry_after) == 7
    await bot.send_message(1, "hi")
    assert api.rejected == []
    assert [c.status for c in api.calls if c.method == "sendMessage"] == [429, 200]


async def test_injected_failure_for_any_sending_method(api: FakeBotApi, bot: Bot) -> None:
    api.user(1)
    api.fail_next(None, status=403, count=2)
    await bot.get_me()
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(1, "hi")
    await bot.send_message(1, "hi")
    assert api.rejected == []


async def test_blocked_user_gives_forbidden(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1)
    api.block_user(1)
    assert alice.blocked
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1, "hi")
    api.block_user(1, blocked=False)
    await bot.send_message(1, "hi")
    assert api.rejected == [] and len(alice.messages) == 1


async def test_rate_limits_when_enforced(api: FakeBotApi, bot: Bot) -> None:
    for user_id in range(1, 33):
        api.user(user_id)
    api.enforce_rate_limits = True
    results = await asyncio.gather(
        *(bot.send_message(user_id, "hi") for user_id in range(1, 32)), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], RetryAfter)
    assert seconds(failures[0].retry_after) == 1
    api.enforce_rate_limits = False
    await bot.send_message(32, "one")
    api.enforce_rate_limits = True
    with pytest.raises(RetryAfter):
        await bot.send_message(32, "two in the same second")
    assert api.rejected == []


async def test_press_delivers_a_callback_query(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(5, "Alice", language_code="ru")
    sent = await bot.send_message(
        5,
        "Pick",
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Yes", callback_data="y"),
                    InlineKeyboardButton("No", callback_data="n"),
                ],
                [InlineKeyboardButton("Site", url="https://example.org")],
            ]
        ),
    )
    event = await alice.next_event(timeout=1)
    assert event.message_id == sent.message_id
    assert event.buttons == [[("Yes", "y"), ("No", "n")], [("Site", "https://example.org")]]
    await alice.press("No")
    await alice.press(0)
    with pytest.raises(AssertionError, match="no callback_data"):
        await alice.press("Site")
    with pytest.raises(AssertionError, match="no button"):
        await alice.press("Maybe")
    updates = await bot.get_updates(timeout=0)
    queries = [u.callback_query for u in updates]
    assert [q.data for q in queries if q] == ["n", "y"]
    query = queries[0]
    assert query is not None and query.from_user.language_code == "ru"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Noted", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    assert alice.callback_answers == [
        {"callback_query_id": query.id, "text": "Noted", "show_alert": True}
    ]
    assert len(api.rejected) == 1


async def test_expect_times_out_with_transcript(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1)
    await bot.send_message(1, "first")
    with pytest.raises(AssertionError, match=r"(?s)no bot message matching 'second'.*first"):
        await alice.expect("second", timeout=0.05)


async def test_documents_and_files(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1)
    await bot.send_document(
        1, b"a,b\n1,2\n", filename="export.csv", caption="<i>Export</i>", parse_mode="HTML"
    )
    shown = alice.last()
    assert shown.kind == "document" and shown.text == "Export"
    assert shown.document == ("export.csv", b"a,b\n1,2\n")
    await alice.send_document("list.txt", b"hello")
    updates = await bot.get_updates(timeout=0)
    document = updates[0].message.document if updates[0].message else None
    assert document is not None and document.file_name == "list.txt"
    telegram_file = await bot.get_file(document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == b"hello"
    assert api.rejected == []


async def test_set_my_commands_is_recorded(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("help", "Help")], language_code="ru"
    )
    assert api.commands[("ru", "default")] == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start", "help"]
    assert api.rejected == []


async def test_real_application_round_trip(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            "Hello <b>there</b>", parse_mode="HTML", reply_markup=keyboard("again")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"You pressed {query.data}")

    app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    alice = api.user(3, "Alice")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await alice.open_link("ref42")
        hello = await alice.expect("Hello there")
        assert hello.button_texts() == ["b0"]
        await alice.press("b0")
        edited = await alice.expect("You pressed again")
        assert edited.edited and edited.buttons == []
        await api.settle(quiet=0.02, timeout=2)
        await app.updater.stop()
        await app.stop()
    assert alice.messages[0].text == "You pressed again"
    assert api.rejected == []


@pytest.mark.skipif(not API_JSON.exists(), reason="../shared/botapi/api.json is not reachable")
def test_committed_spec_matches_fresh_derivation() -> None:
    assert SPEC_JSON.read_text(encoding="utf-8") == derive_spec.derive_file(API_JSON)


async def test_photo_upload_and_reply(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1, "Alice")
    await alice.send_text("hello")
    updates = await bot.get_updates(timeout=0)
    incoming = updates[0].message
    assert incoming is not None
    photo = await incoming.reply_photo(b"\x89PNG fake", caption="Your badge", do_quote=True)
    assert photo.reply_to_message is not None and photo.reply_to_message.text == "hello"
    assert photo.photo and photo.caption == "Your badge"
    shown = alice.last()
    assert shown.kind == "photo" and shown.photo == b"\x89PNG fake" and shown.text == "Your badge"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(1, "x", reply_to_message_id=99)
    mention = await bot.send_message(1, '<a href="tg://user?id=1">you</a>', parse_mode="HTML")
    assert mention.entities[0].user is not None and mention.entities[0].user.first_name == "Alice"
    assert len(api.rejected) == 1


async def test_second_poller_conflicts(api: FakeBotApi, bot: Bot) -> None:
    # The first poll is told of the second once its grace for a client gone away has passed.
    first = asyncio.create_task(bot.get_updates(timeout=int(SUPERSEDE_GRACE) + 5))
    await asyncio.sleep(0.05)
    async with Bot(api.token, base_url=api.base_url) as other:
        second = asyncio.create_task(other.get_updates(timeout=int(SUPERSEDE_GRACE) + 3))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, SUPERSEDE_GRACE + 2)
        await api.user(1).send_text("hi")
        assert len(await asyncio.wait_for(second, 2)) == 1
    assert [c.method for c in api.rejected] == ["getUpdates"]


async def test_settle_reports_updates_nobody_fetched(api: FakeBotApi) -> None:
    await api.user(1).send_text("anyone?")
    with pytest.raises(AssertionError, match="1 update"):
        await api.settle(quiet=0.01, timeout=0.1)


async def test_answer_inline_query_is_checked_against_the_spec(
    api: FakeBotApi, http: httpx.AsyncClient
) -> None:
    user = api.user(7)
    query_id = api.push_inline_query(user, "membranes")

    async def answer(results: list[dict[str, Any]], qid: str = query_id) -> dict[str, Any]:
        body = {"inline_query_id": qid, "results": json.dumps(results)}
        reply: dict[str, Any] = (await http.post("answerInlineQuery", data=body)).json()
        return reply

    article = {
        "type": "article",
        "id": "x1",
        "title": "Membrane",
        "input_message_content": {"message_text": "<b>Membrane</b>", "parse_mode": "HTML"},
    }
    no_title = {k: v for k, v in article.items() if k != "title"}
    assert "title" in (await answer([no_title]))["description"]
    assert "Unsupported" in (await answer([{**article, "type": "nonsense"}]))["description"]
    assert "DUPLICATE" in (await answer([article, article]))["description"]
    assert (await answer([article], qid="999"))["ok"] is False
    assert (await answer([article]))["ok"] is True
    assert api.inline_answers[query_id]["results"][0]["title"] == "Membrane"
    assert (await answer([article]))["ok"] is False  # answered once only
    api.rejected.clear()
