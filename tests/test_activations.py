"""SiLU, Mish, ELU, Softplus, Hardtanh, ReLU6, PReLU and the channel-wise dropouts against
torch: values and every gradient (float32 and float64), the in-place forms, node names, the
layers' defaults and reprs, torch's exception types."""
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check, random_array
from minigrad import nn
from test_nn_layers import assert_same_error, check_module

TF = torch.nn.functional

# name: (f(functional, x), inputs kept away from the kinks)
ACTIVATIONS = {
    "silu": lambda f, x: f.silu(x),
    "mish": lambda f, x: f.mish(x),
    "elu": lambda f, x: f.elu(x),
    "elu alpha": lambda f, x: f.elu(x, alpha=0.3),
    "elu negative alpha": lambda f, x: f.elu(x, -1.5),
    "softplus": lambda f, x: f.softplus(x),
    "softplus beta threshold": lambda f, x: f.softplus(x, beta=2.0, threshold=3.0),
    "hardtanh": lambda f, x: f.hardtanh(x),
    "hardtanh bounds": lambda f, x: f.hardtanh(x, -0.5, 2.5),
    "relu6": lambda f, x: f.relu6(x),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_matches_torch(name, dtype):
    fn = ACTIVATIONS[name]
    values = random_array((3, 4, 5), dtype, -8, 8, away_from=0.0)
    values = np.where(np.abs(np.abs(values) - 1) < 0.05, values + 0.1, values)  # hardtanh's
    values = np.where(np.abs(values - 6) < 0.05, values + 0.1, values)         # relu6's edge
    values = np.where(np.abs(values * 2 - 3) < 0.05, values + 0.1, values).astype(dtype)
    check(lambda x: fn(F, x), lambda x: fn(TF, x), values)


def test_extreme_inputs_stay_finite():
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=np.float32)
    for name, fn in ACTIVATIONS.items():
        check(lambda t: fn(F, t), lambda t: fn(TF, t), x)


@pytest.mark.parametrize("name", ["silu", "mish", "elu", "hardtanh", "relu6"])
def test_inplace_forms(name):
    values = random_array((2, 5), np.float64, away_from=0.0)
    grads = []
    for module, functional in ((mg, F), (torch, TF)):
        x = module.tensor(values.copy(), requires_grad=True)
        y = x * 1
        out = getattr(functional, name)(y, inplace=True)
        assert out is y
        (out * out).sum().backward()
        grads.append((type(out.grad_fn).__name__, y.detach().numpy(), x.grad.numpy()))
    assert grads[0][0] == grads[1][0]
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=1e-12)


def test_node_names_match_torch():
    for name, fn in ACTIVATIONS.items():
        mine = fn(F, mg.randn(3, requires_grad=True))
        theirs = fn(TF, torch.randn(3, requires_grad=True))
        assert type(mine.grad_fn).__name__ == type(theirs.grad_fn).__name__, name
    x = mg.randn(2, 3, requires_grad=True)
    assert type(F.prelu(x, mg.ones(3, requires_grad=True)).grad_fn).__name__ == \
        "PreluKernelBackward0"


def test_hardtanh_of_integers_stays_integer():
    x = np.arange(-4, 9).astype(np.int64)
    np.testing.assert_array_equal(F.relu6(mg.tensor(x)).numpy(),
                                  TF.relu6(torch.from_numpy(x)).numpy())
    assert F.hardtanh(mg.tensor(x)).dtype == mg.int64


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_matches_torch(dtype):
    rng = np.random.default_rng(1)
    for shape, weight_shape in [((2, 3, 4, 5), (3,)), ((2, 3), (3,)), ((2, 3, 4), (1,)),
                                ((4,), (1,)), ((), (1,)), ((2, 3, 4), ())]:
        x = random_array(shape, dtype, away_from=0.0, seed=2)
        w = rng.standard_normal(weight_shape).astype(dtype)
        check(lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w), x, w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_match_torch(dtype):
    rng = np.random.default_rng(3)
    x = random_array((2, 3, 4), dtype, -4, 8, away_from=0.0, seed=4)
    for make in [lambda m: m.SiLU(), lambda m: m.Mish(), lambda m: m.ELU(0.5),
                 lambda m: m.Softplus(2.0, 5.0), lambda m: m.Hardtanh(-2.0, 3.0),
                 lambda m: m.ReLU6(), lambda m: m.PReLU(), lambda m: m.PReLU(3, init=0.1)]:
        mine, theirs = make(nn), make(torch.nn)
        assert repr(mine) == repr(theirs)
        check_module(mine, theirs, [x], dtype)
    prelu = nn.PReLU(4, init=0.3)
    assert prelu.weight.shape == (4,) and np.all(prelu.weight.detach().numpy() == np.float32(0.3))
    del rng


