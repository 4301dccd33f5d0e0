"""LayerNorm, GroupNorm and BatchNorm: the fused kernels (kernels/norm.pyx) against their NumPy
twins over dtypes, odd shapes, every instruction set and 1 and 2 threads (the same bits at
any thread count); F.layer_norm / F.group_norm / F.batch_norm and the layers against torch
(values and every gradient, float32 and float64, NCHW and channels-last inputs); torch's
exception types for bad input."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from minigrad._kernels import norm as kernels
from minigrad.reference import norm as twins
from test_nn_layers import assert_same_error, check_module

TF = torch.nn.functional


@pytest.fixture(autouse=True)
def widest_isa():
    yield
    kernels.set_isa(None)


def _tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


def _run_layer_norm(module, x, weight, bias, grad, threads):
    rows, k = x.shape
    out, mean, rstd = np.empty_like(x), np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    extra = (threads,) if module is kernels else ()
    module.layer_norm_forward(x, weight, bias, 1e-5, out, mean, rstd, *extra)
    grad_x, grad_w, grad_b = np.empty_like(x), np.empty(k, x.dtype), np.empty(k, x.dtype)
    module.layer_norm_backward(grad, x, mean, rstd, weight, grad_x, grad_w, grad_b, *extra)
    return out, mean, rstd, grad_x, grad_w, grad_b


def _run_group_norm(module, x, weight, bias, groups, grad, threads):
    n, c, _ = x.shape
    out = np.empty_like(x)
    mean, rstd = np.empty((n, groups), x.dtype), np.empty((n, groups), x.dtype)
    extra = (threads,) if module is kernels else ()
    module.group_norm_forward(x, weight, bias, groups, 1e-5, out, mean, rstd, *extra)
    grad_x, grad_w, grad_b = np.empty_like(x), np.empty(c, x.dtype), np.empty(c, x.dtype)
    module.group_norm_backward(grad, x, mean, rstd, weight, groups, grad_x, grad_w, grad_b,
                               *extra)
    return out, mean, rstd, grad_x, grad_w, grad_b


@pytest.mark.parametrize("isa", kernels.supported_isas())
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_kernel_matches_twin_at_any_thread_count(isa, dtype):
    kernels.set_isa(isa)
    rng = np.random.default_rng(0)
    for rows, k in [(1, 1), (3, 7), (5, 16), (33, 95), (600, 513)]:
        x = (rng.standard_normal((rows, k)) * 3 + 1).astype(dtype)
        grad = rng.standard_normal((rows, k)).astype(dtype)
        weight, bias = rng.standard_normal(k).astype(dtype), rng.standard_normal(k).astype(dtype)
        for w, b in [(weight, bias), (None, None), (weight, None), (None, bias)]:
            one = _run_layer_norm(kernels, x, w, b, grad, 1)
            two = _run_layer_norm(kernels, x, w, b, grad, 2)
            twin = _run_layer_norm(twins, x, w, b, grad, None)
            for a, c, t in zip(one, two, twin):
                np.testing.assert_array_equal(a, c)
                np.testing.assert_allclose(a, t, **_tolerance(dtype))


@pytest.mark.parametrize("isa", kernels.supported_isas())
@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_kernel_matches_twin_at_any_thread_count(isa, dtype):
    kernels.set_isa(isa)
    rng = np.random.default_rng(1)
    for n, c, s, groups in [(1, 1, 1, 1), (2, 6, 5, 3), (3, 4, 1, 2), (2, 12, 37, 4),
                            (8, 64, 600, 8)]:  # the last one on 2 threads
        x = (rng.standard_normal((n, c, s)) * 2 - 1).astype(dtype)
        grad = rng.standard_normal((n, c, s)).astype(dtype)
        weight, bias = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
        for w, b in [(weight, bias), (None, None), (weight, None)]:
            one = _run_group_norm(kernels, x, w, b, groups, grad, 1)
            two = _run_group_norm(kernels, x, w, b, groups, grad, 2)
            twin = _run_group_norm(twins, x, w, b, groups, grad, None)
            for a, d, t in zip(one, two, twin):
                np.testing.assert_array_equal(a, d)
                np.testing.assert_allclose(a, t, **_tolerance(dtype))


def _run_batch_norm(module, x, grad, scale, shift, threads):
    channels = x.shape[1]
    extra = (threads,) if module is kernels else ()
    mean, m2 = np.empty(channels), np.empty(channels)
    module.batch_norm_statistics(x, mean, m2, *extra)
    out = np.empty_like(x)
    module.batch_norm_affine(x, scale, shift, out, *extra)
    sum_grad, sum_centred = np.empty(channels), np.empty(channels)
    module.batch_norm_gradient_sums(grad, x, mean, sum_grad, sum_centred, *extra)
    grad_x = np.empty_like(x)
    module.batch_norm_input_gradient(grad, x, mean.astype(x.dtype), scale,
                                     (sum_grad / 7).astype(x.dtype),
                                     (sum_centred / 5).astype(x.dtype), grad_x, *extra)
    return mean, m2, out, sum_grad, sum_centred, grad_x


@pytest.mark.parametrize("isa", kernels.supported_isas())
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_kernels_match_twin_at_any_thread_count(isa, dtype):
    kernels.set_isa(isa)
    rng = np.random.default_rng(5)
    # (A, C, 1): rows of channels (channels-last), bands of 16 and a partial band;
    # (A, C, B): NCHW planes; the last two large enough for 2 threads
    for shape in [(1, 1, 1), (7, 5, 1), (300, 37, 1), (3, 16, 1), (2, 5, 7), (4, 33, 65),
                  (5000, 64, 1), (8, 64, 1024)]:
        x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        scale = rng.standard_normal(shape[1]).astype(dtype)
        shift = rng.standard_normal(shape[1]).astype(dtype)
        one = _run_batch_norm(kernels, x, grad, scale, shift, 1)
        two = _run_batch_norm(kernels, x, grad, scale, shift, 2)
        twin = _run_batch_norm(twins, x, grad, scale, shift, None)
        for a, c, t in zip(one, two, twin):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_allclose(a, t, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_channels_last_and_nchw_inputs_matches_torch(dtype, training):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((3, 20, 5, 4)) * 2 + 1).astype(dtype)
    w, b = rng.standard_normal(20).astype(dtype), rng.standard_normal(20).astype(dtype)
    mean, var = rng.standard_normal(20).astype(dtype), rng.random(20).astype(dtype) + 0.5
    check(lambda x, w, b: F.batch_norm(x, mg.tensor(mean), mg.tensor(var), w, b,
                                       training=training),
          lambda x, w, b: TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b,
                                        training=training), x, w, b)
    # a convolution's output is channels-last: the kernels read it as rows of channels
    k = rng.standard_normal((20, 20, 1, 1)).astype(dtype)
    check(lambda x, k, w, b: F.batch_norm(F.conv2d(x, k), mg.tensor(mean), mg.tensor(var), w, b,
                                          training=training),
          lambda x, k, w, b: TF.batch_norm(TF.conv2d(x, k), torch.tensor(mean),
                                           torch.tensor(var), w, b, training=training),
          x, k, w, b)
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    # the output keeps the input's layout (no relayout between a convolution and its norm)
    out = F.batch_norm(mg.from_numpy(channels_last), None, None, training=True).array
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous
    out = F.batch_norm(mg.tensor(x), None, None, training=True).array
    assert out.flags.c_contiguous



@pytest.mark.parametrize("shape", [(2, 1, 2), (2, 1, 1, 2), (3, 1, 4, 2), (2, 3, 2)])
def test_batch_norm_of_permuted_inputs_with_ambiguous_layouts_matches_torch(shape):
    """A permuted input (strides neither NCHW nor channels-last) with one channel: its output
    array (C-contiguous) also passes for channels-last, and the kernels once wrote it through
    the other layout's view (half of it uninitialised; found by the fuzzer)."""
    x = np.random.default_rng(7).standard_normal(shape[::-1]).astype(np.float32)
    order = tuple(reversed(range(len(shape))))
    check(lambda x: F.batch_norm(x.permute(*order), None, None, training=True),
          lambda x: TF.batch_norm(x.permute(*order), None, None, training=True), x)


