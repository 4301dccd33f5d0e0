"""create_graph=True: the double backward of every op that has a backward, checked by
gradgradcheck (float64 finite differences of the recorded first derivatives) and against
torch (first and second derivatives, float32 and float64); a coverage test holds the table to
every Function minigrad defines."""

import numpy as np
import pytest
import torch

import minigrad as mg
from double_backward_layers import LAYER_ABSTRACT, LAYER_CASES
from helpers import DTYPES, positive_array, random_array
from minigrad.autograd import gradgradcheck
from minigrad.autograd.function import ArrayFunction, Function
from minigrad.testing import assert_close_to_torch


def _f(module):
    return mg.nn.functional if module is mg else torch.nn.functional


def _idx(module, values):
    return module.tensor(np.asarray(values, dtype=np.int64))


def _sq(x):
    return x * x


def _like(module, x, values):
    """A constant tensor of ``values`` with x's dtype."""
    return module.tensor(np.asarray(values, dtype=x.detach().numpy().dtype))


# name: (f(module, *tensors), inputs(dtype)); inputs away from kinks and ties
CASES = {
    "add": (
        lambda m, a, b: a + b,
        lambda d: [random_array((2, 3), d), random_array((3,), d, seed=1)],
    ),
    "add number": (lambda m, a: _sq(a + 2), lambda d: [random_array((3,), d)]),
    "sub": (
        lambda m, a, b: _sq(a - b),
        lambda d: [random_array((2, 3), d), random_array((2, 1), d, seed=1)],
    ),
    "rsub": (lambda m, a: _sq(1 - a), lambda d: [random_array((3,), d)]),
    "add alpha": (
        lambda m, a, b: _sq(m.add(a, b, alpha=2.5)),
        lambda d: [random_array((2, 3), d), random_array((3,), d, seed=1)],
    ),
    "sub alpha": (
        lambda m, a, b: _sq(m.sub(a, b, alpha=-1.5)),
        lambda d: [random_array((2, 3), d), random_array((2, 1), d, seed=1)],
    ),
    "mul": (
        lambda m, a, b: a * b,
        lambda d: [random_array((2, 3), d), random_array((3,), d, seed=1)],
    ),
    "div": (
        lambda m, a, b: a / b,
        lambda d: [random_array((2, 3), d), positive_array((3,), d, seed=1)],
    ),
    "rdiv": (lambda m, a: 2 / a, lambda d: [positive_array((3,), d)]),
    "pow number": (lambda m, a: a**3, lambda d: [random_array((4,), d)]),
    "pow tensor": (
        lambda m, a, b: a**b,
        lambda d: [positive_array((4,), d), random_array((4,), d, seed=1)],
    ),
    "rpow": (lambda m, a: 2**a, lambda d: [random_array((4,), d)]),
    "maximum": (
        lambda m, a, b: _sq(m.maximum(a, b)),
        lambda d: [random_array((5,), d), random_array((5,), d, seed=1)],
    ),
    "minimum": (
        lambda m, a, b: _sq(m.minimum(a, b)),
        lambda d: [random_array((5,), d), random_array((5,), d, seed=1)],
    ),
    "neg": (lambda m, a: _sq(-a), lambda d: [random_array((3,), d)]),
    "abs": (lambda m, a: _sq(a.abs()), lambda d: [random_array((4,), d, away_from=0.0)]),
    "exp": (lambda m, a: a.exp(), lambda d: [random_array((4,), d)]),
    "log": (lambda m, a: a.log(), lambda d: [positive_array((4,), d)]),
    "sqrt": (lambda m, a: a.sqrt(), lambda d: [positive_array((4,), d)]),
    "sin": (lambda m, a: a.sin(), lambda d: [random_array((4,), d)]),
    "cos": (lambda m, a: a.cos(), lambda d: [random_array((4,), d)]),
    "erf": (lambda m, a: m.erf(a), lambda d: [random_array((4,), d)]),
    "relu": (lambda m, a: _sq(a.relu()), lambda d: [random_array((5,), d, away_from=0.0)]),
    "sigmoid": (lambda m, a: a.sigmoid(), lambda d: [random_array((4,), d)]),
    "tanh": (lambda m, a: a.tanh(), lambda d: [random_array((4,), d)]),
    "sign": (lambda m, a: a.sign() * a * a, lambda d: [random_array((4,), d, away_from=0.0)]),
    "clamp": (lambda m, a: _sq(a.clamp(-0.5, 0.7)), lambda d: [random_array((6,), d)]),
    "clamp tensor bounds": (
        lambda m, a, lo, hi: _sq(a.clamp(lo, hi)),
        lambda d: [
            random_array((6,), d),
            random_array((6,), d, -2, -0.2, seed=1),
            random_array((6,), d, 0.2, 2, seed=2),
        ],
    ),
    "where": (
        lambda m, a, b: _sq(m.where(a > 0, a, b)),
        lambda d: [random_array((5,), d, away_from=0.0), random_array((5,), d, seed=1)],
    ),
    "cast": (
        lambda m, a: _sq(a.to(m.float32 if a.dtype == m.float64 else m.float64)).sum(),
        lambda d: [random_array((3,), d)],
        {"eps": 1e-2, "atol": 1e-4},
    ),
    "clone": (lambda m, a: _sq(a.clone()), lambda d: [random_array((3,), d)]),
    "softmax": (lambda m, a: a.softmax(-1), lambda d: [random_array((2, 4), d)]),
    "log_softmax": (lambda m, a: a.log_softmax(0), lambda d: [random_array((3, 2), d)]),
    "remainder": (
        lambda m, a, b: _sq(a % b),
        lambda d: [random_array((4,), d, 1, 9), random_array((4,), d, 1.3, 3, seed=1)],
    ),
    "fmod": (
        lambda m, a, b: _sq(a.fmod(b)),
        lambda d: [random_array((4,), d, -9, -1), random_array((4,), d, 1.3, 3, seed=1)],
    ),
    "div floor": (
        lambda m, a, b: m.div(a, b, rounding_mode="floor") * a * b,
        lambda d: [random_array((4,), d, 1, 9), random_array((4,), d, 1.3, 3, seed=1)],
    ),
    "fill_": (lambda m, a: _sq((a * 1).fill_(1.5) * a), lambda d: [random_array((3,), d)]),
    "fill_ tensor": (
        lambda m, a, v: _sq((a * 1).fill_(v) * a),
        lambda d: [random_array((3,), d), np.asarray(1.5, d)],
    ),
    "zero_": (lambda m, a: (a * 1).zero_() + _sq(a), lambda d: [random_array((3,), d)]),
    "copy_": (
        lambda m, a, b: _sq((a * 1).copy_(b) * a),
        lambda d: [random_array((2, 3), d), random_array((3,), d, seed=1)],
    ),
    "tan": (lambda m, a: a.tan(), lambda d: [random_array((4,), d, -1, 1)]),
    "asin": (lambda m, a: a.asin(), lambda d: [random_array((4,), d, -0.8, 0.8)]),
    "acos": (lambda m, a: a.acos(), lambda d: [random_array((4,), d, -0.8, 0.8)]),
    "atan": (lambda m, a: a.atan(), lambda d: [random_array((4,), d)]),
    "sinh": (lambda m, a: a.sinh(), lambda d: [random_array((4,), d)]),
    "cosh": (lambda m, a: a.cosh(), lambda d: [random_array((4,), d)]),
    "asinh": (lambda m, a: a.asinh(), lambda d: [random_array((4,), d)]),
    "acosh": (lambda m, a: a.acosh(), lambda d: [random_array((4,), d, 1.2, 3)]),
    "atanh": (lambda m, a: a.atanh(), lambda d: [random_array((4,), d, -0.8, 0.8)]),
    "atan2": (
        lambda m, a, b: m.atan2(a, b),
        lambda d: [random_array((4,), d), random_array((4,), d, seed=1, away_from=0.0)],
    ),
    "exp2": (lambda m, a: a.exp2(), lambda d: [random_array((4,), d)]),
    "expm1": (lambda m, a: a.expm1(), lambda d: [random_array((4,), d)]),
    "log2": (lambda m, a: a.log2(), lambda d: [positive_array((4,), d)]),
    "log10": (lambda m, a: a.log10(), lambda d: [positive_array((4,), d)]),
    "log1p": (lambda m, a: a.log1p(), lambda d: [positive_array((4,), d)]),
    "rsqrt": (lambda m, a: a.rsqrt(), lambda d: [positive_array((4,), d)]),
    "square": (lambda m, a: a.square() * a, lambda d: [random_array((4,), d)]),
    "reciprocal": (lambda m, a: a.reciprocal(), lambda d: [positive_array((4,), d)]),
    "floor ceil round trunc": (
        lambda m, a: (a.floor() + a.ceil() + a.round() + a.trunc()) * _sq(a),
        lambda d: [random_array((4,), d, 0.1, 0.4)],
    ),
    "frac": (lambda m, a: _sq(a.frac()), lambda d: [random_array((4,), d, 0.1, 0.9)]),
    "nan_to_num": (lambda m, a: _sq(a.nan_to_num()), lambda d: [random_array((4,), d)]),
    "masked_fill": (
        lambda m, a: _sq(a.masked_fill(a > 0, 2.0)),
        lambda d: [random_array((5,), d, away_from=0.0)],
    ),
    "masked_fill tensor": (
        lambda m, a, v: _sq(a.masked_fill(a > 0, v) * v),
        lambda d: [random_array((5,), d, away_from=0.0), np.asarray(0.5, d)],
    ),
    "cumsum": (lambda m, a: _sq(a.cumsum(1)), lambda d: [random_array((2, 4), d)]),
    "cumprod": (lambda m, a: a.cumprod(0), lambda d: [random_array((4, 2), d, 0.5, 1.5)]),
    "cumprod with zeros": (
        lambda m, a: a.cumprod(1),
        lambda d: [np.array([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 0.0]], d)],
    ),
    "cummax": (lambda m, a: _sq(a.cummax(1)[0]), lambda d: [random_array((2, 5), d)]),
    "cummin": (lambda m, a: _sq(m.cummin(a, 0)[0]), lambda d: [random_array((4, 2), d)]),
    "sort": (
        lambda m, a: _sq(a.sort(1, descending=True)[0]) * m.arange(4.0, dtype=a.dtype),
        lambda d: [random_array((2, 4), d)],
    ),
    "topk": (lambda m, a: _sq(a.topk(2, 0)[0]), lambda d: [random_array((4, 3), d)]),
    "scatter": (
        lambda m, a, b: _sq(a.scatter(1, _idx(m, [[2], [0]]), b)),
        lambda d: [random_array((2, 3), d), random_array((2, 1), d, seed=1)],
    ),
    "scatter value": (
        lambda m, a: _sq(a.scatter(0, _idx(m, [[1, 0, 1]]), 1.5)),
        lambda d: [random_array((2, 3), d)],
    ),
    "scatter_add": (
        lambda m, a, b: _sq(a.scatter_add(1, _idx(m, [[2, 2], [0, 1]]), b)),
        lambda d: [random_array((2, 3), d), random_array((2, 2), d, seed=1)],
    ),
    "index_select": (
        lambda m, a: _sq(a.index_select(1, _idx(m, [2, 0, 2]))),
        lambda d: [random_array((2, 3), d)],
    ),
    "repeat": (lambda m, a: _sq(a.repeat(2, 1, 3)), lambda d: [random_array((2, 2), d)]),
    "split": (
        lambda m, a: _sq(a.split(2)[1]) + _sq(a.split(2)[0]).sum(),
        lambda d: [random_array((5,), d)],
    ),
    "split sizes": (lambda m, a: _sq(a.split([1, 3], 1)[1]), lambda d: [random_array((2, 4), d)]),
    "unbind": (lambda m, a: _sq(a.unbind(1)[2]), lambda d: [random_array((2, 3), d)]),
    "flip": (
        lambda m, a: _sq(a.flip(0)) * m.arange(3.0, dtype=a.dtype),
        lambda d: [random_array((3,), d)],
    ),
    "roll": (
        lambda m, a: _sq(a.roll(1, 0)) * m.arange(3.0, dtype=a.dtype)[:, None],
        lambda d: [random_array((3, 2), d)],
    ),
    "roll flat": (
        lambda m, a: _sq(a.roll(2)) * m.arange(6.0, dtype=a.dtype).reshape(3, 2),
        lambda d: [random_array((3, 2), d)],
    ),
    "einsum": (
        lambda m, a, b: _sq(m.einsum("bij,jk->bik", a, b)),
        lambda d: [random_array((2, 2, 3), d), random_array((3, 2), d, seed=1)],
    ),
    "einsum diagonal": (
        lambda m, a: _sq(m.einsum("iij->j", a)),
        lambda d: [random_array((2, 2, 3), d)],
    ),
    "sum": (lambda m, a: _sq(a).sum(), lambda d: [random_array((2, 3), d)]),
    "sum dim": (lambda m, a: _sq(a.sum(1)), lambda d: [random_array((2, 3), d)]),
    "mean": (lambda m, a: _sq(a.mean()), lambda d: [random_array((2, 3), d)]),
    "mean dim": (lambda m, a: _sq(a.mean(0, keepdim=True)), lambda d: [random_array((2, 3), d)]),
    "var": (lambda m, a: a.var(1), lambda d: [random_array((2, 4), d)]),
    "std": (lambda m, a: a.std(), lambda d: [random_array((2, 4), d)]),
    "max dim": (lambda m, a: _sq(a.max(1)[0]), lambda d: [random_array((3, 4), d)]),
    "min dim": (lambda m, a: _sq(a.min(0, keepdim=True)[0]), lambda d: [random_array((3, 4), d)]),
    "max": (lambda m, a: _sq(a.max()), lambda d: [random_array((3, 4), d)]),
    "min": (lambda m, a: _sq(a.min()), lambda d: [random_array((3, 4), d)]),
    "amax": (lambda m, a: _sq(a.amax(1)), lambda d: [random_array((3, 4), d)]),
    "amin": (lambda m, a: _sq(a.amin(0)), lambda d: [random_array((3, 4), d)]),
    "view": (lambda m, a: _sq(a.view(6)), lambda d: [random_array((2, 3), d)]),
    "squeeze": (lambda m, a: _sq(a.squeeze()), lambda d: [random_array((2, 1, 3), d)]),
    "squeeze dim": (lambda m, a: _sq(a.squeeze(1)), lambda d: [random_array((2, 1, 3), d)]),
    "squeeze dims": (
        lambda m, a: _sq(a.squeeze((1, 3))),
        lambda d: [random_array((2, 1, 3, 1), d)],
    ),
    "unsqueeze": (lambda m, a: _sq(a.unsqueeze(0)), lambda d: [random_array((2, 3), d)]),
    "permute": (lambda m, a: _sq(a.permute(2, 0, 1)), lambda d: [random_array((2, 3, 2), d)]),
    "transpose": (lambda m, a: _sq(a.transpose(0, 1)), lambda d: [random_array((2, 3), d)]),
    "t": (lambda m, a: _sq(a.t()), lambda d: [random_array((2, 3), d)]),
    "expand": (lambda m, a: _sq(a.expand(3, 2)), lambda d: [random_array((1, 2), d)]),
    "select": (lambda m, a: _sq(a[1]), lambda d: [random_array((3, 2), d)]),
    "slice": (lambda m, a: _sq(a[1:, ::2]), lambda d: [random_array((3, 4), d)]),
    "index None": (lambda m, a: _sq(a[None]), lambda d: [random_array((3,), d)]),
    "index ellipsis": (lambda m, a: _sq(a[...]), lambda d: [random_array((3,), d)]),
    "advanced index": (
        lambda m, a: _sq(a[_idx(m, [0, 2, 0])]),
        lambda d: [random_array((3, 2), d)],
    ),
    "mixed index": (
        lambda m, a: _sq(a[0, :, _idx(m, [1, 0])]),
        lambda d: [random_array((2, 3, 2), d)],
    ),
    "setitem": (
        lambda m, a, b: _sq(_setitem(a * 1, (slice(0, 2),), b)),
        lambda d: [random_array((3, 2), d), random_array((2,), d, seed=1)],
    ),
    "setitem advanced": (
        lambda m, a, b: _sq(_setitem(a * 1, _idx(m, [2, 0]), b)),
        lambda d: [random_array((3, 2), d), random_array((2, 2), d, seed=1)],
    ),
    "gather": (
        lambda m, a: _sq(a.gather(1, _idx(m, [[0, 0], [2, 1]]))),
        lambda d: [random_array((2, 3), d)],
    ),
    "cat": (
        lambda m, a, b: _sq(m.cat([a, b], 1)),
        lambda d: [random_array((2, 3), d), random_array((2, 1), d, seed=1)],
    ),
    "stack": (
        lambda m, a, b: _sq(m.stack([a, b], 1)),
        lambda d: [random_array((2, 3), d), random_array((2, 3), d, seed=1)],
    ),
    "matmul": (
        lambda m, a, b: _sq(a @ b),
        lambda d: [random_array((2, 3), d), random_array((3, 2), d, seed=1)],
    ),
    "mv": (
        lambda m, a, b: _sq(a @ b),
        lambda d: [random_array((2, 3), d), random_array((3,), d, seed=1)],
    ),
    "dot": (
        lambda m, a, b: _sq(a @ b),
        lambda d: [random_array((3,), d), random_array((3,), d, seed=1)],
    ),
    "vector matrix": (
        lambda m, a, b: _sq(a @ b),
        lambda d: [random_array((3,), d), random_array((3, 2), d, seed=1)],
    ),
    "batched matmul": (
        lambda m, a, b: _sq(a @ b),
        lambda d: [random_array((2, 2, 3), d), random_array((3, 2), d, seed=1)],
    ),
    "bmm": (
        lambda m, a, b: _sq(m.bmm(a, b)),
        lambda d: [random_array((2, 2, 3), d), random_array((2, 3, 2), d, seed=1)],
    ),
    "linear": (
        lambda m, x, w, b: _sq(_f(m).linear(x, w, b)),
        lambda d: [
            random_array((2, 3), d),
            random_array((4, 3), d, seed=1),
            random_array((4,), d, seed=2),
        ],
    ),
    "linear no bias": (
        lambda m, x, w: _sq(_f(m).linear(x, w)),
        lambda d: [random_array((2, 3), d), random_array((4, 3), d, seed=1)],
    ),
    "linear 1-d": (
        lambda m, x, w, b: _sq(_f(m).linear(x, w, b)),
        lambda d: [
            random_array((3,), d),
            random_array((4, 3), d, seed=1),
            random_array((4,), d, seed=2),
        ],
    ),
    "linear 1-d no bias": (
        lambda m, x, w: _sq(_f(m).linear(x, w)),
        lambda d: [random_array((3,), d), random_array((4, 3), d, seed=1)],
    ),
    "linear 3-d no bias": (
        lambda m, x, w: _sq(_f(m).linear(x, w)),
        lambda d: [random_array((2, 1, 3), d), random_array((2, 3), d, seed=1)],
    ),
    "leaky_relu": (
        lambda m, a: _sq(_f(m).leaky_relu(a, 0.2)),
        lambda d: [random_array((5,), d, away_from=0.0)],
    ),
    "gelu": (lambda m, a: _f(m).gelu(a), lambda d: [random_array((5,), d)]),
    "gelu tanh": (
        lambda m, a: _f(m).gelu(a, approximate="tanh"),
        lambda d: [random_array((5,), d)],
    ),
    "batch_norm train": (
        lambda m, x, w, b: _f(m).batch_norm(x, None, None, w, b, True),
        lambda d: [
            random_array((4, 2, 3), d),
            random_array((2,), d, seed=1),
            random_array((2,), d, seed=2),
        ],
    ),
    "batch_norm eval": (
        lambda m, x, w, b: _f(m).batch_norm(
            x, _like(m, x, [0.1, -0.2]), _like(m, x, [1.5, 0.5]), w, b, False
        ),
        lambda d: [
            random_array((4, 2), d),
            random_array((2,), d, seed=1),
            random_array((2,), d, seed=2),
        ],
    ),
    "dropout": (
        lambda m, a: _sq(_f(m).dropout(a, 1.0)) + _sq(a),
        lambda d: [random_array((4,), d)],
    ),
    "conv2d": (
        lambda m, x, w, b: _sq(_f(m).conv2d(x, w, b, padding=1)),
        lambda d: [
            random_array((1, 2, 4, 4), d),
            random_array((3, 2, 3, 3), d, seed=1),
            random_array((3,), d, seed=2),
        ],
    ),
    "conv2d strided unbatched": (
        lambda m, x, w: _sq(_f(m).conv2d(x, w, stride=2, dilation=1, groups=2)),
        lambda d: [random_array((2, 5, 5), d), random_array((2, 1, 2, 2), d, seed=1)],
    ),
    "max_pool2d": (
        lambda m, x: _sq(_f(m).max_pool2d(x, 2)),
        lambda d: [random_array((1, 2, 4, 4), d)],
    ),
    "max_pool2d with indices": (
        lambda m, x: _sq(_f(m).max_pool2d(x, 3, 2, 1, return_indices=True)[0]),
        lambda d: [random_array((2, 5, 5), d)],
    ),
    "avg_pool2d": (
        lambda m, x: _sq(_f(m).avg_pool2d(x, 3, 2, 1)),
        lambda d: [random_array((1, 1, 5, 5), d)],
    ),
    "adaptive_avg_pool2d": (
        lambda m, x: _sq(_f(m).adaptive_avg_pool2d(x, (2, 3))),
        lambda d: [random_array((2, 5, 4), d)],
    ),
    "cross_entropy": (
        lambda m, x: _f(m).cross_entropy(x, _idx(m, [2, 0, 1])),
        lambda d: [random_array((3, 4), d)],
    ),
    "cross_entropy smoothed weighted": (
        lambda m, x: _f(m).cross_entropy(
            x,
            _idx(m, [[2, -100], [0, 1]]),
            weight=_like(m, x, [0.5, 2.0, 1.5]),
            label_smoothing=0.2,
            reduction="sum",
        ),
        lambda d: [random_array((2, 3, 2), d)],
    ),
    "cross_entropy probabilities": (
        lambda m, x, q, w: _f(m).cross_entropy(x, q, weight=w, label_smoothing=0.1),
        lambda d: [
            random_array((2, 3), d),
            positive_array((2, 3), d, seed=1),
            positive_array((3,), d, seed=2),
        ],
    ),
    "nll_loss": (
        lambda m, x: _sq(_f(m).nll_loss(x, _idx(m, [1, 0]), reduction="none")),
        lambda d: [random_array((2, 3), d)],
    ),
    "nll_loss mean": (
        lambda m, x: _sq(_f(m).nll_loss(x, _idx(m, [1, 0]))),
        lambda d: [random_array((2, 3), d)],
    ),
    "mse_loss": (
        lambda m, x, y: _f(m).mse_loss(x, y),
        lambda d: [random_array((2, 3), d), random_array((2, 3), d, seed=1)],
    ),
    "mse_loss weighted": (
        lambda m, x, y, w: _f(m).mse_loss(x, y, weight=w),
        lambda d: [
            random_array((4,), d),
            random_array((4,), d, seed=1),
            positive_array((4,), d, seed=2),
        ],
    ),
    "l1_loss": (
        lambda m, x, y: _sq(_f(m).l1_loss(x, y, reduction="sum")),
        lambda d: [random_array((4,), d), random_array((4,), d, seed=1)],
    ),
    "binary_cross_entropy": (
        lambda m, x, y: _f(m).binary_cross_entropy(x, y, weight=_like(m, x, [0.5, 2.0, 1.0])),
        lambda d: [random_array((2, 3), d, 0.1, 0.9), random_array((2, 3), d, 0.0, 1.0, seed=1)],
    ),
    "smooth_l1_loss": (
        lambda m, x, y: _sq(_f(m).smooth_l1_loss(x, y, beta=0.8, reduction="none")).sum(),
        lambda d: [np.asarray([-1.5, -0.3, 0.1, 0.5, 2.0], d), random_array((5,), d, seed=1) / 9],
    ),
    "huber_loss": (
        lambda m, x, y: _f(m).huber_loss(x, y, delta=0.7, reduction="sum") ** 2,
        lambda d: [np.asarray([-1.5, -0.3, 0.1, 0.5, 2.0], d), random_array((5,), d, seed=1) / 9],
    ),
    "huber_loss weighted": (
        lambda m, x, y, w: _f(m).huber_loss(x, y, delta=0.7, weight=w) ** 2,
        lambda d: [np.asarray([-1.5, -0.3, 0.1, 0.5], d), random_array((4,), d, seed=1) / 9,
                   positive_array((4,), d, seed=2)],
    ),
    "kl_div": (
        lambda m, x, t: _f(m).kl_div(x, t, reduction="batchmean"),
        lambda d: [random_array((2, 3), d), positive_array((2, 3), d, seed=1) / 2],
    ),
    "kl_div log_target": (
        lambda m, x, t: _sq(_f(m).kl_div(x, t, reduction="sum", log_target=True)),
        lambda d: [random_array((2, 3), d), random_array((2, 3), d, seed=1)],
    ),
    "cosine_embedding_loss": (
        lambda m, a, b: _f(m).cosine_embedding_loss(a, b, _like(m, a, [1.0, -1.0, -1.0]),
                                                     margin=-0.5),
        lambda d: [random_array((3, 4), d), random_array((3, 4), d, seed=1)],
    ),
    "margin_ranking_loss": (
        lambda m, a, b, t: _sq(_f(m).margin_ranking_loss(a, b, t, margin=0.1, reduction="none")),
        lambda d: [np.asarray([0.5, -1.0, 2.0, 0.3], d), np.asarray([1.5, 0.2, -0.5, 0.9], d),
                   np.asarray([-1.0, 0.5, -2.0, -1.5], d)],
    ),
    "bce_with_logits": (
        lambda m, x, y: _f(m).binary_cross_entropy_with_logits(x, y),
        lambda d: [random_array((4,), d), positive_array((4,), d, seed=1) / 2],
    ),
    "bce_with_logits weighted": (
        lambda m, x, y: _f(m).binary_cross_entropy_with_logits(
            x,
            y,
            weight=_like(m, x, [0.5, 2.0, 1.0, 1.5]),
            pos_weight=_like(m, x, [2.0, 1.0, 0.5, 3.0]),
            reduction="sum",
        ),
        lambda d: [random_array((4,), d), positive_array((4,), d, seed=1) / 2],
    ),
}


