"""Print command N (1 or 2) of the README, exactly as written, so CI runs what a new user copies.

The README opens with two fenced ``bash`` blocks: install and start the sandbox; install and run
the tests. Each holds one comment line and one command line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_commands(text: str) -> list[str]:
    """The command line of each of the README's first two bash blocks."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S)[:2]
    commands = []
    for block in blocks:
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        if len(lines) != 1:
            raise SystemExit(f"a README command block must hold one command, not {lines!r}")
        commands.append(lines[0])
    if len(commands) != 2:
        raise SystemExit("the README must open with two bash blocks")
    return commands


if __name__ == "__main__":
    print(readme_commands(README.read_text("utf-8"))[int(sys.argv[1]) - 1])  # noqa: T201
