"""Every layer and loss of minigrad.nn against torch.nn with the same weights copied across:
forward values and the gradients of the input, the weight and the bias, over many random
configurations, float64 tightly and float32 within float32 tolerance. Bad input raises the
exception type torch raises."""
import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn
from minigrad.testing import TOLERANCES

DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def one_thread():
    """Layers run their kernels on one thread here (the kernels' own tests cover 1 and 2
    threads); the machine's cores are shared and oversubscribed OpenMP teams are slow."""
    threads = minigrad.get_num_threads()
    minigrad.set_num_threads(1)
    yield
    minigrad.set_num_threads(threads)


def to_torch_dtype(dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


def assert_close(mine, theirs, dtype, what, scale=1.0):
    rtol, atol = TOLERANCES[np.dtype(dtype)]
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    mine = mine.array if isinstance(mine, minigrad.Tensor) else mine
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape} != {theirs.shape}"
    assert mine.dtype == theirs.dtype, f"{what}: dtype {mine.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(mine, theirs, rtol=rtol * scale, atol=atol * scale,
                               err_msg=what)


def check_module(mine, theirs, inputs, dtype, scale=1.0, grad_inputs=None):
    """Copy torch's state into ``mine``, run both on ``inputs`` (numpy arrays; float ones get
    gradients unless grad_inputs says otherwise), compare the outputs, then backpropagate the
    same random upstream gradient and compare every input and parameter gradient."""
    theirs = theirs.to(to_torch_dtype(dtype))
    mine.to(dtype)
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    mine.load_state_dict(state)
    if grad_inputs is None:
        grad_inputs = [x.dtype.kind == "f" for x in inputs]
    mg_in = [minigrad.tensor(x, requires_grad=g) for x, g in zip(inputs, grad_inputs)]
    t_in = [torch.tensor(x, requires_grad=bool(g)) for x, g in zip(inputs, grad_inputs)]
    out, t_out = mine(*mg_in), theirs(*t_in)
    assert_close(out, t_out, dtype, "forward", scale)
    upstream = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    (out * minigrad.tensor(upstream)).sum().backward()
    (t_out * torch.from_numpy(upstream)).sum().backward()
    for i, (m, t) in enumerate(zip(mg_in, t_in)):
        if t.requires_grad:
            assert_close(m.grad, t.grad, dtype, f"grad of input {i}", scale)
    t_params = dict(theirs.named_parameters())
    m_params = dict(mine.named_parameters())
    assert m_params.keys() == t_params.keys()
    for name, param in t_params.items():
        assert_close(m_params[name].grad, param.grad, dtype, f"grad of {name}", scale)
    for name, buffer in theirs.named_buffers():
        assert_close(dict(mine.named_buffers())[name], buffer, dtype, f"buffer {name}", scale)
    return out


def randn(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- Linear

@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_random_configurations(dtype):
    rng = np.random.default_rng(1)
    for trial in range(12):
        n_in, n_out = rng.integers(1, 40, 2)
        bias = bool(trial % 3)
        lead = [(), (1,), (int(rng.integers(1, 6)),), (2, int(rng.integers(1, 4)))][trial % 4]
        x = randn(rng, *lead, n_in, dtype=dtype)
        check_module(nn.Linear(n_in, n_out, bias=bias), torch.nn.Linear(n_in, n_out, bias=bias),
                     [x], dtype)


def test_linear_seed_shapes_and_batch_1():
    rng = np.random.default_rng(2)
    for dtype in DTYPES:
        check_module(nn.Linear(1024, 64), torch.nn.Linear(1024, 64),
                     [randn(rng, 1, 1024, dtype=dtype)], dtype, scale=4)


# ----------------------------------------------------------------------------- Conv2d

def conv_configurations(rng, count):
    configs = []
    for trial in range(count):
        groups = int(rng.choice([1, 1, 2, 3]))
        in_c = groups * int(rng.integers(1, 4))
        out_c = groups * int(rng.integers(1, 4))
        if trial % 7 == 3:  # depthwise
            groups, in_c, out_c = 4, 4, 8
        kernel = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        if trial % 5 == 0:
            stride, padding = (1, 1), "same"
        elif trial % 5 == 1:
            padding = "valid"
        batch = int(rng.choice([1, 1, 2, 3]))
        span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        size = (span[0] + int(rng.integers(0, 7)), span[1] + int(rng.integers(0, 7)))
        configs.append(dict(in_c=in_c, out_c=out_c, kernel=kernel, stride=stride,
                            padding=padding, dilation=dilation, groups=groups,
                            bias=bool(trial % 4), batch=batch, size=size))
    return configs


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_random_configurations(dtype):
    rng = np.random.default_rng(3)
    for config in conv_configurations(rng, 30):
        args = (config["in_c"], config["out_c"], config["kernel"])
        kwargs = dict(stride=config["stride"], padding=config["padding"],
                      dilation=config["dilation"], groups=config["groups"], bias=config["bias"])
        x = randn(rng, config["batch"], config["in_c"], *config["size"], dtype=dtype)
        try:
            check_module(nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs), [x],
                         dtype, scale=2)
        except AssertionError as error:
            raise AssertionError(f"{config}: {error}") from None


