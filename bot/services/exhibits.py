"""The achievements catalogue: importing exhibits, searching them across languages, shortlists.

Search uses the matching engine (bot.domain.matching.answer_need with the matching service's
analyzer and encoder): the query is a need, each language version of an exhibit an offer, and
an exhibit scores as its best version. The query's cosines to the catalogue are calibrated
first (bot.domain.encoding.calibrated_cosines): a multilingual encoder ranks loosely related
texts in the query's own language, and short generic texts, above the right exhibit written
in another language, so the per-language bias and each text's hubness are taken out. To
answer in milliseconds over thousands of exhibits, only likely candidates are scored: the
nearest texts by vector (with an encoder), the texts sharing a technology field with the
query, and those sharing its content words.

The in-memory catalogue is rebuilt when the database changed under it (another process's
import: `sync`, also called before each search), so a running bot sees an import at once.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import numpy.typing as npt

from bot.domain.clock import Clock
from bot.domain.encoding import (
    Matrix,
    calibrated_cosines,
    hub_scores,
    normalize_rows,
    text_key,
)
from bot.domain.exhibit_filters import (
    ExhibitFacts,
    ExhibitFilter,
    FacetCounts,
    Facets,
    count,
)
from bot.domain.exhibits import (
    ExhibitParse,
    cell_text,
    is_exhibits_header,
    parse_csv,
    parse_table,
    pick,
)
from bot.domain.matching import Fusion, Item, Reason, answer_need, content_tokens
from bot.services.matching import EMBED_BATCH, MatchingService
from storage.db import Database
from storage.exhibits import Exhibit as Exhibit  # the record handlers show
from storage.exhibits import ExhibitRepository, ImportSummary
from storage.vectors import VectorRepository

VECTOR_CANDIDATES = 60
FIELD_CANDIDATES = 120
WORD_CANDIDATES = 60
MIN_SCORE = 0.12
# With a filter on, a search also scores every exhibit the filter keeps when they are this few,
# so a narrow filter finds what the candidate lists alone would have left out (the counts of
# the other values are then those of the candidates: a lower bound). A catalogue of at most
# FULL_SCAN texts is scored whole, so there its counts are exact.
FILTERED_SCAN = 400
FULL_SCAN = 200
# A catalogue search names one thing: the wording weighs more than in matching delegates,
# where a shared field carries half the score. The cosines are calibrated first
# (calibrated_cosines: the encoder's language bias and hub rows taken out), and a calibrated
# cosine keeps rising above 0.6 where a raw one is already the same thing in two languages,
# so the scale runs to 0.8. Chosen on benchmarks.exhibits from the middle of a plateau
# (w_sem 0.6-0.8, ceil 0.7-0.9 all gave recall@5 0.96-1.0; uncalibrated, 0.83).
SEARCH_FUSION = Fusion(w_sem=0.7, ceil=0.8)

# An exhibit is put beside a delegate's matches only when it answers one of their needs this
# well: a search shows weaker answers because the visitor asked, /matches does not.
ON_DISPLAY_MIN = 0.3

Progress = Callable[[int, int], None]


class ExhibitFileError(Exception):
    """The file cannot be read at all (unknown extension, broken XLSX)."""


def read_file(name: str, data: bytes) -> ExhibitParse:
    """Parse an exhibits file by its extension: .csv, or .xlsx (the first sheet)."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        return parse_csv(data)
    if suffix != ".xlsx":
        raise ExhibitFileError(f"{name}: expected a .csv or .xlsx file")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        return ExhibitParse(file_error=f"The file cannot be read as XLSX ({exc}).")
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [cell_text(c) for c in next(rows)]
    except StopIteration:
        return ExhibitParse(file_error="The file is empty.")
    table = [(line, [cell_text(c) for c in cells]) for line, cells in enumerate(rows, start=2)]
    book.close()
    return parse_table(header, table)


@dataclass(frozen=True)
class ImportReport:
    """What an import read, changed, and noted."""

    parse: ExhibitParse
    summary: ImportSummary | None
    notes: tuple[str, ...] = ()  # not errors: owners that are not known delegates
    embedded: int = 0

    @property
    def rows(self) -> int:
        """How many data rows the file had, valid or not."""
        return len(self.parse.exhibits) + len({e.line for e in self.parse.errors})

    def lines(self, name: str) -> list[str]:
        """The organizer's report: each skipped row and note, then one summary line."""
        out = []
        for row_error in self.parse.errors:
            column = f" ({row_error.column})" if row_error.column else ""
            out.append(f"{name}: row {row_error.line}{column}: {row_error.reason}")
        out += [f"{name}: note: {note}" for note in self.notes]
        s = self.summary or ImportSummary()
        out.append(
            f"{len(self.parse.exhibits)} exhibit(s) read: {s.added} added, {s.updated} updated, "
            f"{s.unchanged} unchanged; {len(self.parse.errors)} row(s) skipped, "
            f"{len(self.notes)} note(s)"
        )
        return out


