"""Match delegates' needs against other delegates' offers, across languages.

A need and an offer are compared by their taxonomy fields first (the classifier's field
weights: cosine blended with how much of the need the offer covers), by broad field second,
by fuzzy similarity of their wording third (names and brands transliterated, so "Томск" meets
"Tomsk"), and by deal kind. Capital and brokerage are handled as roles: a need for investment
is answered by investors, a bare need for distributors by tech-transfer agencies, ranked by how
well their interests overlap. A shared meeting language adds a little. Every score is in 0..1.
Nobody is matched with themselves, with their own organization, or with a counterpart who has
not consented to be shown.

With an encoder (bot.domain.encoding) the engine is hybrid. Each need and offer also has a unit
vector of its text, and a pair's relevance becomes

    relevance = W_tax * taxonomy + W_sem * semantic

where `taxonomy` is the relevance above (field overlap, broad field, wording, deal kind, or the
role answering the need) and `semantic` is the cosine of the two texts' vectors rescaled so
that `floor` (unrelated texts) maps to 0 and `ceil` (the same thing said in two languages) to 1.
For a need answered by a role, `semantic` is the best cosine between the need and the
provider's own items. The two directions and the meeting language then combine as before:
score = (1 - W_lang) * combined + W_lang * language. Candidates come from the taxonomy's
inverted indexes (a shared specific field, a role) and from the vector index (the
`candidates` nearest items by cosine), so a topic the taxonomy has no field for still finds
its counterpart. Ties are broken by the semantic similarity, then the taxonomy relevance, then
the number of shared languages. The weights (``Fusion``) were chosen by the sweep that
`benchmarks.match_quality` prints.

``rank_counterparts`` scores every pair directly; ``MatchIndex`` gives the same answers from
inverted indexes (field → items, broad field → items, word → items) and is updated in place
when a delegate changes.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from bot.domain.classifier import Classifier
from bot.domain.encoding import (
    Encoder,
    Vector,
    VectorIndex,
    cosine,
    fit_projection,
    stack,
)
from bot.domain.partnering import resources
from bot.domain.taxonomy import Taxonomy
from bot.domain.textnorm import han_bigrams, is_stopword, tokenize, transliterate

_T = TypeVar("_T")
Side = Literal["offer", "need"]
Direction = Literal["they_offer", "they_need", "both"]
ReasonKind = Literal[
    "same_field",
    "same_broad_field",
    "similar_wording",
    "same_kind",
    "investor",
    "seeks_investment",
    "intermediary",
    "seeks_partners",
    "common_language",
    "close_offer",
]

KINDS = ("licence", "product", "joint_rnd", "investment", "partnership", "services")

# Weights of a need/offer pair; they sum to 1 so a pair scores in 0..1.
W_FIELD = 0.70
W_BROAD = 0.15
W_TEXT = 0.08
W_KIND = 0.07
W_LANGUAGE = 0.05  # share of the final score that rewards a common meeting language
W_TEXT_ALONE = 0.5  # weight of wording when one side has no field to compare
BOTH_BONUS = 0.25  # part of the weaker direction added when both directions match
MIN_RELEVANCE = 0.10  # below this a pair is noise, not a match
RESOURCE_BASE = 0.35  # a need for a resource (pilot site, distributor...) met by an offer of it
RESOURCE_MISS = 0.5  # share of the field evidence kept when the offer lacks the resource sought
MIN_BOTH = 0.20  # each direction needs this much for a match to count as mutual ("both")
# Roles that answer needs of a kind without listing it as an offer:
# kind -> (role, base relevance, weight of overlapping interests).
_ROLE_ANSWERS: dict[str, tuple[str, float, float]] = {
    "investment": ("investor", 0.30, 0.30),
    "partnership": ("agency", 0.15, 0.25),
}
_ROLE_REASONS: dict[str, tuple[ReasonKind, ReasonKind]] = {
    "investment": ("investor", "seeks_investment"),
    "partnership": ("intermediary", "seeks_partners"),
}

# The best a pair can score without a shared specific field (or, for a role, without shared
# interests), and the best final score of a delegate whose pairs are all like that; the index
# skips such delegates when the list is full of better ones.
_WEAK_PAIR_MAX = max(
    W_BROAD + W_TEXT + W_KIND,
    W_TEXT_ALONE + W_KIND,
    *(base + 0.1 for _, base, _ in _ROLE_ANSWERS.values()),
)
_WEAK_SCORE_MAX = (1 - W_LANGUAGE) * min(_WEAK_PAIR_MAX * (1 + BOTH_BONUS), 1.0) + W_LANGUAGE
PROJECT_ABOVE = 4096  # items in the first load from which the vector search is projected
PROJECT_SAMPLE = 8192  # vectors the projection is fitted on
PROJECT_DIMS = 96  # dimensions of the projected search (of the encoder's 512)
FIELD_CANDIDATES = 30  # hybrid: field-sharing counterparts scored exactly, by field weight
ROLE_CANDIDATES = 20  # hybrid: counterparts related by role (investor, agency) scored exactly
TABLE_BLOCK = 256  # delegates whose vector searches run as one matrix product
FIELD_CUTOFF = 0.3  # keep classified fields with at least this share of the top evidence
MAX_FIELDS = 6

_GENERIC_WORDS = (
    "technology technologies technological system systems equipment solution solutions "
    "product products production produce development develop service services project projects "
    "company industrial industry device devices method process manufacturing manufacture "
    "application applications high new based smart intelligent partner partners market "
    "технология технологии технологий система системы оборудование решение решения продукция "
    "производство разработка услуги проект проекты компания устройство устройства партнеры "
    "تقنية تقنيات تكنولوجيا نظام انظمة معدات حلول منتجات انتاج تطوير خدمات مشروع شركة اجهزة "
    "기술 시스템 장비 솔루션 제품 생산 개발 서비스 프로젝트 회사 장치 "
    "技术 系统 设备 产品 生产 开发 研发 服务 项目 公司 装置 方案 解决 寻求 寻找 提供 需要 合作 "
    "我们 用于 以及 相关 应用 智能 新型 高效"
)


@dataclass(frozen=True)
class Item:
    """One offer or need of a delegate."""

    id: int | str
    owner: str  # the delegate's key
    side: Side
    text: str
    fields: tuple[str, ...] = ()  # confirmed field codes; empty means "classify the text"
    kind: str | None = None  # licence, product, joint_rnd, investment, partnership, services


@dataclass(frozen=True)
class Candidate:
    """A delegate as the matcher sees them."""

    key: str
    organization: str
    role: str  # company, university, institute, investor, agency, government
    meeting_languages: frozenset[str]
    consent: bool
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why two delegates were matched, structured so any UI language can render it."""

    kind: ReasonKind
    direction: Direction | None  # which way it applies; None for language
    codes: tuple[str, ...] = ()  # field, broad-field, kind or language codes
    quote: str = ""  # close_offer: the phrase of the offer closest to the need


@dataclass(frozen=True, slots=True)
class Match:
    """A proposed counterpart for one delegate."""

    key: str
    score: float  # 0..1
    direction: Direction
    reasons: tuple[Reason, ...]
    my_item: int | str | None  # my item in the best pair
    their_item: int | str | None  # their item in the best pair
    shared_languages: frozenset[str]
    offer_score: float = 0.0  # how well their offers answer my needs
    need_score: float = 0.0  # how well my offers answer their needs


