"""A protocol-faithful fake Telegram Bot API server for tests and the terminal sandbox.

The real python-telegram-bot application talks to it over real HTTP on 127.0.0.1::

    async with FakeBotApi() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url) \\
            .base_file_url(api.base_file_url).build()
        alice = api.user(1001, "Alice")
        await alice.send_text("/start")
        await alice.expect("Welcome")

Every request is validated against the official Bot API description (see ``derive_spec``), and
Telegram's own rules on top (text length after entity parsing in UTF-16 code units, HTML
well-formedness, callback_data bytes, "message is not modified", unknown chats and messages).
Requests answered with ``ok: false`` for such protocol reasons land in ``rejected``; tests
assert it stays empty.  Failures a test asks for (``fail_next``, ``block_user``, rate limits)
are ordinary Telegram behaviour the bot must cope with and are only recorded in ``calls``.

Everything runs on the caller's event loop; there are no threads.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.sandbox.fake_api_chat import ApiCall, BotMessage, FakeUser
from bot.sandbox.fake_api_html import FormattedText
from bot.sandbox.fake_api_spec import (
    ApiError,
    BotApiSpec,
    UploadedFile,
    Validated,
    bad_request,
)

__all__ = ["ApiCall", "ApiError", "BotMessage", "FakeBotApi", "FakeUser", "UploadedFile"]

JsonDict = dict[str, Any]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
# Telegram leaves these out unless allowed_updates asks for them explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_API_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z0-9_]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot([^/]+)/(.+)$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_STATUS_TEXT = {
    400: "Bad Request: request failed (injected)",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# How long a superseded long poll waits for its client to be noticed gone before it reports a
# genuine second poller: a bot that stops cancels its poll and at once polls once more, and on a
# busy machine the server may take a while to see the first connection close (the more so when
# the server runs in a test process at a lower priority than the bots it serves: the test suite
# calls the CLI's import in-process, which lowers its own process's priority).
SUPERSEDE_GRACE = 2.0

Handler = Callable[[Validated], Awaitable[Any]]


@dataclass
class _StoredMessage:
    chat_id: int
    message_id: int
    raw: JsonDict
    from_bot: bool
    view: BotMessage | None
    deleted: bool = False


@dataclass
class _Injection:
    method: str | None
    status: int
    remaining: int
    retry_after: int | None
    description: str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    filename: str


@dataclass
class _Poll:
    event: asyncio.Event
    superseded: bool = False


@dataclass
class _Callback:
    user: FakeUser
    answered: bool = False


class FakeBotApi:
    """The fake Bot API server.  See the module docstring for how tests use it."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "matchmaker_test_bot",
        bot_name: str = "Matchmaker",
        enforce_rate_limits: bool = False,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.enforce_rate_limits = enforce_rate_limits
        # Limits applied when enforce_rate_limits is on (messages per sliding second).
        self.global_messages_per_second = 30
        self.chat_messages_per_second = 1
        self.spec = BotApiSpec.load()
        self.base_url = ""
        self.base_file_url = ""
        self.calls: list[ApiCall] = []
        self.rejected: list[ApiCall] = []
        self.commands: dict[tuple[str | None, str], list[JsonDict]] = {}
        self.menu_buttons: dict[int | None, JsonDict] = {}
        self.webhook_url = ""
        self._users: dict[int, FakeUser] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._updates: list[JsonDict] = []
        self._undelivered: set[int] = set()
        self._next_update_id = 1
        self._allowed_updates: set[str] | None = None
        self._poll: _Poll | None = None
        self._injections: list[_Injection] = []
        # An outage: while set, every method but getUpdates answers this status (502, 500...).
        self.outage: int | None = None
        self._sent_times: deque[float] = deque()
        self._chat_sent_times: dict[int, deque[float]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(4_242_000_000_000_001)
        self._callbacks: dict[str, _Callback] = {}
        # Inline queries sent (id -> the user), and what the bot answered to each.
        self._inline_queries: dict[str, FakeUser] = {}
        self.inline_answers: dict[str, JsonDict] = {}
        self._busy = 0
        self._last_activity = 0.0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._sending = frozenset(
            m
            for m in self.spec.methods
            if (m.startswith("send") and m not in ("sendChatAction", "sendMessageDraft"))
            or m in ("copyMessage", "copyMessages", "forwardMessage", "forwardMessages")
        )
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a long poll whose client went away must not linger and later
        # swallow updates or answer a conflict nobody reads.
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}/bot"
        self.base_file_url = f"http://{bound_host}:{bound_port}/file/bot"
        self._closing = False
        self._touch()

    async def stop(self) -> None:
        self._closing = True
        if self._poll is not None:
            self._poll.event.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- test-facing API ----------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """The user with this id (created on first use); their private chat id is the same."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = FakeUser(
            self,
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        self._users[user_id] = created
        return created

    def users(self) -> list[FakeUser]:
        """Every user created so far, in creation order."""
        return list(self._users.values())

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (None: any sending method) with an error.

        The request is still validated first, so a malformed request is reported as such.
        """
        canonical = None
        if method is not None:
            canonical = self.spec.canonical_method(method)
            if canonical is None:
                raise ValueError(f"{method!r} is not a Bot API method")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._injections.append(_Injection(canonical, status, count, retry_after, description))

    def block_user(self, user_id: int, blocked: bool = True) -> None:
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self._blocked

    def push_update(self, update: JsonDict) -> int:
        """Queue a raw update for getUpdates; assigns update_id when missing."""
        update = dict(update)
        update_id = int(update.setdefault("update_id", self._next_update_id))
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(update)
        self._undelivered.add(update_id)
        if self._poll is not None:
            self._poll.event.set()
        return update_id

    # The timeout parameter is part of the public API the tests and sandbox rely on.
    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is open (a bot that died may leave one until its
        connection is seen closed, or until the poll's timeout)."""
        return self._poll is not None

    async def settle(self, quiet: float = 0.05, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every pushed update was fetched and the bot has been idle for ``quiet``.

        Idle means no request in flight except a long poll waiting for updates, and no request
        started or finished within the last ``quiet`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            if not self._undelivered and self._busy == 0 and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise AssertionError(
                    f"fake Bot API did not settle within {timeout}s: "
                    f"{len(self._undelivered)} update(s) never fetched, "
                    f"{self._busy} request(s) in flight"
                )
            await asyncio.sleep(min(quiet / 2, 0.01) or 0.001)

    # -- used by FakeUser ---------------------------------------------------------------------

    def push_user_message(self, user: FakeUser, content: JsonDict) -> JsonDict:
        message: JsonDict = {
            "message_id": self._allocate_message_id(user.chat_id),
            "from": user.user_dict(),
            "chat": user.chat_dict(),
            "date": int(time.time()),
            **content,
        }
        self._messages[(user.chat_id, message["message_id"])] = _StoredMessage(
            user.chat_id, message["message_id"], message, from_bot=False, view=None
        )
        self.push_update({"message": message})
        return message

    def push_callback_query(self, user: FakeUser, message: BotMessage, data: str) -> str:
        stored = self._messages.get((message.chat_id, message.message_id))
        raw = stored.raw if stored is not None else message.raw
        query_id = str(next(self._callback_counter))
        self._callbacks[query_id] = _Callback(user)
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user_dict(),
                    "message": copy.deepcopy(raw),
                    "chat_instance": str(abs(hash((self.bot_id, message.chat_id)))),
                    "data": data,
                }
            }
        )
        return query_id

    def push_inline_callback_query(
        self, user: FakeUser, data: str, inline_message_id: str = "AgAAAFakeInlineMessage"
    ) -> str:
        """A press on a button of a message sent in inline mode: it carries no message at all."""
        query_id = str(next(self._callback_counter))
        self._callbacks[query_id] = _Callback(user)
        user.transcript.append(f"user: callback {data!r} on inline message {inline_message_id}")
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user_dict(),
                    "inline_message_id": inline_message_id,
                    "chat_instance": str(abs(hash((self.bot_id, inline_message_id)))),
                    "data": data,
                }
            }
        )
        return query_id

    def push_inline_query(self, user: FakeUser, query: str, offset: str = "") -> str:
        """The user types `@bot query` in any chat; returns the inline query's id."""
        query_id = str(next(self._callback_counter))
        self._inline_queries[query_id] = user
        user.transcript.append(f"user: inline @{self.bot_username} {query!r}")
        self.push_update(
            {
                "inline_query": {
                    "id": query_id,
                    "from": user.user_dict(),
                    "query": query,
                    "offset": offset,
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    def store_file(self, content: bytes, filename: str, folder: str) -> tuple[str, str]:
        number = next(self._file_counter)
        suffix = ""
        if "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}FakeFileId",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            filename=filename,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored.file_id, stored.file_unique_id

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if (file_match := _FILE_PATH.match(request.path)) is not None:
            return self._serve_file(file_match.group(1), file_match.group(2))
        match = _API_PATH.match(request.path)
        call = ApiCall(match.group(2) if match else request.path, {})
        self._busy += 1
        self._touch()
        try:
            if match is None:
                return self._respond(call, ApiError(404, "Not Found"))
            try:
                raw, files = await self._read_params(request)
                call.params = {**raw, **files}
                result = await self._dispatch(match.group(1), match.group(2), raw, files, call)
            except ApiError as exc:
                return self._respond(call, exc)
            return self._respond(call, result)
        except asyncio.CancelledError:
            call.status = 499
            call.error = "client closed the connection"
            self.calls.append(call)
            raise
        finally:
            self._busy -= 1
            self._touch()

    async def _read_params(self, request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
        raw: JsonDict = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return raw, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            for key, value in body.items():
                if value is None:
                    continue
                if isinstance(value, bool):
                    raw[key] = "true" if value else "false"
                elif isinstance(value, int | float):
                    raw[key] = str(value)
                else:
                    raw[key] = value
            return raw, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files.setdefault(
                    key, UploadedFile(value.filename, value.file.read(), value.content_type)
                )
            else:
                raw.setdefault(key, value)
        return raw, files

    async def _dispatch(
        self,
        token: str,
        name: str,
        raw: JsonDict,
        files: dict[str, UploadedFile],
        call: ApiCall,
    ) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        method = self.spec.canonical_method(name)
        if method is None:
            raise ApiError(404, "Not Found")
        call.method = method
        validated = self.spec.validate(method, raw, files)
        call.params = validated.params
        self._inject(method)
        if method == "getUpdates":
            return await self._get_updates(validated)
        handler = self._handlers.get(method, self._true)
        return await handler(validated)

    def _respond(self, call: ApiCall, outcome: Any) -> web.Response:
        if isinstance(outcome, ApiError):
            call.status = outcome.code
            call.error = outcome.description
            body: JsonDict = {
                "ok": False,
                "error_code": outcome.code,
                "description": outcome.description,
            }
            if outcome.retry_after is not None:
                body["parameters"] = {"retry_after": outcome.retry_after}
            self.calls.append(call)
            if outcome.protocol:
                self.rejected.append(call)
            return web.json_response(body, status=outcome.code)
        self.calls.append(call)
        return web.json_response({"ok": True, "result": outcome})

    def _serve_file(self, token: str, path: str) -> web.Response:
        stored = self._files_by_path.get(path)
        if token != self.token or stored is None:
            call = ApiCall(f"file/{path}", {})
            return self._respond(call, ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    # -- shared rules -------------------------------------------------------------------------

    def _inject(self, method: str) -> None:
        if self.outage is not None and method != "getUpdates":
            status = self.outage
            raise ApiError(status, _STATUS_TEXT.get(status, f"Error {status}"), protocol=False)
        for injection in self._injections:
            if injection.method == method or (
                injection.method is None and method in self._sending
            ):
                injection.remaining -= 1
                if injection.remaining <= 0:
                    self._injections.remove(injection)
                description = injection.description or _STATUS_TEXT.get(
                    injection.status, f"Error {injection.status}"
                )
                if injection.status == 429 and injection.description is None:
                    description = f"Too Many Requests: retry after {injection.retry_after}"
                raise ApiError(
                    injection.status,
                    description,
                    retry_after=injection.retry_after if injection.status == 429 else None,
                    protocol=False,
                )

    def _chat(self, chat_id: object) -> FakeUser:
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad_request("chat not found")
        return user

    def _reachable(self, chat_id: object) -> FakeUser:
        user = self._chat(chat_id)
        if user.user_id in self._blocked:
            raise ApiError(403, BLOCKED, protocol=False)
        return user

    def _check_rate(self, chat_id: int) -> None:
        now = asyncio.get_running_loop().time()
        for window in (self._sent_times, self._chat_sent_times.setdefault(chat_id, deque())):
            while window and now - window[0] >= 1.0:
                window.popleft()
        if not self.enforce_rate_limits:
            return
        if (
            len(self._sent_times) >= self.global_messages_per_second
            or len(self._chat_sent_times[chat_id]) >= self.chat_messages_per_second
        ):
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1, protocol=False)

    def _count_sent(self, chat_id: int) -> None:
        now = asyncio.get_running_loop().time()
        self._sent_times.append(now)
        self._chat_sent_times.setdefault(chat_id, deque()).append(now)

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _reply_target(self, user: FakeUser, params: JsonDict) -> JsonDict | None:
        reply = params.get("reply_parameters")
        if not reply:
            return None
        chat_id = reply.get("chat_id", user.chat_id)
        stored = self._messages.get((chat_id, reply["message_id"]))
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        target = copy.deepcopy(stored.raw)
        target.pop("reply_to_message", None)
        return target

    def _new_message(
        self, user: FakeUser, params: JsonDict, reply_to: JsonDict | None
    ) -> JsonDict:
        message: JsonDict = {
            "message_id": self._allocate_message_id(user.chat_id),
            "from": self._bot_user(),
            "chat": user.chat_dict(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _register(
        self, user: FakeUser, message: JsonDict, view: BotMessage, params: JsonDict
    ) -> JsonDict:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup:
            view.reply_keyboard = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in markup["keyboard"]
            ]
        view.buttons = _buttons(message.get("reply_markup"))
        view.raw = message
        self._messages[(user.chat_id, view.message_id)] = _StoredMessage(
            user.chat_id, view.message_id, message, from_bot=True, view=view
        )
        user.messages.append(view)
        user.record_event(view, view.describe())
        self._count_sent(user.chat_id)
        return copy.deepcopy(message)

    def _editable(self, params: JsonDict) -> tuple[FakeUser, _StoredMessage]:
        if "inline_message_id" in params:
            # Inline-mode messages are not modelled: the bot never sends via inline queries.
            raise bad_request("MESSAGE_ID_INVALID")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        user = self._reachable(params["chat_id"])
        stored = self._messages.get((user.chat_id, params["message_id"]))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot or stored.view is None:
            raise bad_request("message can't be edited")
        return user, stored

    def _set_text(
        self, target: JsonDict, text_key: str, entities_key: str, value: FormattedText
    ) -> None:
        if value.text:
            target[text_key] = value.text
        else:
            target.pop(text_key, None)
        entities = self._resolved_entities(value)
        if entities:
            target[entities_key] = entities
        else:
            target.pop(entities_key, None)

    def _resolved_entities(self, value: FormattedText) -> list[JsonDict]:
        entities: list[JsonDict] = []
        for entity in copy.deepcopy(value.entities):
            if entity["type"] == "text_mention":
                # Telegram fills in the whole user, and drops mentions of users it can't show.
                mentioned = self._users.get(int(entity["user"]["id"]))
                if mentioned is None:
                    continue
                entity["user"] = mentioned.user_dict()
            entities.append(entity)
        return entities

    def _apply_edit(self, user: FakeUser, stored: _StoredMessage, line: str) -> JsonDict:
        view = stored.view
        assert view is not None
        stored.raw["edit_date"] = int(time.time())
        view.buttons = _buttons(stored.raw.get("reply_markup"))
        view.edited = True
        view.raw = stored.raw
        user.record_event(view, f"{line}\n{view.describe()}")
        return copy.deepcopy(stored.raw)

    def _input_file(
        self, value: object, folder: str, default_name: str
    ) -> tuple[_StoredFile | None, bytes, str]:
        """Resolve an InputFile-or-String parameter to (stored file, content, filename)."""
        if isinstance(value, UploadedFile):
            filename = value.filename or default_name
            file_id, _ = self.store_file(value.content, filename, folder)
            return self._files[file_id], value.content, filename
        text = str(value)
        if text in self._files:
            stored = self._files[text]
            return stored, stored.content, stored.filename
        if _URL.match(text):
            filename = text.rstrip("/").rsplit("/", 1)[-1] or default_name
            file_id, _ = self.store_file(b"", filename, folder)
            return self._files[file_id], b"", filename
        raise bad_request("wrong file identifier/HTTP URL specified")

    # -- methods ------------------------------------------------------------------------------

    async def _true(self, validated: Validated) -> Any:
        return True

    async def _get_me(self, validated: Validated) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, validated: Validated) -> Any:
        if self.webhook_url:
            raise _conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first"
            )
        params = validated.params
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"]) or None
        offset: int | None = params.get("offset")
        if offset is not None:
            self._confirm(offset)
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        if self._poll is not None:
            self._poll.superseded = True
            self._poll.event.set()
        poll = _Poll(asyncio.Event())
        self._poll = poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                batch = self._available(offset, limit)
                remaining = deadline - loop.time()
                if batch or self._closing or remaining <= 0:
                    break
                poll.event.clear()
                # A long poll waiting for updates doesn't count as the bot being busy.
                self._busy -= 1
                try:
                    await asyncio.wait_for(poll.event.wait(), remaining)
                except TimeoutError:
                    pass
                finally:
                    self._busy += 1
                    self._touch()
                if poll.superseded:
                    # Give a client that went away the chance to be noticed (the handler is
                    # then cancelled) before reporting a genuine second poller.
                    await asyncio.sleep(SUPERSEDE_GRACE)
                    raise _conflict(
                        "terminated by other getUpdates request; make sure that only one bot "
                        "instance is running"
                    )
        finally:
            if self._poll is poll:
                self._poll = None
        for update in batch:
            self._undelivered.discard(int(update["update_id"]))
        return batch

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            forgotten, self._updates = self._updates[:-keep], self._updates[-keep:]
        else:
            forgotten = [u for u in self._updates if u["update_id"] < offset]
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        for update in forgotten:
            self._undelivered.discard(int(update["update_id"]))

    def _available(self, offset: int | None, limit: int) -> list[JsonDict]:
        start = offset if offset is not None and offset > 0 else 0
        batch: list[JsonDict] = []
        for update in list(self._updates):
            if update["update_id"] < start:
                continue
            kind = next((k for k in update if k != "update_id"), "")
            allowed = (
                kind in self._allowed_updates
                if self._allowed_updates is not None
                else kind not in _OPT_IN_UPDATES
            )
            if not allowed:
                self._updates.remove(update)
                self._undelivered.discard(int(update["update_id"]))
                continue
            batch.append(copy.deepcopy(update))
            if len(batch) >= limit:
                break
        return batch

    async def _delete_webhook(self, validated: Validated) -> Any:
        self.webhook_url = ""
        if validated.params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        return True

    async def _set_webhook(self, validated: Validated) -> Any:
        self.webhook_url = str(validated.params["url"])
        if validated.params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        return True

    async def _get_webhook_info(self, validated: Validated) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _send_message(self, validated: Validated) -> Any:
        params = validated.params
        user = self._reachable(params["chat_id"])
        reply_to = self._reply_target(user, params)
        self._check_rate(user.chat_id)
        formatted = validated.formatted["text"]
        message = self._new_message(user, params, reply_to)
        self._set_text(message, "text", "entities", formatted)
        if "link_preview_options" in params:
            message["link_preview_options"] = params["link_preview_options"]
        view = BotMessage(
            message_id=message["message_id"],
            chat_id=user.chat_id,
            text=formatted.text,
            html=params["text"],
            parse_mode=params.get("parse_mode"),
        )
        return self._register(user, message, view, params)

    async def _send_photo(self, validated: Validated) -> Any:
        params = validated.params
        user = self._reachable(params["chat_id"])
        reply_to = self._reply_target(user, params)
        stored, content, _ = self._input_file(params["photo"], "photos", "photo.jpg")
        self._check_rate(user.chat_id)
        message = self._new_message(user, params, reply_to)
        assert stored is not None
        message["photo"] = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": width * 3 // 4,
                "file_size": len(content),
            }
            for width in (90, 320, 800)
        ]
        caption = validated.formatted.get("caption")
        if caption is not None:
            self._set_text(message, "caption", "caption_entities", caption)
        view = BotMessage(
            message_id=message["message_id"],
            chat_id=user.chat_id,
            text=caption.text if caption else "",
            html=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            kind="photo",
            photo=content,
        )
        return self._register(user, message, view, params)

    async def _send_document(self, validated: Validated) -> Any:
        params = validated.params
        user = self._reachable(params["chat_id"])
        reply_to = self._reply_target(user, params)
        stored, content, filename = self._input_file(params["document"], "documents", "file")
        self._check_rate(user.chat_id)
        assert stored is not None
        message = self._new_message(user, params, reply_to)
        document: JsonDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": len(content),
        }
        upload = params["document"]
        mime = upload.content_type if isinstance(upload, UploadedFile) else None
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(filename)[0] or mime
        if mime:
            document["mime_type"] = mime
        message["document"] = document
        caption = validated.formatted.get("caption")
        if caption is not None:
            self._set_text(message, "caption", "caption_entities", caption)
        view = BotMessage(
            message_id=message["message_id"],
            chat_id=user.chat_id,
            text=caption.text if caption else "",
            html=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            kind="document",
            document=(filename, content),
        )
        return self._register(user, message, view, params)

    def _copy_source(self, params: JsonDict) -> _StoredMessage:
        source_chat = self._chat(params["from_chat_id"]).chat_id
        stored = self._messages.get((source_chat, params["message_id"]))
        if stored is None or stored.deleted:
            raise bad_request("message to copy not found")
        return stored

    def _copy_into(
        self, user: FakeUser, source: _StoredMessage, params: JsonDict, extra: JsonDict
    ) -> JsonDict:
        message = self._new_message(user, params, self._reply_target(user, params))
        content_keys = ("text", "entities", "photo", "document", "caption", "caption_entities")
        for key in content_keys:
            if key in source.raw:
                message[key] = copy.deepcopy(source.raw[key])
        message.update(extra)
        kind = "photo" if "photo" in message else "document" if "document" in message else "text"
        view = BotMessage(
            message_id=message["message_id"],
            chat_id=user.chat_id,
            text=str(message.get("text", message.get("caption", ""))),
            kind=kind,
        )
        if source.view is not None:
            view.photo, view.document = source.view.photo, source.view.document
        return self._register(user, message, view, params)

    async def _copy_message(self, validated: Validated) -> Any:
        params = validated.params
        user = self._reachable(params["chat_id"])
        source = self._copy_source(params)
        self._check_rate(user.chat_id)
        extra: JsonDict = {}
        caption = validated.formatted.get("caption")
        if caption is not None:
            if not any(key in source.raw for key in ("caption", "photo", "document")):
                raise bad_request("message has no caption to replace")
            self._set_text(extra, "caption", "caption_entities", caption)
        copied = self._copy_into(user, source, params, extra)
        return {"message_id": copied["message_id"]}

    async def _forward_message(self, validated: Validated) -> Any:
        params = validated.params
        user = self._reachable(params["chat_id"])
        source = self._copy_source(params)
        self._check_rate(user.chat_id)
        origin = {
            "type": "user",
            "sender_user": copy.deepcopy(source.raw.get("from", self._bot_user())),
            "date": source.raw.get("date", int(time.time())),
        }
        params_without_markup = {k: v for k, v in params.items() if k != "reply_markup"}
        return self._copy_into(user, source, params_without_markup, {"forward_origin": origin})

    async def _edit_message_text(self, validated: Validated) -> Any:
        params = validated.params
        user, stored = self._editable(params)
        if "rich_message" in params:
            raise bad_request("rich messages are not supported by the fake Bot API")
        if "text" not in params:
            raise bad_request("message text is empty")
        if "text" not in stored.raw:
            raise bad_request("there is no text in the message to edit")
        formatted = validated.formatted["text"]
        markup = params.get("reply_markup")
        raw = stored.raw
        if (
            raw.get("text") == formatted.text
            and raw.get("entities", []) == self._resolved_entities(formatted)
            and raw.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        self._set_text(raw, "text", "entities", formatted)
        _set_markup(raw, markup)
        if "link_preview_options" in params:
            raw["link_preview_options"] = params["link_preview_options"]
        view = stored.view
        assert view is not None
        view.text = formatted.text
        view.html = params["text"]
        view.parse_mode = params.get("parse_mode")
        return self._apply_edit(user, stored, f"bot edits #{stored.message_id}:")

    async def _edit_message_caption(self, validated: Validated) -> Any:
        params = validated.params
        user, stored = self._editable(params)
        raw = stored.raw
        if "photo" not in raw and "document" not in raw:
            raise bad_request("there is no caption in the message to edit")
        caption = validated.formatted.get("caption") or FormattedText("")
        markup = params.get("reply_markup")
        if (
            raw.get("caption", "") == caption.text
            and raw.get("caption_entities", []) == self._resolved_entities(caption)
            and raw.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        self._set_text(raw, "caption", "caption_entities", caption)
        _set_markup(raw, markup)
        view = stored.view
        assert view is not None
        view.text = caption.text
        view.html = params.get("caption")
        view.parse_mode = params.get("parse_mode")
        return self._apply_edit(user, stored, f"bot edits caption of #{stored.message_id}:")

    async def _edit_message_reply_markup(self, validated: Validated) -> Any:
        params = validated.params
        user, stored = self._editable(params)
        markup = params.get("reply_markup")
        if stored.raw.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        _set_markup(stored.raw, markup)
        return self._apply_edit(user, stored, f"bot edits keyboard of #{stored.message_id}:")

    async def _delete_message(self, validated: Validated) -> Any:
        params = validated.params
        user = self._chat(params["chat_id"])
        stored = self._messages.get((user.chat_id, params["message_id"]))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        self._mark_deleted(user, stored)
        return True

    async def _delete_messages(self, validated: Validated) -> Any:
        params = validated.params
        user = self._chat(params["chat_id"])
        found = False
        for message_id in params["message_ids"]:
            stored = self._messages.get((user.chat_id, message_id))
            if stored is not None and not stored.deleted:
                self._mark_deleted(user, stored)
                found = True
        if not found:
            raise bad_request("message to delete not found")
        return True

    def _mark_deleted(self, user: FakeUser, stored: _StoredMessage) -> None:
        stored.deleted = True
        if stored.view is not None:
            stored.view.deleted = True
        user.transcript.append(f"bot deletes #{stored.message_id}")

    async def _answer_callback_query(self, validated: Validated) -> Any:
        params = validated.params
        entry = self._callbacks.get(params["callback_query_id"])
        if entry is None or entry.answered:
            raise bad_request(QUERY_INVALID)
        entry.answered = True
        entry.user.callback_answers.append(dict(params))
        if params.get("text"):
            style = "alert" if params.get("show_alert") else "toast"
            entry.user.transcript.append(f"bot {style}: {params['text']}")
        return True

    async def _answer_inline_query(self, validated: Validated) -> Any:
        # The results were checked against the spec (every InlineQueryResult type and field);
        # here: an inline query that exists, answered once, ids unique, at most 50 results.
        params = validated.params
        query_id = params["inline_query_id"]
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params["results"]
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [r["id"] for r in results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        if any(not 1 <= len(str(i).encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_INVALID")
        self.inline_answers[query_id] = dict(params)
        user = self._inline_queries[query_id]
        user.transcript.append(f"bot inline answer: {len(results)} result(s)")
        return True

    def _commands_key(self, params: JsonDict) -> tuple[str | None, str]:
        scope: JsonDict = params.get("scope") or {"type": "default"}
        key = str(scope["type"])
        # Chat-specific scopes get their own slot per chat (and member).
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return params.get("language_code") or None, key

    async def _set_my_commands(self, validated: Validated) -> Any:
        params = validated.params
        self.commands[self._commands_key(params)] = list(params["commands"])
        return True

    async def _get_my_commands(self, validated: Validated) -> Any:
        return copy.deepcopy(self.commands.get(self._commands_key(validated.params), []))

    async def _delete_my_commands(self, validated: Validated) -> Any:
        self.commands.pop(self._commands_key(validated.params), None)
        return True

    async def _set_chat_menu_button(self, validated: Validated) -> Any:
        params = validated.params
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat_id = self._chat(chat_id).chat_id
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def _get_chat_menu_button(self, validated: Validated) -> Any:
        chat_id = validated.params.get("chat_id")
        if chat_id is not None:
            chat_id = self._chat(chat_id).chat_id
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "commands"})

    async def _send_chat_action(self, validated: Validated) -> Any:
        user = self._reachable(validated.params["chat_id"])
        user.chat_actions.append(str(validated.params["action"]))
        return True

    async def _get_chat(self, validated: Validated) -> Any:
        user = self._chat(validated.params["chat_id"])
        return {
            **user.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _get_file(self, validated: Validated) -> Any:
        stored = self._files.get(str(validated.params["file_id"]))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


def _conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def _set_markup(target: JsonDict, markup: JsonDict | None) -> None:
    # Editing without reply_markup removes the inline keyboard, exactly like Telegram.
    if markup is not None and "inline_keyboard" in markup:
        target["reply_markup"] = markup
    else:
        target.pop("reply_markup", None)


def _buttons(markup: JsonDict | None) -> list[list[tuple[str, str | None]]]:
    if not markup:
        return []
    rows: list[list[tuple[str, str | None]]] = []
    for row in markup.get("inline_keyboard", []):
        rows.append(
            [
                (str(button.get("text", "")), button.get("callback_data") or button.get("url"))
                for button in row
            ]
        )
    return rows