def is_exhibits_file(name: str, data: bytes) -> bool:
    """Whether a file sent to the desk is an exhibits file: an XLSX, or a CSV with its header."""
    suffix = PurePath(name).suffix.lower()
    return suffix == ".xlsx" or (suffix == ".csv" and is_exhibits_header(data))


@dataclass(frozen=True)
class Hit:
    """One exhibit found for a query."""

    exhibit: Exhibit
    score: float
    reasons: tuple[Reason, ...]
    language: str  # the version that matched best


@dataclass(frozen=True)
class ExhibitPage:
    """One page of a search or of browsing, with what the filters can still choose."""

    hits: list[Hit]
    total: int  # exhibits found, over all pages
    counts: FacetCounts  # per filter value, the exhibits it would leave
    facets: Facets  # the values the whole catalogue has


@dataclass
class _Catalogue:
    exhibits: dict[int, Exhibit] = field(default_factory=dict)
    texts: list[tuple[int, str, str]] = field(default_factory=list)  # (exhibit id, lang, text)
    matrix: Matrix | None = None
    languages: npt.NDArray[np.intp] | None = None  # each text row's language, numbered
    hubs: npt.NDArray[np.float64] | None = None  # each text row's hubness (hub_scores)
    by_field: dict[str, list[int]] = field(default_factory=dict)  # field -> text rows
    by_word: dict[str, list[int]] = field(default_factory=dict)  # content word -> text rows
    facts: dict[int, ExhibitFacts] = field(default_factory=dict)  # exhibit id -> filter facts
    facets: Facets = field(default_factory=Facets)


