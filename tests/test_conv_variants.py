"""conv1d, conv_transpose2d, conv_transpose1d and their layers (Conv1d, ConvTranspose1d,
ConvTranspose2d, padding modes) against torch: values and every gradient over random strides,
paddings, output paddings, groups and dilations, float32 and float64; the same bits at 1 and
2 threads; torch's exception types for bad arguments."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from test_nn_layers import assert_same_error, check_module

TF = torch.nn.functional


@pytest.fixture(autouse=True)
def one_thread():
    threads = mg.get_num_threads()
    mg.set_num_threads(1)
    yield
    mg.set_num_threads(threads)


def _transposed_config(rng, dims):
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, dims))
    padding = tuple(int(p) for p in rng.integers(0, 3, dims))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    size = tuple(int(n) for n in rng.integers(1, 6, dims))
    batch = (int(rng.integers(1, 3)),) if rng.random() < 0.7 else ()
    out = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
           zip(size, stride, padding, dilation, kernel, output_padding)]
    if min(out) <= 0:
        return None
    args = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                dilation=dilation)
    if dims == 1:
        args = {name: value[0] if isinstance(value, tuple) else value
                for name, value in args.items()}
    return batch + (c_in,) + size, (c_in, c_out // groups) + kernel, c_out, args


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_transpose_random_configurations(dims, dtype):
    rng = np.random.default_rng(dims)
    mine = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    theirs = TF.conv_transpose1d if dims == 1 else TF.conv_transpose2d
    tested = 0
    while tested < 40:
        config = _transposed_config(rng, dims)
        if config is None:
            continue
        x_shape, w_shape, c_out, args = config
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype)
        try:
            check(lambda x, w, b: mine(x, w, b, **args), lambda x, w, b: theirs(x, w, b, **args),
                  x, w, b)
            check(lambda x, w: mine(x, w, **args), lambda x, w: theirs(x, w, **args), x, w)
        except AssertionError as error:
            raise AssertionError(f"{x_shape} {w_shape} {args}: {error}") from None
        tested += 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv1d_random_configurations(dtype):
    rng = np.random.default_rng(7)
    for trial in range(40):
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        k, d = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 3))
        if trial % 5 == 0:
            stride, padding = 1, ["same", "valid"][trial % 2]
        length = int(rng.integers(d * (k - 1) + 1, 10))
        batch = (int(rng.integers(1, 3)),) if trial % 3 else ()
        x = rng.standard_normal(batch + (c_in, length)).astype(dtype)
        w = rng.standard_normal((c_out, c_in // groups, k)).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype)
        args = dict(stride=stride, padding=padding, dilation=d, groups=groups)
        try:
            check(lambda x, w, b: F.conv1d(x, w, b, **args),
                  lambda x, w, b: TF.conv1d(x, w, b, **args), x, w, b)
        except AssertionError as error:
            raise AssertionError(f"{x.shape} {w.shape} {args}: {error}") from None


def test_transposed_convolution_is_the_same_at_one_and_two_threads():
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((4, 16, 9, 9)).astype(np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), requires_grad=True)
    results = []
    for threads in (1, 2):
        mg.set_num_threads(threads)
        for stride in (1, 2):
            x.grad = w.grad = None
            y = F.conv_transpose2d(x, w, stride=stride, padding=1)
            (y * y).sum().backward()
            results.append((y.detach().numpy().copy(), x.grad.numpy().copy(),
                            w.grad.numpy().copy()))
    for one, two in zip(results[:2], results[2:]):
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


def test_node_names_match_torch():
    x, w = mg.randn(2, 3, 5, requires_grad=True), mg.randn(3, 2, 3, requires_grad=True)
    assert type(F.conv1d(x, w.transpose(0, 1)).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(F.conv_transpose1d(x, w).grad_fn).__name__ == "ConvolutionBackward0"
    x4, w4 = mg.randn(2, 3, 5, 5, requires_grad=True), mg.randn(3, 2, 3, 3, requires_grad=True)
    assert type(F.conv_transpose2d(x4, w4).grad_fn).__name__ == "ConvolutionBackward0"


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize("dtype", DTYPES)
def test_conv1d_layer_with_every_padding_mode(dtype):
    rng = np.random.default_rng(4)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        for kwargs in (dict(padding=2), dict(padding="same", dilation=2),
                       dict(stride=2, padding=1, groups=2, bias=False)):
            check_module(nn.Conv1d(4, 6, 3, padding_mode=mode, **kwargs),
                         torch.nn.Conv1d(4, 6, 3, padding_mode=mode, **kwargs),
                         [rng.standard_normal((2, 4, 9)).astype(dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_transpose_layers(dtype):
    rng = np.random.default_rng(5)
    for mine, theirs, args, kwargs, shape in [
        (nn.ConvTranspose2d, torch.nn.ConvTranspose2d, (4, 6, 3), dict(stride=2, padding=1,
                                                                       output_padding=1),
         (2, 4, 5, 5)),
        (nn.ConvTranspose2d, torch.nn.ConvTranspose2d, (4, 6, (2, 3)),
         dict(groups=2, dilation=(2, 1), bias=False), (4, 3, 4)),
        (nn.ConvTranspose1d, torch.nn.ConvTranspose1d, (3, 2, 4), dict(stride=3, padding=2),
         (2, 3, 6)),
    ]:
        check_module(mine(*args, **kwargs), theirs(*args, **kwargs),
                     [rng.standard_normal(shape).astype(dtype)], dtype)


def test_conv_transpose2d_output_size():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    for output_size in ([11, 11], [12, 11], [2, 3, 12, 12]):
        mine, theirs = nn.ConvTranspose2d(4, 3, 3, stride=2), torch.nn.ConvTranspose2d(4, 3, 3,
                                                                                      stride=2)
        theirs.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                                for k, v in mine.state_dict().items()})
        out = mine(mg.tensor(x), output_size=output_size)
        expected = theirs(torch.from_numpy(x), output_size=output_size)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    for output_size in ([13, 12], [12], [1, 2, 3]):
        assert_same_error(lambda: nn.ConvTranspose2d(4, 3, 3, stride=2)(mg.tensor(x),
                                                                      output_size=output_size),
                          lambda: torch.nn.ConvTranspose2d(4, 3, 3, stride=2)(
                              torch.from_numpy(x), output_size=output_size))


def test_layer_initialisation_and_repr_follow_torch():
    mg.manual_seed(0)
    for mine, theirs in [(nn.Conv1d(4, 6, 3, groups=2), torch.nn.Conv1d(4, 6, 3, groups=2)),
                         (nn.ConvTranspose2d(4, 6, 3, groups=2, stride=2),
                          torch.nn.ConvTranspose2d(4, 6, 3, groups=2, stride=2)),
                         (nn.ConvTranspose1d(4, 3, 5, output_padding=1, stride=2),
                          torch.nn.ConvTranspose1d(4, 3, 5, output_padding=1, stride=2)),
                         (nn.Conv1d(4, 6, 3, padding=1, padding_mode="circular"),
                          torch.nn.Conv1d(4, 6, 3, padding=1, padding_mode="circular"))]:
        assert repr(mine) == repr(theirs)
        for name, param in theirs.named_parameters():
            value = dict(mine.named_parameters())[name].detach().numpy()
            assert value.shape == tuple(param.shape)
            fan_in = param.shape[1] * int(np.prod(param.shape[2:])) if param.ndim > 1 else \
                theirs.weight.shape[1] * int(np.prod(theirs.weight.shape[2:]))
            bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=√5) and the bias share it
            assert np.abs(value).max() <= bound and np.abs(value).max() > bound / 2


def test_conv1d_weight_is_stored_as_the_kernels_read_it():
    weight = nn.Conv1d(4, 6, 3).weight.array
    assert weight.shape == (6, 4, 3)
    assert weight.strides == (weight.itemsize, 6 * weight.itemsize, 24 * weight.itemsize)


# ----------------------------------------------------------------------------- errors

BAD_CALLS = [
    ("conv1d", (9,), (6, 4, 3), {}),                              # 1-D input
    ("conv1d", (2, 4, 9), (4, 3), {}),                            # 2-D weight
    ("conv1d", (2, 4, 9), (6, 3, 3), {}),                         # channel count
    ("conv1d", (2, 4, 9), (6, 4, 3), dict(stride=0)),
    ("conv1d", (2, 4, 9), (6, 4, 3), dict(stride=(1, 2))),
    ("conv1d", (2, 4, 9), (6, 4, 3), dict(padding="same", stride=2)),
    ("conv1d", (2, 4, 9), (6, 4, 12), {}),                        # kernel longer than input
    ("conv1d", (2, 4, 9), (6, 4, 3), dict(padding=-1)),
    ("conv1d", (2, 4, 9), (6, 4, 3), dict(padding="full")),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, output_padding=2)),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(output_padding=2, dilation=2)),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(padding=-1)),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(groups=3)),
    ("conv_transpose2d", (2, 4, 5, 5), (3, 3, 3, 3), {}),         # channel count
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(padding="same")),
    ("conv_transpose2d", (5, 5), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(output_padding=-1)),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(stride=0)),
    ("conv_transpose2d", (2, 4, 1, 4), (4, 3, 1, 3), dict(padding=(2, 1))),  # output too small
]


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", BAD_CALLS)
def test_bad_arguments_raise_torch_exception_types(name, x_shape, w_shape, kwargs):
    # float64: torch's float32 transposed convolutions take oneDNN's path, which returns an
    # empty output where the reference path (and minigrad) refuse a size <= 0
    assert_same_error(
        lambda: getattr(F, name)(mg.zeros(x_shape, dtype=mg.float64),
                                 mg.zeros(w_shape, dtype=mg.float64), **kwargs),
        lambda: getattr(TF, name)(torch.zeros(x_shape, dtype=torch.float64),
                                  torch.zeros(w_shape, dtype=torch.float64), **kwargs))


def test_bad_bias_and_dtype():
    x, w = mg.zeros(2, 4, 5, 5), mg.zeros(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="bias"):
        F.conv_transpose2d(x, w, mg.zeros(4))
    with pytest.raises(RuntimeError, match="type"):
        F.conv_transpose2d(x.double(), w)


def test_layer_constructor_errors_match_torch():
    for args, kwargs in [((4, 3, 3), dict(padding_mode="reflect")), ((3, 4, 3), dict(groups=2)),
                         ((4, 4, 3), dict(groups=0))]:
        assert_same_error(lambda: nn.ConvTranspose2d(*args, **kwargs),
                          lambda: torch.nn.ConvTranspose2d(*args, **kwargs))
    for args, kwargs in [((3, 4, 3), dict(padding="same", stride=2)),
                         ((3, 4, 3), dict(padding_mode="mirror")), ((3, 4, 3), dict(groups=2))]:
        assert_same_error(lambda: nn.Conv1d(*args, **kwargs),
                          lambda: torch.nn.Conv1d(*args, **kwargs))