def test_layer_reprs_with_options():
    for make in [lambda m: m.SiLU(True), lambda m: m.Mish(inplace=True), lambda m: m.ELU(),
                 lambda m: m.ELU(0.5, inplace=True), lambda m: m.Softplus(),
                 lambda m: m.Hardtanh(), lambda m: m.Hardtanh(-2.0, 3.0, True),
                 lambda m: m.ReLU6(True), lambda m: m.Dropout1d(0.2), lambda m: m.Dropout2d(),
                 lambda m: m.Dropout3d(0.3, True)]:
        assert repr(make(nn)) == repr(make(torch.nn))


def test_bad_arguments_raise_torch_exception_types():
    cases = [
        lambda m, f: f.hardtanh(m.zeros(3), 1.0, -1.0),
        lambda m, f: f.silu(m.zeros(3, dtype=m.int64)),
        lambda m, f: f.mish(m.zeros(3, dtype=m.int64)),
        lambda m, f: f.elu(m.zeros(3, dtype=m.int64)),
        lambda m, f: f.softplus(m.zeros(3, dtype=m.int64)),
        lambda m, f: f.prelu(m.zeros(2, 3, 4), m.ones(2)),
        lambda m, f: f.prelu(m.zeros(2, 3, 4), m.ones(1, 3)),
        lambda m, f: f.prelu(m.zeros(4), m.ones(4)),
        lambda m, f: f.prelu(m.zeros(2, 3), m.ones(3, dtype=m.float64)),
        lambda m, f: f.prelu(m.zeros(2, 3, dtype=m.int64), m.ones(3, dtype=m.int64)),
        lambda m, f: f.dropout2d(m.zeros(2, 3, 4), 1.5),
        lambda m, f: f.dropout1d(m.zeros(2, 3, 4, 5)),
        lambda m, f: f.dropout3d(m.zeros(2, 3, 4, 5), -0.1),
    ]
    for case in cases:
        assert_same_error(lambda: case(mg, F), lambda: case(torch, TF))
    assert_same_error(lambda: nn.Hardtanh(1.0, -1.0), lambda: torch.nn.Hardtanh(1.0, -1.0))


# ----------------------------------------------------------------------------- dropouts

@pytest.mark.parametrize("name, shape, channel_axes", [
    ("dropout1d", (6, 40, 7), 2), ("dropout1d", (40, 7), 1), ("dropout2d", (6, 40, 3, 4), 2),
    ("dropout2d", (6, 40, 7), 2), ("dropout3d", (3, 40, 2, 3, 4), 2),
    ("dropout3d", (40, 2, 3, 4), 1)])
def test_channel_dropout_zeroes_whole_channels(name, shape, channel_axes):
    mg.manual_seed(0)
    x = mg.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, name)(x, p=0.4)
    ratio = np.round((y / x).detach().numpy().reshape(shape[:channel_axes] + (-1,)), 9)
    assert np.all(ratio[..., :1] == ratio)                     # one draw per channel
    assert set(np.unique(ratio)) <= {0.0, round(1 / 0.6, 9)}
    assert 0.2 < (ratio[..., 0] == 0).mean() < 0.6
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(),
                               2 * y.detach().numpy() * ratio.reshape(shape), rtol=1e-7)
    assert type(y.grad_fn).__name__ == "MulBackward0"


def test_channel_dropout_edges():
    x = mg.ones(2, 3, 4, 4)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert np.all(F.dropout2d(x, 1.0).numpy() == 0)
    y = x * 1
    assert F.dropout2d(y, 0.5, inplace=True) is y
    layer = nn.Dropout2d(0.5).eval()
    assert layer(x) is x
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(mg.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="5-D input to dropout2d"):
        F.dropout2d(mg.ones(2, 3, 4, 5, 6))
    with pytest.warns(UserWarning, match="3-D input to dropout3d"):
        F.dropout3d(mg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(mg.ones(3))
