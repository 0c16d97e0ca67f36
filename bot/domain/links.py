"""Deep links: the /start payloads the bot hands out, and the one way to build a t.me link.

Two kinds of token travel in a link, told apart by their prefix so a claim never books and a
booking never binds: a claim token ("c_…", printed by an import, binds a Telegram account to an
imported delegate, once) and a booking token ("b_…", on a badge or poster, opens "Book a
meeting with …"). Telegram allows 64 characters after ?start=; both stay well inside.
An exhibit token ("x_…", on a booth poster's QR) opens the exhibit's card and never binds an
account or books by itself. Organizer invite codes ("org_…") are typed, not linked:
`/organizer CODE`, once; only their hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets

CLAIM_PREFIX = "c_"
CLAIM_TOKEN_BYTES = 24  # 32 URL-safe characters after the prefix
BOOKING_PREFIX = "b_"
BOOKING_TOKEN_BYTES = 16  # 22 URL-safe characters after the prefix
BOOKING_TOKEN_LENGTH = 22
INVITE_PREFIX = "org_"
EXHIBIT_PREFIX = "x_"
EXHIBIT_TOKEN_BYTES = 12  # 16 URL-safe characters after the prefix
EXHIBIT_TOKEN_LENGTH = 16


def start_link(bot_username: str, payload: str) -> str:
    """The t.me deep link that opens the bot with /start `payload`."""
    return f"https://t.me/{bot_username}?start={payload}"


def _url_safe(body: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in body)


def new_claim_token() -> str:
    """An unguessable claim token: "c_" and 32 characters of A-Z a-z 0-9 _ -."""
    return CLAIM_PREFIX + secrets.token_urlsafe(CLAIM_TOKEN_BYTES)


def is_claim_token(payload: str) -> bool:
    """Whether a /start payload has the shape of a claim token."""
    body = payload[len(CLAIM_PREFIX) :]
    return payload.startswith(CLAIM_PREFIX) and 8 <= len(body) <= 62 and _url_safe(body)


def new_booking_token() -> str:
    """An unguessable booking token: "b_" and 22 random URL-safe characters."""
    return BOOKING_PREFIX + secrets.token_urlsafe(BOOKING_TOKEN_BYTES)


def is_booking_token(payload: str) -> bool:
    """Whether a /start payload has the shape of a booking token."""
    body = payload[len(BOOKING_PREFIX) :]
    return (
        payload.startswith(BOOKING_PREFIX)
        and len(body) == BOOKING_TOKEN_LENGTH
        and _url_safe(body)
    )


def new_exhibit_token() -> str:
    """An exhibit's booth token: "x_" and 16 random URL-safe characters."""
    return EXHIBIT_PREFIX + secrets.token_urlsafe(EXHIBIT_TOKEN_BYTES)


def is_exhibit_token(payload: str) -> bool:
    """Whether a /start payload has the shape of an exhibit token."""
    body = payload[len(EXHIBIT_PREFIX) :]
    return (
        payload.startswith(EXHIBIT_PREFIX)
        and len(body) == EXHIBIT_TOKEN_LENGTH
        and _url_safe(body)
    )


def new_invite_code() -> str:
    """A one-time organizer invite code, unguessable and easy to paste."""
    return INVITE_PREFIX + secrets.token_urlsafe(12)


def hash_code(code: str) -> str:
    """What is stored of an invite code: its SHA-256 (the code itself is random)."""
    return hashlib.sha256(code.strip().encode()).hexdigest()
