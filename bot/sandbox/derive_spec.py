"""Derive the compact Bot API spec that the fake Telegram server validates requests against.

Usage: ``python -m bot.sandbox.derive_spec ../shared/botapi/api.json bot/sandbox/botapi_spec.json``

The input is the machine-readable Bot API description (methods and types with prose field
descriptions).  The output keeps facts only: parameter/field types, whether they are required,
and the limits Telegram states in prose ("1-4096 characters", "1-64 bytes", 'one of "a", "b"').
The output is deterministic so the committed file can be compared with a fresh derivation.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

JsonDict = dict[str, Any]

PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "True"})

_RANGE_CHARS = re.compile(r"(\d+)-(\d+) characters")
_RANGE_BYTES = re.compile(r"(\d+)-(\d+) bytes")
_MAX_CHARS = re.compile(r"(?:up to|can't exceed|at most) (\d+) characters")
_MAX_BYTES = re.compile(r"(?:up to|can't exceed|at most) (\d+) bytes")
_INT_RANGE = [
    re.compile(r"(?:^|[;,:] |[Vv]alues between )(\d+)-(\d+)(?=[.,;]|$| are)"),
    re.compile(r"[Mm]ust be between (\d+) and (\d+)"),
]
_INT_ENUM = re.compile(r"must be one of ([^.]+)(?:\.|$)")
_INT_ENUM_BODY = re.compile(
    r"\d+(?: \(0x[0-9A-Fa-f]+\))?(?:(?:,? or |, )\d+(?: \(0x[0-9A-Fa-f]+\))?)*"
)
_ITEMS_RANGE = [
    re.compile(r"(?:list|array) of (\d+)-(\d+) "),
    re.compile(r"must include (\d+)-(\d+) items"),
]
_ITEMS_MAX = [
    re.compile(r"up to (\d+) items"),
    re.compile(r"At most (\d+) [\w ]+ can be specified"),
]
_ENUM_TRIGGER = re.compile(r"(?:[Oo]ne of|[Mm]ust be either|[Cc]urrently, can be)\s")
_ENUM_ITEM = re.compile(r'"([^"]+)"(?: \([^)]*\))?')
_ENUM_SEP = re.compile(r",? or |, ")
_CHOOSE_ONE = re.compile(r"Choose one, [^:]*: (.*)$")
_CHOOSE_WORD = re.compile(r"\b([a-z]+(?:_[a-z]+)*)(?= for | or )")
_CONST = [
    re.compile(r'always "([a-z0-9_]+)"'),
    re.compile(r"must be ([a-z0-9_]+)$"),
]
_EXACTLY_ONE_OTHER = re.compile(r"[Ee]xactly one of the fields other than (.+?) must be used")
_AT_MOST_ONE_OTHER = re.compile(r"At most one of the fields other than (.+?) must be used")
_EXACTLY_ONE_LISTED = re.compile(
    r"Exactly one of the fields (\w+(?:, \w+)*(?:,? or \w+)) must be used"
)
_PATTERN_PHRASES = {
    "Can contain only lowercase English letters, digits and underscores": "^[a-z0-9_]*$",
    "Only characters A-Z, a-z, 0-9, _ and - are allowed": "^[A-Za-z0-9_-]*$",
}


def base_type(type_name: str) -> str:
    """Strip any number of "Array of " prefixes."""
    while type_name.startswith("Array of "):
        type_name = type_name[len("Array of ") :]
    return type_name


def _split_names(text: str) -> list[str]:
    return [n for n in re.split(r",? and |,? or |, ", text) if n]


def parse_enum(description: str) -> list[str] | None:
    """Quoted alternatives after 'one of' etc., but only when the run ends the sentence.

    A run that continues with prose ('"static" for a .WEBP image, ...') is ambiguous, so it is
    dropped rather than turned into a too-narrow enum.
    """
    for trigger in _ENUM_TRIGGER.finditer(description):
        pos = trigger.end()
        values: list[str] = []
        while True:
            item = _ENUM_ITEM.match(description, pos)
            if item is None:
                break
            values.append(item.group(1))
            pos = item.end()
            sep = _ENUM_SEP.match(description, pos)
            if sep is None:
                break
            pos = sep.end()
        rest = description[pos:]
        if len(values) >= 2 and (rest == "" or rest.startswith(".")):
            return values
    choose = _CHOOSE_ONE.search(description)
    if choose:
        words = _CHOOSE_WORD.findall(choose.group(1))
        if words:
            return list(dict.fromkeys(words))
    return None


def _limits(types: list[str], description: str) -> JsonDict:
    facts: JsonDict = {}
    bases = {base_type(t) for t in types}
    is_array = all(t.startswith("Array of ") for t in types)
    if is_array:
        for rx in _ITEMS_RANGE:
            if m := rx.search(description):
                facts["min_items"], facts["max_items"] = int(m.group(1)), int(m.group(2))
                break
        else:
            for rx in _ITEMS_MAX:
                if m := rx.search(description):
                    facts["max_items"] = int(m.group(1))
                    break
        return facts
    if "String" in types:
        if m := _RANGE_CHARS.search(description):
            facts["min_len"], facts["max_len"] = int(m.group(1)), int(m.group(2))
        elif m := _MAX_CHARS.search(description):
            facts["max_len"] = int(m.group(1))
        if m := _RANGE_BYTES.search(description):
            facts["min_bytes"], facts["max_bytes"] = int(m.group(1)), int(m.group(2))
        elif m := _MAX_BYTES.search(description):
            facts["max_bytes"] = int(m.group(1))
        if re.search(r"after entit(?:y|ies) parsing", description):
            facts["after_entities"] = True
        if (enum := parse_enum(description)) is not None and types == ["String"]:
            facts["enum"] = enum
        for phrase, pattern in _PATTERN_PHRASES.items():
            if phrase in description:
                facts["pattern"] = pattern
    if bases <= {"Integer", "Float"} and bases:
        for rx in _INT_RANGE:
            if m := rx.search(description):
                facts["min"], facts["max"] = int(m.group(1)), int(m.group(2))
                break
        m = _INT_ENUM.search(description)
        if types == ["Integer"] and m and _INT_ENUM_BODY.fullmatch(m.group(1)):
            facts["enum"] = [int(v) for v in re.findall(r"(?:^|, |or )(\d+)", m.group(1))]
    return facts


def derive_field(field: JsonDict) -> JsonDict:
    types = list(field["types"])
    out: JsonDict = {"types": types, "required": bool(field.get("required", False))}
    out.update(_limits(types, str(field.get("description", ""))))
    return out


def _referenced(types: Iterable[str]) -> Iterator[str]:
    for t in types:
        yield base_type(t)


def reachable_types(api: JsonDict) -> set[str]:
    """Types that can appear (nested) in a request parameter; response-only types are left out."""
    all_types: JsonDict = api["types"]
    stack = [
        name
        for method in api["methods"].values()
        for field in method.get("fields", [])
        for name in _referenced(field["types"])
    ]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in all_types:
            continue
        seen.add(name)
        info = all_types[name]
        for field in info.get("fields") or []:
            stack.extend(_referenced(field["types"]))
        stack.extend(info.get("subtypes") or [])
    return seen


def _discriminator(subtype: JsonDict) -> tuple[str, str] | None:
    for field in subtype.get("fields") or []:
        if field["name"] not in ("type", "source", "status"):
            continue
        for rx in _CONST:
            if m := rx.search(str(field.get("description", ""))):
                return str(field["name"]), m.group(1)
    return None


def derive_type(name: str, info: JsonDict, all_types: JsonDict) -> JsonDict:
    out: JsonDict = {}
    description = " ".join(info.get("description") or [])
    if name == "InputFile":
        out["input_file"] = True
        return out
    subtypes = info.get("subtypes")
    if subtypes:
        out["subtypes"] = list(subtypes)
        keys = {d[0] for s in subtypes if (d := _discriminator(all_types.get(s, {})))}
        if len(keys) == 1:
            out["discriminator"] = keys.pop()
        return out
    fields = info.get("fields") or []
    out["fields"] = {f["name"]: derive_field(f) for f in fields}
    if discr := _discriminator(info):
        out["fields"][discr[0]]["const"] = discr[1]
    optional = [f["name"] for f in fields if not f.get("required", False)]
    if m := _EXACTLY_ONE_OTHER.search(description):
        excluded = set(_split_names(m.group(1)))
        out["exactly_one_of"] = [n for n in optional if n not in excluded]
    elif m := _EXACTLY_ONE_LISTED.search(description):
        out["exactly_one_of"] = _split_names(m.group(1))
    elif "You must use exactly one of the optional fields" in description:
        out["exactly_one_of"] = optional
    if m := _AT_MOST_ONE_OTHER.search(description):
        excluded = set(_split_names(m.group(1)))
        out["at_most_one_of"] = [n for n in optional if n not in excluded]
    if "String can be used instead of this object" in description:
        out["string_ok"] = True
    return out


def derive(api: JsonDict) -> JsonDict:
    all_types: JsonDict = api["types"]
    methods = {
        name: {
            "params": {f["name"]: derive_field(f) for f in info.get("fields") or []},
            "returns": list(info.get("returns") or []),
        }
        for name, info in api["methods"].items()
    }
    types = {
        name: derive_type(name, all_types[name], all_types)
        for name in sorted(reachable_types(api))
    }
    return {"version": api.get("version"), "methods": methods, "types": types}


def render(spec: JsonDict) -> str:
    """Sorted, one method or type per line: small, deterministic and readable in diffs."""

    def dump(value: object) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    sections = []
    for key in sorted(spec):
        value = spec[key]
        if isinstance(value, dict):
            entries = ",\n".join(f"{dump(name)}:{dump(value[name])}" for name in sorted(value))
            sections.append(f"{dump(key)}:{{\n{entries}\n}}")
        else:
            sections.append(f"{dump(key)}:{dump(value)}")
    return "{\n" + ",\n".join(sections) + "\n}\n"


def derive_file(source: Path) -> str:
    return render(derive(json.loads(source.read_text(encoding="utf-8"))))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write("usage: python -m bot.sandbox.derive_spec API_JSON OUTPUT_JSON\n")
        return 2
    Path(args[1]).write_text(derive_file(Path(args[0])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
