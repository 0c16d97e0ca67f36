"""SECURITY.md: every claim names a test, and every named test exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"^Test: (tests/[\w/]+\.py)::(test_\w+)\s*$", re.M)


def claims() -> dict[str, str]:
    """Claim heading -> its text, for every `###` section of SECURITY.md."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    return {section.split("\n", 1)[0]: section for section in sections}


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_claim_in_security_md_names_a_test() -> None:
    found = claims()
    assert len(found) >= 10
    for heading, section in found.items():
        assert NAMED.search(section), f"the claim {heading!r} names no test"


def test_every_test_named_in_security_md_exists() -> None:
    named = NAMED.findall((ROOT / "SECURITY.md").read_text(encoding="utf-8"))
    assert named
    for path, name in named:
        module = ROOT / path
        assert module.is_file(), f"{path} does not exist"
        assert name in functions_in(module), f"{path}::{name} does not exist"
