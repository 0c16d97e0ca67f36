"""Talk before the meeting: when the two sides of a request may write, how long a message may be,
and in which language it was written, told honestly.

The language is not guessed from words (no detector ships with the bot): the script of the
letters says which languages are possible, and the writer's own languages (interface language
first, then meeting languages) say which of them it is. When none of the writer's languages is
written in that script, a script used by one language only (Hangul, kana, Hebrew) names it; a
shared script (Cyrillic, Arabic) names its most likely language as a guess, marked as such; the
Latin script, shared by too many, names none.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.meetings import Meeting, MeetingError, MeetingState

# The longest message relayed; Telegram's own limit (4096) leaves room for the header.
MESSAGE_MAX = 500

# Which scripts each meeting language is written in (bot.domain.languages' choices).
_SCRIPTS: dict[str, frozenset[str]] = {
    "en": frozenset({"Latn"}),
    "zh": frozenset({"Hani"}),
    "ru": frozenset({"Cyrl"}),
    "ko": frozenset({"Hang"}),
    "ar": frozenset({"Arab"}),
    "tg": frozenset({"Cyrl"}),
    "kk": frozenset({"Cyrl", "Latn"}),
    "uz": frozenset({"Latn", "Cyrl"}),
    "tr": frozenset({"Latn"}),
    "fa": frozenset({"Arab"}),
    "he": frozenset({"Hebr"}),
    "nl": frozenset({"Latn"}),
    "de": frozenset({"Latn"}),
    "fr": frozenset({"Latn"}),
    "es": frozenset({"Latn"}),
    "ja": frozenset({"Jpan", "Hani"}),
}

# Unicode character-name prefixes of each script's letters.
_NAME_PREFIXES = (
    ("CJK UNIFIED", "Hani"),
    ("CJK COMPATIBILITY IDEOGRAPH", "Hani"),
    ("HIRAGANA", "Jpan"),
    ("KATAKANA", "Jpan"),
    ("HANGUL", "Hang"),
    ("ARABIC", "Arab"),
    ("HEBREW", "Hebr"),
    ("CYRILLIC", "Cyrl"),
    ("LATIN", "Latn"),
)

# Letters that only some languages of a shared script use.
_PERSIAN = frozenset("پچژگکی")
_KAZAKH = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_TAJIK = frozenset("ғӣқӯҳҷҒӢҚӮҲҶ")


class Basis(StrEnum):
    """How the language of a message is known."""

    PROFILE = "profile"  # one of the writer's own languages, written in the message's script
    SCRIPT = "script"  # a guess from the script alone
    NONE = "none"  # no letters, or a script too many languages share


@dataclass(frozen=True)
class Written:
    """The language a message was written in (None: not known) and how it is known."""

    language: str | None
    basis: Basis


def _script(ch: str) -> str | None:
    if not unicodedata.category(ch).startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    for prefix, script in _NAME_PREFIXES:
        if name.startswith(prefix):
            return script
    return None


def dominant_script(text: str) -> str | None:
    """The script most of the text's letters are in; kana anywhere makes it Japanese."""
    counts = Counter(script for ch in text if (script := _script(ch)) is not None)
    if not counts:
        return None
    if counts["Jpan"]:
        return "Jpan"
    return counts.most_common(1)[0][0]


def _guess(script: str, text: str) -> str | None:
    """The language a script alone points to, or None when too many share it."""
    letters = set(text)
    if script == "Arab":
        return "fa" if letters & _PERSIAN else "ar"
    if script == "Cyrl":
        if letters & _KAZAKH - _TAJIK:
            return "kk"
        if letters & _TAJIK - _KAZAKH:
            return "tg"
        return "ru"
    return {"Hang": "ko", "Jpan": "ja", "Hebr": "he", "Hani": "zh"}.get(script)


def written_language(text: str, writer_languages: Iterable[str]) -> Written:
    """The language a message is written in, as far as its script and its writer tell."""
    script = dominant_script(text)
    if script is None:
        return Written(None, Basis.NONE)
    for code in writer_languages:
        if script in _SCRIPTS.get(code, frozenset()):
            return Written(code, Basis.PROFILE)
    guess = _guess(script, text)
    return Written(guess, Basis.SCRIPT if guess else Basis.NONE)


def writer_languages(locale: str | None, meeting_languages: Sequence[str]) -> tuple[str, ...]:
    """A writer's languages in the order they most likely write: interface, then meeting."""
    ordered = [locale] if locale else []
    ordered += [code for code in meeting_languages if code not in ordered]
    return tuple(ordered)


class TalkEnded(MeetingError):
    """The thread is over: the request was answered no, expired, was cancelled, or the meeting
    is past, or the other side can no longer be reached."""

    def __init__(self, why: str) -> None:
        super().__init__(f"the conversation has ended: {why}")
        self.why = why


class TooLong(MeetingError):
    """The message is longer than MESSAGE_MAX."""

    def __init__(self, length: int) -> None:
        super().__init__(f"{length} characters, the limit is {MESSAGE_MAX}")
        self.length = length


# Why a thread ended, by the state its meeting is in.
ENDED_BY_STATE = {
    MeetingState.DECLINED: "declined",
    MeetingState.EXPIRED: "expired",
    MeetingState.CANCELLED: "cancelled",
    MeetingState.WITHDRAWN: "withdrawn",
    MeetingState.RESCHEDULED: "replaced",
}
UNREACHABLE = "unreachable"
PAST = "past"


def check_open(meeting: Meeting, now: dt.datetime) -> None:
    """Raise TalkEnded unless the two may still write about this request or meeting."""
    if meeting.state in ENDED_BY_STATE:
        raise TalkEnded(ENDED_BY_STATE[meeting.state])
    if meeting.state is MeetingState.REQUESTED and meeting.expires_at <= now:
        raise TalkEnded("expired")
    if meeting.slot_end <= now:
        raise TalkEnded(PAST)


def clean_message(text: str) -> str:
    """The text as relayed: surrounding blanks trimmed; TooLong past the limit."""
    cleaned = text.strip()
    if len(cleaned) > MESSAGE_MAX:
        raise TooLong(len(cleaned))
    return cleaned