@dataclass(frozen=True, slots=True)
class Profile:
    """An item with what the matcher needs to know about its text."""

    item: Item
    fields: Mapping[str, float]  # unit-length weight vector over specific fields
    broad: Mapping[str, float]  # unit-length weight vector over broad fields
    tokens: frozenset[str]  # content words, transliterated, for wording similarity
    wording: str  # the tokens sorted and joined, for rapidfuzz
    kinds: frozenset[str]
    field_mass: float = 0.0  # sum of the field weights
    field_peak: float = 0.0  # largest field weight
    vec: Vector | None = None  # unit vector of the text, when an encoder runs
    resources: frozenset[str] = frozenset()  # partnering resources named (pilot site, data...)


def _normalize(vec: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm > 0 else {}


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[k] for k, v in a.items() if k in b)


def field_similarity(need: Profile, offer: Profile) -> float:
    """Return how well an offer's fields answer a need's, in 0..1.

    Half cosine, half coverage of the need: an offer that also does something else still
    fully covers a need it addresses (a field counts as covered when it carries at least half
    the weight of the offer's main field), so multi-product offers are not pushed below
    single-product ones by cosine alone.
    """
    cos = _dot(need.fields, offer.fields)
    if cos <= 0.0:
        return 0.0
    half_peak = 0.5 * offer.field_peak
    covered = sum(
        v * min(1.0, offer.fields[k] / half_peak)
        for k, v in need.fields.items()
        if k in offer.fields
    )
    return 0.5 * cos + 0.5 * covered / need.field_mass


def _content_key(surface: str) -> set[str]:
    keys: set[str] = set()
    for tok in tokenize(surface):
        if is_stopword(tok):
            continue
        if tok.script == "han":
            keys.update(han_bigrams(tok.norm))
        else:
            key = tok.stems[0] if tok.script == "latin" else transliterate(tok.stems[0])
            if len(key) >= 2:
                keys.add(key)
    return keys


_GENERIC = frozenset(_content_key(_GENERIC_WORDS))
_PHRASE_BREAK = re.compile(r"[;,!?\n،؛。；，、！？]+\s*|\.\s+|\s+[-–—]\s+")


def content_tokens(text: str) -> frozenset[str]:
    """Return the topic-bearing words of a text, transliterated (Han as character bigrams)."""
    return frozenset(_content_key(text) - _GENERIC)


@dataclass(frozen=True)
class Fusion:
    """Weights of the hybrid score (see the module docstring); chosen on the development sets."""

    # The middle of the sweep's best plateau (benchmarks.match_quality), not its single peak.
    w_sem: float = 0.50  # share of a pair's relevance that comes from the encoder
    floor: float = 0.30  # cosine of unrelated texts: maps to semantic 0
    ceil: float = 0.60  # cosine of the same thing in two languages: maps to semantic 1
    candidates: int = 15  # nearest items the vector index proposes per need or offer

    def semantic(self, cos: float) -> float:
        """Rescale a cosine to 0..1."""
        return min(max((cos - self.floor) / (self.ceil - self.floor), 0.0), 1.0)

    def relevance(self, taxonomy: float, cos: float) -> float:
        """A pair's fused relevance."""
        return (1.0 - self.w_sem) * taxonomy + self.w_sem * self.semantic(cos)


class Analyzer:
    """Turn items into profiles (fields, broad fields, wording, vector); caches by text.

    With an encoder, each text is encoded once: vectors the caller loaded from storage
    (`remember`) are used as they are, the rest are encoded in batches (`prime`) or one by one.
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        encoder: Encoder | None = None,
        fusion: Fusion | None = None,
    ) -> None:
        self.classifier = classifier
        self.taxonomy: Taxonomy = classifier.taxonomy
        self.encoder = encoder
        self.fusion = fusion or Fusion()
        self._cache: dict[tuple[str, tuple[str, ...], str | None], Profile] = {}
        self._vectors: dict[str, Vector] = {}

    def remember(self, text: str, vector: Vector) -> None:
        """Use this vector for this text (loaded from storage)."""
        self._vectors[text] = vector

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct texts that have no vector yet."""
        if self.encoder is None:
            return []
        return list(dict.fromkeys(t for t in texts if t and t not in self._vectors))

    def prime(self, texts: Iterable[str], *, batch: int = 64) -> dict[str, Vector]:
        """Encode the texts that have no vector yet, in batches; return the new vectors."""
        new: dict[str, Vector] = {}
        if self.encoder is None:
            return new
        todo = self.missing(texts)
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            for text, vec in zip(chunk, self.encoder.encode(chunk), strict=True):
                self._vectors[text] = new[text] = vec
        return new

    def vectors(self) -> dict[str, Vector]:
        """Every text's vector known so far."""
        return dict(self._vectors)

    def vector(self, text: str) -> Vector | None:
        """The text's vector (encoded now if it has none yet); None without an encoder."""
        if self.encoder is None or not text:
            return None
        vec = self._vectors.get(text)
        if vec is None:
            vec = self._vectors[text] = self.encoder.encode([text])[0]
        return vec

    def profile(self, item: Item) -> Profile:
        """Return the profile of an item, classifying its text unless fields are confirmed."""
        key = (item.text, item.fields, item.kind)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            cached = self._cache[key] = self._profile(item)
        # Many delegates write the same words; only the item itself differs.
        return cached if cached.item == item else replace(cached, item=item)

    def _profile(self, item: Item) -> Profile:
        analysis = self.classifier.analyse(item.text)
        fields: dict[str, float] = {}
        broad: dict[str, float] = {}
        known = [c for c in item.fields if self.taxonomy.is_field(c)]
        if known:
            for code in known:
                fields[code] = 1.0
                b = self.taxonomy.broad_of(code)
                broad[b] = broad.get(b, 0.0) + 1.0
        else:
            if analysis.fields:
                top = analysis.fields[0].evidence
                for f in analysis.fields[:MAX_FIELDS]:
                    if f.evidence >= FIELD_CUTOFF * top:
                        fields[f.code] = f.evidence
            if analysis.broad:
                top = analysis.broad[0].evidence
                for b_score in analysis.broad:
                    if b_score.evidence >= FIELD_CUTOFF * top:
                        broad[b_score.code] = b_score.evidence
        kinds = frozenset([item.kind]) if item.kind else frozenset(analysis.kinds[:2])
        tokens = content_tokens(item.text)
        unit = _normalize(fields)
        return Profile(
            vec=self.vector(item.text),
            resources=resources(item.text),
            item=item,
            fields=unit,
            broad=_normalize(broad),
            tokens=tokens,
            wording=" ".join(sorted(tokens)),
            kinds=kinds,
            field_mass=sum(unit.values()),
            field_peak=max(unit.values(), default=0.0),
        )


# --- pair scoring ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pair:
    relevance: float
    need: Profile
    offer: Profile | None  # None when a role (investor, agency) answers the need
    text: float = 0.0
    role_kind: str | None = None
    role_codes: tuple[str, ...] = ()
    cos: float = 0.0  # cosine of the two texts (or of the need and the provider's items)
    taxonomy: float = 0.0  # the relevance before fusion


