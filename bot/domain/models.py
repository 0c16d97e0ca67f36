"""Delegates and the vocabulary of their profiles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What kind of organization a delegate represents (values match the import format)."""

    COMPANY = "company"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    INVESTOR = "investor"
    AGENCY = "agency"
    GOVERNMENT = "government"


class Step(StrEnum):
    """Registration steps in the order they are asked."""

    LANGUAGE = "language"
    NAME = "name"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    ROLE = "role"
    MEETING_LANGUAGES = "meeting_languages"
    CONTACT = "contact"
    CONSENT = "consent"
    DONE = "done"


class ContactKind(StrEnum):
    """How a delegate can be reached outside Telegram."""

    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True)
class Delegate:
    """A delegate's profile, complete or still being filled in."""

    id: int
    telegram_user_id: int | None
    chat_id: int | None
    locale: str | None
    name: str | None
    organization: str | None
    country: str | None
    role: Role | None
    meeting_languages: tuple[str, ...]
    contact: str | None
    contact_kind: ContactKind | None
    consent: bool | None
    step: Step
    editing: bool
    reachable: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    registered_at: dt.datetime | None
    notify_matches: bool = True  # announce new strong matches (the /profile toggle)
    nudges: bool = True  # suggest matches while no meeting is booked (the /profile toggle)

    @property
    def is_registered(self) -> bool:
        """Whether the delegate finished registration."""
        return self.registered_at is not None
