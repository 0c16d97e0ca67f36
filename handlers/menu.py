"""The main menu: the buttons that lead to offers, needs, items and matches."""

from __future__ import annotations

from bot.i18n import Translator
from handlers import callbacks
from handlers.common import Buttons

# Namespaces of callback data, here so the registration summary can show the menu without
# importing the features (they import registration).
ITEMS_NS = "i"
MATCHES_NS = "mt"  # "m" is the meetings feature's


def main_menu(tr: Translator) -> Buttons:
    """Add an offer or a need, see matches, list items."""
    return [
        [
            (tr.label("➕ Offer technology"), callbacks.make(ITEMS_NS, "new", "offer")),
            (tr.label("🔎 Need technology"), callbacks.make(ITEMS_NS, "new", "need")),
        ],
        [
            (tr.label("🤝 My matches"), callbacks.make(MATCHES_NS, "pg", 0)),
            (tr.label("📋 My items"), callbacks.make(ITEMS_NS, "list")),
        ],
    ]