# ----------------------------------------------------------------------------- the ops

@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_matches_torch(dtype):
    rng = np.random.default_rng(2)
    for shape, dims in [((4,), 1), ((2, 3, 5), 1), ((2, 3, 5), 2), ((3, 2, 4, 5), 3),
                        ((7, 1), 1), ((2, 64), 1)]:
        normalized = list(shape[len(shape) - dims:])
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
        w = rng.standard_normal(normalized).astype(dtype)
        b = rng.standard_normal(normalized).astype(dtype)
        check(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-3),
              lambda x, w, b: TF.layer_norm(x, normalized, w, b, 1e-3), x, w, b)
        check(lambda x: F.layer_norm(x, normalized), lambda x: TF.layer_norm(x, normalized), x)
        check(lambda x, b: F.layer_norm(x, normalized, bias=b),
              lambda x, b: TF.layer_norm(x, normalized, bias=b), x, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_matches_torch(dtype):
    rng = np.random.default_rng(3)
    for shape, groups in [((2, 6), 3), ((2, 6, 5), 2), ((3, 4, 3, 5), 4), ((1, 8, 2, 3, 2), 2),
                          ((2, 3, 4, 4), 1)]:
        x = (rng.standard_normal(shape) * 2 - 0.5).astype(dtype)
        w = rng.standard_normal(shape[1]).astype(dtype)
        b = rng.standard_normal(shape[1]).astype(dtype)
        check(lambda x, w, b: F.group_norm(x, groups, w, b),
              lambda x, w, b: TF.group_norm(x, groups, w, b), x, w, b)
        check(lambda x: F.group_norm(x, groups, eps=0.1),
              lambda x: TF.group_norm(x, groups, eps=0.1), x)


def test_group_norm_of_a_channels_last_input():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((8, 3, 3, 3))
    check(lambda x, w: F.group_norm(F.conv2d(x, w), 4),
          lambda x, w: TF.group_norm(TF.conv2d(x, w), 4), x, w)


def test_empty_inputs():
    for shape, normalized in [((0, 3), [3]), ((2, 0), [0])]:
        check(lambda x: F.layer_norm(x, normalized), lambda x: TF.layer_norm(x, normalized),
              np.zeros(shape))
    check(lambda x, w: F.group_norm(x, 2, w), lambda x, w: TF.group_norm(x, 2, w),
          np.zeros((0, 4, 3)), np.ones(4))


def test_node_names():
    x = mg.randn(2, 4, 3, requires_grad=True)
    assert type(F.layer_norm(x, [3]).grad_fn).__name__ == "NativeLayerNormBackward0"
    assert type(F.group_norm(x, 2).grad_fn).__name__ == "NativeGroupNormBackward0"


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_match_torch(dtype):
    rng = np.random.default_rng(5)
    for args, kwargs, shape in [((5,), {}, (2, 3, 5)), ((5,), dict(bias=False), (2, 5)),
                                (([3, 5],), dict(elementwise_affine=False), (2, 3, 5)),
                                (((4, 5),), dict(eps=1e-3), (3, 4, 5))]:
        mine, theirs = nn.LayerNorm(*args, **kwargs), torch.nn.LayerNorm(*args, **kwargs)
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
        check_module(mine, theirs, [rng.standard_normal(shape).astype(dtype)], dtype)
        assert repr(mine) == repr(theirs)
    for args, kwargs, shape in [((2, 4), {}, (3, 4, 5, 5)), ((4, 4), dict(affine=False),
                                                               (2, 4, 3)),
                                ((1, 6), dict(bias=False, eps=1e-2), (2, 6))]:
        mine, theirs = nn.GroupNorm(*args, **kwargs), torch.nn.GroupNorm(*args, **kwargs)
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
        check_module(mine, theirs, [rng.standard_normal(shape).astype(dtype)], dtype)
        assert repr(mine) == repr(theirs)


def test_layers_initialise_as_torch():
    for mine, theirs in [(nn.LayerNorm((2, 3)), torch.nn.LayerNorm((2, 3))),
                         (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4))]:
        state = mine.state_dict()
        for name, value in theirs.state_dict().items():
            np.testing.assert_array_equal(state[name].numpy(), value.numpy())
    assert nn.LayerNorm(4, dtype=mg.float64).weight.dtype == mg.float64


