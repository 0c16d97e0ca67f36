"""Quoting user text: one line, within a limit Telegram measures, an ellipsis when cut."""

from __future__ import annotations

import pytest

from handlers.views import QUOTE_MAX, quote, utf16_len


@pytest.mark.parametrize(
    ("text", "limit", "quoted"),
    [
        ("battery recycling", 100, "battery recycling"),
        ("  two\n\nlines\t here ", 100, "two lines here"),
        ("abcdefghij", 10, "abcdefghij"),
        ("abcdefghijk", 10, "abcdefghi…"),
        ("abcd efghijk", 6, "abcd…"),
        ("😀😀😀😀😀😀", 6, "😀😀…"),
        # Plain text: escaping comes later, so a cut may fall anywhere.
        ("<b>&amp;</b>" * 3, 8, "<b>&amp…"),
    ],
)
def test_quote(text: str, limit: int, quoted: str) -> None:
    assert quote(text, limit) == quoted


@pytest.mark.parametrize("piece", ["a", "😀", "a<&é😀 ", "\n"])
def test_a_quote_of_the_longest_message_stays_within_the_limit(piece: str) -> None:
    text = piece * 4096
    assert utf16_len(quote(text)) <= QUOTE_MAX