def test_conv2d_unbatched_input_and_seed_layer():
    rng = np.random.default_rng(4)
    for dtype in DTYPES:
        check_module(nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(3, 4, 3, padding=1),
                     [randn(rng, 3, 7, 6, dtype=dtype)], dtype)
        check_module(nn.Conv2d(3, 32, 5, padding=2), torch.nn.Conv2d(3, 32, 5, padding=2),
                     [randn(rng, 1, 3, 32, 32, dtype=dtype)], dtype, scale=4)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(mode):
    rng = np.random.default_rng(6)
    for dtype in DTYPES:
        for padding in (1, (2, 1), "same"):
            check_module(nn.Conv2d(3, 4, 3, padding=padding, padding_mode=mode),
                         torch.nn.Conv2d(3, 4, 3, padding=padding, padding_mode=mode),
                         [randn(rng, 2, 3, 6, 5, dtype=dtype)], dtype)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv2d_constructor_errors_match_torch():
    for args, kwargs in [((3, 4, 3), dict(groups=2)), ((4, 3, 3), dict(groups=2)),
                         ((4, 4, 3), dict(groups=0)), ((3, 4, 3), dict(padding="full")),
                         ((3, 4, 3), dict(padding="same", stride=2))]:
        assert_same_error(lambda: nn.Conv2d(*args, **kwargs),
                          lambda: torch.nn.Conv2d(*args, **kwargs))


# ----------------------------------------------------------------------------- pooling

@pytest.mark.parametrize("dtype", DTYPES)
def test_pooling_random_configurations(dtype):
    rng = np.random.default_rng(5)
    for trial in range(16):
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = [None, 1, (int(rng.integers(1, 3)), int(rng.integers(1, 4)))][trial % 3]
        padding = (int(rng.integers(0, kernel[0] // 2 + 1)),
                   int(rng.integers(0, kernel[1] // 2 + 1)))
        ceil_mode = bool(trial % 2)
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)),
                 int(rng.integers(kernel[0] + 1, 9)), int(rng.integers(kernel[1] + 1, 9)))
        x = randn(rng, *shape, dtype=dtype)
        dilation = (int(rng.integers(1, 3)), 1)
        if (kernel[0] - 1) * dilation[0] + 1 > shape[2] + 2 * padding[0]:
            dilation = (1, 1)
        check_module(nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode),
                     torch.nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode),
                     [x], dtype)
        include = bool(trial % 3)
        check_module(nn.AvgPool2d(kernel, stride, padding, ceil_mode, include),
                     torch.nn.AvgPool2d(kernel, stride, padding, ceil_mode, include), [x], dtype)
        out_size = [(int(rng.integers(1, 5)), int(rng.integers(1, 5))), 3, (None, 2)][trial % 3]
        check_module(nn.AdaptiveAvgPool2d(out_size), torch.nn.AdaptiveAvgPool2d(out_size), [x],
                     dtype)


def test_max_pool_return_indices_matches_torch():
    x = randn(np.random.default_rng(6), 2, 3, 9, 7)
    out, idx = nn.MaxPool2d(3, 2, 1, return_indices=True)(minigrad.tensor(x))
    t_out, t_idx = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)(torch.tensor(x))
    assert_close(out, t_out, np.float64, "values")
    np.testing.assert_array_equal(idx.array, t_idx.numpy())


