"""Double-backward cases of the layers and functional forms of issue 13 (padding, convolution
variants, interpolation, normalisation, embedding, activations, pooling, attention): merged
into tests/test_double_backward.py's table, which runs gradgradcheck and the comparison with
torch's second derivatives on each, and holds the table to every Function minigrad defines.

name: (f(module, *tensors), inputs(dtype)[, options]); inputs away from kinks and ties."""
import numpy as np

from helpers import random_array


def _f(module):
    import minigrad as mg
    import torch
    return mg.nn.functional if module is mg else torch.nn.functional


def _sq(x):
    return x * x


def _pad_case(mode, pad, shape):
    return (lambda m, x: _sq(_f(m).pad(x, pad, mode=mode)), lambda d: [random_array(shape, d)])


LAYER_CASES = {
    "pad constant": (
        lambda m, x: _sq(_f(m).pad(x, (1, -1, 2, 0), value=0.5)),
        lambda d: [random_array((2, 3, 4), d)],
    ),
    "pad reflect 1-d": _pad_case("reflect", (2, 1), (2, 4)),
    "pad reflect 2-d": _pad_case("reflect", (1, 2, -1, 1), (1, 2, 3, 4)),
    "pad reflect 3-d": _pad_case("reflect", (1, 0, 1, 1, 0, 2), (2, 3, 2, 3)),
    "pad replicate 1-d": _pad_case("replicate", (3, -1), (1, 2, 3)),
    "pad replicate 2-d": _pad_case("replicate", (1, 2, 2, 1), (2, 3, 2)),
    "pad replicate 3-d": _pad_case("replicate", (1, 1, 0, 2, 1, 0), (1, 1, 2, 2, 3)),
    "pad circular": _pad_case("circular", (2, -1, 1, 1), (1, 2, 3, 4)),
    "conv1d": (
        lambda m, x, w, b: _sq(_f(m).conv1d(x, w, b, stride=2, padding=1, dilation=2)),
        lambda d: [
            random_array((2, 3, 7), d),
            random_array((4, 3, 2), d, seed=1),
            random_array((4,), d, seed=2),
        ],
    ),
    "conv1d grouped unbatched": (
        lambda m, x, w: _sq(_f(m).conv1d(x, w, padding="same", groups=2)),
        lambda d: [random_array((4, 5), d), random_array((2, 2, 3), d, seed=1)],
    ),
    "conv_transpose2d": (
        lambda m, x, w, b: _sq(
            _f(m).conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
        ),
        lambda d: [
            random_array((1, 2, 3, 3), d),
            random_array((2, 3, 3, 3), d, seed=1),
            random_array((3,), d, seed=2),
        ],
    ),
    "conv_transpose2d grouped dilated unbatched": (
        lambda m, x, w: _sq(
            _f(m).conv_transpose2d(x, w, groups=2, dilation=(2, 1), output_padding=(1, 0))
        ),
        lambda d: [random_array((4, 3, 2), d), random_array((4, 1, 2, 2), d, seed=1)],
    ),
    "conv_transpose1d": (
        lambda m, x, w, b: _sq(_f(m).conv_transpose1d(x, w, b, stride=3, padding=1)),
        lambda d: [
            random_array((2, 2, 4), d),
            random_array((2, 3, 3), d, seed=1),
            random_array((3,), d, seed=2),
        ],
    ),
    "layer_norm": (
        lambda m, x, w, b: _f(m).layer_norm(x, [2, 3], w, b),
        lambda d: [
            random_array((2, 2, 3), d),
            random_array((2, 3), d, seed=1),
            random_array((2, 3), d, seed=2),
        ],
    ),
    "layer_norm without affine": (
        lambda m, x: _sq(_f(m).layer_norm(x, [4], eps=0.1)),
        lambda d: [random_array((3, 4), d)],
    ),
    "group_norm": (
        lambda m, x, w, b: _f(m).group_norm(x, 2, w, b),
        lambda d: [
            random_array((2, 4, 3), d),
            random_array((4,), d, seed=1),
            random_array((4,), d, seed=2),
        ],
    ),
    "group_norm without affine": (
        lambda m, x: _sq(_f(m).group_norm(x, 3, eps=0.1)),
        lambda d: [random_array((2, 3, 2, 2), d)],
    ),
    "silu": (lambda m, x: _f(m).silu(x), lambda d: [random_array((5,), d, -4, 4)]),
    "mish": (lambda m, x: _f(m).mish(x), lambda d: [random_array((5,), d, -4, 4)]),
    "elu": (
        lambda m, x: _f(m).elu(x, 0.7),
        lambda d: [random_array((6,), d, away_from=0.0)],
    ),
    "elu in place": (
        lambda m, x: _sq(_f(m).elu(x * 1, 1.3, inplace=True)),
        lambda d: [random_array((6,), d, away_from=0.0)],
    ),
    "softplus": (
        lambda m, x: _f(m).softplus(x, beta=1.5, threshold=2.0),
        lambda d: [random_array((6,), d, -3, 3, away_from=4 / 3)],
    ),
    "hardtanh": (
        lambda m, x: _sq(_f(m).hardtanh(x, -0.5, 1.0)),
        lambda d: [random_array((6,), d, away_from=0.75, margin=0.3)],
    ),
    "prelu": (
        lambda m, x, w: _sq(_f(m).prelu(x, w)),
        lambda d: [random_array((2, 3, 2), d, away_from=0.0), random_array((3,), d, seed=1)],
    ),
    "prelu one weight": (
        lambda m, x, w: _sq(_f(m).prelu(x, w)),
        lambda d: [random_array((4,), d, away_from=0.0), random_array((1,), d, seed=1)],
    ),
    "max_pool1d": (
        lambda m, x: _sq(_f(m).max_pool1d(x, 3, 2, 1)),
        lambda d: [random_array((2, 3, 7), d)],
    ),
    "avg_pool1d": (
        lambda m, x: _sq(_f(m).avg_pool1d(x, 3, 2, 1, count_include_pad=False)),
        lambda d: [random_array((2, 7), d)],
    ),
    "adaptive_max_pool2d": (
        lambda m, x: _sq(_f(m).adaptive_max_pool2d(x, (2, 3))),
        lambda d: [random_array((2, 2, 5, 4), d)],
    ),
    "adaptive_max_pool2d with indices": (
        lambda m, x: _sq(_f(m).adaptive_max_pool2d(x, 3, return_indices=True)[0]),
        lambda d: [random_array((2, 4, 5), d)],
    ),
    "embedding": (  # (padding_idx and scale_grad_by_freq change the gradient on purpose)
        lambda m, w: _sq(_f(m).embedding(_idx(m, [[2, 0], [2, 3]]), w)),
        lambda d: [random_array((4, 3), d)],
    ),
    "scaled_dot_product_attention": (
        lambda m, q, k, v, b: _f(m).scaled_dot_product_attention(q, k, v, attn_mask=b),
        lambda d: [
            random_array((2, 3, 4), d),
            random_array((2, 5, 4), d, seed=1),
            random_array((2, 5, 3), d, seed=2),
            random_array((3, 5), d, seed=3),
        ],
    ),
    "scaled_dot_product_attention masked": (
        lambda m, q, k, v: _sq(_f(m).scaled_dot_product_attention(
            q, k, v, attn_mask=m.tensor(np.array([[True, False, True], [False, False, False]])),
            scale=0.7)),
        lambda d: [
            random_array((2, 3), d),
            random_array((3, 3), d, seed=1),
            random_array((3, 2), d, seed=2),
        ],
    ),
}


