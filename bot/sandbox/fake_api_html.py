"""Telegram's HTML formatting mode, re-implemented after tdlib's parser for the fake Bot API.

The parser mirrors tdlib's behaviour and error messages ("Unsupported start tag ...",
"Can't find end tag ...") with one deliberate difference: a bare "&" that doesn't start one of
the entities Telegram decodes is rejected instead of being kept literally.  Real Telegram shows
such text verbatim, so "AT&amp;T" typed by a user and echoed unescaped would silently render
as "AT&T"; failing loudly in tests catches the missing ``html.escape`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "tg-time", "code", "pre", "blockquote",
    }
)  # fmt: skip

_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RX = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_SPACE = " \t\r\n\f\v"
# tdlib trims these from both ends of every formatted text after parsing.
_TRIM = " \t\r\n\f\v"
_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; str(exc) is the part after "can't parse entities: "."""


@dataclass
class FormattedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    result_pos: int
    expandable: bool = False
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    m = _ENTITY_RX.match(text, pos)
    if m is None:
        return None
    if m.group(1):
        return _NAMED[m.group(1)], m.end()
    code = int(m.group(2), 10) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def parse_html(text: str) -> FormattedText:
    """Return the plain text and entities (UTF-16 offsets) Telegram would produce."""
    n = len(text)
    out: list[str] = []
    utf16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                raise EntityParseError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} must be escaped '
                    'as "&amp;"'
                )
            ch, i = decoded
            out.append(ch)
            utf16 += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue
        begin = i
        begin_bytes = _byte_offset(text, begin)
        i += 1
        if at(i) != "/":
            while i < n and at(i) not in _SPACE and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            tag = text[begin + 1 : i].lower()
            if tag not in SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {begin_bytes}'
                )
            opened = _Open(tag, "", utf16, len(out))
            while at(i) != ">":
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) == ">":
                    break
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
                attr_begin = i
                while i < n and at(i) not in _SPACE and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i]
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin_bytes}'
                    )
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        opened.expandable = True
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin_bytes}'
                    )
                i += 1
                while i < n and at(i) in _SPACE:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {begin_bytes}'
                    )
                value_chars: list[str] = []
                if at(i) not in "'\"":
                    token_begin = i
                    while i < n and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) not in _SPACE and at(i) != ">":
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    while i < n and text[i] != quote:
                        if text[i] == "&" and (decoded := _decode_entity(text, i)):
                            value_chars.append(decoded[0])
                            i = decoded[1]
                            continue
                        value_chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(value_chars)
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
                opened.attrs[attr] = value
                if tag == "a" and attr == "href":
                    opened.argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    opened.argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    opened.argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    opened.argument = value
                elif tag == "blockquote" and attr == "expandable":
                    opened.expandable = True
            i += 1
            if tag == "span" and opened.argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
                )
            stack.append(opened)
            continue
        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin_bytes}")
        i += 1
        name_begin = i
        while i < n and at(i) not in _SPACE and at(i) != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and at(i) in _SPACE:
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {begin_bytes}")
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin_bytes}, expected "</{opened.tag}>", '
                f'found "</{end_name}>"'
            )
        length = utf16 - opened.utf16_offset
        if length > 0:
            entity = _make_entity(opened, "".join(out[opened.result_pos :]))
            if entity is not None:
                entity["offset"] = opened.utf16_offset
                entity["length"] = length
                entities.append(entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return _merge_pre_code(trim(FormattedText("".join(out), entities)))


def _make_entity(opened: _Open, inner: str) -> dict[str, Any] | None:
    tag = opened.tag
    if tag in _SIMPLE_ENTITY:
        return {"type": _SIMPLE_ENTITY[tag]}
    if tag == "code":
        # The language only matters when the code block sits directly inside <pre>.
        return {"type": "code", "_language": opened.argument}
    if tag == "a":
        url = opened.argument or inner
        if m := _USER_LINK.match(url):
            return {"type": "text_mention", "user": {"id": int(m.group(1))}}
        if not url:
            return None
        return {"type": "text_link", "url": url}
    if tag == "pre":
        return {"type": "pre"}
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if opened.expandable else "blockquote"}
    if tag == "tg-emoji":
        if not opened.argument:
            return None
        return {"type": "custom_emoji", "custom_emoji_id": opened.argument}
    if tag == "tg-time":
        unix = opened.attrs.get("unix", "")
        if not unix.isdigit():
            return None
        entity: dict[str, Any] = {"type": "date_time", "unix_time": int(unix)}
        if fmt := opened.attrs.get("format"):
            entity["date_time_format"] = fmt
        return entity
    return None


def _merge_pre_code(formatted: FormattedText) -> FormattedText:
    """<pre><code class="language-x"> becomes one pre entity with language, as in Telegram."""
    result: list[dict[str, Any]] = []
    pres = [e for e in formatted.entities if e["type"] == "pre"]
    for entity in formatted.entities:
        language = entity.pop("_language", "")
        if entity["type"] == "code" and language:
            outer = next(
                (
                    p
                    for p in pres
                    if p["offset"] == entity["offset"] and p["length"] == entity["length"]
                ),
                None,
            )
            if outer is not None:
                outer["language"] = language
                continue
        result.append(entity)
    formatted.entities = result
    return formatted


def trim(formatted: FormattedText) -> FormattedText:
    """Strip surrounding whitespace like Telegram does, keeping entity offsets consistent."""
    text = formatted.text
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip(_TRIM)
    total = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def unparse_plain(text: str, entities: list[dict[str, Any]] | None) -> FormattedText:
    """Plain text (no parse_mode): optional explicit entities are clipped to the text."""
    total = utf16_len(text)
    kept = [
        dict(e)
        for e in entities or []
        if 0 <= int(e.get("offset", -1)) < total and int(e.get("length", 0)) > 0
    ]
    for e in kept:
        e["length"] = min(int(e["length"]), total - int(e["offset"]))
    return trim(FormattedText(text, kept))
