"""The semantic layer's interface: texts to unit vectors, and an index over one matrix of them.

An ``Encoder`` turns texts into L2-normalised float32 rows. The bot's default is the bundled
multilingual Universal Sentence Encoder (bot/encoders/__init__.py); ``HashEncoder`` is a tiny
deterministic one for unit tests; a deployment may provide another (an ONNX model) as long as
it has a ``version`` that changes whenever its vectors change, so stored vectors are re-computed.

``VectorIndex`` keeps the vectors of one side (offers or needs) in a single numpy matrix and
answers "the rows most similar to this vector" with one matrix-vector product.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Texts in, unit vectors out (one row per text)."""

    @property
    def version(self) -> str:
        """Identifies the model and its settings; stored vectors of another version are stale."""
        ...

    @property
    def dim(self) -> int:
        """Length of each vector."""
        ...

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Return a (len(texts), dim) float32 matrix of L2-normalised rows."""
        ...


def text_key(text: str, version: str) -> str:
    """The storage key of a text's vector: SHA-256 of the encoder version and the text."""
    return hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()


def normalize_rows(matrix: npt.NDArray[np.floating]) -> Matrix:
    """Scale each row to unit length (zero rows stay zero)."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms, dtype=np.float32)


class HashEncoder:
    """A deterministic bag-of-character-n-grams encoder: same text, same vector, no model.

    Texts sharing character trigrams get similar vectors; nothing crosses languages. For unit
    tests of everything around the encoder, not for matching real delegates.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def version(self) -> str:
        return f"hash-ngrams-v1-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            norm = " " + " ".join(unicodedata.normalize("NFKC", text).casefold().split()) + " "
            for i in range(max(len(norm) - 2, 0)):
                digest = hashlib.blake2b(norm[i : i + 3].encode(), digest_size=4).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self._dim] += 1.0 if value & 0x80000000 else -1.0
        return normalize_rows(out)


def fit_projection(sample: Matrix, dims: int) -> Matrix:
    """A (d, dims) orthonormal basis of the sample's main directions (PCA without centring).

    Searching in this smaller space costs dims/d of a full search; the nearest items it finds
    are then scored with their full vectors.
    """
    # Eigenvectors of the (d, d) second-moment matrix: the sample's right singular vectors,
    # without the (n, d) left ones an SVD would allocate.
    m = np.asarray(sample, dtype=np.float64)
    values, vectors = np.linalg.eigh(m.T @ m)
    top = np.argsort(values)[::-1][:dims]
    return np.ascontiguousarray(vectors[:, top], dtype=np.float32)