def _idx(module, values):
    return module.tensor(np.asarray(values, dtype=np.int64))


def _interpolate_case(mode, rank, **kwargs):
    shape = (1, 2, 3, 2, 3)[:rank]
    return (lambda m, x: _sq(_f(m).interpolate(x, mode=mode, **kwargs)),
            lambda d: [random_array(shape, d)])


for _mode, _rank, _options in [
        ("nearest", 3, dict(scale_factor=2)), ("nearest", 4, dict(size=(5, 3))),
        ("nearest", 5, dict(scale_factor=(1.5, 2.0, 0.7))), ("nearest-exact", 3, dict(size=5)),
        ("nearest-exact", 4, dict(scale_factor=1.7)), ("nearest-exact", 5, dict(size=(4, 3, 2))),
        ("linear", 3, dict(scale_factor=2.5)),
        ("bilinear", 4, dict(size=(5, 4), align_corners=True)),
        ("trilinear", 5, dict(scale_factor=(2, 1.5, 0.8))), ("bicubic", 4, dict(size=(5, 6)))]:
    LAYER_CASES[f"interpolate {_mode} {_rank}-D"] = _interpolate_case(_mode, _rank, **_options)

# base classes whose subclasses (one per torch node name) are the Functions applied
LAYER_ABSTRACT = {"Pad", "PadFold", "Upsample"}