def _wording(a: Profile, b: Profile) -> float:
    if not a.tokens or a.tokens.isdisjoint(b.tokens):
        return 0.0
    # token_set_ratio credits a name found inside a longer text; token_sort_ratio the overall
    # resemblance; both on transliterated words, so "Томска" meets "Tomsk".
    both = fuzz.token_set_ratio(a.wording, b.wording) + fuzz.token_sort_ratio(a.wording, b.wording)
    return float(both) / 200.0


def _role_kind(p: Profile) -> str | None:
    if "investment" in p.kinds:
        return "investment"
    # "Partners for stem cells" is a need in a field; only a bare "looking for distributors"
    # is answered by intermediaries.
    if "partnership" in p.kinds and not p.fields:
        return "partnership"
    return None


def _is_regular_need(p: Profile) -> bool:
    # A need for money is answered by investors, not by offers in the same field.
    return "investment" not in p.kinds


def _is_regular_offer(p: Profile, role: str) -> bool:
    # An investor's "we invest in medtech" is capital, not a medtech offer; a company's offer
    # that mentions investment incentives is still an offer.
    return "investment" not in p.kinds or role != "investor"


def _field_pair(
    need: Profile,
    offer: Profile,
    spec: float,
    broad: float,
    fusion: Fusion | None,
    cos: float | None = None,
) -> _Pair | None:
    text = _wording(need, offer)
    same_kind = not need.kinds.isdisjoint(offer.kinds)
    relevance = W_FIELD * spec + W_BROAD * broad + W_TEXT * text + W_KIND * same_kind
    if not need.fields or not offer.fields:
        # Nothing to compare by field (a name, a brand, an unusual topic): wording decides.
        relevance = max(relevance, W_TEXT_ALONE * text + W_KIND * same_kind)
    if need.resources:
        # A need for a pilot site, a distributor or data names the seeker's own field; what
        # answers it is an organization that has the resource, whatever its field.
        if need.resources & offer.resources:
            relevance = RESOURCE_BASE + (1.0 - RESOURCE_BASE) * relevance
        else:
            relevance *= RESOURCE_MISS
    taxonomy = min(relevance, 1.0)
    if fusion is not None and need.vec is not None and offer.vec is not None:
        if cos is None:
            cos = cosine(need.vec, offer.vec)
        relevance = fusion.relevance(taxonomy, cos)
    else:
        cos = 0.0
    if relevance < MIN_RELEVANCE:
        return None
    return _Pair(min(relevance, 1.0), need, offer, text, cos=cos, taxonomy=taxonomy)


def _phrases(text: str) -> list[str]:
    parts = [p.strip(" -–—:()（）") for p in _PHRASE_BREAK.split(text)]
    return [p for p in parts if p]


