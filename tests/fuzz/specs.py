"""What a fuzz call is made of: plain, picklable descriptions of its tensors, turned into the
same values in minigrad and in torch.

A ``TensorSpec`` names a shape, a dtype, a kind of values and a seed; ``build`` makes its numpy
array (the same bits every time), and ``materialize`` replaces every spec inside a call's
arguments by a tensor of the given framework (a leaf that requires grad when asked, presented
contiguous, transposed or strided). Hypothesis draws the specs (structure, kinds, seeds);
numpy draws the values from the seed, so a case is small to send and exact to replay.
"""
from dataclasses import dataclass

import numpy as np

FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8")

# Per float dtype: values that stress an op without making float32 sums overflow (1e30 * a
# few hundred terms stays finite), so a NaN or Inf in minigrad's result where torch has a
# finite one is a finding, not rounding.
HUGE = {"float32": 1e30, "float64": 1e300}
TINY = {"float32": 1e-40, "float64": 1e-310}   # subnormals


@dataclass(frozen=True)
class TensorSpec:
    """A tensor argument: its values come from ``kind`` and ``seed``.

    kind: 'normal' N(0, 1); 'positive' U(0.1, 3); 'ties' from {-1, 0, 1}; 'special' normal
    values with NaN, +-inf, +-0, +-huge and subnormals mixed in; 'huge' +-1e30 (1e300 for
    float64) times N(0, 1); 'tiny' subnormals; 'zeros'; 'distinct' a permutation (no ties);
    'index:N' integers in [0, N) (class targets, indices); 'index:N:ignore' the same with
    some -100; 'probs' rows that sum to 1 along axis 1; for integers 'small' in [-3, 3] and
    'extreme' the dtype's extremes mixed in.
    layout: 'contiguous', 'transposed' (a leaf of the reversed shape, permuted) or 'strided'
    (every other element of a leaf twice as wide in the last dimension).
    """

    shape: tuple
    dtype: str = "float32"
    kind: str = "normal"
    seed: int = 0
    requires_grad: bool = False
    layout: str = "contiguous"

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v, default in (
            ("requires_grad", self.requires_grad, False), ("layout", self.layout, "contiguous"))
            if v != default)
        return (f"T({self.shape}, {self.dtype!r}, {self.kind!r}, seed={self.seed}{extra})")


T = TensorSpec


def build(spec: TensorSpec) -> np.ndarray:
    """The C-contiguous numpy array of the spec's values, in its shape."""
    rng = np.random.default_rng(spec.seed)
    shape, dtype, kind = tuple(spec.shape), np.dtype(spec.dtype), spec.kind
    size = int(np.prod(shape, dtype=np.int64))
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if kind.startswith("index:"):
        parts = kind.split(":")
        high = max(int(parts[1]), 1)
        values = rng.integers(0, high, shape)
        if len(parts) > 2:
            values = np.where(rng.random(shape) < 0.3, -100, values)
        return values.astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if kind == "extreme":
            pool = np.array([info.min, info.min + 1, -1, 0, 1, info.max - 1, info.max])
            return rng.choice(pool[(pool >= info.min) & (pool <= info.max)], shape).astype(dtype)
        low = max(info.min, -3)
        return rng.integers(low, 4, shape).astype(dtype)
    huge, tiny = HUGE.get(spec.dtype, 1e4), TINY.get(spec.dtype, 1e-7)
    if kind == "positive":
        values = rng.uniform(0.1, 3.0, shape)
    elif kind == "ties":
        values = rng.integers(-1, 2, shape).astype(np.float64)
    elif kind == "huge":
        values = rng.standard_normal(shape) * huge
    elif kind == "tiny":
        values = rng.standard_normal(shape) * tiny
    elif kind == "zeros":
        values = np.zeros(shape)
    elif kind == "distinct":
        values = (rng.permutation(size).reshape(shape) - size / 2) / 4
    elif kind == "probs":
        values = rng.random(shape)
        if len(shape) >= 2 and shape[1] > 0:
            values = values / values.sum(axis=1, keepdims=True)
    elif kind == "special":
        values = rng.standard_normal(shape)
        pool = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, huge, -huge, tiny, 1.0])
        mask = rng.random(shape) < 0.3
        values = np.where(mask, rng.choice(pool, shape), values)
    else:  # normal
        values = rng.standard_normal(shape)
    return np.asarray(values, dtype=dtype)


def _leaf_and_view(lib, spec: TensorSpec):
    """(the leaf tensor, the tensor the op gets) for one spec in framework ``lib``."""
    values = build(spec)
    if spec.layout == "transposed" and values.ndim >= 2:
        leaf = lib.tensor(np.ascontiguousarray(values.transpose()))
        view_of = lambda t: t.permute(*reversed(range(values.ndim)))  # noqa: E731
    elif spec.layout == "strided" and values.ndim >= 1:
        wide = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
        wide[..., ::2] = values
        leaf = lib.tensor(wide)
        view_of = lambda t: t[..., ::2]  # noqa: E731
    else:
        leaf = lib.tensor(values)
        view_of = lambda t: t  # noqa: E731
    if spec.requires_grad and values.dtype.kind == "f":
        leaf.requires_grad_(True)
    return leaf, view_of(leaf)


def materialize(lib, args, leaves: list):
    """``args`` with every TensorSpec made a ``lib`` tensor (nested in tuples, lists and
    dicts); the leaves that require grad are appended to ``leaves``, in order."""
    if isinstance(args, TensorSpec):
        leaf, view = _leaf_and_view(lib, args)
        if leaf.requires_grad:
            leaves.append(leaf)
        return view
    if isinstance(args, tuple):
        return tuple(materialize(lib, a, leaves) for a in args)
    if isinstance(args, list):
        return [materialize(lib, a, leaves) for a in args]
    if isinstance(args, dict):
        return {k: materialize(lib, v, leaves) for k, v in args.items()}
    return args
