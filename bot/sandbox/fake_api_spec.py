"""Request validation for the fake Bot API, driven by the derived ``botapi_spec.json``.

Every parameter the bot sends is decoded the way the Bot API decodes it (form strings, JSON
objects and arrays, multipart files) and checked against the types, required flags and limits
stated in the official documentation.  Descriptions follow Telegram's wording where it is known
("can't parse inline keyboard button: Field "url" must be of type String") so that failures read
like the ones the bot would see in production.

The fake is stricter than Telegram in one respect: unknown parameters and unknown fields in
nested objects are rejected, because Telegram silently ignores them and a typo would otherwise
only show up as a feature that quietly doesn't work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bot.sandbox.fake_api_html import (
    EntityParseError,
    FormattedText,
    parse_html,
    unparse_plain,
    utf16_len,
)

JsonDict = dict[str, Any]

_INT_RX = re.compile(r"^[+-]?\d+$")
_BOOL_STRINGS = {"true": True, "false": False, "1": True, "0": False}
_PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "True"})
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})

# Descriptions Telegram uses for specific limit violations instead of a generic message.
_SPECIAL_LIMIT_ERRORS: dict[tuple[str, str], str] = {
    ("InlineKeyboardButton", "callback_data"): "BUTTON_DATA_INVALID",
    ("InlineKeyboardButton", "url"): "BUTTON_URL_INVALID",
    ("BotCommand", "command"): "BOT_COMMAND_INVALID",
    ("BotCommand", "description"): "BOT_COMMAND_DESCRIPTION_INVALID",
    ("setMyCommands", "commands"): "BOT_COMMANDS_TOO_MUCH",
    ("answerCallbackQuery", "text"): "MESSAGE_TOO_LONG",
    ("sendChatAction", "action"): "wrong parameter action in request",
}
# Errors inside these objects are reported with tdlib's object-specific prefix.
_OBJECT_LABELS = {
    "InlineKeyboardButton": "inline keyboard button",
    "KeyboardButton": "keyboard button",
}
_PARAM_LABELS = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
}
_URL_RX = re.compile(r"^(?:https?|tg)://\S+$", re.IGNORECASE)


class ApiError(Exception):
    """A Bot API error answer.  ``protocol`` marks errors caused by a malformed request."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        protocol: bool = True,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.protocol = protocol


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A multipart/form-data file part."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class Validated:
    params: JsonDict
    # Plain text and entities of every "after entities parsing" parameter that was sent.
    formatted: dict[str, FormattedText] = field(default_factory=dict)