def closest_phrase(offer: Profile, need: Profile, limit: int = 80) -> str:
    """The phrase of an offer's text to quote as the reason it is close to a need.

    The phrase sharing most content words with the need, else the offer's first phrase (where
    people name what they offer), shortened to `limit` characters at a word boundary.
    """
    phrases = _phrases(offer.item.text) or [offer.item.text.strip()]
    best = phrases[0]
    if len(phrases) > 1 and need.tokens:
        overlap = [len(content_tokens(p) & need.tokens) for p in phrases]
        if max(overlap) > 0:
            best = phrases[overlap.index(max(overlap))]
    if len(best) <= limit:
        return best
    cut = best[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;") + "…"


def _pair_reasons(pair: _Pair) -> list[Reason]:
    need, offer = pair.need, pair.offer
    if offer is None:
        kind = pair.role_kind or "investment"
        return [Reason(_ROLE_REASONS[kind][0], None, pair.role_codes)]
    reasons: list[Reason] = []
    shared = sorted(
        (c for c in need.fields if c in offer.fields),
        key=lambda c: (-need.fields[c] * offer.fields[c], c),
    )
    if shared:
        reasons.append(Reason("same_field", None, tuple(shared[:3])))
    elif pair.cos > 0.0:
        # No field in common: the texts themselves are close (the encoder says so), so quote
        # the phrase that makes them close.
        reasons.append(Reason("close_offer", None, quote=closest_phrase(offer, need)))
    else:
        common = sorted(
            (c for c in need.broad if c in offer.broad),
            key=lambda c: (-need.broad[c] * offer.broad[c], c),
        )
        if common:
            reasons.append(Reason("same_broad_field", None, tuple(common[:2])))
    if pair.text >= 0.5:
        reasons.append(Reason("similar_wording", None))
    same_kind = sorted(need.kinds & offer.kinds)
    if same_kind:
        reasons.append(Reason("same_kind", None, tuple(same_kind)))
    if not reasons:  # never an empty reason
        reasons.append(Reason("close_offer", None, quote=closest_phrase(offer, need)))
    return reasons


@dataclass(slots=True)
class _Entry:
    """A candidate with its items analysed, as stored in the index."""

    cand: Candidate
    offers: list[Profile]
    needs: list[Profile]
    role_needs: dict[str, list[Profile]]  # kind -> needs answered by a role
    interest: dict[str, float]
    interest_broad: dict[str, float]
    org: str
    langs: frozenset[str]
    answers: frozenset[str]  # kinds this delegate answers by role or by an explicit offer
    wanted: dict[str, frozenset[str]]  # kind -> fields its role needs are about


def _org_key(name: str) -> str:
    text = transliterate(name)
    return "".join(ch for ch in text if ch.isalnum())


def _language_key(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-")[0].lower()


def _make_entry(cand: Candidate, analyzer: Analyzer) -> _Entry:
    profiles = [analyzer.profile(i) for i in cand.items if i.text.strip() or i.fields]
    offers = [p for p in profiles if p.item.side == "offer" and _is_regular_offer(p, cand.role)]
    needs = [p for p in profiles if p.item.side == "need" and _is_regular_need(p)]
    role_needs: dict[str, list[Profile]] = {}
    for p in profiles:
        kind = _role_kind(p) if p.item.side == "need" else None
        if kind is not None:
            role_needs.setdefault(kind, []).append(p)
    interest: dict[str, float] = {}
    interest_broad: dict[str, float] = {}
    for p in profiles:
        for k, v in p.fields.items():
            interest[k] = interest.get(k, 0.0) + v
        for k, v in p.broad.items():
            interest_broad[k] = interest_broad.get(k, 0.0) + v
    answers = {
        kind
        for kind, (role, _, _) in _ROLE_ANSWERS.items()
        if cand.role == role or any(p.item.side == "offer" and kind in p.kinds for p in profiles)
    }
    return _Entry(
        cand=cand,
        offers=offers,
        needs=needs,
        role_needs=role_needs,
        interest=_normalize(interest),
        interest_broad=_normalize(interest_broad),
        org=_org_key(cand.organization),
        langs=frozenset(_language_key(t) for t in cand.meeting_languages if t.strip()),
        answers=frozenset(answers),
        wanted={
            kind: frozenset(f for n in needs for f in (n.fields or interest))
            for kind, needs in role_needs.items()
        },
    )


def _role_pair(
    kind: str, need: Profile, seeker: _Entry, provider: _Entry, fusion: Fusion | None
) -> _Pair:
    _, base, weight = _ROLE_ANSWERS[kind]
    wanted = need.fields or seeker.interest
    wanted_broad = need.broad or seeker.interest_broad
    spec = _dot(wanted, provider.interest)
    broad = _dot(wanted_broad, provider.interest_broad)
    taxonomy = base + weight * spec + 0.1 * broad
    relevance, cos = taxonomy, 0.0
    if fusion is not None and need.vec is not None:
        own = [p.vec for p in (*provider.offers, *provider.needs) if p.vec is not None]
        cos = max((cosine(need.vec, v) for v in own), default=0.0)
        relevance = fusion.relevance(taxonomy, cos)
    codes = sorted((c for c in wanted if c in provider.interest), key=lambda c: (-wanted[c], c))
    return _Pair(
        relevance,
        need,
        None,
        role_kind=kind,
        role_codes=tuple(codes[:3]),
        cos=cos,
        taxonomy=taxonomy,
    )


def _may_meet(me: _Entry, other: _Entry) -> bool:
    return (
        other.cand.key != me.cand.key
        and other.cand.consent
        and not (me.org and me.org == other.org)
    )


def _score(
    me: _Entry, other: _Entry, a: float, b: float
) -> tuple[float, Direction, frozenset[str]] | None:
    """Combine the two directions and the meeting language into one score in 0..1."""
    if a < MIN_RELEVANCE and b < MIN_RELEVANCE:
        return None
    if a >= MIN_BOTH and b >= MIN_BOTH:
        direction: Direction = "both"
        combined = min(max(a, b) + BOTH_BONUS * min(a, b), 1.0)
    else:
        # A weak second direction (same broad area only) does not make the match mutual.
        direction = "they_offer" if a >= b else "they_need"
        combined = max(a, b)
    shared = me.langs & other.langs
    lang = 1.0 if shared else (0.5 if not me.langs or not other.langs else 0.0)
    return round((1.0 - W_LANGUAGE) * combined + W_LANGUAGE * lang, 6), direction, shared


def _assemble(me: _Entry, other: _Entry, offer: _Pair | None, need: _Pair | None) -> Match | None:
    a = offer.relevance if offer else 0.0
    b = need.relevance if need else 0.0
    scored = _score(me, other, a, b)
    if scored is None:
        return None
    score, direction, shared = scored
    reasons: list[Reason] = []
    if offer is not None and direction != "they_need":
        reasons.extend(_directed(_pair_reasons(offer), "they_offer"))
    if need is not None and direction != "they_offer":
        reasons.extend(_directed(_pair_reasons(need), "they_need"))
    if shared:
        reasons.append(Reason("common_language", None, tuple(sorted(shared))))
    mine: int | str | None
    theirs: int | str | None
    if offer is not None and direction != "they_need" and a >= b:
        mine = offer.need.item.id
        theirs = offer.offer.item.id if offer.offer else None
    elif need is not None:
        mine = need.offer.item.id if need.offer else None
        theirs = need.need.item.id
    else:  # unreachable: a direction was chosen, so one of the pairs exists
        return None
    return Match(
        key=other.cand.key,
        score=score,
        direction=direction,
        reasons=_shared(tuple(_shared(r) for r in reasons)),
        my_item=mine,
        their_item=theirs,
        shared_languages=_shared(shared),
        offer_score=round(a, 6),
        need_score=round(b, 6),
    )


_SHARED: dict[Any, Any] = {}  # equal reasons and language sets, kept once (a 50k table)


def _shared(value: _T) -> _T:
    """The one stored copy of an equal immutable value (reasons repeat across a table)."""
    if len(_SHARED) > 100_000:
        _SHARED.clear()
    return cast(_T, _SHARED.setdefault(value, value))


def _directed(reasons: Iterable[Reason], direction: Direction) -> list[Reason]:
    out = []
    for r in reasons:
        kind = r.kind
        if direction == "they_need" and kind in ("investor", "intermediary"):
            # Seen from the provider's side, the counterpart is the one seeking.
            kind = "seeks_investment" if kind == "investor" else "seeks_partners"
        out.append(Reason(kind, direction, r.codes, r.quote))
    return out


def _better(current: _Pair | None, new: _Pair | None) -> _Pair | None:
    if new is None:
        return current
    if current is None or new.relevance > current.relevance:
        return new
    return current


def _pairs_direct(
    me: _Entry, other: _Entry, fusion: Fusion | None = None
) -> tuple[_Pair | None, _Pair | None]:
    """Score every pair between two delegates: their offers for my needs, and the reverse."""
    offer: _Pair | None = None
    need: _Pair | None = None
    for n in me.needs:
        for o in other.offers:
            spec, broad = field_similarity(n, o), _dot(n.broad, o.broad)
            offer = _better(offer, _field_pair(n, o, spec, broad, fusion))
    for o in me.offers:
        for n in other.needs:
            spec, broad = field_similarity(n, o), _dot(n.broad, o.broad)
            need = _better(need, _field_pair(n, o, spec, broad, fusion))
    for kind, needs in me.role_needs.items():
        if kind in other.answers:
            for n in needs:
                offer = _better(offer, _role_pair(kind, n, me, other, fusion))
    for kind, needs in other.role_needs.items():
        if kind in me.answers:
            for n in needs:
                need = _better(need, _role_pair(kind, n, other, me, fusion))
    return offer, need


def _tiebreak(
    me: _Entry, other: _Entry, offer: _Pair | None, need: _Pair | None
) -> tuple[float, float, int]:
    """Real signals that order equal scores: closeness of the texts, taxonomy, languages."""
    cos = taxonomy = text = 0.0
    for p in (offer, need):
        if p is not None:
            cos, taxonomy, text = max(cos, p.cos), max(taxonomy, p.taxonomy), max(text, p.text)
    return round(cos + text, 6), round(taxonomy, 6), len(me.langs & other.langs)


def _fusion(analyzer: Analyzer) -> Fusion | None:
    return analyzer.fusion if analyzer.encoder is not None else None


def _rank(
    scored: list[tuple[Match, tuple[float, float, int]]],
    limit: int,
    directions: Collection[Direction] | None,
) -> list[Match]:
    if directions is not None:
        scored = [s for s in scored if s[0].direction in directions]
    # The key comes last, only for pairs that no signal tells apart.
    scored.sort(key=lambda s: (-s[0].score, -s[1][0], -s[1][1], -s[1][2], s[0].key))
    return [m for m, _ in scored[:limit]]


def rank_counterparts(
    me: Candidate,
    others: Iterable[Candidate],
    *,
    analyzer: Analyzer,
    limit: int = 10,
    directions: Collection[Direction] | None = None,
) -> list[Match]:
    """Rank others as counterparts for me by scoring every pair (no index)."""
    mine = _make_entry(me, analyzer)
    fusion = _fusion(analyzer)
    out: list[tuple[Match, tuple[float, float, int]]] = []
    for cand in others:
        other = _make_entry(cand, analyzer)
        if not _may_meet(mine, other):
            continue
        offer, need = _pairs_direct(mine, other, fusion)
        match = _assemble(mine, other, offer, need)
        if match is not None:
            out.append((match, _tiebreak(mine, other, offer, need)))
    return _rank(out, limit, directions)


# --- the index ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Postings:
    """Inverted indexes over one side (offers or needs) of all regular items."""

    fields: dict[str, dict[int, float]] = field(default_factory=dict)
    broad: dict[str, dict[int, float]] = field(default_factory=dict)
    words: dict[str, set[int]] = field(default_factory=dict)

    def add(self, uid: int, p: Profile) -> None:
        for k, v in p.fields.items():
            self.fields.setdefault(k, {})[uid] = v
        for k, v in p.broad.items():
            self.broad.setdefault(k, {})[uid] = v
        for t in p.tokens:
            self.words.setdefault(t, set()).add(uid)

    def remove(self, uid: int, p: Profile) -> None:
        for k in p.fields:
            _discard(self.fields, k, uid)
        for k in p.broad:
            _discard(self.broad, k, uid)
        for t in p.tokens:
            bucket = self.words.get(t)
            if bucket is not None:
                bucket.discard(uid)
                if not bucket:
                    del self.words[t]

    def sharing_fields(self, p: Profile) -> Iterable[int]:
        """Yield items sharing a specific field with the profile."""
        for k in p.fields:
            yield from self.fields.get(k, ())

    def sharing_anything(self, p: Profile) -> Iterable[int]:
        """Yield items sharing a broad field or a content word with the profile."""
        for k in p.broad:
            yield from self.broad.get(k, ())
        for t in p.tokens:
            yield from self.words.get(t, ())


def _drop(table: dict[str, dict[str, None]], codes: Iterable[str], key: str) -> None:
    for code in codes:
        bucket = table.get(code)
        if bucket is not None:
            bucket.pop(key, None)
            if not bucket:
                del table[code]


def _discard(table: dict[str, dict[int, float]], key: str, uid: int) -> None:
    bucket = table.get(key)
    if bucket is not None:
        bucket.pop(uid, None)
        if not bucket:
            del table[key]


class MatchIndex:
    """All candidates, indexed for fast top-N queries and incremental updates."""

    def __init__(self, candidates: Iterable[Candidate] = (), *, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._entries: dict[str, _Entry] = {}
        self._uids: dict[str, list[int]] = {}
        self._items: dict[int, tuple[str, Profile]] = {}
        self._owner: dict[int, str] = {}
        self._next_uid = 0
        self._offers = _Postings()
        self._needs = _Postings()
        encoder = analyzer.encoder
        self._fusion = _fusion(analyzer)
        self._offer_vectors = VectorIndex(encoder.dim) if encoder is not None else None
        self._need_vectors = VectorIndex(encoder.dim) if encoder is not None else None
        self._role_needs: dict[str, dict[str, None]] = {k: {} for k in _ROLE_ANSWERS}
        self._answerers: dict[str, dict[str, None]] = {k: {} for k in _ROLE_ANSWERS}
        # kind -> field -> delegates whose role needs are about it / whose interests include it
        self._seekers_by_field: dict[str, dict[str, dict[str, None]]] = {
            k: {} for k in _ROLE_ANSWERS
        }
        self._providers_by_field: dict[str, dict[str, dict[str, None]]] = {
            k: {} for k in _ROLE_ANSWERS
        }
        # Vectors of the first load are added in one go, so the index can choose a projection.
        self._pending: list[tuple[int, Profile]] | None = [] if encoder is not None else None
        for cand in candidates:
            self.upsert(cand)
        self._add_pending()

    def _add_pending(self) -> None:
        pending, self._pending = self._pending, None
        encoder = self.analyzer.encoder
        if not pending or encoder is None:
            return
        projection = None
        if len(pending) >= PROJECT_ABOVE:
            # Every n-th vector, so the sample is the same from run to run.
            step = max(1, len(pending) // PROJECT_SAMPLE)
            sample = stack((p.vec for _, p in pending[::step] if p.vec is not None), encoder.dim)
            projection = fit_projection(sample, PROJECT_DIMS)
        self._offer_vectors = VectorIndex(encoder.dim, projection)
        self._need_vectors = VectorIndex(encoder.dim, projection)
        for side, vectors in (("offer", self._offer_vectors), ("need", self._need_vectors)):
            rows = [
                (uid, p.vec) for uid, p in pending if p.item.side == side and p.vec is not None
            ]
            vectors.add_many([uid for uid, _ in rows], stack((v for _, v in rows), encoder.dim))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def upsert(self, candidate: Candidate) -> None:
        """Add a candidate, or replace the stored one with the same key."""
        self.remove(candidate.key)
        entry = _make_entry(candidate, self.analyzer)
        key = candidate.key
        self._entries[key] = entry
        uids: list[int] = []
        for postings, vectors, profiles in (
            (self._offers, self._offer_vectors, entry.offers),
            (self._needs, self._need_vectors, entry.needs),
        ):
            for p in profiles:
                uid = self._next_uid
                self._next_uid += 1
                self._items[uid] = (key, p)
                self._owner[uid] = key
                postings.add(uid, p)
                if self._pending is not None:
                    self._pending.append((uid, p))
                elif vectors is not None and p.vec is not None:
                    vectors.add(uid, p.vec)
                uids.append(uid)
        self._uids[key] = uids
        for kind in entry.role_needs:
            self._role_needs[kind][key] = None
            for f in entry.wanted[kind]:
                self._seekers_by_field[kind].setdefault(f, {})[key] = None
        for kind in entry.answers:
            self._answerers[kind][key] = None
            for f in entry.interest:
                self._providers_by_field[kind].setdefault(f, {})[key] = None

    add = upsert
    update = upsert

    def remove(self, key: str) -> None:
        """Forget a candidate (no error if unknown)."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for uid in self._uids.pop(key, []):
            _, p = self._items.pop(uid)
            del self._owner[uid]
            (self._offers if p.item.side == "offer" else self._needs).remove(uid, p)
            vectors = self._offer_vectors if p.item.side == "offer" else self._need_vectors
            if vectors is not None:
                vectors.remove(uid)
        for table in (*self._role_needs.values(), *self._answerers.values()):
            table.pop(key, None)
        for kind in entry.role_needs:
            _drop(self._seekers_by_field[kind], entry.wanted[kind], key)
        for kind in entry.answers:
            _drop(self._providers_by_field[kind], entry.interest, key)

    def _near(self, me: _Entry) -> set[int]:
        """Items nearest by meaning to my needs (offers) and to my offers (needs)."""
        near: set[int] = set()
        fusion = self._fusion
        if fusion is None or self._offer_vectors is None or self._need_vectors is None:
            return near
        k = self._search_depth(fusion)
        for profiles, vectors in (
            (me.needs, self._offer_vectors),
            (me.offers, self._need_vectors),
        ):
            for p in profiles:
                if p.vec is not None:
                    (found,) = vectors.search_many(p.vec.reshape(1, -1), k, fusion.candidates)
                    near.update(found)
        return near

    def _field_neighbours(self, me: _Entry) -> list[str]:
        """Owners of the items sharing most field weight with my needs and offers."""
        best: dict[str, float] = {}
        for profiles, postings in ((me.needs, self._offers), (me.offers, self._needs)):
            for p in profiles:
                acc: dict[int, float] = {}
                for k, v in p.fields.items():
                    for uid, w in postings.fields.get(k, {}).items():
                        acc[uid] = acc.get(uid, 0.0) + v * w
                for uid, weight in acc.items():
                    owner = self._owner[uid]
                    if weight > best.get(owner, 0.0):
                        best[owner] = weight
        if len(best) <= FIELD_CANDIDATES:
            return list(best)
        return heapq.nlargest(FIELD_CANDIDATES, best, key=lambda o: (best[o], o))

    def _search_depth(self, fusion: Fusion) -> int:
        # A projected search is approximate: look twice as deep, the full vectors decide.
        projected = self._offer_vectors is not None and self._offer_vectors.projection is not None
        return fusion.candidates * (2 if projected else 1)

    def _strong(
        self, me: _Entry, near: Iterable[int] | None, neighbours: Iterable[str] | None
    ) -> dict[str, None]:
        """The delegates scored exactly for me: field neighbours, related by role, nearest."""
        fusion = self._fusion
        strong: dict[str, None] = {}
        if fusion is None:
            for n in me.needs:
                strong.update((self._owner[uid], None) for uid in self._offers.sharing_fields(n))
            for o in me.offers:
                strong.update((self._owner[uid], None) for uid in self._needs.sharing_fields(o))
        else:
            # Hybrid: the field-sharing items with the most field weight in common; the vector
            # index adds the nearest by meaning, so a long field list need not be read whole.
            if neighbours is None:
                neighbours = self._field_neighbours(me)
            strong.update((owner, None) for owner in neighbours)
        related: dict[str, None] = {}
        for kind in me.role_needs:
            for f in me.wanted[kind]:
                related.update(self._providers_by_field[kind].get(f, {}))
        for kind in me.answers:
            # My strongest interests first, so a cap keeps the most related seekers.
            for f in sorted(me.interest, key=lambda f: (-me.interest[f], f)):
                related.update(self._seekers_by_field[kind].get(f, {}))
                if fusion is not None and len(related) >= ROLE_CANDIDATES:
                    break
        if fusion is not None and len(related) > ROLE_CANDIDATES:
            related = dict.fromkeys(list(related)[:ROLE_CANDIDATES])
        strong.update(related)
        # The nearest texts by meaning, whatever the taxonomy says about them.
        strong.update(
            (self._owner[uid], None) for uid in (self._near(me) if near is None else near)
        )
        return strong

    def top(
        self,
        key: str,
        *,
        limit: int = 10,
        directions: Collection[Direction] | None = None,
        near: Iterable[int] | None = None,
        neighbours: Iterable[str] | None = None,
    ) -> list[Match]:
        """Return the best counterparts for one delegate, best first (as rank_counterparts).

        `near` and `neighbours` (for table) give the items the vector index found for this
        delegate and the owners `_field_neighbours` would name, computed for many at once.
        """
        me = self._entries.get(key)
        if me is None:
            return []
        pairs: dict[str, tuple[_Pair | None, _Pair | None]] = {}
        ranked: list[tuple[float, tuple[float, float, int], str]] = []
        fusion = self._fusion

        def evaluate(owners: Iterable[str]) -> None:
            for owner in owners:
                if owner in pairs or owner == key:
                    continue
                other = self._entries[owner]
                if not _may_meet(me, other):
                    pairs[owner] = (None, None)
                    continue
                offer, need = pairs[owner] = _pairs_direct(me, other, fusion)
                scored = _score(
                    me, other, offer.relevance if offer else 0.0, need.relevance if need else 0.0
                )
                if scored is not None and (directions is None or scored[1] in directions):
                    ranked.append((scored[0], _tiebreak(me, other, offer, need), owner))

        def order(r: tuple[float, tuple[float, float, int], str]) -> tuple[Any, ...]:
            return (-r[0], -r[1][0], -r[1][1], -r[1][2], r[2])

        # Delegates sharing a specific field, or related by role, are scored exactly first.
        strong = self._strong(me, near, neighbours)
        evaluate(strong)
        # Anyone else shares at most a broad field or a word, and cannot score above
        # _WEAK_SCORE_MAX; they are looked at only when the strong ones do not fill the list.
        # With an encoder the vector index has already proposed the nearest texts.
        ranked.sort(key=order)
        if fusion is None and (len(ranked) < limit or ranked[limit - 1][0] <= _WEAK_SCORE_MAX):
            weak: dict[str, None] = {}
            for n in me.needs:
                weak.update((self._owner[uid], None) for uid in self._offers.sharing_anything(n))
            for o in me.offers:
                weak.update((self._owner[uid], None) for uid in self._needs.sharing_anything(o))
            for kind in me.role_needs:
                weak.update(self._answerers[kind])
            for kind in me.answers:
                weak.update(self._role_needs[kind])
            evaluate(weak)
            ranked.sort(key=order)
        out: list[Match] = []
        for _, _, owner in ranked[:limit]:
            match = _assemble(me, self._entries[owner], *pairs[owner])
            if match is not None:
                out.append(match)
        return out

    def table(self, *, limit: int = 10) -> dict[str, list[Match]]:
        """Return every delegate's top matches."""
        fusion, encoder = self._fusion, self.analyzer.encoder
        if (
            fusion is None
            or encoder is None
            or self._offer_vectors is None
            or self._need_vectors is None
        ):
            return {key: self.top(key, limit=limit) for key in self._entries}
        # The vector searches of a block of delegates run as one matrix product each, and the
        # field neighbours come from posting arrays instead of dictionaries.
        out: dict[str, list[Match]] = {}
        keys = list(self._entries)
        k = self._search_depth(fusion)
        dim = encoder.dim
        arrays = _TableArrays(self)
        for start in range(0, len(keys), TABLE_BLOCK):
            block = keys[start : start + TABLE_BLOCK]
            near: dict[str, set[int]] = {key: set() for key in block}
            for side, vectors in (("needs", self._offer_vectors), ("offers", self._need_vectors)):
                owners = [
                    (key, p.vec)
                    for key in block
                    for p in getattr(self._entries[key], side)
                    if p.vec is not None
                ]
                queries = stack((v for _, v in owners), dim)
                found = vectors.search_many(queries, k, fusion.candidates)
                for (key, _), uids in zip(owners, found, strict=True):
                    near[key].update(uids)
            for key in block:
                me = self._entries[key]
                strong = self._strong(me, near[key], arrays.neighbours(me))
                out[key] = arrays.rank(me, strong, limit)
        return out


class _TableArrays:
    """An index's items as numpy arrays, for the whole table: `top`'s answers in bulk.

    `neighbours` gives the same owners as `MatchIndex._field_neighbours` (each item's field
    weight shared with the delegate's item summed in the same order, the best item per owner,
    the FIELD_CANDIDATES best owners by (weight, key) when there are more). `rank` scores the
    same pairs as `top` with the same formula (`_field_pair`, `_role_pair`, `_score`,
    `_tiebreak`), the field and broad-field overlaps, kinds and resources of all of a
    delegate's pairs at once.
    """

    def __init__(self, index: MatchIndex) -> None:
        self.index = index
        self.keys = sorted(index._entries.keys())  # an owner's number is its place in key order
        number = {key: i for i, key in enumerate(self.keys)}
        size = index._next_uid
        self.owner = np.zeros(size, dtype=np.int64)
        for uid, key in index._owner.items():
            self.owner[uid] = number[key]
        self.acc = np.zeros(size, dtype=np.float64)
        self.postings: dict[str, dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]]
        self.postings = {}
        for name, postings in (("offers", index._offers), ("needs", index._needs)):
            self.postings[name] = {
                code: (
                    np.fromiter(bucket.keys(), dtype=np.int64, count=len(bucket)),
                    np.fromiter(bucket.values(), dtype=np.float64, count=len(bucket)),
                )
                for code, bucket in postings.fields.items()
            }
        self._features(index, size)

    def _features(self, index: MatchIndex, size: int) -> None:
        profiles = [p for _, p in index._items.values()]
        width = max((len(p.fields) for p in profiles), default=0) or 1
        bwidth = max((len(p.broad) for p in profiles), default=0) or 1
        self.fcode = np.full((size, width), -1, dtype=np.int32)
        self.fweight = np.zeros((size, width), dtype=np.float64)
        self.bcode = np.full((size, bwidth), -2, dtype=np.int32)
        self.bweight = np.zeros((size, bwidth), dtype=np.float64)
        self.half_peak = np.ones(size, dtype=np.float64)
        self.mass = np.ones(size, dtype=np.float64)
        self.has_fields = np.zeros(size, dtype=bool)
        self.kinds = np.zeros(size, dtype=np.int64)
        self.resources = np.zeros(size, dtype=np.int64)
        codes: dict[str, int] = {}
        # Deal kinds and partnering resources are small fixed sets: one bit each.
        kind_bits: dict[str, int] = {}
        resource_bits: dict[str, int] = {}

        def mask(names: Iterable[str], bits: dict[str, int]) -> int:
            out = 0
            for name in names:
                out |= 1 << bits.setdefault(name, len(bits))
            return out

        for uid, (_, p) in index._items.items():
            for col, (code, weight) in enumerate(p.fields.items()):
                self.fcode[uid, col] = codes.setdefault(code, len(codes))
                self.fweight[uid, col] = weight
            for col, (code, weight) in enumerate(p.broad.items()):
                self.bcode[uid, col] = codes.setdefault(code, len(codes))
                self.bweight[uid, col] = weight
            if p.fields:
                self.has_fields[uid] = True
                self.half_peak[uid] = 0.5 * p.field_peak
                self.mass[uid] = p.field_mass
            self.kinds[uid] = mask(p.kinds, kind_bits)
            self.resources[uid] = mask(p.resources, resource_bits)
        # A delegate's regular offers and needs are its first uids, in this order; its
        # meeting languages one bit each (0: none given).
        # By uid; a removed uid's place is never read (only live delegates' uids are).
        self.profiles: list[Profile] = cast(list[Profile], [None] * size)
        self.tokens: list[frozenset[str]] = [frozenset()] * size
        self.vectors: list[Vector | None] = [None] * size
        for uid, (_, p) in index._items.items():
            self.profiles[uid], self.tokens[uid], self.vectors[uid] = p, p.tokens, p.vec
        self.uids: dict[str, tuple[list[int], list[int]]] = {}
        languages: dict[str, int] | None = {}
        language_bits: dict[str, int] = {}
        for key, entry in index._entries.items():
            if languages is not None:
                languages[key] = mask(entry.langs, language_bits)
                if len(language_bits) > 62:
                    languages = None
            uids = index._uids[key]
            self.uids[key] = (uids[: len(entry.offers)], uids[len(entry.offers) :])
        self.languages = languages

    def neighbours(self, me: _Entry) -> list[str]:
        """The owners of the items sharing most field weight with my needs and offers."""
        acc = self.acc
        owners: list[npt.NDArray[np.int64]] = []
        weights: list[npt.NDArray[np.float64]] = []
        for profiles, name in ((me.needs, "offers"), (me.offers, "needs")):
            postings = self.postings[name]
            for p in profiles:
                hits = [(postings[c], v) for c, v in p.fields.items() if c in postings]
                if not hits:
                    continue
                uids = np.concatenate([u for (u, _), _ in hits])
                # Python's acc[uid] + v * w, in the profile's field order, done by add.at.
                np.add.at(acc, uids, np.concatenate([w * v for (_, w), v in hits]))
                weights.append(acc[uids])
                owners.append(self.owner[uids])
                acc[uids] = 0.0
        if not owners:
            return []
        numbers, inverse = np.unique(np.concatenate(owners), return_inverse=True)
        best = np.zeros(numbers.shape[0], dtype=np.float64)
        np.maximum.at(best, inverse, np.concatenate(weights))
        if numbers.shape[0] > FIELD_CANDIDATES:
            cut = numbers.shape[0] - FIELD_CANDIDATES
            keep = best >= np.partition(best, cut)[cut]
            numbers, best = numbers[keep], best[keep]
            numbers = numbers[np.lexsort((-numbers, -best))[:FIELD_CANDIDATES]]
        return [self.keys[int(i)] for i in numbers]

    def _relevance(
        self, needs: list[int], offers: list[int], text: list[float], cos: list[float | None]
    ) -> tuple[list[float], list[float]]:
        """`_field_pair`'s relevance and taxonomy of many pairs (need uid, offer uid)."""
        n = np.asarray(needs, dtype=np.int64)
        o = np.asarray(offers, dtype=np.int64)
        nc, oc = self.fcode[n], self.fcode[o]
        shared = (nc[:, :, None] == oc[:, None, :]) & (nc[:, :, None] >= 0)
        nw, ow = self.fweight[n][:, :, None], self.fweight[o][:, None, :]
        dot = np.where(shared, nw * ow, 0.0).sum(axis=(1, 2))
        cover = np.minimum(1.0, ow / self.half_peak[o][:, None, None])
        covered = np.where(shared, nw * cover, 0.0).sum(axis=(1, 2))
        spec = np.where(dot > 0.0, 0.5 * dot + 0.5 * covered / self.mass[n], 0.0)
        bshared = self.bcode[n][:, :, None] == self.bcode[o][:, None, :]
        bprod = self.bweight[n][:, :, None] * self.bweight[o][:, None, :]
        broad = np.where(bshared, bprod, 0.0).sum(axis=(1, 2))
        words = np.asarray(text, dtype=np.float64)
        same_kind = (self.kinds[n] & self.kinds[o]) != 0
        relevance = W_FIELD * spec + W_BROAD * broad + W_TEXT * words + W_KIND * same_kind
        alone = ~(self.has_fields[n] & self.has_fields[o])
        relevance = np.where(
            alone, np.maximum(relevance, W_TEXT_ALONE * words + W_KIND * same_kind), relevance
        )
        seeks = self.resources[n] != 0
        has = (self.resources[n] & self.resources[o]) != 0
        relevance = np.where(
            seeks,
            np.where(
                has, RESOURCE_BASE + (1.0 - RESOURCE_BASE) * relevance, relevance * RESOURCE_MISS
            ),
            relevance,
        )
        taxonomy = np.minimum(relevance, 1.0)
        fusion = self.index._fusion
        if fusion is not None:
            known = np.asarray([c is not None for c in cos], dtype=bool)
            c = np.asarray([0.0 if v is None else v for v in cos], dtype=np.float64)
            semantic = np.minimum(
                np.maximum((c - fusion.floor) / (fusion.ceil - fusion.floor), 0.0), 1.0
            )
            fused = (1.0 - fusion.w_sem) * taxonomy + fusion.w_sem * semantic
            relevance = np.where(known, fused, taxonomy)
        else:
            relevance = taxonomy
        return relevance.tolist(), taxonomy.tolist()

    def rank(self, me: _Entry, owners: Iterable[str], limit: int) -> list[Match]:
        """What `MatchIndex.top(me, limit=limit)` answers, given its strong owners."""
        index = self.index
        fusion = index._fusion
        key = me.cand.key
        my_offers, my_needs = self.uids[key]
        entries = index._entries
        others = [entries[o] for o in owners if o != key]
        others = [o for o in others if _may_meet(me, o)]
        # One row per pair: their offers for my needs (direction 0), then my offers for their
        # needs (1); within a counterpart and direction, in `_pairs_direct`'s order.
        profiles, tokens, vectors = self.profiles, self.tokens, self.vectors
        use_vectors = fusion is not None
        positions: list[int] = []
        directions: list[int] = []
        needs: list[int] = []
        offers: list[int] = []
        text: list[float] = []
        cos: list[float | None] = []
        theirs = [self.uids[o.cand.key] for o in others]
        for direction, mine, my_uids in ((0, me.needs, my_needs), (1, me.offers, my_offers)):
            lists = [t[direction] for t in theirs]
            flat = [u for uids in lists for u in uids]
            if not flat:
                continue
            where = [pos for pos, uids in enumerate(lists) for _ in uids]
            for uid, p in zip(my_uids, mine, strict=True):
                positions += where
                directions += [direction] * len(flat)
                vec = p.vec if use_vectors else None
                if direction == 0:  # p is my need, flat their offers
                    needs += [uid] * len(flat)
                    offers += flat
                    words = p.tokens
                    text += [
                        _wording(p, profiles[u])
                        if words and not words.isdisjoint(tokens[u])
                        else 0.0
                        for u in flat
                    ]
                else:  # p is my offer, flat their needs
                    needs += flat
                    offers += [uid] * len(flat)
                    words = p.tokens
                    text += [
                        _wording(profiles[u], p)
                        if tokens[u] and not words.isdisjoint(tokens[u])
                        else 0.0
                        for u in flat
                    ]
                if vec is None:
                    cos += [None] * len(flat)
                else:
                    cos += [None if vectors[u] is None else cosine(vec, vectors[u]) for u in flat]
        count = len(others)
        # Each direction's best pair per counterpart: the first with the highest relevance.
        a = np.zeros(count, dtype=np.float64)  # their offers for my needs
        b = np.zeros(count, dtype=np.float64)  # my offers for their needs
        chosen = np.full((count, 2), -1, dtype=np.int64)
        relevance: list[float] = []
        taxonomy: list[float] = []
        if needs:
            relevance, taxonomy = self._relevance(needs, offers, text, cos)
            rel = np.minimum(np.asarray(relevance), 1.0)
            rows = np.flatnonzero(np.asarray(relevance) >= MIN_RELEVANCE)
            group = (
                np.asarray(positions, dtype=np.int64) * 2 + np.asarray(directions, dtype=np.int64)
            )[rows]
            order = np.lexsort((rows, -rel[rows], group))
            group, rows = group[order], rows[order]
            first = np.ones(rows.shape[0], dtype=bool)
            first[1:] = group[1:] != group[:-1]
            group, rows = group[first], rows[first]
            chosen[group // 2, group % 2] = rows
            offer_side = group % 2 == 0
            a[group[offer_side] // 2] = rel[rows[offer_side]]
            b[group[~offer_side] // 2] = rel[rows[~offer_side]]

        def pair(pos: int, direction: int) -> _Pair | None:
            row = int(chosen[pos, direction])
            if row < 0:
                return None
            return _Pair(
                min(relevance[row], 1.0),
                profiles[needs[row]],
                profiles[offers[row]],
                text[row],
                cos=cos[row] or 0.0,
                taxonomy=taxonomy[row],
            )

        # Needs answered by a role (investors, agencies) are few: scored one by one.
        roles: dict[int, tuple[_Pair | None, _Pair | None]] = {}
        for pos, other in enumerate(others):
            my_roles = [(k, ns) for k, ns in me.role_needs.items() if k in other.answers]
            their_roles = [(k, ns) for k, ns in other.role_needs.items() if k in me.answers]
            if not my_roles and not their_roles:
                continue
            offer, need = pair(pos, 0), pair(pos, 1)
            for kind, role_needs in my_roles:
                for n in role_needs:
                    offer = _better(offer, _role_pair(kind, n, me, other, fusion))
            for kind, role_needs in their_roles:
                for n in role_needs:
                    need = _better(need, _role_pair(kind, n, other, me, fusion))
            roles[pos] = (offer, need)
            a[pos] = offer.relevance if offer else 0.0
            b[pos] = need.relevance if need else 0.0
        # `_score` for all at once, unrounded: only counterparts within rounding of the
        # limit-th best can be in the list, and those are scored exactly as `top` does.
        both = (a >= MIN_BOTH) & (b >= MIN_BOTH)
        high, low = np.maximum(a, b), np.minimum(a, b)
        combined = np.where(both, np.minimum(high + BOTH_BONUS * low, 1.0), high)
        if self.languages is None:  # too many languages for bits: bound the language part
            low = (1.0 - W_LANGUAGE) * combined
            score = low + W_LANGUAGE
        else:
            mask = self.languages[key]
            spoken = np.asarray([self.languages[o.cand.key] for o in others], dtype=np.int64)
            language = np.where(
                (spoken & mask) != 0,
                1.0,
                np.where((mask == 0) | (spoken == 0), 0.5, 0.0),
            )
            low = score = (1.0 - W_LANGUAGE) * combined + W_LANGUAGE * language
        alive = np.flatnonzero((a >= MIN_RELEVANCE) | (b >= MIN_RELEVANCE))
        if alive.shape[0] > limit:
            bar = np.partition(low[alive], alive.shape[0] - limit)[alive.shape[0] - limit]
            alive = alive[score[alive] >= bar - 1e-6]
        ranked: list[tuple[float, tuple[float, float, int], int]] = []
        best: dict[int, tuple[_Pair | None, _Pair | None]] = {}
        for pos in alive.tolist():
            other = others[pos]
            offer, need = roles[pos] if pos in roles else (pair(pos, 0), pair(pos, 1))
            best[pos] = (offer, need)
            scored = _score(
                me, other, offer.relevance if offer else 0.0, need.relevance if need else 0.0
            )
            if scored is not None:
                ranked.append((scored[0], _tiebreak(me, other, offer, need), pos))
        ranked.sort(key=lambda r: (-r[0], -r[1][0], -r[1][1], -r[1][2], others[r[2]].cand.key))
        out: list[Match] = []
        for _, _, pos in ranked[:limit]:
            match = _assemble(me, others[pos], *best[pos])
            if match is not None:
                out.append(match)
        return out


def normalize_language_tag(tag: str) -> str:
    """Reduce a BCP 47 tag to its primary language subtag (zh-CN -> zh)."""
    return _language_key(unicodedata.normalize("NFKC", tag))


def answer_need(
    need: Item,
    offer: Item,
    *,
    analyzer: Analyzer,
    fusion: Fusion | None = None,
    cos: float | None = None,
) -> tuple[float, tuple[Reason, ...]] | None:
    """How well one offer answers one need (0..1) and why; None below the noise floor.

    The pair score of the matcher, without the delegates around the items: what a catalogue
    search uses, the query being the need and each exhibit an offer. `fusion` replaces the
    analyzer's weights (only when it has an encoder); `cos` replaces the cosine of the two
    texts' vectors (a catalogue search passes it calibrated, see calibrated_cosines).
    """
    n, o = analyzer.profile(need), analyzer.profile(offer)
    fused = _fusion(analyzer)
    if fused is not None and fusion is not None:
        fused = fusion
    pair = _field_pair(n, o, field_similarity(n, o), _dot(n.broad, o.broad), fused, cos)
    if pair is None:
        return None
    return pair.relevance, tuple(_pair_reasons(pair))