class ExhibitService:
    """The catalogue over the database, searched with the matching engine."""

    def __init__(self, db: Database, clock: Clock, matching: MatchingService) -> None:
        self._db = db
        self.repo = ExhibitRepository(db, clock)
        self.vectors = VectorRepository(db, clock, table="exhibit_vectors")
        self.matching = matching
        self._catalogue = _Catalogue()
        self._version: int | None = None
        self._lock = asyncio.Lock()

    # -- importing ------------------------------------------------------------------------------

    async def import_parsed(
        self, parse: ExhibitParse, *, progress: Progress | None = None
    ) -> ImportReport:
        """Store the valid rows (insert or update by key) and embed their texts."""
        if not parse.ok:
            return ImportReport(parse, None)
        owners = {d.owner_external_id for _, d in parse.exhibits if d.owner_external_id}
        known = await self.repo.known_owners(owners)
        notes = tuple(
            f"row {line}: owner {d.owner_external_id} is not a known delegate (yet); "
            "the exhibit is listed without a contact"
            for line, d in parse.exhibits
            if d.owner_external_id and d.owner_external_id not in known
        )
        summary = await self.repo.upsert(d for _, d in parse.exhibits)
        texts = [t for _, d in parse.exhibits for t in d.texts().values()]
        embedded = await self._embed(texts, progress=progress)
        await self.load()
        return ImportReport(parse, summary, notes, embedded)

    async def _embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> int:
        """Give the analyzer a vector for each text: stored first, the rest encoded and stored."""
        analyzer = self.matching.analyzer
        encoder = analyzer.encoder
        if encoder is None:
            return 0
        todo = analyzer.missing(texts)
        if todo:
            keys = {t: text_key(t, encoder.version) for t in todo}
            stored = await self.vectors.load(
                encoder.version, None if len(keys) > 500 else list(keys.values())
            )
            for text in todo:
                vec = stored.get(keys[text])
                if vec is not None and vec.shape[0] == encoder.dim:
                    analyzer.remember(text, vec)
            todo = analyzer.missing(todo)
        for start in range(0, len(todo), EMBED_BATCH):
            chunk = todo[start : start + EMBED_BATCH]
            new = await asyncio.to_thread(analyzer.prime, chunk, batch=EMBED_BATCH)
            await self.vectors.save(
                encoder.version, {text_key(t, encoder.version): v for t, v in new.items()}
            )
            if progress is not None:
                progress(min(start + EMBED_BATCH, len(todo)), len(todo))
        return len(todo)

    # -- the in-memory catalogue ----------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild the searchable catalogue from the database."""
        async with self._lock:
            version = await self._db.fetchval("PRAGMA data_version")
            exhibits = await self.repo.all()
            cat = _Catalogue(exhibits={e.id: e for e in exhibits})
            for e in exhibits:
                for lang, text in e.data.texts().items():
                    cat.texts.append((e.id, lang, text))
            await self._embed([t for _, _, t in cat.texts])
            analyzer = self.matching.analyzer
            vectors = []
            fields: dict[int, set[str]] = {eid: set() for eid in cat.exhibits}
            for row, (eid, _, text) in enumerate(cat.texts):
                profile = analyzer.profile(self._offer(cat.exhibits[eid], text))
                fields[eid].update(profile.fields)
                for code in profile.fields:
                    cat.by_field.setdefault(code, []).append(row)
                for word in profile.tokens:
                    cat.by_word.setdefault(word, []).append(row)
                vec = analyzer.vector(text)
                if vec is not None:
                    vectors.append(vec)
            if vectors and len(vectors) == len(cat.texts):
                cat.matrix = normalize_rows(np.stack(vectors))
                numbers: dict[str, int] = {}
                cat.languages = np.asarray(
                    [numbers.setdefault(lang, len(numbers)) for _, lang, _ in cat.texts],
                    dtype=np.intp,
                )
                cat.hubs = hub_scores(cat.matrix)
            for e in exhibits:
                cat.facts[e.id] = ExhibitFacts(
                    fields=frozenset(fields[e.id]),
                    hall=e.data.hall,
                    trl=e.data.trl,
                    kinds=frozenset(e.data.deal_kinds),
                )
            cat.facets = Facets.of(cat.facts.values())
            self._catalogue = cat
            self._version = int(version) if version is not None else None

    async def sync(self) -> bool:
        """Reload when another connection changed the database since the last load."""
        if not self._db.is_open:
            return False
        version = await self._db.fetchval("PRAGMA data_version")
        if self._version is not None and version == self._version:
            return False
        await self.load()
        return True

    @staticmethod
    def _offer(exhibit: Exhibit, text: str) -> Item:
        kind = exhibit.data.deal_kinds[0] if exhibit.data.deal_kinds else None
        return Item(f"x{exhibit.id}", f"x{exhibit.id}", "offer", text, kind=kind)

    # -- searching ------------------------------------------------------------------------------

    def _candidates(self, query: Item) -> tuple[set[int], npt.NDArray[np.float64] | None]:
        """The text rows worth scoring, and the query's calibrated cosine to every row."""
        cat = self._catalogue
        analyzer = self.matching.analyzer
        need = analyzer.profile(query)
        rows: set[int] = set()
        cos = None
        if cat.matrix is not None and cat.languages is not None and need.vec is not None:
            cos = calibrated_cosines(cat.matrix @ need.vec, cat.languages, cat.hubs)
            k = min(VECTOR_CANDIDATES, len(cos))
            rows.update(int(i) for i in np.argpartition(-cos, k - 1)[:k])
        weight: dict[int, float] = {}
        for code, w in need.fields.items():
            for row in cat.by_field.get(code, ()):
                weight[row] = weight.get(row, 0.0) + w
        rows.update(sorted(weight, key=lambda r: -weight[r])[:FIELD_CANDIDATES])
        words: dict[int, int] = {}
        for word in content_tokens(query.text):
            for row in cat.by_word.get(word, ()):
                words[row] = words.get(row, 0) + 1
        rows.update(sorted(words, key=lambda r: -words[r])[:WORD_CANDIDATES])
        return rows, cos

    async def search(self, text: str, *, limit: int = 10, offset: int = 0) -> list[Hit]:
        """Exhibits answering a need, best first (an exhibit once, as its best version)."""
        if not text.strip():
            await self.sync()
            return []
        return (await self.find(text, limit=limit, offset=offset)).hits

    async def size(self) -> int:
        """How many exhibits the catalogue has now."""
        await self.sync()
        return len(self._catalogue.exhibits)

    async def facets(self) -> Facets:
        """The filter values the catalogue has now (what chat buttons' positions refer to)."""
        await self.sync()
        return self._catalogue.facets

    async def find(
        self,
        text: str,
        chosen: ExhibitFilter | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
    ) -> ExhibitPage:
        """A page of exhibits answering a need (best first) among those the filter keeps;
        without text, browsing: every exhibit the filter keeps, in key order."""
        await self.sync()
        cat = self._catalogue
        chosen = chosen or ExhibitFilter()
        text = text.strip()
        if text:
            # Scored once without the filter, so the counts can tell what each value leaves.
            found = self._ranked(text, chosen)
            facts = [cat.facts[h.exhibit.id] for h in found]
            ranked = [h for h, f in zip(found, facts, strict=True) if chosen.keeps(f)]
        else:
            facts = list(cat.facts.values())
            ranked = self._browsed(chosen)
        return ExhibitPage(
            hits=ranked[offset : offset + limit],
            total=len(ranked),
            counts=count(facts, chosen),
            facets=cat.facets,
        )

    def _browsed(self, chosen: ExhibitFilter) -> list[Hit]:
        cat = self._catalogue
        kept = [e for e in cat.exhibits.values() if chosen.keeps(cat.facts[e.id])]
        kept.sort(key=lambda e: e.data.key)
        return [Hit(e, 0.0, (), e.data.original_language) for e in kept]

    def _ranked(self, text: str, chosen: ExhibitFilter) -> list[Hit]:
        """Every exhibit scoring for the text, the filter's own exhibits all scored when few."""
        cat = self._catalogue
        analyzer = self.matching.analyzer
        query = Item("query", "visitor", "need", text)
        rows, cos = self._candidates(query)
        if len(cat.texts) <= FULL_SCAN:
            rows = set(range(len(cat.texts)))
        elif chosen.active:
            kept = {eid for eid, facts in cat.facts.items() if chosen.keeps(facts)}
            if len(kept) <= FILTERED_SCAN:
                rows |= {r for r, (eid, _, _) in enumerate(cat.texts) if eid in kept}
        best: dict[int, Hit] = {}
        for row in rows:
            eid, lang, offer_text = cat.texts[row]
            exhibit = cat.exhibits[eid]
            got = answer_need(
                query,
                self._offer(exhibit, offer_text),
                analyzer=analyzer,
                fusion=SEARCH_FUSION,
                cos=None if cos is None else float(cos[row]),
            )
            if got is None or got[0] < MIN_SCORE:
                continue
            score, reasons = got
            if eid not in best or score > best[eid].score:
                best[eid] = Hit(exhibit, round(min(score, 1.0), 4), reasons, lang)
        return sorted(best.values(), key=lambda h: (-h.score, h.exhibit.data.key))

    # -- cards and shortlists -------------------------------------------------------------------

    async def by_token(self, token: str) -> Exhibit | None:
        """The exhibit a booth QR opens."""
        return await self.repo.by_token(token)

    async def get(self, exhibit_id: int) -> Exhibit | None:
        """One exhibit."""
        return await self.repo.get(exhibit_id)

    async def owner_of(self, exhibit: Exhibit) -> int | None:
        """The delegate who answers for the exhibit (None when not a known delegate)."""
        if exhibit.data.owner_external_id is None:
            return None
        return await self.repo.owner_delegate(exhibit.data.owner_external_id)

    async def save(self, delegate_id: int, exhibit_id: int) -> bool:
        """Put an exhibit on the visitor's shortlist."""
        return await self.repo.save(delegate_id, exhibit_id)

    async def saved(self, delegate_id: int) -> list[Exhibit]:
        """The visitor's shortlist."""
        return await self.repo.saved(delegate_id)

    async def for_needs(self, needs: Sequence[str], *, limit: int = 2) -> list[Hit]:
        """Exhibits answering any of a delegate's needs, best first, each once (/matches)."""
        best: dict[int, Hit] = {}
        for text in needs:
            for hit in await self.search(text, limit=limit):
                if hit.score < ON_DISPLAY_MIN:
                    continue
                if hit.exhibit.id not in best or hit.score > best[hit.exhibit.id].score:
                    best[hit.exhibit.id] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.exhibit.data.key))[:limit]

    async def named(self, text: str) -> list[Exhibit]:
        """Exhibits whose key or one of whose titles is exactly text (a shared card's query)."""
        await self.sync()
        wanted = " ".join(text.split()).casefold()
        if not wanted:
            return []
        return [
            e
            for e in sorted(self._catalogue.exhibits.values(), key=lambda e: e.data.key)
            if wanted == e.data.key.casefold()
            or any(wanted == " ".join(t.split()).casefold() for t in e.data.titles.values())
        ]


def title_of(exhibit: Exhibit, language: str) -> tuple[str, str]:
    """(language, title): the reader's language where the file has it, else the original."""
    got = pick(exhibit.data.titles, language)
    return got if got is not None else (language, exhibit.data.key)