# ----------------------------------------------------------------------------- activations

ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=0), lambda: torch.nn.LogSoftmax(dim=0)),
    (lambda: nn.Identity(54, unused="x"), lambda: torch.nn.Identity(54, unused="x")),
    (lambda: nn.Flatten(), lambda: torch.nn.Flatten()),
    (lambda: nn.Flatten(0, 2), lambda: torch.nn.Flatten(0, 2)),
    (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index", range(len(ACTIVATIONS)))
def test_activation_and_shape_layers(index, dtype):
    make_mine, make_theirs = ACTIVATIONS[index]
    rng = np.random.default_rng(index)
    for shape in [(4, 6, 3), (1, 6, 5, 2)]:
        x = randn(rng, *shape, dtype=dtype) * 3
        x.flat[0] = 0.0  # the kink of relu and leaky_relu
        check_module(make_mine(), make_theirs(), [x], dtype)


def test_softmax_without_dim_uses_torch_legacy_dim():
    x = randn(np.random.default_rng(7), 2, 3, 4)
    for dims in [(2, 3, 4), (3, 4), (2, 3, 4, 5)]:
        x = randn(np.random.default_rng(7), *dims)
        with pytest.warns(UserWarning):
            mine = nn.Softmax()(minigrad.tensor(x))
        with pytest.warns(UserWarning):
            theirs = torch.nn.Softmax()(torch.tensor(x))
        assert_close(mine, theirs, np.float64, "softmax")


# ----------------------------------------------------------------------------- dropout

def test_dropout_train_eval_and_gradient():
    minigrad.manual_seed(0)
    x = minigrad.tensor(np.ones((200, 50)), requires_grad=True)
    layer = nn.Dropout(0.3)
    out = layer(x)
    zeros = (out.array == 0).mean()
    assert abs(zeros - 0.3) < 0.02
    np.testing.assert_allclose(out.array[out.array != 0], 1 / 0.7)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.array, out.array)  # d(sum)/dx = mask
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).array, 0)
    minigrad.manual_seed(5)
    first = nn.Dropout()(x).array
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout()(x).array, first)
    assert_same_error(lambda: nn.Dropout(1.5), lambda: torch.nn.Dropout(1.5))
    assert_same_error(lambda: nn.Dropout(-0.1), lambda: torch.nn.Dropout(-0.1))


# ----------------------------------------------------------------------------- batch norm

BATCHNORM_CONFIGS = [
    dict(),
    dict(momentum=None),
    dict(momentum=0.3, eps=1e-3),
    dict(affine=False),
    dict(bias=False),
    dict(track_running_stats=False),
    dict(affine=False, track_running_stats=False, momentum=None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", BATCHNORM_CONFIGS)
@pytest.mark.parametrize("kind", ["1d2", "1d3", "2d"])
def test_batchnorm_train_and_eval(kind, config, dtype):
    rng = np.random.default_rng(8)
    shape = {"1d2": (5, 4), "1d3": (3, 4, 6), "2d": (2, 4, 5, 3)}[kind]
    mine_cls, theirs_cls = ((nn.BatchNorm2d, torch.nn.BatchNorm2d) if kind == "2d"
                            else (nn.BatchNorm1d, torch.nn.BatchNorm1d))
    mine, theirs = mine_cls(4, **config), theirs_cls(4, **config)
    with torch.no_grad():  # non-trivial affine parameters
        if theirs.weight is not None:
            theirs.weight.uniform_(0.5, 2.0)
        if theirs.bias is not None:
            theirs.bias.uniform_(-1.0, 1.0)
    for step in range(3):  # running statistics accumulate over steps
        x = randn(rng, *shape, dtype=dtype) * 2 + 1
        check_module(mine, theirs, [x], dtype, scale=2)
        for p in list(mine.parameters()):
            p.grad = None
        theirs.zero_grad()
    mine.eval()
    theirs.eval()
    check_module(mine, theirs, [randn(rng, *shape, dtype=dtype)], dtype, scale=2)
    if config.get("track_running_stats", True):
        assert int(mine.num_batches_tracked.item()) == 3


def test_batchnorm_errors_match_torch():
    x = np.ones((3, 4), dtype=np.float32)
    assert_same_error(lambda: nn.BatchNorm2d(4)(minigrad.tensor(x)),
                      lambda: torch.nn.BatchNorm2d(4)(torch.tensor(x)))
    x1 = np.ones((1, 4), dtype=np.float32)
    assert_same_error(lambda: nn.BatchNorm1d(4)(minigrad.tensor(x1)),
                      lambda: torch.nn.BatchNorm1d(4)(torch.tensor(x1)))
    x3 = np.ones((1, 4, 2, 2, 2), dtype=np.float32)
    assert_same_error(lambda: nn.BatchNorm1d(4)(minigrad.tensor(x3)),
                      lambda: torch.nn.BatchNorm1d(4)(torch.tensor(x3)))


# ----------------------------------------------------------------------------- losses

def check_loss(mine, theirs, logits, target, dtype, grad_target=False):
    check_module(mine, theirs, [logits, target], dtype, grad_inputs=[True, grad_target])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_and_nll_losses(dtype):
    rng = np.random.default_rng(9)
    weight = rng.random(5) + 0.5
    for reduction in ("mean", "sum", "none"):
        for kwargs in [dict(), dict(ignore_index=2), dict(label_smoothing=0.1),
                       dict(weight=weight)]:
            make = dict(kwargs)
            shapes = [((6, 5), (6,)), ((1, 5), (1,)), ((2, 5, 3, 2), (2, 3, 2))]
            for shape, tshape in shapes[len(make) % 2::2] if reduction != "mean" else shapes:
                x = randn(rng, *shape, dtype=dtype)
                t = rng.integers(0, 5, tshape)
                mine_kwargs = dict(make, reduction=reduction)
                theirs_kwargs = dict(make, reduction=reduction)
                if "weight" in make:
                    mine_kwargs["weight"] = minigrad.tensor(weight.astype(dtype))
                    theirs_kwargs["weight"] = torch.tensor(weight.astype(dtype))
                check_loss(nn.CrossEntropyLoss(**mine_kwargs),
                           torch.nn.CrossEntropyLoss(**theirs_kwargs), x, t, dtype)
                if "label_smoothing" not in make:
                    logp = np.log(np.exp(x) / np.exp(x).sum(axis=1, keepdims=True))
                    check_loss(nn.NLLLoss(**mine_kwargs), torch.nn.NLLLoss(**theirs_kwargs),
                               logp.astype(dtype), t, dtype)
        # Probability targets.
        x = randn(rng, 4, 5, dtype=dtype)
        probs = np.exp(randn(rng, 4, 5))
        probs = (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)
        check_loss(nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2),
                   torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2),
                   x, probs, dtype, grad_target=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_and_bce_losses(dtype):
    rng = np.random.default_rng(10)
    for reduction in ("mean", "sum", "none"):
        for shape in [(7,), (3, 4), (1, 2, 3)]:
            x, y = randn(rng, *shape, dtype=dtype), randn(rng, *shape, dtype=dtype)
            check_loss(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction),
                       x, y, dtype, grad_target=True)
            check_loss(nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction),
                       x, y, dtype, grad_target=True)
            probs = rng.random(shape).astype(dtype)
            check_loss(nn.BCEWithLogitsLoss(reduction=reduction),
                       torch.nn.BCEWithLogitsLoss(reduction=reduction), x * 3, probs, dtype,
                       grad_target=True)
            pos = (rng.random(shape[-1:]) + 0.5).astype(dtype)
            w = (rng.random(shape) + 0.5).astype(dtype)
            check_loss(nn.BCEWithLogitsLoss(weight=minigrad.tensor(w), reduction=reduction,
                                            pos_weight=minigrad.tensor(pos)),
                       torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), reduction=reduction,
                                                  pos_weight=torch.tensor(pos)),
                       x, probs, dtype)


