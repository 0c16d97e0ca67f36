"""Mini App launch data: Telegram's signature and its age, checked before anything is believed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.domain.webapp import MAX_AGE, InitDataError, sign_init_data, validate_init_data

TOKEN = "123456:TEST-token"
NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
USER = {"id": 42, "first_name": "Анна", "language_code": "ru"}


def test_signed_data_is_accepted_with_its_user() -> None:
    user = validate_init_data(sign_init_data(TOKEN, USER, NOW, query_id="AAH"), TOKEN, NOW)
    assert (user.id, user.first_name, user.language_code) == (42, "Анна", "ru")
    assert user.auth_date == NOW


def test_the_documented_algorithm_by_hand() -> None:
    """Telegram's recipe, written out independently of the module."""
    fields = {"auth_date": str(int(NOW.timestamp())), "user": '{"id":7,"first_name":"A"}'}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert validate_init_data(urlencode(fields), TOKEN, NOW).id == 7


def _tampered(raw: str, key: str, value: str) -> str:
    pairs = dict(parse_qsl(raw))
    pairs[key] = value
    return urlencode(pairs)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "no launch data"),
        (_tampered(sign_init_data(TOKEN, USER, NOW), "user", '{"id":43}'), "signature"),
        (
            _tampered(
                sign_init_data(TOKEN, USER, NOW), "auth_date", str(int(NOW.timestamp()) - 60)
            ),
            "signature",
        ),
        (_tampered(sign_init_data(TOKEN, USER, NOW), "hash", "0" * 64), "signature"),
        (sign_init_data("999:OTHER-bot", USER, NOW), "signature"),
        (sign_init_data(TOKEN, USER, NOW - MAX_AGE - dt.timedelta(seconds=1)), "too old"),
        (sign_init_data(TOKEN, USER, NOW + dt.timedelta(hours=1)), "future"),
        (sign_init_data(TOKEN, {"first_name": "no id"}, NOW), "no valid user"),
        (sign_init_data(TOKEN, USER, NOW) + "&user=x", "twice"),
    ],
)
def test_forged_old_or_malformed_data_is_refused(raw: str, problem: str) -> None:
    with pytest.raises(InitDataError, match=problem):
        validate_init_data(raw, TOKEN, NOW)


def test_data_just_within_its_age_passes() -> None:
    raw = sign_init_data(TOKEN, USER, NOW - MAX_AGE + dt.timedelta(seconds=1))
    assert validate_init_data(raw, TOKEN, NOW).id == 42
