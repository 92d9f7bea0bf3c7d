"""Build an ONNX graph of a BERT sentence encoder straight from its safetensors weights.

The graph is the whole sentence-transformers pipeline of a model such as all-MiniLM-L6-v2:
embeddings, ``num_hidden_layers`` post-norm encoder layers (multi-head self-attention, GELU
feed-forward), mean pooling over the attention mask and L2 normalisation. Inputs are
``input_ids`` and ``attention_mask`` (int64, batch x tokens); the output ``sentence_embedding``
is float32, batch x hidden. Building it by hand, from the ``onnx`` helper API, means users
never need PyTorch: the weights come from a ``model.safetensors`` file read with numpy.

``export`` writes the graph, optionally quantised to int8 with ONNX Runtime's dynamic
quantisation (weights int8, activations quantised per batch at run time).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

# ONNX opset 17 is the first with LayerNormalization; ONNX Runtime runs it natively.
OPSET = 17
# Bump when the graph changes, so that models built by an older version are rebuilt.
# 2: GELU written as ONNX Runtime's fusion expects it (one Gelu node a layer, not five).
# 3: self-attention in one ONNX Runtime node a layer (``_attention``) after one product for
# its queries, keys and values (``_projections``), the same vectors.
GRAPH_VERSION = 3
# ONNX Runtime's own operators (MultiHeadAttention).
CONTRIB = "com.microsoft"
ATTENTION_INPUTS = ("query", "key", "value")
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"


@dataclass(frozen=True, slots=True)
class BertConfig:
    """The parts of a Hugging Face ``config.json`` the graph depends on."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    layer_norm_eps: float
    max_position_embeddings: int

    @classmethod
    def read(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text())
        if raw.get("model_type") != "bert" or raw.get("hidden_act") != "gelu":
            raise ValueError(f"{path}: only BERT models with exact GELU can be built")
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only absolute position embeddings are supported")
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