# ----------------------------------------------------------------------------- errors

BAD_LAYER_NORM = [
    ((2, 3, 4), [5], None, None),
    ((2, 3, 4), 5, None, None),                       # an int normalized_shape
    ((2, 3, 4), [3, 4], (4,), None),
    ((2, 3, 4), [3, 4], None, (4,)),
    ((2, 3, 4), [], None, None),
    ((2, 3, 4), [2, 3, 4, 1], None, None),
]


@pytest.mark.parametrize("shape, normalized, w_shape, b_shape", BAD_LAYER_NORM)
def test_bad_layer_norm_arguments(shape, normalized, w_shape, b_shape):
    def call(module, functional):
        w = None if w_shape is None else module.ones(w_shape)
        b = None if b_shape is None else module.ones(b_shape)
        return functional.layer_norm(module.zeros(shape), normalized, w, b)
    assert_same_error(lambda: call(mg, F), lambda: call(torch, TF))


BAD_GROUP_NORM = [((2, 3, 4, 5), 2, None), ((2, 4, 4, 5), 2, (3,)), ((4,), 2, None)]


@pytest.mark.parametrize("shape, groups, w_shape", BAD_GROUP_NORM)
def test_bad_group_norm_arguments(shape, groups, w_shape):
    def call(module, functional):
        w = None if w_shape is None else module.ones(w_shape)
        return functional.group_norm(module.zeros(shape), groups, w)
    assert_same_error(lambda: call(mg, F), lambda: call(torch, TF))


def test_bad_dtypes_and_layer_arguments():
    for functional, module in [(lambda m, f: f.layer_norm(m.zeros(2, 3, dtype=m.int64), [3]),
                                None),
                               (lambda m, f: f.group_norm(m.zeros(2, 4, dtype=m.int64), 2),
                                None),
                               (lambda m, f: f.layer_norm(m.zeros(2, 3), [3],
                                                          m.ones(3, dtype=m.float64)), None)]:
        assert_same_error(lambda: functional(mg, F), lambda: functional(torch, TF))
    assert_same_error(lambda: nn.GroupNorm(2, 3), lambda: torch.nn.GroupNorm(2, 3))
