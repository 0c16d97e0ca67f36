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
    and search is approximate: callers re-score what it finds with the full vectors.
    """

    def __init__(self, dim: int, projection: Matrix | None = None) -> None:
        self.projection = projection
        dim = projection.shape[1] if projection is not None else dim
        self.dim = dim
        self._matrix: Matrix = np.zeros((0, dim), dtype=np.float32)
        self._ids: list[int] = []
        self._row: dict[int, int] = {}
        self._live: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._size = 0
        self._dead = 0

    def __len__(self) -> int:
        return self._size - self._dead

    def _project(self, vectors: Matrix) -> Matrix:
        if self.projection is None:
            return vectors
        return normalize_rows(vectors @ self.projection)

    def add(self, uid: int, vector: Vector) -> None:
        """Store a vector under an id (an id already stored is replaced)."""
        self.remove(uid)
        vector = self._project(vector.reshape(1, -1))[0]
        if self._size == self._matrix.shape[0]:
            grown = max(16, self._size * 2)
            matrix = np.zeros((grown, self.dim), dtype=np.float32)
            matrix[: self._size] = self._matrix[: self._size]
            live = np.zeros(grown, dtype=bool)
            live[: self._size] = self._live[: self._size]
            self._matrix, self._live = matrix, live
        self._matrix[self._size] = vector
        self._live[self._size] = True
        self._ids.append(uid)
        self._row[uid] = self._size
        self._size += 1

    def add_many(self, uids: Sequence[int], vectors: Matrix) -> None:
        """Store many vectors at once (the fast path for building the index)."""
        if not uids:
            return
        for uid in uids:
            self.remove(uid)
        vectors = self._project(vectors)
        need = self._size + len(uids)
        if need > self._matrix.shape[0]:
            grown = max(need, self._size * 2)
            matrix = np.zeros((grown, self.dim), dtype=np.float32)
            matrix[: self._size] = self._matrix[: self._size]
            live = np.zeros(grown, dtype=bool)
            live[: self._size] = self._live[: self._size]
            self._matrix, self._live = matrix, live
        self._matrix[self._size : need] = vectors
        self._live[self._size : need] = True
        for offset, uid in enumerate(uids):
            self._ids.append(uid)
            self._row[uid] = self._size + offset
        self._size = need

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
        self._ids = [self._ids[i] for i in keep]
        self._row = {uid: row for row, uid in enumerate(self._ids)}
        self._size = len(self._ids)
        self._live = np.ones(self._size, dtype=bool)
        self._dead = 0

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
        k = min(k, len(self))
        top = np.argpartition(-scores, k - 1)[:k] if k < self._size else np.arange(self._size)
        picked = [(self._ids[int(i)], float(scores[i])) for i in top if scores[i] > -2.0]
        picked.sort(key=lambda p: (-p[1], p[0]))
        return picked

    def search_many(self, queries: Matrix, k: int) -> list[list[int]]:
        """The ids of the k most similar rows for each query row (one matrix product)."""
        if self._size == 0 or k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        if self.projection is not None:
            queries = self._project(queries)
        scores = queries @ self._matrix[: self._size].T
        if self._dead:
            scores[:, ~self._live[: self._size]] = -2.0
        k = min(k, len(self))
        if k < self._size:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(self._size), (queries.shape[0], 1))
        return [
            [self._ids[int(i)] for i in row if scores[r, i] > -2.0] for r, row in enumerate(top)
        ]


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