class VectorIndex:
    """Unit vectors keyed by integer ids in one growing matrix; top-k by cosine.

    With a projection (fit_projection) the matrix holds the projected vectors, renormalised,
    and search is approximate; the full vectors are kept beside them in half precision (what
    storage keeps, so stored vectors are the same numbers) for `search_many`'s re-scoring.
    """

    def __init__(self, dim: int, projection: Matrix | None = None) -> None:
        self.projection = projection
        self.full_dim = dim
        dim = projection.shape[1] if projection is not None else dim
        self.dim = dim
        self._matrix: Matrix = np.zeros((0, dim), dtype=np.float32)
        self._full: npt.NDArray[np.float16] | None = (
            np.zeros((0, self.full_dim), dtype=np.float16) if projection is not None else None
        )
        self._ids: list[int] = []
        self._row: dict[int, int] = {}
        self._live: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._size = 0
        self._dead = 0
        self._id_cache: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return self._size - self._dead

    def _project(self, vectors: Matrix) -> Matrix:
        if self.projection is None:
            return vectors
        return normalize_rows(vectors @ self.projection)

    def _grow(self, need: int) -> None:
        if need <= self._matrix.shape[0]:
            return
        grown = max(need, 16, self._size * 2)
        matrix = np.zeros((grown, self.dim), dtype=np.float32)
        matrix[: self._size] = self._matrix[: self._size]
        live = np.zeros(grown, dtype=bool)
        live[: self._size] = self._live[: self._size]
        self._matrix, self._live = matrix, live
        if self._full is not None:
            full = np.zeros((grown, self.full_dim), dtype=np.float16)
            full[: self._size] = self._full[: self._size]
            self._full = full

    def add(self, uid: int, vector: Vector) -> None:
        """Store a vector under an id (an id already stored is replaced)."""
        self.add_many([uid], vector.reshape(1, -1))

    def add_many(self, uids: Sequence[int], vectors: Matrix) -> None:
        """Store many vectors at once (the fast path for building the index)."""
        if not uids:
            return
        for uid in uids:
            self.remove(uid)
        need = self._size + len(uids)
        self._grow(need)
        self._matrix[self._size : need] = self._project(vectors)
        if self._full is not None:
            self._full[self._size : need] = vectors
        self._live[self._size : need] = True
        for offset, uid in enumerate(uids):
            self._ids.append(uid)
            self._row[uid] = self._size + offset
        self._size = need
        self._id_cache = None

    def remove(self, uid: int) -> None:
        """Forget an id (no error if unknown)."""
        row = self._row.pop(uid, None)
        if row is None:
            return
        self._live[row] = False
        self._matrix[row] = 0.0
        self._dead += 1
        if self._dead > 1024 and self._dead * 2 > self._size:
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._live[: self._size])
        self._matrix = np.ascontiguousarray(self._matrix[keep])
        if self._full is not None:
            self._full = np.ascontiguousarray(self._full[keep])
        self._ids = [self._ids[i] for i in keep]
        self._row = {uid: row for row, uid in enumerate(self._ids)}
        self._size = len(self._ids)
        self._live = np.ones(self._size, dtype=bool)
        self._dead = 0
        self._id_cache = None

    def vector(self, uid: int) -> Vector | None:
        """The stored vector of an id, or None."""
        row = self._row.get(uid)
        return None if row is None else self._matrix[row]

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """Return up to k (id, cosine) pairs, most similar first (ties by id)."""
        if self._size == 0 or k <= 0:
            return []
        if self.projection is not None:
            query = self._project(query.reshape(1, -1))[0]
        scores = self._matrix[: self._size] @ query
        if self._dead:
            scores = np.where(self._live[: self._size], scores, -2.0)
        ids = self._id_array()
        return [
            (int(ids[i]), float(scores[i]))
            for i in top_k(scores.reshape(1, -1), min(k, len(self)), ids)[0]
        ]

    def search_many(self, queries: Matrix, k: int, keep: int | None = None) -> list[list[int]]:
        """The ids of the k most similar rows for each query row (one matrix product).

        The same rows as `search` gives for each query, in the same order. With `keep` and a
        projection, the k found are re-scored with the full vectors and the `keep` closest
        returned (ties in the order found).
        """
        if self._size == 0 or k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        projected = self._project(queries) if self.projection is not None else queries
        scores = projected @ self._matrix[: self._size].T
        if self._dead:
            scores[:, ~self._live[: self._size]] = -2.0
        ids = self._id_array()
        found = top_k(scores, min(k, len(self)), ids)
        del scores
        if keep is not None and self._full is not None:
            found = self._rescore(queries, found, keep)
        return [ids[row].tolist() for row in found]

    def _rescore(
        self, queries: Matrix, found: list[npt.NDArray[np.intp]], keep: int
    ) -> list[npt.NDArray[np.intp]]:
        assert self._full is not None
        out = list(found)
        by_length: dict[int, list[int]] = {}  # queries by how many rows were found
        for q, rows in enumerate(found):
            if rows.shape[0] > keep:
                by_length.setdefault(rows.shape[0], []).append(q)
        for qs in by_length.values():
            rows = np.stack([found[q] for q in qs])
            full = self._full[rows].astype(np.float32)  # (queries, length, full_dim)
            cos = np.einsum("qkd,qd->qk", full, queries[qs])
            order = np.argsort(-cos, axis=1, kind="stable")[:, :keep]
            picked = np.take_along_axis(rows, order, axis=1)
            for q, row in zip(qs, picked, strict=True):
                out[q] = row
        return out

    def _id_array(self) -> npt.NDArray[np.int64]:
        if self._id_cache is None:
            self._id_cache = np.asarray(self._ids[: self._size], dtype=np.int64)
        return self._id_cache


GROUPS_PER_K = 16  # groups of columns per wanted row when bounding the k-th best score