def test_legacy_loss_arguments():
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.CrossEntropyLoss().reduction == "mean"


# ----------------------------------------------------------------------------- bad input

def assert_same_error(mine, theirs):
    """``theirs`` (torch) raises; ``mine`` must raise the same exception type."""
    with pytest.raises(Exception) as torch_error:
        theirs()
    with pytest.raises(type(torch_error.value)):
        mine()


def both(layer_args, make_mine, make_theirs, x):
    return (lambda: make_mine(*layer_args)(minigrad.tensor(x)),
            lambda: make_theirs(*layer_args)(torch.tensor(x)))


def test_bad_inputs_to_layers_raise_like_torch():
    x = np.ones((1, 3, 8, 8), dtype=np.float32)
    small = np.ones((1, 3, 2, 2), dtype=np.float32)
    cases = [
        ((4, 8, 3), nn.Conv2d, torch.nn.Conv2d, x),                # wrong channel count
        ((3, 8, 5), nn.Conv2d, torch.nn.Conv2d, small),            # input smaller than kernel
        ((3, 8, 3, 0), nn.Conv2d, torch.nn.Conv2d, x),             # stride 0
        ((3, 8, 3, 1, 0, 0), nn.Conv2d, torch.nn.Conv2d, x),       # dilation 0
        ((0,), nn.MaxPool2d, torch.nn.MaxPool2d, x),               # kernel_size 0
        ((2, 0), nn.MaxPool2d, torch.nn.MaxPool2d, x),             # stride 0
        ((2, 2, 0, 0), nn.MaxPool2d, torch.nn.MaxPool2d, x),       # dilation 0
        ((3, 1, 2), nn.MaxPool2d, torch.nn.MaxPool2d, x),          # padding > kernel / 2
        ((5,), nn.MaxPool2d, torch.nn.MaxPool2d, small),           # input smaller than kernel
        ((0,), nn.AvgPool2d, torch.nn.AvgPool2d, x),
        ((5,), nn.AvgPool2d, torch.nn.AvgPool2d, small),
        ((1024, 64), nn.Linear, torch.nn.Linear, np.ones((1, 1000), np.float32)),
        ((3, 64), nn.Linear, torch.nn.Linear, np.ones((2, 3), np.float64)),  # dtype
        ((3,), nn.BatchNorm2d, torch.nn.BatchNorm2d, np.ones((2, 4, 3, 3), np.float32)),
    ]
    for args, mine_cls, theirs_cls, value in cases:
        mine, theirs = both(args, mine_cls, theirs_cls, value)
        assert_same_error(mine, theirs)