CASES.update(LAYER_CASES)


def _setitem(target, index, value):
    target[index] = value
    return target


@pytest.mark.parametrize("name", list(CASES))
def test_gradgradcheck(name):
    fn, make, *options = CASES[name]
    options = {"atol": 1e-5, "rtol": 1e-4, **(options[0] if options else {})}
    inputs = [mg.tensor(a, requires_grad=True) for a in make(np.float64)]
    assert gradgradcheck(lambda *ts: fn(mg, *ts), inputs, **options)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_second_derivatives_match_torch(name, dtype):
    fn, make, *options = CASES[name]
    tolerance = {} if dtype == np.float64 and not options else {"rtol": 2e-4, "atol": 2e-5}
    assert_close_to_torch(
        lambda *ts: fn(mg, *ts),
        lambda *ts: fn(torch, *ts),
        make(dtype),
        second_order=True,
        **tolerance,
    )


def _functions_in(tensors):
    """The Function classes of every node behind ``tensors``."""
    seen, stack, found = set(), [t.grad_fn for t in tensors if t.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "function"):
            continue
        seen.add(id(node))
        found.add(node.function)
        stack.extend(fn for fn, _ in node.next_functions)
    return found


def _concrete_functions():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    abstract = {
        "AmaxAmin",
        "MaxMinAlongDim",
        "_PointwiseLoss",
        "_QuadraticThenLinear",
        "Index",
        "Linear",
        "Alias",
        "Unary",
        "Rounding",
        "CumulativeExtreme",
        "ScatterReduce",  # no derivative, as torch's scatter(reduce=)
    } | LAYER_ABSTRACT
    return {
        cls
        for cls in subclasses(ArrayFunction)
        if not issubclass(cls, Function)
        and cls.__name__ not in abstract
        and cls.__module__.startswith("minigrad.ops")
    }


def test_the_table_covers_every_function_and_its_backward():
    """Every Function minigrad defines appears in a case's graph or in the recorded graph of
    its first derivatives (the kernels' backward Functions)."""
    found = set()
    for fn, make, *_ in CASES.values():
        inputs = [mg.tensor(a, requires_grad=True) for a in make(np.float64)]
        out = fn(mg, *inputs)
        found |= _functions_in([out])
        grads = mg.autograd.grad(out.sum(), inputs, create_graph=True, allow_unused=True)
        found |= _functions_in([g for g in grads if g is not None])
    missing = sorted(cls.__name__ for cls in _concrete_functions() - found)
    assert not missing, f"no double-backward case reaches {missing}"
