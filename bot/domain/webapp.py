"""Telegram Mini App launch data (`initData`): signing and validation, as Telegram documents.

The data-check-string is every received field except `hash`, sorted by key, as `key=value`
lines joined by a line feed; the secret key is HMAC-SHA256 of the bot token keyed with
"WebAppData"; the hash is the hex HMAC-SHA256 of the data-check-string with that key.
Pure: the caller passes the token and the time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

# How long launch data stays good: a Mini App left open for a working day keeps working,
# a leaked initData string does not work for ever.
MAX_AGE = dt.timedelta(hours=24)
# A little clock skew between Telegram and us is not an attack.
FUTURE_SKEW = dt.timedelta(minutes=5)


class InitDataError(ValueError):
    """The launch data is missing, forged, malformed or too old; the message says which."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user the launch data vouches for."""

    id: int
    first_name: str
    language_code: str | None
    auth_date: dt.datetime


def _secret_key(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def _check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(
    token: str,
    user: Mapping[str, object],
    auth_date: dt.datetime,
    **extra: str,
) -> str:
    """Launch data for `user` signed with the bot token, as a Telegram client would pass it."""
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "user": json.dumps(dict(user), ensure_ascii=False, separators=(",", ":")),
        **extra,
    }
    digest = hmac.new(_secret_key(token), _check_string(fields).encode(), hashlib.sha256)
    return urlencode({**fields, "hash": digest.hexdigest()})


def validate_init_data(
    raw: str, token: str, now: dt.datetime, *, max_age: dt.timedelta = MAX_AGE
) -> WebAppUser:
    """The user of genuine, fresh launch data; InitDataError for anything else."""
    if not raw:
        raise InitDataError("no launch data")
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise InitDataError(f"field {key!r} appears twice")
        fields[key] = value
    received = fields.get("hash", "")
    expected = hmac.new(_secret_key(token), _check_string(fields).encode(), hashlib.sha256)
    # Compared in constant time, before anything in the data is believed.
    if not hmac.compare_digest(received.lower(), expected.hexdigest()):
        raise InitDataError("the signature does not match")
    try:
        signed_at = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
    except (KeyError, ValueError, OverflowError):
        raise InitDataError("no valid auth_date") from None
    if now - signed_at > max_age:
        raise InitDataError("the launch data is too old")
    if signed_at - now > FUTURE_SKEW:
        raise InitDataError("the launch data is dated in the future")
    try:
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("no valid user") from None
    language = user.get("language_code")
    return WebAppUser(
        id=user_id,
        first_name=str(user.get("first_name", "")),
        language_code=str(language) if language else None,
        auth_date=signed_at,
    )