def top_k(
    scores: npt.NDArray[np.float32], k: int, ids: npt.NDArray[np.int64]
) -> list[npt.NDArray[np.intp]]:
    """For each row, the column indexes of its k best scores above -2, best first.

    Exact and deterministic: the order is by score, then by `ids` (ascending), so equal
    scores at the k-th place are decided the same way every time. The k-th best of a row is
    at least the k-th best of the maxima of its column groups, so only the columns above that
    bound are sorted (a few dozen) instead of partitioning the whole row.
    """
    rows, cols = scores.shape
    if k <= 0 or cols == 0:
        return [np.zeros(0, dtype=np.intp) for _ in range(rows)]
    groups = GROUPS_PER_K * k
    if cols >= 2 * groups:
        size = cols // groups
        # Group maxima without copying the rows (the last group also spans the tail).
        maxima = np.maximum.reduceat(scores, np.arange(0, groups * size, size), axis=1)
        bound = np.partition(maxima, groups - k, axis=1)[:, groups - k]
        # Only the groups whose maximum reaches the bound hold candidates (about k of them).
        gr, gg = np.nonzero(maxima >= bound[:, None])
        columns = gg[:, None] * size + np.arange(size)
        hit_r, hit_c = np.nonzero(scores[gr[:, None], columns] >= bound[gr][:, None])
        r, c = gr[hit_r], columns[hit_r, hit_c]
        tail_r, tail_c = np.nonzero(scores[:, groups * size :] >= bound[:, None])
        r = np.concatenate([r, tail_r])
        c = np.concatenate([c, tail_c + groups * size])
    else:
        r, c = np.nonzero(scores > -2.0)
    value = scores[r, c]
    alive = value > -2.0
    r, c, value = r[alive], c[alive], value[alive]
    order = np.lexsort((ids[c], -value, r))  # by row, then score, then id
    r, c = r[order], c[order]
    starts = np.searchsorted(r, np.arange(rows + 1))
    return [c[starts[q] : min(starts[q] + k, starts[q + 1])] for q in range(rows)]


HUB_NEIGHBOURS = 10  # neighbours whose mean similarity measures how much of a hub a row is
HUB_SAMPLE = 8192  # rows a hub score is measured against (every n-th row beyond that)
MIN_LANGUAGE_ROWS = 20  # rows of a language needed to estimate a query's bias towards it
MIN_HUB_ROWS = 50  # below this a catalogue is too small to tell hubs from neighbours


def hub_scores(matrix: Matrix, k: int = HUB_NEIGHBOURS) -> npt.NDArray[np.float64]:
    """How close each row is to its k nearest other rows on average (its "hubness").

    Short generic texts ("sewage", "palm vein") sit close to everything and would top many
    unrelated searches; subtracting this score (as CSLS does for cross-lingual retrieval)
    lets a query's true counterpart in another language overtake them.
    """
    rows = matrix.shape[0]
    out = np.zeros(rows, dtype=np.float64)
    if rows < MIN_HUB_ROWS:
        return out
    step = max(1, rows // HUB_SAMPLE)
    reference = matrix[::step]
    k = min(k, reference.shape[0] - 1)
    for start in range(0, rows, 1024):
        sims = matrix[start : start + 1024] @ reference.T
        if step == 1:  # a row is not its own neighbour
            block = np.arange(start, min(start + 1024, rows))
            sims[block - start, block] = -2.0
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, sims.shape[1] - k :]
        out[start : start + 1024] = top.mean(axis=1)
    return out


def calibrated_cosines(
    cos: npt.NDArray[np.floating],
    languages: npt.NDArray[np.intp],
    hubs: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """One query's cosines to catalogue rows, with the encoder's language bias taken out.

    `languages` numbers each row's language (0, 1, ...). A multilingual encoder puts texts of
    one language closer together whatever they say, so a query's loosely related texts in its
    own language outscore the right one in another. Each row's cosine is shifted by how much
    closer the query is to that row's language on average than to the languages on average
    (languages with too few rows are left as they are), and by how much more of a hub the row
    is than the catalogue's average row.
    """
    out = np.asarray(cos, dtype=np.float64)
    counts = np.bincount(languages)
    sums = np.bincount(languages, weights=out, minlength=counts.shape[0])
    known = counts >= MIN_LANGUAGE_ROWS
    shift = np.zeros(counts.shape[0], dtype=np.float64)
    if int(known.sum()) > 1:
        means = sums[known] / counts[known]
        shift[known] = means - means.mean()
    out = out - shift[languages]
    if hubs is not None and hubs.shape[0]:
        out -= hubs - float(hubs.mean())
    return out


def cosine(a: Vector | None, b: Vector | None) -> float:
    """Cosine of two unit vectors (0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    return float(np.dot(a, b))


def stack(vectors: Iterable[Vector], dim: int) -> Matrix:
    """Stack vectors into one float32 matrix (an empty one when there are none)."""
    rows = list(vectors)
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)