def test_conv2d_kernel_size_0_raises_like_torch():
    x = np.ones((1, 3, 8, 8), dtype=np.float32)
    assert_same_error(*both((3, 8, 0), nn.Conv2d, torch.nn.Conv2d, x))


def test_target_of_other_batch_size_raises_like_torch():
    logits, target = np.zeros((2, 5), dtype=np.float32), np.array([[1, 2]])
    assert_same_error(
        lambda: nn.CrossEntropyLoss()(minigrad.tensor(logits), minigrad.tensor(target)),
        lambda: torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(target)))


def test_bad_targets_raise_like_torch():
    logits = np.zeros((2, 5), dtype=np.float32)
    for target in [np.array([1, 5]), np.array([-1, 0]), np.array([1.0, 2.0], np.float32),
                   np.array([1, 2], np.int32), np.array([1, 2, 3])]:
        assert_same_error(
            lambda: nn.CrossEntropyLoss()(minigrad.tensor(logits), minigrad.tensor(target)),
            lambda: torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(target)))
        assert_same_error(
            lambda: nn.NLLLoss()(minigrad.tensor(logits), minigrad.tensor(target)),
            lambda: torch.nn.NLLLoss()(torch.tensor(logits), torch.tensor(target)))
    assert_same_error(
        lambda: nn.MSELoss()(minigrad.tensor(logits), minigrad.tensor(logits[:1, :2])),
        lambda: torch.nn.MSELoss()(torch.tensor(logits), torch.tensor(logits[:1, :2])))


# ----------------------------------------------------------------------------- gradcheck

def leaf(rng, *shape):
    return minigrad.tensor(rng.standard_normal(shape), requires_grad=True)


def test_ops_nn_finite_differences_float64():
    """Every op of minigrad/ops/nn.py against central differences, in float64."""
    from minigrad.autograd import gradcheck
    F = nn.functional
    rng = np.random.default_rng(11)
    x, w, b = leaf(rng, 3, 4), leaf(rng, 5, 4), leaf(rng, 5)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (leaf(rng, 2, 3, 4), w))
    z = leaf(rng, 3, 5)
    z.array[np.abs(z.array) < 0.05] = 0.3  # away from the kink
    assert gradcheck(lambda z: F.leaky_relu(z, 0.1), (z,))
    assert gradcheck(lambda z: F.gelu(z), (z,))
    assert gradcheck(lambda z: F.gelu(z, approximate="tanh"), (z,))
    img, gamma, beta = leaf(rng, 3, 2, 2, 2), leaf(rng, 2), leaf(rng, 2)
    running = (minigrad.zeros(2, dtype=minigrad.float64), minigrad.ones(2, dtype=minigrad.float64))
    assert gradcheck(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
                     (img, gamma, beta))
    assert gradcheck(lambda x, g, b: F.batch_norm(x, *running, g, b, training=False),
                     (img, gamma, beta))
    minigrad.manual_seed(0)
    mask_input = leaf(rng, 4, 4)

    def dropped(t):
        minigrad.manual_seed(0)  # the same mask on every evaluation
        return F.dropout(t, 0.4)

    assert gradcheck(dropped, (mask_input,))


@pytest.mark.parametrize("make", [lambda lib: lib.nn.ReLU(inplace=True),
                                  lambda lib: (lambda t: lib.nn.functional.relu(t, inplace=True))])
def test_inplace_relu_writes_into_its_input_as_torch(make):
    values = np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32)
    results = {}
    for lib in (torch, minigrad):
        x = lib.tensor(values, requires_grad=True)
        y = x * 2
        z = make(lib)(y)
        assert z is y
        z.sum().backward()
        results[lib.__name__] = (z.detach().numpy().copy(), x.grad.numpy().copy())
    for mine, theirs in zip(results["minigrad"], results["torch"]):
        np.testing.assert_array_equal(mine, theirs)
