"""Rules of registration: the order of steps and what each step accepts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from bot.domain.languages import MEETING_LANGUAGE_CHOICES
from bot.domain.models import ContactKind, Delegate, Role, Step

NAME_MAX = 80
ORGANIZATION_MAX = 120
CONTACT_MAX = 80


class Problem(StrEnum):
    """Why an answer was refused; handlers turn each into a localized explanation."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_LETTERS = "no_letters"
    BAD_CONTACT = "bad_contact"
    UNKNOWN_COUNTRY = "unknown_country"
    NO_MEETING_LANGUAGE = "no_meeting_language"
    TOO_FEW_WORDS = "too_few_words"


class InvalidAnswer(ValueError):
    """An answer a step cannot accept."""

    def __init__(self, problem: Problem, limit: int = 0) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.limit = limit


_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Normalize to NFC, drop control and direction-override characters, collapse spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


# Letters by Unicode's account (the Hangul fillers) or symbols that show nothing at all: a name
# made of them looks blank in every list it appears in.
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Format characters, lone combining marks and spaces show nothing by themselves either.
_UNSEEN = frozenset({"Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """Whether text shows nothing: fillers, format characters, lone marks and spaces only."""
    return all(ch in BLANKS or unicodedata.category(ch) in _UNSEEN for ch in text)


def _has_letter_or_digit(text: str) -> bool:
    return any(ch not in BLANKS and unicodedata.category(ch)[0] in {"L", "N"} for ch in text)


def validate_free_text(text: str, *, limit: int) -> str:
    """Accept a name or organization: non-empty, with a letter or digit, within the limit."""
    cleaned = clean_text(text)
    if is_blank(cleaned):
        raise InvalidAnswer(Problem.EMPTY)
    if len(cleaned) > limit:
        raise InvalidAnswer(Problem.TOO_LONG, limit)
    if not _has_letter_or_digit(cleaned):
        raise InvalidAnswer(Problem.NO_LETTERS)
    return cleaned


def validate_name(text: str) -> str:
    """Accept a person's name."""
    return validate_free_text(text, limit=NAME_MAX)


def validate_organization(text: str) -> str:
    """Accept an organization's name."""
    return validate_free_text(text, limit=ORGANIZATION_MAX)


_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]{2,}$")
_PHONE_JUNK = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class Contact:
    """A validated contact."""

    kind: ContactKind
    value: str


def validate_contact(text: str, country: str | None = None) -> Contact:
    """Accept an e-mail address or a phone number (stored as E.164: +79131234567).

    A number without its country code is read as one of `country` (the delegate's), when known.
    """
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidAnswer(Problem.EMPTY)
    if len(cleaned) > CONTACT_MAX:
        raise InvalidAnswer(Problem.TOO_LONG, CONTACT_MAX)
    if "@" in cleaned:
        if _EMAIL.match(cleaned) and ".." not in cleaned:
            return Contact(ContactKind.EMAIL, cleaned)
        raise InvalidAnswer(Problem.BAD_CONTACT)
    digits = _PHONE_JUNK.sub("", cleaned)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    body = digits[1:] if digits.startswith("+") else digits
    if not (body.isascii() and body.isdigit()):
        raise InvalidAnswer(Problem.BAD_CONTACT)
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else country)
    except phonenumbers.NumberParseException:
        raise InvalidAnswer(Problem.BAD_CONTACT) from None
    # Possible (the length the country's plan allows) rather than valid (an allocated range):
    # organizers' lists carry numbers of new ranges the library's data may not know yet.
    if not phonenumbers.is_possible_number(number):
        raise InvalidAnswer(Problem.BAD_CONTACT)
    return Contact(
        ContactKind.PHONE, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def readable_contact(value: str) -> str:
    """A stored contact as people write it: "+7 913 123-45-67"; an e-mail address as it is."""
    if not value.startswith("+"):
        return value
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def validate_meeting_languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    """Accept a non-empty selection of known meeting languages, in the offered order."""
    chosen = tuple(code for code in MEETING_LANGUAGE_CHOICES if code in codes)
    if not chosen:
        raise InvalidAnswer(Problem.NO_MEETING_LANGUAGE)
    return chosen


def parse_role(value: str) -> Role | None:
    """Return the role a button names, or None for an unknown value."""
    try:
        return Role(value)
    except ValueError:
        return None


REGISTRATION_ORDER: tuple[Step, ...] = (
    Step.LANGUAGE,
    Step.NAME,
    Step.ORGANIZATION,
    Step.COUNTRY,
    Step.ROLE,
    Step.MEETING_LANGUAGES,
    Step.CONTACT,
    Step.CONSENT,
)


def step_after(delegate: Delegate, answered: Step) -> Step:
    """Return the step to ask once `answered` is saved: the next one, or the summary."""
    if delegate.editing or delegate.is_registered:
        return Step.DONE
    position = REGISTRATION_ORDER.index(answered)
    if position + 1 < len(REGISTRATION_ORDER):
        return REGISTRATION_ORDER[position + 1]
    return Step.DONE
