"""Shared fixtures."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from storage.db import Database

# PTB raises its RetryAfter timedelta deprecation as an error unless this is set.
os.environ.setdefault("PTB_TIMEDELTA", "1")

EVENT_START = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> ManualClock:
    """A clock at the morning of the event (09:00 in Asia/Shanghai)."""
    return ManualClock(EVENT_START)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database in a temporary file."""
    database = Database(tmp_path / "test.db")
    await database.connect()
    await database.migrate()
    yield database
    await database.close()


# The suite matches by taxonomy alone unless a test asks for an encoder: loading the bundled
# sentence encoder into every bot of every flow would make the suite crawl. Tests of the
# hybrid matcher set MATCHMAKER_ENCODER=use or hash themselves.
os.environ.setdefault("MATCHMAKER_ENCODER", "off")
