"""The multilingual technology taxonomy: broad fields, specific fields and deal kinds.

The data lives in ``locales/taxonomy.json`` (loaded by ``locales.taxonomy.load_taxonomy``); this
module only validates and holds it, so adding a language or a field never needs code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field

NEUTRAL = "*"  # keyword list shared by every language: abbreviations, brands, formulas


class TaxonomyError(ValueError):
    """Raised when taxonomy data is malformed."""


@dataclass(frozen=True, slots=True)
class BroadField:
    """A broad technology area such as energy or health."""

    code: str
    names: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Field:
    """A specific technology field under one broad field."""

    code: str
    broad: str
    names: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of deal a delegate offers or seeks (licence, investment, joint R&D...)."""

    code: str
    names: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Taxonomy:
    """All fields and kinds, with names in every supported language."""

    languages: tuple[str, ...]
    broad_fields: tuple[BroadField, ...]
    fields: tuple[Field, ...]
    kinds: tuple[Kind, ...]
    _fields: dict[str, Field] = dc_field(init=False, repr=False, compare=False)
    _broads: dict[str, BroadField] = dc_field(init=False, repr=False, compare=False)
    _kinds: dict[str, Kind] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields", {f.code: f for f in self.fields})
        object.__setattr__(self, "_broads", {b.code: b for b in self.broad_fields})
        object.__setattr__(self, "_kinds", {k.code: k for k in self.kinds})

    def field(self, code: str) -> Field:
        """Return the specific field with this code (KeyError if unknown)."""
        return self._fields[code]

    def broad(self, code: str) -> BroadField:
        """Return the broad field with this code (KeyError if unknown)."""
        return self._broads[code]

    def kind(self, code: str) -> Kind:
        """Return the deal kind with this code (KeyError if unknown)."""
        return self._kinds[code]

    def broad_of(self, code: str) -> str:
        """Return the broad-field code a specific field belongs to."""
        return self._fields[code].broad

    def is_field(self, code: str) -> bool:
        """Tell whether a code names a specific field."""
        return code in self._fields

    def name(self, code: str, language: str = "en") -> str:
        """Return the display name of a field, broad field or kind, falling back to English."""
        entry: Field | BroadField | Kind | None = (
            self._fields.get(code) or self._broads.get(code) or self._kinds.get(code)
        )
        if entry is None:
            return code
        base = language.replace("_", "-").split("-")[0].lower()
        return entry.names.get(base) or entry.names.get("en") or code


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{where}: expected a non-empty string")
    return value.strip()


def _names(value: object, languages: tuple[str, ...], where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise TaxonomyError(f"{where}: names must be an object")
    names = {str(k): _str(v, f"{where}.names.{k}") for k, v in value.items()}
    missing = [lang for lang in languages if lang not in names]
    if missing:
        raise TaxonomyError(f"{where}: names missing for {', '.join(missing)}")
    return names


def _keywords(value: object, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TaxonomyError(f"{where}: keywords must be an object")
    out: dict[str, tuple[str, ...]] = {}
    for lang, words in value.items():
        if not isinstance(words, list):
            raise TaxonomyError(f"{where}.keywords.{lang}: expected a list")
        out[str(lang)] = tuple(_str(w, f"{where}.keywords.{lang}") for w in words)
    return out


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TaxonomyError(f"{key}: expected a list")
    return value


def _obj(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise TaxonomyError(f"{where}: expected an object")
    return value


def parse_taxonomy(data: Mapping[str, object]) -> Taxonomy:
    """Validate decoded taxonomy JSON and build a Taxonomy."""
    langs = data.get("languages")
    if not isinstance(langs, list) or not langs:
        raise TaxonomyError("languages: expected a non-empty list")
    languages = tuple(_str(x, "languages") for x in langs)

    broads: list[BroadField] = []
    for i, raw in enumerate(_list(data, "broad")):
        obj = _obj(raw, f"broad[{i}]")
        code = _str(obj.get("code"), f"broad[{i}].code")
        broads.append(
            BroadField(
                code,
                _names(obj.get("names"), languages, code),
                _keywords(obj.get("keywords"), code),
            )
        )
    broad_codes = {b.code for b in broads}
    if len(broad_codes) != len(broads):
        raise TaxonomyError("broad: duplicate codes")

    fields: list[Field] = []
    for i, raw in enumerate(_list(data, "fields")):
        obj = _obj(raw, f"fields[{i}]")
        code = _str(obj.get("code"), f"fields[{i}].code")
        broad = _str(obj.get("broad"), f"{code}.broad")
        if broad not in broad_codes:
            raise TaxonomyError(f"{code}: unknown broad field {broad!r}")
        fields.append(
            Field(
                code,
                broad,
                _names(obj.get("names"), languages, code),
                _keywords(obj.get("keywords"), code),
            )
        )
    if len({f.code for f in fields}) != len(fields):
        raise TaxonomyError("fields: duplicate codes")
    if {f.code for f in fields} & broad_codes:
        raise TaxonomyError("fields: a code is used both as a broad and a specific field")

    kinds: list[Kind] = []
    for i, raw in enumerate(_list(data, "kinds")):
        obj = _obj(raw, f"kinds[{i}]")
        code = _str(obj.get("code"), f"kinds[{i}].code")
        names = _names(obj.get("names"), languages, code)
        kinds.append(Kind(code, names, _keywords(obj.get("keywords"), code)))
    return Taxonomy(languages, tuple(broads), tuple(fields), tuple(kinds))
