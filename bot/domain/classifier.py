"""Classify free text in en, zh, ru, ko or ar into taxonomy fields, broad fields and deal kinds.

Every keyword of the taxonomy (in every language) is compiled into *units*: stemmed words for
alphabetic scripts, unsegmented strings for Han and Hangul. A keyword matches a text when all of
its units occur in it: words by stem (with a rapidfuzz fallback for spelling variants), Han and
Hangul units as substrings, so that Chinese without spaces and Korean with particles attached
still match. Where keywords overlap, the longest wins ("太阳能电池" is solar, not batteries).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.domain.taxonomy import Taxonomy
from bot.domain.textnorm import Script, detect_language, is_stopword, tokenize

UnitKind = Literal["word", "han", "hangul"]

_FUZZY_CUTOFF = 88.0  # rapidfuzz ratio; admits one inserted letter in a 5-letter stem
_FUZZY_FACTOR = 0.85
_PARTIAL_FACTOR = 0.6
_SEP = "\x00"  # keeps substrings from spanning two runs of text
_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class FieldScore:
    """One field (or broad field, or kind) a text was classified into."""

    code: str
    score: float  # confidence in 0..1
    evidence: float  # summed keyword weight behind the score, for ranking and vectors
    matched: tuple[str, ...]  # the taxonomy keywords that matched, as written there


@dataclass(frozen=True, slots=True)
class Classification:
    """Everything the classifier read from one text."""

    language: str | None
    fields: tuple[FieldScore, ...]  # best first
    broad: tuple[FieldScore, ...]  # best first
    kinds: tuple[str, ...]  # deal kinds mentioned, best first

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the specific field codes, best first."""
        return tuple(f.code for f in self.fields)


@dataclass(frozen=True, slots=True)
class _Unit:
    kind: UnitKind
    key: str
    abbr: bool


@dataclass(frozen=True, slots=True)
class _Keyword:
    label: int
    text: str
    units: tuple[_Unit, ...]
    weight: float


@dataclass(slots=True)
class _Text:
    words: dict[str, tuple[int, bool, float]]  # stem -> (position, written as abbr, factor)
    han: str
    hangul: str


@dataclass(slots=True)
class _Match:
    keyword: _Keyword
    cover: frozenset[tuple[str, int]]
    weight: float


def _han_weight(n: int) -> float:
    return 0.4 if n <= 1 else min(1.0 + 0.25 * (n - 2), 1.75)


def _hangul_weight(n: int) -> float:
    return 0.4 if n <= 1 else min(0.9 + 0.25 * (n - 2), 1.5)


def _unit_weight(unit: _Unit) -> float:
    if unit.kind == "han":
        return _han_weight(len(unit.key))
    if unit.kind == "hangul":
        return _hangul_weight(len(unit.key))
    if unit.abbr:
        return 1.1
    return 0.6 if len(unit.key) <= 2 else 1.0


def _compile_units(text: str) -> tuple[_Unit, ...]:
    units: list[_Unit] = []
    tokens = [tok for tok in tokenize(text) if not is_stopword(tok)]
    for tok in tokens:
        if tok.script == "han":
            unit = _Unit("han", tok.norm, False)
        elif tok.script == "hangul":
            unit = _Unit("hangul", tok.norm, False)
        else:
            # Keywords use the conservative stem; texts offer every reading of a word. An
            # Arabic word of a phrase also loses its plural ending (شبكات المياه meets شبكة
            # المياه): the phrase's other words keep the sense; a word alone stays whole.
            stem = tok.stems[0]
            if tok.script == "arabic" and len(tokens) > 1 and len(tok.stems) > 1:
                stem = tok.stems[1]
            unit = _Unit("word", stem, tok.abbr)
        if unit not in units:
            units.append(unit)
    order = {"word": 0, "han": 1, "hangul": 2}
    return tuple(sorted(units, key=lambda u: order[u.kind]))


def _keyword_weight(units: Sequence[_Unit]) -> float:
    weights = sorted((_unit_weight(u) for u in units), reverse=True)
    return min(weights[0] + 0.45 * sum(weights[1:]), 2.5)


