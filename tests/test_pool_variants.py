"""AdaptiveMaxPool2d (its kernel against the NumPy twin over dtypes, odd shapes, NaNs and 1 and
2 threads), MaxPool1d, AvgPool1d and the 1-D adaptive pools against torch: values, indices and
every gradient in float32 and float64; layers' reprs; torch's exception types."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from minigrad._kernels import pool as kernels
from minigrad.reference import pool as twins
from test_nn_layers import assert_same_error, check_module

TF = torch.nn.functional


def _adaptive_max(module, x, out_size, threads):
    n, h, w, c = x.shape
    out = np.empty((n,) + out_size + (c,), x.dtype)
    index = np.empty(out.shape, np.int64)
    extra = (threads,) if module is kernels else ()
    module.adaptive_max_pool2d_forward(x, out, index, *extra)
    grad = np.arange(out.size, dtype=x.dtype).reshape(out.shape) % 7 - 3
    grad_x = np.empty_like(x)
    module.adaptive_max_pool2d_backward(grad, index, grad_x, *extra)
    return out, index, grad_x


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_max_kernel_matches_twin_at_any_thread_count(dtype):
    rng = np.random.default_rng(0)
    for shape, out_size in [((1, 1, 1, 1), (1, 1)), ((2, 5, 7, 3), (2, 3)),
                            ((3, 4, 4, 17), (7, 5)), ((2, 9, 6, 8), (4, 4)),
                            ((64, 8, 8, 16), (3, 3))]:
        x = rng.standard_normal(shape).astype(dtype)
        x.reshape(-1)[::11] = np.nan if shape[0] == 2 else x.reshape(-1)[::11]
        x.reshape(-1)[5::13] = x.reshape(-1)[4::13][:len(x.reshape(-1)[5::13])]  # ties
        one, two, twin = (_adaptive_max(kernels, x, out_size, 1),
                          _adaptive_max(kernels, x, out_size, 2),
                          _adaptive_max(twins, x, out_size, None))
        for a, b, t in zip(one, two, twin):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_max_pool2d_matches_torch(dtype):
    rng = np.random.default_rng(1)
    for shape, size in [((2, 3, 7, 9), (3, 4)), ((3, 5, 4), (5, 7)), ((2, 3, 4, 5), 1),
                        ((2, 3, 6, 6), (None, 2)), ((1, 2, 8, 8), 4)]:
        x = rng.standard_normal(shape).astype(dtype)
        check(lambda t: F.adaptive_max_pool2d(t, size),
              lambda t: TF.adaptive_max_pool2d(t, size), x)
        check(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
              lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True), x)


def test_adaptive_max_pool2d_of_a_channels_last_input_and_nan():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 2, 2))
    check(lambda x, w: F.adaptive_max_pool2d(F.conv2d(x, w), 3),
          lambda x, w: TF.adaptive_max_pool2d(TF.conv2d(x, w), 3), x, w)
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 1, 2] = x[0, 0, 3, 3] = np.nan
    mine = F.adaptive_max_pool2d(mg.tensor(x), 1, return_indices=True)
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), 1, return_indices=True)
    assert np.isnan(mine[0].numpy()).all()
    np.testing.assert_array_equal(mine[1].numpy(), theirs[1].numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_dimensional_pools_match_torch(dtype):
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 11), (4, 9)]:
        x = rng.standard_normal(shape).astype(dtype)
        for args in [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1),
                     dict(kernel_size=(2,), stride=[1], ceil_mode=True)]:
            check(lambda t: F.max_pool1d(t, **args), lambda t: TF.max_pool1d(t, **args), x)
            check(lambda t: F.avg_pool1d(t, **args), lambda t: TF.avg_pool1d(t, **args), x)
            check(lambda t: F.avg_pool1d(t, count_include_pad=False, **args),
                  lambda t: TF.avg_pool1d(t, count_include_pad=False, **args), x)
        check(lambda t: F.max_pool1d(t, 2, dilation=2, return_indices=True),
              lambda t: TF.max_pool1d(t, 2, dilation=2, return_indices=True), x)
        for size in (1, 4, 13):
            check(lambda t: F.adaptive_avg_pool1d(t, size),
                  lambda t: TF.adaptive_avg_pool1d(t, size), x)
            check(lambda t: F.adaptive_max_pool1d(t, size, True),
                  lambda t: TF.adaptive_max_pool1d(t, size, True), x)


def test_node_names_match_torch():
    x, t = mg.randn(2, 3, 8, requires_grad=True), torch.randn(2, 3, 8, requires_grad=True)
    x4, t4 = mg.randn(2, 3, 5, 5, requires_grad=True), torch.randn(2, 3, 5, 5,
                                                                   requires_grad=True)
    for mine, theirs in [(F.max_pool1d(x, 2), TF.max_pool1d(t, 2)),
                         (F.avg_pool1d(x, 2), TF.avg_pool1d(t, 2)),
                         (F.adaptive_max_pool2d(x4, 2), TF.adaptive_max_pool2d(t4, 2))]:
        assert type(mine.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_match_torch(dtype):
    rng = np.random.default_rng(4)
    x3 = rng.standard_normal((2, 3, 10)).astype(dtype)
    x4 = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    for make, x in [(lambda m: m.MaxPool1d(3, 2, 1), x3), (lambda m: m.AvgPool1d(4, 3), x3),
                    (lambda m: m.AdaptiveMaxPool2d((3, None)), x4),
                    (lambda m: m.AdaptiveAvgPool1d(4), x3),
                    (lambda m: m.AdaptiveMaxPool1d(3), x3)]:
        mine, theirs = make(nn), make(torch.nn)
        assert repr(mine) == repr(theirs)
        check_module(mine, theirs, [x], dtype)
    out, indices = nn.AdaptiveMaxPool2d(2, return_indices=True)(mg.tensor(x4))
    expected = torch.nn.AdaptiveMaxPool2d(2, return_indices=True)(torch.from_numpy(x4))[1]
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


BAD_CALLS = [
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), 0),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), 2, 0),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), 2, padding=2),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), 2, dilation=0),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), 10),
    lambda m, f: f.max_pool1d(m.zeros(9), 2),
    lambda m, f: f.max_pool1d(m.zeros(1, 2, 3, 4), 2),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9), (2, 2)),
    lambda m, f: f.max_pool1d(m.zeros(2, 0, 9), 2),
    lambda m, f: f.max_pool1d(m.zeros(2, 3, 9, dtype=m.int64), 2),
    lambda m, f: f.avg_pool1d(m.zeros(2, 3, 9), 2, 0),
    lambda m, f: f.avg_pool1d(m.zeros(2, 3, 9), 2, padding=2),
    lambda m, f: f.avg_pool1d(m.zeros(2, 3, 9), 10),
    lambda m, f: f.avg_pool1d(m.zeros(9), 2),
    lambda m, f: f.avg_pool1d(m.zeros(2, 3, 9), (2, 2)),
    lambda m, f: f.adaptive_max_pool2d(m.zeros(2, 3, 4, 5), (-1, 3)),
    lambda m, f: f.adaptive_max_pool2d(m.zeros(2, 3, 4, 5), (2, 3, 4)),
    lambda m, f: f.adaptive_max_pool2d(m.zeros(2, 3, 0, 5), 2),
    lambda m, f: f.adaptive_max_pool2d(m.zeros(2, 3, 4, 5, dtype=m.int64), 2),
    lambda m, f: f.adaptive_max_pool2d(m.zeros(5), 2),
]


@pytest.mark.parametrize("case", range(len(BAD_CALLS)))
def test_bad_arguments_raise_torch_exception_types(case):
    assert_same_error(lambda: BAD_CALLS[case](mg, F), lambda: BAD_CALLS[case](torch, TF))