class _Invalid(Exception):
    def __init__(
        self,
        detail: str,
        *,
        depth: int = 0,
        special: str | None = None,
        owner: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.depth = depth
        self.special = special
        self.owner = owner


def _type_word(type_expr: str) -> str:
    return "Array" if type_expr.startswith("Array of ") else type_expr


def _describe(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class BotApiSpec:
    """Facts about the Bot API (methods, parameters, nested types) plus request validation."""

    def __init__(self, data: JsonDict) -> None:
        self.version: str = str(data.get("version"))
        self.methods: dict[str, JsonDict] = data["methods"]
        self.types: dict[str, JsonDict] = data["types"]
        self._lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls) -> BotApiSpec:
        return _load_packaged()

    def canonical_method(self, name: str) -> str | None:
        """Telegram matches method names case-insensitively."""
        return self._lower.get(name.lower())

    def returns(self, method: str) -> list[str]:
        return list(self.methods[method].get("returns", []))

    # -- validation -----------------------------------------------------------------------

    def validate(self, method: str, raw: JsonDict, files: dict[str, UploadedFile]) -> Validated:
        params_spec: dict[str, JsonDict] = self.methods[method]["params"]
        raw = dict(raw)
        # A file part named like a parameter is that parameter; any other file part must be
        # referenced through an "attach://<name>" value.
        unused_files: dict[str, UploadedFile] = {}
        for part, upload in files.items():
            if part in params_spec and part not in raw:
                raw[part] = upload
            else:
                unused_files[part] = upload
        decoded: JsonDict = {}
        for name in list(raw):
            # parse_mode too: PTB adds its default one even to methods that take none
            # (editMessageReplyMarkup, sendSticker...); the bot must not send it there.
            if name not in params_spec:
                raise bad_request(
                    f'unknown parameter "{name}": {method} has no such parameter '
                    "(real Telegram ignores it silently)"
                )
        for name, fspec in params_spec.items():
            if name not in raw:
                if fspec["required"]:
                    raise bad_request(_missing_description(name))
                continue
            value = raw[name]
            try:
                decoded[name] = self._check_field(
                    method, name, fspec, value, path=name, files=unused_files, top=True
                )
            except _Invalid as exc:
                raise self._top_error(name, fspec, exc) from None
        for part in unused_files:
            raise bad_request(f'unknown parameter "{part}": file part is not referenced')
        validated = Validated(decoded)
        for name, fspec in params_spec.items():
            if fspec.get("after_entities") and isinstance(decoded.get(name), str):
                validated.formatted[name] = self._format(method, name, fspec, decoded)
        return validated

    def _top_error(self, name: str, fspec: JsonDict, exc: _Invalid) -> ApiError:
        if exc.special:
            return bad_request(exc.special)
        if exc.owner in _OBJECT_LABELS:
            return bad_request(f"can't parse {_OBJECT_LABELS[exc.owner]}: {exc.detail}")
        structured = any(
            t.startswith("Array of ") or t in self.types and t != "InputFile"
            for t in fspec["types"]
        )
        if structured:
            label = _PARAM_LABELS.get(name, name)
            return bad_request(f"can't parse {label} JSON object: {exc.detail}")
        return bad_request(f'parameter "{name}": {exc.detail}')

    def _format(self, method: str, name: str, fspec: JsonDict, params: JsonDict) -> FormattedText:
        value: str = params[name]
        if name in ("text", "caption"):
            mode_param, entities_param = (
                "parse_mode",
                ("entities" if name == "text" else "caption_entities"),
            )
        else:
            mode_param, entities_param = f"{name}_parse_mode", f"{name}_entities"
        if entities_param in params:
            formatted = unparse_plain(value, params[entities_param])
        elif mode_param in params:
            mode = str(params[mode_param]).lower()
            if mode not in _PARSE_MODES:
                raise bad_request("unsupported parse_mode")
            if mode == "html":
                try:
                    formatted = parse_html(value)
                except EntityParseError as exc:
                    raise bad_request(f"can't parse entities: {exc}") from None
            else:
                # Markdown modes are not parsed by the fake; the text is taken as is.
                formatted = unparse_plain(value, None)
        else:
            formatted = unparse_plain(value, None)
        length = utf16_len(formatted.text)
        if length < int(fspec.get("min_len", 0)):
            raise bad_request("message text is empty" if name == "text" else f"{name} is empty")
        if "max_len" in fspec and length > int(fspec["max_len"]):
            if name == "text":
                raise bad_request("message is too long")
            if name == "caption":
                raise bad_request("message caption is too long")
            raise bad_request(f"{name} is too long")
        return formatted

    def _check_field(
        self,
        owner: str,
        name: str,
        fspec: JsonDict,
        value: object,
        *,
        path: str,
        files: dict[str, UploadedFile],
        top: bool,
        depth: int = 0,
    ) -> Any:
        types: list[str] = list(fspec["types"])
        # "Integer or String", "InputFile or String": the string fallback must be tried last.
        ordered = [t for t in types if t != "String"] + [t for t in types if t == "String"]
        errors: list[_Invalid] = []
        for type_expr in ordered:
            try:
                result = self._check_type(
                    type_expr, value, path=path, files=files, top=top, depth=depth
                )
            except _Invalid as exc:
                errors.append(exc)
                continue
            self._check_limits(owner, name, fspec, result, path=path, depth=depth)
            return result
        deepest = max(errors, key=lambda e: e.depth)
        if len(errors) == 1 or deepest.depth > depth:
            raise deepest
        expected = " or ".join(_type_word(t) for t in types)
        raise _Invalid(f'Field "{name}" must be of type {expected}', depth=depth)

    def _check_limits(
        self,
        owner: str,
        name: str,
        fspec: JsonDict,
        value: object,
        *,
        path: str,
        depth: int,
    ) -> None:
        special = _SPECIAL_LIMIT_ERRORS.get((owner, name))

        def fail(detail: str) -> _Invalid:
            return _Invalid(f"{detail} (at {path})", depth=depth + 1, special=special, owner=owner)

        if "const" in fspec and value != fspec["const"]:
            raise fail(f'Field "{name}" must be "{fspec["const"]}"')
        if isinstance(value, str):
            if not fspec.get("after_entities"):
                length = utf16_len(value)
                if length < int(fspec.get("min_len", 0)):
                    raise fail(f'Field "{name}" must be at least {fspec["min_len"]} characters')
                if "max_len" in fspec and length > int(fspec["max_len"]):
                    raise fail(f'Field "{name}" must be at most {fspec["max_len"]} characters')
            size = len(value.encode("utf-8"))
            if size < int(fspec.get("min_bytes", 0)):
                raise fail(f'Field "{name}" must be at least {fspec["min_bytes"]} bytes')
            if "max_bytes" in fspec and size > int(fspec["max_bytes"]):
                raise fail(f'Field "{name}" must be at most {fspec["max_bytes"]} bytes')
            if "enum" in fspec and value not in fspec["enum"]:
                options = ", ".join(f'"{v}"' for v in fspec["enum"])
                raise fail(f'Field "{name}" must be one of {options}')
            if "pattern" in fspec and not re.match(str(fspec["pattern"]), value):
                raise fail(f'Field "{name}" has invalid characters')
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "min" in fspec and value < fspec["min"]:
                raise fail(f'Field "{name}" must be at least {fspec["min"]}')
            if "max" in fspec and value > fspec["max"]:
                raise fail(f'Field "{name}" must be at most {fspec["max"]}')
            if "enum" in fspec and value not in fspec["enum"]:
                raise fail(f'Field "{name}" must be one of {fspec["enum"]}')
        elif isinstance(value, list):
            if len(value) < int(fspec.get("min_items", 0)):
                raise fail(f'Field "{name}" must have at least {fspec["min_items"]} items')
            if "max_items" in fspec and len(value) > int(fspec["max_items"]):
                raise fail(f'Field "{name}" must have at most {fspec["max_items"]} items')

    def _check_type(
        self,
        type_expr: str,
        value: object,
        *,
        path: str,
        files: dict[str, UploadedFile],
        top: bool,
        depth: int,
    ) -> Any:
        name = path.rsplit(".", 1)[-1]
        wrong = _Invalid(f'Field "{name}" must be of type {_type_word(type_expr)}', depth=depth)
        if type_expr.startswith("Array of "):
            items = self._json_container(value, list, path=path, top=top, depth=depth)
            inner = type_expr[len("Array of ") :]
            return [
                self._check_type(
                    inner, item, path=f"{path}[{k}]", files=files, top=False, depth=depth + 1
                )
                for k, item in enumerate(items)
            ]
        if type_expr in _PRIMITIVES:
            return _check_primitive(type_expr, value, top=top, wrong=wrong)
        if type_expr == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                part = value[len("attach://") :]
                if part not in files:
                    raise _Invalid(f'file part "{part}" referenced by {path} is missing')
                return files.pop(part)
            raise wrong
        info = self.types.get(type_expr)
        if info is None:
            # A type the spec doesn't describe: accept any well-formed JSON.
            if top and isinstance(value, str):
                try:
                    return json.loads(value)
                except ValueError:
                    return value
            return value
        if info.get("input_file"):
            return self._check_type("InputFile", value, path=path, files=files, top=top,
                                    depth=depth)  # fmt: skip
        if info.get("string_ok") and isinstance(value, str) and not top:
            return value
        obj = self._json_container(value, dict, path=path, top=top, depth=depth)
        if "subtypes" in info:
            return self._check_subtypes(type_expr, info, obj, path=path, files=files, depth=depth)
        return self._check_object(type_expr, info, obj, path=path, files=files, depth=depth)

    def _json_container(
        self, value: object, kind: type, *, path: str, top: bool, depth: int
    ) -> Any:
        if top and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                # Deeper than a plain type mismatch so that unions report this error.
                raise _Invalid(f"{path} is not valid JSON", depth=depth + 1) from None
        if not isinstance(value, kind):
            name = path.rsplit(".", 1)[-1]
            word = "Array" if kind is list else "Object"
            raise _Invalid(f'Field "{name}" must be of type {word}', depth=depth)
        return value

    def _check_subtypes(
        self,
        type_expr: str,
        info: JsonDict,
        obj: JsonDict,
        *,
        path: str,
        files: dict[str, UploadedFile],
        depth: int,
    ) -> JsonDict:
        candidates: list[str] = list(info["subtypes"])
        key = info.get("discriminator")
        if key is not None:
            if key not in obj:
                raise _Invalid(f'Can\'t find field "{key}" (at {path})', depth=depth + 1)
            candidates = [
                s
                for s in candidates
                if self.types[s]["fields"].get(key, {}).get("const") == obj[key]
            ]
            if not candidates:
                raise _Invalid(
                    f'Unsupported {type_expr} {key} "{_describe(obj[key])}" (at {path})',
                    depth=depth + 1,
                )
        errors: list[_Invalid] = []
        for sub in candidates:
            try:
                return self._check_object(
                    sub, self.types[sub], obj, path=path, files=files, depth=depth
                )
            except _Invalid as exc:
                errors.append(exc)
        raise max(errors, key=lambda e: e.depth)

    def _check_object(
        self,
        type_name: str,
        info: JsonDict,
        obj: JsonDict,
        *,
        path: str,
        files: dict[str, UploadedFile],
        depth: int,
    ) -> JsonDict:
        fields: dict[str, JsonDict] = info.get("fields", {})
        inner = depth + 1
        for key in obj:
            if key not in fields:
                raise _Invalid(
                    f'Unknown field "{key}" in {type_name} (at {path}.{key})',
                    depth=inner,
                    owner=type_name,
                )
        result: JsonDict = {}
        for fname, fspec in fields.items():
            if fname not in obj:
                if fspec["required"]:
                    raise _Invalid(
                        f'Can\'t find field "{fname}" (at {path})', depth=inner, owner=type_name
                    )
                continue
            try:
                result[fname] = self._check_field(
                    type_name,
                    fname,
                    fspec,
                    obj[fname],
                    path=f"{path}.{fname}",
                    files=files,
                    top=False,
                    depth=inner,
                )
            except _Invalid as exc:
                if exc.owner is None:
                    exc.owner = type_name
                raise
        _check_object_rules(type_name, info, result, path=path, depth=inner)
        return result


def _check_primitive(type_expr: str, value: object, *, top: bool, wrong: _Invalid) -> Any:
    if type_expr == "String":
        if isinstance(value, str):
            return value
        raise wrong
    if type_expr == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if top and isinstance(value, str) and _INT_RX.match(value):
            return int(value)
        raise wrong
    if type_expr == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if top and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise wrong from None
            if number == number and abs(number) != float("inf"):
                return number
        raise wrong
    # Boolean / True
    result: bool | None = None
    if isinstance(value, bool):
        result = value
    elif top and isinstance(value, str):
        result = _BOOL_STRINGS.get(value.lower())
    if result is None or (type_expr == "True" and result is not True):
        raise wrong
    return result


def _check_object_rules(
    type_name: str, info: JsonDict, obj: JsonDict, *, path: str, depth: int
) -> None:
    if type_name == "InlineKeyboardButton":
        if not obj.get("text"):
            raise _Invalid(
                f"Text of the button must be non-empty (at {path})", depth=depth, owner=type_name
            )
        if "url" in obj and not _URL_RX.match(str(obj["url"])):
            raise _Invalid(f"invalid url (at {path})", depth=depth, special="BUTTON_URL_INVALID")
    exactly: list[str] | None = info.get("exactly_one_of")
    if exactly is not None:
        used = [k for k in exactly if k in obj]
        if not used and type_name == "InlineKeyboardButton":
            raise _Invalid(
                f"Text buttons are unallowed in the inline keyboard (at {path})",
                depth=depth,
                owner=type_name,
            )
        if len(used) != 1:
            raise _Invalid(
                f"exactly one of the fields {', '.join(exactly)} must be used, got "
                f"{used or 'none'} (at {path})",
                depth=depth,
                owner=type_name,
            )
    at_most: list[str] | None = info.get("at_most_one_of")
    if at_most is not None:
        used = [k for k in at_most if k in obj]
        if len(used) > 1:
            raise _Invalid(
                f"at most one of the fields {', '.join(at_most)} may be used, got {used} "
                f"(at {path})",
                depth=depth,
                owner=type_name,
            )


def _missing_description(name: str) -> str:
    if name == "text":
        return "message text is empty"
    if name == "chat_id":
        return "chat_id is empty"
    return f'parameter "{name}" is required'


@cache
def _load_packaged() -> BotApiSpec:
    text = resources.files("bot.sandbox").joinpath("botapi_spec.json").read_text("utf-8")
    return BotApiSpec(json.loads(text))