def _substrings(stream: str, max_len: int) -> Iterable[tuple[str, int]]:
    n = len(stream)
    for i in range(n):
        if stream[i] == _SEP:
            continue
        for j in range(i + 1, min(n, i + max_len) + 1):
            if stream[j - 1] == _SEP:
                break
            yield stream[i:j], i


def _bigrams(stream: str) -> Iterable[tuple[str, int]]:
    for i in range(len(stream) - 1):
        pair = stream[i : i + 2]
        if _SEP not in pair:
            yield pair, i


class _Matcher:
    """Keyword index over one label space (fields, broad fields or kinds)."""

    def __init__(self, labelled: Sequence[tuple[str, Iterable[str]]]) -> None:
        self.labels = [code for code, _ in labelled]
        seen: set[tuple[int, tuple[_Unit, ...]]] = set()
        owners: dict[tuple[_Unit, ...], set[int]] = {}
        raw: list[tuple[int, str, tuple[_Unit, ...]]] = []
        for label, (_, words) in enumerate(labelled):
            for word in words:
                units = _compile_units(word)
                if not units or (label, units) in seen:
                    continue
                seen.add((label, units))
                owners.setdefault(units, set()).add(label)
                raw.append((label, word, units))
        self.keywords: list[_Keyword] = []
        for label, word, units in raw:
            # A keyword shared by several fields says less about each of them.
            share = math.sqrt(len(owners[units]))
            self.keywords.append(_Keyword(label, word, units, _keyword_weight(units) / share))
        self.index: dict[tuple[UnitKind, str], list[int]] = {}
        self.han_bigrams: dict[str, list[int]] = {}
        self.hangul_bigrams: dict[str, list[int]] = {}
        max_han = max_hangul = 1
        vocab: dict[Script, set[str]] = {}
        for k, kw in enumerate(self.keywords):
            first = kw.units[0]
            self.index.setdefault((first.kind, first.key), []).append(k)
            for u in kw.units:
                if u.kind == "han":
                    max_han = max(max_han, len(u.key))
                elif u.kind == "hangul":
                    max_hangul = max(max_hangul, len(u.key))
                elif not u.abbr:
                    vocab.setdefault(_script_of(u.key), set()).add(u.key)
            if len(kw.units) == 1 and first.kind != "word" and len(first.key) >= 4:
                table = self.han_bigrams if first.kind == "han" else self.hangul_bigrams
                for pair in dict.fromkeys(p for p, _ in _bigrams(first.key)):
                    table.setdefault(pair, []).append(k)
        self.max_han = max_han
        self.max_hangul = max_hangul
        self.vocab: dict[Script, list[str]] = {}
        for stem_set in vocab.values():
            for stem in stem_set:
                self.vocab.setdefault(_script_of(stem), []).append(stem)
        self.vocab_set = {w for words in vocab.values() for w in words}
        self._fuzzy_cache: dict[tuple[str, Script], str | None] = {}

    def fuzzy(self, stem: str, script: Script) -> str | None:
        """Return the keyword stem closest to an unknown stem, if close enough."""
        key = (stem, script)
        if key in self._fuzzy_cache:
            return self._fuzzy_cache[key]
        choices = self.vocab.get(script, ())
        found = process.extractOne(stem, choices, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        near = None if found is None else str(found[0])
        if len(self._fuzzy_cache) > _CACHE_LIMIT:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[key] = near
        return near

    def match(self, text: _Text) -> list[_Match]:
        """Return the keywords found in a text, after longest-match suppression."""
        candidates: set[int] = set()
        for stem in text.words:
            candidates.update(self.index.get(("word", stem), ()))
        for sub, _ in _substrings(text.han, self.max_han):
            candidates.update(self.index.get(("han", sub), ()))
        for sub, _ in _substrings(text.hangul, self.max_hangul):
            candidates.update(self.index.get(("hangul", sub), ()))
        matches: list[_Match] = []
        exact: set[int] = set()
        for k in candidates:
            kw = self.keywords[k]
            found = _verify(kw, text)
            if found is not None:
                cover, factor = found
                matches.append(_Match(kw, cover, kw.weight * factor))
                exact.add(k)
        matches.extend(self._partial(text.han, self.han_bigrams, "h", exact))
        matches.extend(self._partial(text.hangul, self.hangul_bigrams, "k", exact))
        return _suppress(matches)

    def _partial(
        self, stream: str, table: dict[str, list[int]], tag: str, exact: set[int]
    ) -> list[_Match]:
        # Character-bigram overlap catches reordered or slightly different Han/Hangul terms
        # ("地热热泵" against "地源热泵") at a discount.
        if not stream or not table:
            return []
        hits: dict[int, set[int]] = {}
        for pair, pos in _bigrams(stream):
            for k in table.get(pair, ()):
                if k not in exact:
                    hits.setdefault(k, set()).update((pos, pos + 1))
        out: list[_Match] = []
        for k, positions in hits.items():
            kw = self.keywords[k]
            key = kw.units[0].key
            pairs = [p for p, _ in _bigrams(key)]
            shared = sum(1 for p in set(pairs) if p in stream)
            ratio = shared / len(set(pairs))
            # Both ends must be present: "地源式热泵" still reads as 地源热泵, while "材料回收"
            # shares 料回/回收 with 塑料回收 by accident.
            if ratio >= 0.6 and pairs[0] in stream and pairs[-1] in stream:
                cover = frozenset((tag, p) for p in positions)
                out.append(_Match(kw, cover, kw.weight * ratio * _PARTIAL_FACTOR))
        return out


def _script_of(stem: str) -> Script:
    for ch in stem:
        o = ord(ch)
        if 0x0400 <= o <= 0x04FF:
            return "cyrillic"
        if 0x0600 <= o <= 0x06FF:
            return "arabic"
    return "latin"


def _verify(kw: _Keyword, text: _Text) -> tuple[frozenset[tuple[str, int]], float] | None:
    cover: set[tuple[str, int]] = set()
    factor = 1.0
    positions: list[int] = []
    for u in kw.units:
        if u.kind == "word":
            hit = text.words.get(u.key)
            if hit is None:
                return None
            pos, written_abbr, f = hit
            # "PET" the plastic must not match "pet food", nor "pets" match "PET": short
            # abbreviations match only when both sides write them as abbreviations.
            if len(u.key) < 4 and u.abbr != written_abbr:
                return None
            cover.add(("w", pos))
            positions.append(pos)
            factor = min(factor, f)
        else:
            stream = text.han if u.kind == "han" else text.hangul
            start = stream.find(u.key)
            if start < 0:
                return None
            tag = "h" if u.kind == "han" else "k"
            cover.update((tag, p) for p in range(start, start + len(u.key)))
    # The words of a phrase must stand near each other, not merely occur in a long text.
    if len(positions) > 1 and max(positions) - min(positions) > len(positions):
        return None
    return frozenset(cover), factor


def _suppress(matches: list[_Match]) -> list[_Match]:
    matches.sort(key=lambda m: (-len(m.cover), -m.weight))
    kept: list[_Match] = []
    for m in matches:
        if any(m.cover < other.cover for other in kept):
            continue
        kept.append(m)
    return kept


class Classifier:
    """Map free text to ranked taxonomy fields; build once per process and share it."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._fields = _Matcher(
            [(f.code, _all_words(f.names, f.keywords)) for f in taxonomy.fields]
        )
        self._broad = _Matcher(
            [(b.code, _all_words(b.names, b.keywords)) for b in taxonomy.broad_fields]
        )
        self._kinds = _Matcher([(k.code, _all_words(k.names, k.keywords)) for k in taxonomy.kinds])
        self._broad_of = {f.code: f.broad for f in taxonomy.fields}
        self._cache: dict[str, Classification] = {}

    def classify(self, text: str, *, limit: int = 5) -> list[FieldScore]:
        """Return the specific fields a text is about, best first, with scores in 0..1."""
        return list(self.analyse(text).fields[:limit])

    def detect_kinds(self, text: str) -> tuple[str, ...]:
        """Return the deal kinds a text mentions (investment, licence...), best first."""
        return self.analyse(text).kinds

    def analyse(self, text: str) -> Classification:
        """Return fields, broad fields, kinds and language of a text."""
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[text] = self._analyse(text)
        return cached

    def _analyse(self, text: str) -> Classification:
        prepared = self._prepare(text)
        fields = _aggregate(self._fields, self._fields.match(prepared))
        broad_direct = _aggregate(self._broad, self._broad.match(prepared))
        kinds = _aggregate(self._kinds, self._kinds.match(prepared))
        return Classification(
            language=detect_language(text),
            fields=tuple(fields),
            broad=self._broad_scores(fields, broad_direct),
            kinds=tuple(k.code for k in kinds),
        )

    def _broad_scores(
        self, fields: Sequence[FieldScore], direct: Sequence[FieldScore]
    ) -> tuple[FieldScore, ...]:
        evidence: dict[str, list[float]] = {}
        matched: dict[str, list[str]] = {}
        for f in fields:
            broad = self._broad_of[f.code]
            evidence.setdefault(broad, []).append(f.evidence)
            matched.setdefault(broad, []).append(f.code)
        for b in direct:
            # Naming only the broad area ("new energy") is weaker evidence than a field term.
            evidence.setdefault(b.code, []).append(0.6 * b.evidence)
            matched.setdefault(b.code, []).extend(b.matched)
        out = [
            FieldScore(code, _confidence(_diminish(ws)), _diminish(ws), tuple(matched[code]))
            for code, ws in evidence.items()
        ]
        out.sort(key=lambda s: -s.evidence)
        return tuple(out)

    def _prepare(self, text: str) -> _Text:
        words: dict[str, tuple[int, bool, float]] = {}
        han: list[str] = []
        hangul: list[str] = []
        last: Script | None = None
        pos = -1
        for tok in tokenize(text):
            if is_stopword(tok):
                continue
            pos += 1  # positions skip function words, so phrases may span them
            if tok.script == "han":
                han.append(tok.norm)
            elif tok.script == "hangul":
                if last == "hangul" and hangul:
                    hangul[-1] += tok.norm  # spacing in Korean varies; join the words
                else:
                    hangul.append(tok.norm)
            else:
                known = False
                for stem in tok.stems:
                    if stem not in words:
                        words[stem] = (pos, tok.abbr, 1.0)
                    known = known or stem in self._fields.vocab_set
                # No fuzzy reading of Arabic: short stems of different roots share most
                # letters (شبكة network, شبكية retina), so Arabic words match whole.
                if (
                    not known
                    and not tok.abbr
                    and len(tok.stems[0]) >= 5
                    and tok.script != "arabic"
                ):
                    near = self._fields.fuzzy(tok.stems[0], tok.script)
                    if near is not None and near not in words:
                        words[near] = (pos, False, _FUZZY_FACTOR)
            last = tok.script
        return _Text(words, _SEP.join(han), _SEP.join(hangul))


def _all_words(names: Mapping[str, str], keywords: Mapping[str, tuple[str, ...]]) -> list[str]:
    words = list(names.values())
    for values in keywords.values():
        words.extend(values)
    return words


def _diminish(weights: Iterable[float]) -> float:
    """Sum evidence with diminishing returns: synonyms of one idea should not pile up."""
    return sum(w * 0.5**i for i, w in enumerate(sorted(weights, reverse=True)))


def _confidence(evidence: float) -> float:
    return round(1.0 - math.exp(-evidence / 1.5), 4)


def _aggregate(matcher: _Matcher, matches: Sequence[_Match]) -> list[FieldScore]:
    per: dict[int, list[_Match]] = {}
    for m in matches:
        per.setdefault(m.keyword.label, []).append(m)
    out: list[FieldScore] = []
    for label, ms in per.items():
        evidence = _diminish(m.weight for m in ms)
        words = tuple(dict.fromkeys(m.keyword.text for m in ms))
        out.append(FieldScore(matcher.labels[label], _confidence(evidence), evidence, words))
    out.sort(key=lambda s: (-s.evidence, s.code))
    return out
