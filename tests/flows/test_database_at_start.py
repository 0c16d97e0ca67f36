"""`matchmaker run` on a database it cannot use: one line naming the path, no traceback."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make_database(path: Path) -> None:
    """A real, migrated-looking WAL database with one table."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()


def start(
    database: Path,
    *,
    prefix: tuple[str, ...] = (),
    preexec: Callable[[], None] | None = None,
) -> tuple[int, list[str]]:
    """Run `matchmaker run` against an unreachable Telegram; return its exit code and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env |= {
        "MATCHMAKER_TOKEN": "123456:TEST-TOKEN",
        # Nothing listens there: a bot that got past its database would hang, not pass.
        "MATCHMAKER_API_BASE_URL": "http://127.0.0.1:9/bot",
        "MATCHMAKER_DB": str(database),
        "PTB_TIMEDELTA": "1",
    }
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "bot", "run"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=preexec,
    )  # fmt: skip
    return done.returncode, done.stderr.splitlines()


def assert_one_line(code: int, lines: list[str], database: Path, reason: str) -> None:
    assert code == 2, lines
    assert len(lines) == 1, "\n".join(lines)
    assert "Traceback" not in lines[0]
    assert lines[0].startswith(f"matchmaker: configuration error: MATCHMAKER_DB: {database}: ")
    assert reason in lines[0], lines[0]


def test_a_corrupt_file_is_named(tmp_path: Path) -> None:
    database = tmp_path / "corrupt.db"
    database.write_bytes(b"this is no database, it only has the name of one\n" * 200)
    assert_one_line(*start(database), database, "not a SQLite database")


def test_a_damaged_database_is_named(tmp_path: Path) -> None:
    database = tmp_path / "damaged.db"
    make_database(database)
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("CREATE TABLE big (x)")
        conn.executemany("INSERT INTO big VALUES (?)", [("x" * 500,)] * 200)
        conn.commit()
    raw = bytearray(database.read_bytes())
    raw[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200  # a page of the table overwritten
    database.write_bytes(bytes(raw))
    code, lines = start(database)
    assert_one_line(code, lines, database, "damaged")


def test_a_missing_directory_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    database = blocker / "event" / "matchmaker.db"
    assert_one_line(*start(database), database, f"cannot create its directory {blocker}")


def test_a_read_only_database_is_named(tmp_path: Path) -> None:
    database = tmp_path / "read-only.db"
    make_database(database)
    database.chmod(0o444)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # Root writes read-only files; without its capabilities it honours the mode as anyone.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop capabilities")
        prefix = (setpriv, "--bounding-set=-all")
    assert_one_line(*start(database, prefix=prefix), database, "read-only")


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    database = tmp_path / "full.db"
    make_database(database)
    size = database.stat().st_size

    def no_room() -> None:
        # Writes past the file's present size fail as on a full disk (Python ignores SIGXFSZ).
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    assert_one_line(*start(database, preexec=no_room), database, "full")