class _Graph:
    """Nodes and initializers being collected, with fresh names for intermediate values."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0

    def constant(self, name: str, value: np.ndarray[Any, Any]) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attributes: Any) -> str:
        self._counter += 1
        output = f"{op_type.lower()}_{self._counter}"
        self.nodes.append(
            helper.make_node(
                op_type, list(inputs), [output], name=output, domain=domain, **attributes
            )
        )
        return output

    def split(self, x: str, sizes: str, names: Sequence[str]) -> list[str]:
        """``x`` cut along its last axis into parts of ``sizes``, one output each."""
        self._counter += 1
        outputs = [f"{name}_{self._counter}" for name in names]
        self.nodes.append(helper.make_node("Split", [x, sizes], outputs, name=outputs[0], axis=-1))
        return outputs

    def linear(self, x: str, weights: dict[str, np.ndarray[Any, Any]], prefix: str) -> str:
        # torch.nn.Linear keeps weight as (out, in); MatMul wants (in, out).
        weight = self.constant(
            f"{prefix}.weight_t", np.ascontiguousarray(weights[f"{prefix}.weight"].T)
        )
        bias = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("Add", self.op("MatMul", x, weight), bias)

    def layer_norm(
        self, x: str, weights: dict[str, np.ndarray[Any, Any]], prefix: str, eps: float
    ) -> str:
        scale = self.constant(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def _int64(*values: int) -> np.ndarray[Any, Any]:
    return np.array(values, dtype=np.int64)


def _embeddings(g: _Graph, w: dict[str, np.ndarray[Any, Any]], eps: float) -> str:
    words = g.op(
        "Gather", g.constant("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"
    )
    # Every token has type 0 (single sentences), so that row is folded into the positions.
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    table = g.constant("position_embeddings", positions.astype(np.float32))
    length = g.op("Gather", g.op("Shape", "input_ids"), g.constant("axis_1", _int64(1)))
    used = g.op(
        "Slice", table, g.constant("zero_1d", _int64(0)), length, g.constant("axes_0", _int64(0))
    )
    return g.layer_norm(g.op("Add", words, used), w, "embeddings.LayerNorm", eps)


def _key_mask(g: _Graph) -> str:
    """The attention mask as the attention node takes it (int32: 1 a token, 0 padding)."""
    return g.op("Cast", "attention_mask", to=TensorProto.INT32)


def _gelu(g: _Graph, x: str) -> str:
    """Exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))), as BERT's "gelu".

    Written in the very form ONNX Runtime's GELU fusion matches (x divided by sqrt(2), and x
    times 0.5 times the rest), so that each layer runs one Gelu kernel (the bias before it
    folded in) rather than five nodes over the 1,536-wide activations: 151 nodes instead of
    175, about 0.1 ms less a query, the same vectors to the bit (BENCHMARKS.md "Search page
    margin, session 12"). ``x * (1 / sqrt(2))``, as before, was left unfused."""
    erf = g.op("Erf", g.op("Div", x, "sqrt2"))
    return g.op("Mul", g.op("Mul", x, "half"), g.op("Add", erf, "one"))


def _attention(g: _Graph, q: str, k: str, v: str, mask: str, heads: int) -> str:
    """Multi-head self-attention of the projected queries, keys and values, in one node:
    ONNX Runtime's ``MultiHeadAttention``, which scales by 1/sqrt(head size) and adds -10000
    to the scores of padding, as BERT does. It replaces the 13 nodes a layer of splitting
    the heads, the two products, the softmax and merging the heads again (151 nodes in all
    after ONNX Runtime's optimisations, 71 with it and ``_projections``), with the same
    vectors to the bit (BENCHMARKS.md "Search page, session 15")."""
    # No bias (the projections add theirs), then the padding mask.
    return g.op("MultiHeadAttention", q, k, v, "", mask, domain=CONTRIB, num_heads=heads)


def _projections(
    g: _Graph, w: dict[str, np.ndarray[Any, Any]], x: str, prefix: str, hidden: int
) -> tuple[str, str, str]:
    """The queries, keys and values of ``x``: one product with the three weight matrices
    side by side, then split. Each column is quantised on its own (per channel), so the
    int8 weights and the results are those of three products, to the bit; one product reads
    the input once and runs one kernel instead of three (a query embedding 5 to 10 % cheaper
    with the attention node, BENCHMARKS.md "Search page, session 15")."""
    self_attention = f"{prefix}.attention.self"
    packed = {
        f"{self_attention}.qkv.{part}": np.concatenate(
            [w[f"{self_attention}.{name}.{part}"] for name in ATTENTION_INPUTS]
        )
        for part in ("weight", "bias")
    }
    both = g.linear(x, packed, f"{self_attention}.qkv")
    sizes = g.constant(f"{self_attention}.sizes", _int64(hidden, hidden, hidden))
    query, key, value = g.split(both, sizes, ATTENTION_INPUTS)
    return query, key, value


def _encoder_layer(
    g: _Graph, w: dict[str, np.ndarray[Any, Any]], x: str, mask: str, n: int, config: BertConfig
) -> str:
    prefix = f"encoder.layer.{n}"
    q, k, v = _projections(g, w, x, prefix, config.hidden_size)
    context = _attention(g, q, k, v, mask, config.num_attention_heads)
    attended = g.linear(context, w, f"{prefix}.attention.output.dense")
    eps = config.layer_norm_eps
    x = g.layer_norm(g.op("Add", attended, x), w, f"{prefix}.attention.output.LayerNorm", eps)
    gelu = _gelu(g, g.linear(x, w, f"{prefix}.intermediate.dense"))
    out = g.linear(gelu, w, f"{prefix}.output.dense")
    return g.layer_norm(g.op("Add", out, x), w, f"{prefix}.output.LayerNorm", eps)


def _pool_and_normalise(g: _Graph, x: str) -> str:
    """Mean over real tokens, then divide by the L2 norm (sentence-transformers' Normalize)."""
    mask = g.op(
        "Unsqueeze",
        g.op("Cast", "attention_mask", to=TensorProto.FLOAT),
        g.constant("axes_2", _int64(2)),
    )
    summed = g.op("ReduceSum", g.op("Mul", x, mask), "axes_1", keepdims=0)
    counts = g.op("ReduceSum", mask, "axes_1", keepdims=0)
    mean = g.op(
        "Div",
        summed,
        g.op("Max", counts, g.constant("min_count", np.array(1e-9, dtype=np.float32))),
    )
    # In opset 17 ReduceL2 still takes its axes as an attribute (ReduceSum as an input).
    norm = g.op("ReduceL2", mean, axes=[-1], keepdims=1)
    normalised = g.op(
        "Div", mean, g.op("Max", norm, g.constant("min_norm", np.array(1e-12, dtype=np.float32)))
    )
    g.nodes.append(helper.make_node("Identity", [normalised], [OUTPUT]))
    return OUTPUT


def build_graph(weights: dict[str, np.ndarray[Any, Any]], config: BertConfig) -> onnx.ModelProto:
    """The ONNX model of the sentence encoder with ``weights`` (as in ``model.safetensors``)."""
    g = _Graph()
    g.constant("axes_1", _int64(1))
    for name, value in (("one", 1.0), ("half", 0.5), ("sqrt2", math.sqrt(2))):
        g.constant(name, np.array(value, dtype=np.float32))
    x = _embeddings(g, weights, config.layer_norm_eps)
    mask = _key_mask(g)
    for n in range(config.num_hidden_layers):
        x = _encoder_layer(g, weights, x, mask, n, config)
    _pool_and_normalise(g, x)
    tokens = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
        for name in INPUTS
    ]
    output = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", config.hidden_size])
    graph = helper.make_graph(g.nodes, "sentence_encoder", tokens, [output], g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(CONTRIB, 1)],
        producer_name="dailypapers",
    )
    onnx.checker.check_model(model)
    return model


class _DropHint(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def export(model_dir: Path, target: Path, *, quantize: bool) -> Path:
    """Write ``target`` (an ``.onnx`` file) from the BERT model in ``model_dir``."""
    config = BertConfig.read(model_dir / "config.json")
    weights = load_file(str(model_dir / "model.safetensors"))
    model = build_graph(weights, config)
    if not quantize:
        onnx.save_model(model, str(target))
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    plain = target.with_name(target.stem + "-f32.onnx")
    onnx.save_model(model, str(plain))
    # ONNX Runtime logs advice to pre-process on the root logger at every build; it is for
    # static quantisation of vision models and says nothing useful here.
    hint = _DropHint("pre-processing before quantization")
    logging.getLogger().addFilter(hint)
    # Per-channel int8 weights keep the cosine to the float model at about 0.99 (per-tensor:
    # 0.94). Only MatMul is quantised: the word-embedding table is a lookup, int8 would make
    # the file smaller but no faster.
    try:
        quantize_dynamic(
            plain,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            # ONNX's shape inference knows no type for the attention node's output (an ONNX
            # Runtime operator), which the next MatMul reads: it is float.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        logging.getLogger().removeFilter(hint)
        plain.unlink()
    return target
