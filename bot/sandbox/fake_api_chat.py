"""The user side of the fake Bot API: what a person in a private chat with the bot sees and does.

``FakeUser`` objects are created by ``FakeBotApi.user``; they push updates (messages, button
presses) into the fake server and record everything the bot sends to their chat.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import mimetypes
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

JsonDict = dict[str, Any]


class ChatServer(Protocol):
    """What a fake user needs of its server (FakeBotApi): the one seam between the two modules."""

    def is_blocked(self, user_id: int) -> bool: ...

    def store_file(self, content: bytes, filename: str, folder: str) -> tuple[str, str]: ...

    def push_user_message(self, user: FakeUser, content: JsonDict) -> JsonDict: ...

    def push_callback_query(self, user: FakeUser, message: BotMessage, data: str) -> str: ...

    def push_inline_query(self, user: FakeUser, query: str, offset: str = "") -> str: ...

    def push_update(self, update: JsonDict) -> int: ...


@dataclass
class ApiCall:
    """One request the bot made.  ``error`` is the error description for non-ok answers."""

    method: str
    params: JsonDict
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class BotMessage:
    """A message the bot sent, as the user sees it (edits applied, deletions flagged)."""

    message_id: int
    chat_id: int
    text: str
    html: str | None = None
    parse_mode: str | None = None
    buttons: list[list[tuple[str, str | None]]] = field(default_factory=list)
    kind: str = "text"
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    edited: bool = False
    deleted: bool = False
    # Reply keyboard (custom keyboard under the input field) sent with this message, if any.
    reply_keyboard: list[list[str]] | None = None
    # The Message object as Telegram currently holds it (what a button press carries along).
    raw: JsonDict = field(default_factory=dict, repr=False)

    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def snapshot(self) -> BotMessage:
        return dataclasses.replace(
            self,
            buttons=[list(row) for row in self.buttons],
            reply_keyboard=[list(r) for r in self.reply_keyboard] if self.reply_keyboard else None,
            raw=copy.deepcopy(self.raw),
        )

    def describe(self) -> str:
        flags = "".join(
            f" ({flag})" for flag, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        lines = [f"bot #{self.message_id} [{self.kind}]{flags}: {self.text}"]
        if self.document is not None:
            lines.append(f"  document: {self.document[0]} ({len(self.document[1])} bytes)")
        for row in self.buttons:
            lines.append("  " + " | ".join(f"[{text}]" for text, _ in row))
        if self.reply_keyboard:
            for reply_row in self.reply_keyboard:
                lines.append("  " + " | ".join(f"<{text}>" for text in reply_row))
        return "\n".join(lines)


def _command_entities(text: str) -> list[JsonDict]:
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        api: ChatServer,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> None:
        self._api = api
        self.user_id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.messages: list[BotMessage] = []
        self.callback_answers: list[JsonDict] = []
        self.chat_actions: list[str] = []
        self.transcript: list[str] = []
        self.sent: list[JsonDict] = []  # the messages this user sent, as Telegram stored them
        self._events: asyncio.Queue[BotMessage] = asyncio.Queue()

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id}, {self.first_name!r})"

    @property
    def blocked(self) -> bool:
        return self._api.is_blocked(self.user_id)

    def user_dict(self) -> JsonDict:
        data: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> JsonDict:
        data: JsonDict = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data

    # -- things the user does -----------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        content: JsonDict = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        await self._send(content, f"user: {text}")

    async def open_link(self, payload: str) -> None:
        """Like tapping t.me/<bot>?start=<payload>: Telegram sends "/start <payload>"."""
        await self.send_text(f"/start {payload}")

    async def send_sticker(self, emoji: str = "👍") -> None:
        file_id, unique_id = self._api.store_file(b"RIFF\0\0\0\0WEBP", "sticker.webp", "stickers")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 12,
        }
        await self._send({"sticker": sticker}, f"user: <sticker {emoji}>")

    async def send_photo(
        self, content: bytes = b"\x89PNG\r\n\x1a\nfake", caption: str = ""
    ) -> None:
        sizes = []
        for width in (90, 320, 800):
            file_id, unique_id = self._api.store_file(content, "photo.jpg", "photos")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": len(content),
                }
            )
        data: JsonDict = {"photo": sizes}
        if caption:
            data["caption"] = caption
        await self._send(data, f"user: <photo> {caption}".rstrip())

    async def send_location(self, latitude: float = 52.5200, longitude: float = 13.4050) -> None:
        location = {"latitude": latitude, "longitude": longitude}
        await self._send({"location": location}, f"user: <location {latitude},{longitude}>")

    async def send_contact(self, phone: str, *, own: bool = True) -> None:
        contact: JsonDict = {"phone_number": phone, "first_name": self.first_name}
        if own:
            contact["user_id"] = self.user_id
        await self._send({"contact": contact}, f"user: <contact {phone}>")

    async def send_document(
        self, filename: str, content: bytes, mime_type: str | None = None
    ) -> None:
        file_id, unique_id = self._api.store_file(content, filename, "documents")
        document: JsonDict = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": filename,
            "file_size": len(content),
        }
        guessed = mime_type or _guess_mime(filename)
        if guessed:
            document["mime_type"] = guessed
        await self._send({"document": document}, f"user: <document {filename}>")

    async def press(self, button: str | int, message: BotMessage | None = None) -> None:
        """Press an inline button by exact text, unique substring or row-major index.

        Negative indices count from the last button, as in Python.
        """
        target = message if message is not None else self._last_with_keyboard()
        if target.deleted:
            raise AssertionError(f"message #{target.message_id} was deleted\n{self.dump()}")
        flat = [b for row in target.buttons for b in row]
        index: int
        if isinstance(button, int):
            if not -len(flat) <= button < len(flat):
                raise AssertionError(
                    f"no button #{button} on message #{target.message_id} "
                    f"(it has {len(flat)})\n{self.dump()}"
                )
            index = button % len(flat)
        else:
            exact = [k for k, b in enumerate(flat) if b[0] == button]
            partial = [k for k, b in enumerate(flat) if button in b[0]]
            if exact:
                index = exact[0]
            elif len(partial) == 1:
                index = partial[0]
            elif partial:
                names = ", ".join(repr(flat[k][0]) for k in partial)
                raise AssertionError(
                    f"button {button!r} is ambiguous on message #{target.message_id}: {names}"
                )
            else:
                raise AssertionError(
                    f"no button {button!r} on message #{target.message_id}; buttons: "
                    f"{target.button_texts()}\n{self.dump()}"
                )
        chosen = flat[index]
        markup = target.raw.get("reply_markup") or {}
        raw_buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
        raw = raw_buttons[index] if index < len(raw_buttons) else {}
        if isinstance(raw.get("switch_inline_query"), str):
            # Telegram lets the user pick a chat and types "@bot <query>" there.
            self._api.push_inline_query(self, raw["switch_inline_query"])
            await asyncio.sleep(0)
            return
        data = raw.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(
                f"button {chosen[0]!r} on message #{target.message_id} has no callback_data "
                f"(url/other button: {chosen[1]!r})"
            )
        await self._press(target, data, f"user: presses [{chosen[0]}] on #{target.message_id}")

    async def press_data(self, data: str, message: BotMessage | None = None) -> None:
        """Send callback_data the keyboard doesn't necessarily contain (a forged/stale press)."""
        target = message
        if target is None:
            candidates = [m for m in self.messages if not m.deleted]
            with_keyboard = [m for m in candidates if m.buttons]
            pool = with_keyboard or candidates
            if not pool:
                raise AssertionError(f"the bot has sent no message to press on\n{self.dump()}")
            target = pool[-1]
        await self._press(target, data, f"user: callback {data!r} on #{target.message_id}")

    # -- what the user sees -------------------------------------------------------------------

    def last(self) -> BotMessage:
        for message in reversed(self.messages):
            if not message.deleted:
                return message
        raise AssertionError(f"the bot has sent nothing to {self!r}\n{self.dump()}")

    async def next_event(self, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        """The next new or edited bot message in this chat since the previous call."""
        try:
            return await asyncio.wait_for(self._events.get(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no new or edited bot message for {self!r} within {timeout}s\n{self.dump()}"
            ) from None

    async def expect(self, pattern: str, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        """Skip events until one whose text matches ``re.search(pattern, text, re.S)``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[BotMessage] = []
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                event = await asyncio.wait_for(self._events.get(), remaining)
            except TimeoutError:
                shown = "\n".join(e.describe() for e in seen) or "(none)"
                raise AssertionError(
                    f"no bot message matching {pattern!r} for {self!r} within {timeout}s.\n"
                    f"Events seen:\n{shown}\nChat:\n{self.dump()}"
                ) from None
            if re.search(pattern, event.text, re.S):
                return event
            seen.append(event)

    def drain_events(self) -> list[BotMessage]:
        """Consume and return every queued event without waiting."""
        events: list[BotMessage] = []
        while not self._events.empty():
            events.append(self._events.get_nowait())
        return events

    def dump(self) -> str:
        return "\n".join(self.transcript) or "(empty chat)"

    # -- used by FakeBotApi ---------------------------------------------------------------

    def record_event(self, message: BotMessage, line: str) -> None:
        self.transcript.append(line)
        self._events.put_nowait(message.snapshot())

    def _last_with_keyboard(self) -> BotMessage:
        for message in reversed(self.messages):
            if message.buttons and not message.deleted:
                return message
        raise AssertionError(f"no bot message with an inline keyboard\n{self.dump()}")

    async def edit_text(self, sent: int, text: str) -> None:
        """Edit the user's own `sent`-th text message (0 the first, -1 the latest), as the
        Telegram app does: an `edited_message` update with the same message id."""
        original = self.sent[sent]
        content: JsonDict = {**original, "text": text, "edit_date": int(time.time())}
        content.pop("entities", None)
        if entities := _command_entities(text):
            content["entities"] = entities
        self.transcript.append(f"user edits #{original['message_id']}: {text}")
        self._api.push_update({"edited_message": content})
        await asyncio.sleep(0)

    async def _send(self, content: JsonDict, line: str) -> None:
        self.transcript.append(line)
        self.sent.append(self._api.push_user_message(self, content))
        await asyncio.sleep(0)

    async def _press(self, message: BotMessage, data: str, line: str) -> None:
        self.transcript.append(line)
        self._api.push_callback_query(self, message, data)
        await asyncio.sleep(0)


def _guess_mime(filename: str) -> str | None:
    return mimetypes.guess_type(filename)[0]
