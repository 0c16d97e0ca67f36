"""What organizers do in the chat: take the role (`access`), read figures, export and import at
the desk (`desk`), broadcast in every delegate's language (`broadcast`), and control the day:
find a delegate, move, cancel or seat their meetings, undo a claim, merge profiles (`control`).
"""

from __future__ import annotations

from telegram.ext import Application

from handlers.organizer import access, broadcast, control, desk


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every organizer handler. The broadcast wizard takes the organizer's texts in an
    early group, before every other; the desk takes a CSV document before other handlers."""
    access.register(app)
    desk.register(app)
    broadcast.register(app)
    control.register(app)
