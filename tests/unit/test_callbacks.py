"""Callback data: one parser that refuses what it does not know, numbers past SQLite's too."""

from __future__ import annotations

import pytest

from handlers import callbacks

ACTIONS = frozenset({"acc", "mv"})


@pytest.mark.parametrize(
    ("data", "arg"),
    [
        ("m1:acc:12", "12"),
        ("m1:mv:12-29000000", "12-29000000"),
        (f"m1:acc:{2**63 - 1}", str(2**63 - 1)),
        ("m1:acc:b_Token-With_Parts", "b_Token-With_Parts"),
        (f"m1:acc:{2**63}", None),
        ("m1:acc:99999999999999999999", None),
        ("m1:mv:1-99999999999999999999", None),
        ("m1:zap:1", None),
        ("x1:acc:1", None),
        ("m2:acc:1", None),
    ],
)
def test_parse(data: str, arg: str | None) -> None:
    parsed = callbacks.parse(data, "m", ACTIONS)
    assert (parsed.arg if parsed else None) == arg
