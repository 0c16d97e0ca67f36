"""CI's promises about versions and the README: generated from the files they describe."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_minimum_constraints_match_pyproject() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "min_constraints.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_minimum_pins_read_every_kind_of_lower_bound() -> None:
    module = runpy.run_path(str(ROOT / ".ci" / "min_constraints.py"))
    pins = module["minimum_pins"](
        ["python-telegram-bot[job-queue,webhooks]>=22.0,<23", "ruff==0.17.6", "tzdata", "x~=1.4"]
    )
    assert pins == ["python-telegram-bot==22.0", "ruff==0.17.6", "x==1.4"]


def test_ci_runs_the_readme_commands_as_written() -> None:
    module = runpy.run_path(str(ROOT / ".ci" / "readme_command.py"))
    install_and_start, install_and_test = module["readme_commands"](
        (ROOT / "README.md").read_text("utf-8")
    )
    assert install_and_start.endswith("matchmaker sandbox")
    assert "pytest" in install_and_test and "PTB_TIMEDELTA=1" in install_and_test
