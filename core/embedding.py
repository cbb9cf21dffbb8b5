"""Sentence vectors: all-MiniLM-L6-v2 run by onnxruntime, tokenised by tokenizers (no PyTorch).

The model ships in the package (core/data/minilm, see its README for origin, licence and checksum),
so a fresh install embeds offline. A vector is the mean of the token vectors, L2-normalised: the
dot product of two vectors is their cosine similarity.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np

from core.records import Paper, PaperciteError, without_surrogates

DIMENSIONS = 384
# The model was trained on sequences of at most 128 word pieces; longer abstracts are cut there.
# On ACM-CR that costs nothing measurable against 256 and halves the cost of an abstract (see
# docs/benchmarks.md).
MAX_TOKENS = 128
# Each text is run alone, never padded into a batch: the int8 model quantises a run's activations
# with one scale for the whole run, so a text batched with others got another vector (cosine 0.991
# at worst on ACM-CR abstracts) than alone. Alone it needs no padding either, and the texts of a
# call are spread over this many threads, each running the model on one core: 64–70 abstracts per
# CPU-second, where one run of 32 on two intra-op threads made 37 (docs/benchmarks.md).
_MAX_WORKERS = 4
# Query texts remembered with their vectors (an editor asks again for the same sentence): 1.5 kB
# each, so 1.5 MB at most.
_CACHED_QUERIES = 1024


def model_folder() -> Path:
    return Path(str(resources.files("core") / "data" / "minilm"))


@functools.cache
def model_id() -> str:
    """Which model vectors come from: the start of the shipped model file's recorded checksum.
    Vectors made by another model (an older papercite's) mean nothing next to this one's."""
    try:
        origin = json.loads((model_folder() / "origin.json").read_text(encoding="utf-8"))
        return str(origin["files"]["model.onnx"]["sha256"])[:16]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def paper_text(paper: Paper) -> str:
    """What a paper's vector is made from: its title and abstract, as the model was measured with."""
    title = "" if paper.title_derived else paper.title
    return ". ".join(part for part in (title, paper.abstract) if part)


def text_digest(text: str) -> str:
    """A short fingerprint of the text a vector was made from: a changed abstract needs a new one."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


class ModelUnavailable(PaperciteError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"the sentence model cannot be loaded: {reason}")


class Encoder:
    """Turns texts into unit vectors. Thread-safe; a query's vector is cached."""

    def __init__(self, folder: Path | None = None, *, threads: int | None = None) -> None:
        """`threads`: how many texts are run at once (default: the cores, at most 4)."""
        folder = folder or model_folder()
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelUnavailable(f"{error.name} is not installed") from None
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            options = onnxruntime.SessionOptions()
            # One core a run; parallel runs use the others (see _MAX_WORKERS).
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # a missing or damaged model file: onnxruntime's own exceptions
            raise ModelUnavailable(f"{folder}: {error}") from None
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._workers = max(1, threads or min(os.cpu_count() or 1, _MAX_WORKERS))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 unit vector per text (an empty text gets the vector of no words)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        # A lone surrogate (an editor or a JSON body can send one) is no text the tokenizer takes.
        encodings = self._tokenizer.encode_batch([without_surrogates(text or "") for text in texts])

        def run(row: int) -> None:
            ids = np.array([encodings[row].ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            out[row] = self._session.run(None, feed)[0][0]

        if len(texts) == 1 or self._workers == 1:
            for row in range(len(texts)):
                run(row)
        else:
            # onnxruntime lets go of the interpreter while it runs, so the threads run in parallel.
            for _ in self._executor().map(run, range(len(texts))):
                pass
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="papercite-embed")
            return self._pool

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one query text, from the cache when it was asked before."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        vector = self.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > _CACHED_QUERIES:
                self._cache.popitem(last=False)
        return vector

    def cached_query(self, text: str) -> np.ndarray | None:
        with self._lock:
            return self._cache.get(text)


_shared: Encoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> Encoder:
    """One encoder per process: loading the model takes a few hundred milliseconds."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Encoder()
        return _shared
