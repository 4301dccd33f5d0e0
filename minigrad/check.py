"""Check minigrad against the installed PyTorch: `python -m minigrad.check [--quick] [--seed N]`.

Every op, layer, loss and optimizer runs in both frameworks on the same random inputs, over a
few random configurations (shapes, strides, paddings, options) per case and both float32 and
float64. For ops, layers and losses the forward values and every gradient are compared
(minigrad.testing.compare_to_torch: one backward through the sum of the outputs times a fixed
random upstream gradient; layers also compare each parameter's gradient and any running
statistics); for optimizers, the parameters after each of a few steps with the same gradients.

The table has one row per case and dtype: the largest absolute and relative error over the
configurations, for the forward value and for each gradient, and pass or fail under
minigrad.testing.TOLERANCES. The exit code is 0 when every case passes, 1 otherwise, and 2 when
torch is not installed.
"""
import argparse
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

from minigrad._torch_checkpoint import TORCH_CPU_INSTALL

__all__ = ["CASES", "run_checks", "main"]

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass
class CheckCase:
    """``run(rng, dtype, torch)`` returns (errors: name -> (abs, rel, ok), messages)."""

    name: str
    family: str
    run: Callable = field(repr=False)


@dataclass
class Result:
    case: CheckCase
    dtype: np.dtype
    configs: int = 0
    errors: dict = field(default_factory=dict)   # name -> (abs, rel, ok)
    messages: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.messages and all(ok for _, _, ok in self.errors.values())

    def add(self, errors: dict, messages: list) -> None:
        self.configs += 1
        self.messages += messages
        for name, (abs_err, rel_err, ok) in errors.items():
            old = self.errors.get(name, (0.0, 0.0, True))
            self.errors[name] = (max(old[0], abs_err), max(old[1], rel_err), old[2] and ok)


def _namespaces(torch):
    """The same names in both frameworks: lib, F (functional), nn, optim."""
    import minigrad
    import minigrad.nn.functional
    from minigrad import nn, optim
    mine = SimpleNamespace(lib=minigrad, F=minigrad.nn.functional, nn=nn, optim=optim)
    theirs = SimpleNamespace(lib=torch, F=torch.nn.functional, nn=torch.nn, optim=torch.optim)
    return mine, theirs


def _tolerance(dtype, scale=1.0):
    from minigrad.testing import TOLERANCES
    rtol, atol = TOLERANCES[np.dtype(dtype)]
    return rtol * scale, atol * scale


def _measure(name, mine, theirs, dtype, errors, messages, scale=1.0):
    """One array of minigrad against torch's, recorded under ``name``."""
    from minigrad.testing import Comparison, _measure as measure
    rtol, atol = _tolerance(dtype, scale)
    report = Comparison()
    measure(name, mine, theirs, rtol, atol, report)
    errors.update(report.errors)
    messages += report.messages


# ----------------------------------------------------------------------------- ops

def _uniform(rng, shape, dtype, low=-2.0, high=2.0, away_from=None):
    """Uniform values; with ``away_from``, none within 0.1 of it (kinks, poles, ties)."""
    values = rng.uniform(low, high, shape)
    if away_from is not None:
        close = np.abs(values - away_from) < 0.1
        values = np.where(close, values + 0.2 * np.where(values >= away_from, 1, -1), values)
    return values.astype(dtype)


def _shape(rng, ndim, low=1, high=6):
    return tuple(int(s) for s in rng.integers(low, high + 1, ndim))


def _op_case(name, fn, make_inputs, names, scale=1.0, differentiable=None):
    """An op: ``fn(ns, *inputs)`` in both frameworks; ``make_inputs(rng, dtype)`` -> arrays.
    Floating inputs get a gradient unless ``differentiable`` names the ones that do."""
    def run(rng, dtype, torch):
        from minigrad.testing import compare_to_torch
        mine, theirs = _namespaces(torch)
        inputs = make_inputs(rng, dtype)
        rtol, atol = _tolerance(dtype, scale)
        requires_grad = None if differentiable is None else [
            n in differentiable and isinstance(x, np.ndarray) and x.dtype.kind == "f"
            for n, x in zip(names, inputs)]
        report = compare_to_torch(lambda *xs: fn(mine, *xs), lambda *xs: fn(theirs, *xs),
                                  inputs, requires_grad=requires_grad, rtol=rtol, atol=atol,
                                  seed=int(rng.integers(1 << 30)))
        errors = {_gradient_name(key, names): value for key, value in report.errors.items()}
        return errors, list(report.messages)
    return CheckCase(name, "op", run)


def _gradient_name(key: str, names) -> str:
    if key.startswith("grad[") and names:
        return "d" + names[int(key[5:-1])]
    return key


def _unary(rng, dtype, **kwargs):
    return [_uniform(rng, _shape(rng, int(rng.integers(1, 4))), dtype, **kwargs)]


def _binary_broadcast(rng, dtype, **kwargs):
    shape = _shape(rng, 3)
    other = tuple(1 if rng.random() < 0.3 else s for s in shape)[int(rng.integers(0, 2)):]
    return [_uniform(rng, shape, dtype), _uniform(rng, other, dtype, **kwargs)]


def _matrix_pair(rng, dtype, batch=()):
    m, k, n = _shape(rng, 3, 1, 17)
    return [_uniform(rng, batch + (m, k), dtype), _uniform(rng, (k, n), dtype)]


def _conv_inputs(rng, dtype):
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kh, kw = _shape(rng, 2, 1, 4)
    options = dict(stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 3)),
                   dilation=int(rng.integers(1, 3)), groups=groups)
    # every side at least as large as the dilated kernel
    size = tuple(max(s, options["dilation"] * (k - 1) + 1)
                 for s, k in zip(_shape(rng, 2, 5, 10), (kh, kw)))
    x = _uniform(rng, (int(rng.integers(1, 4)), c_in) + size, dtype)
    w = _uniform(rng, (c_out, c_in // groups, kh, kw), dtype, -0.5, 0.5)
    b = _uniform(rng, (c_out,), dtype)
    return [x, w, b, options]


def _pool_inputs(rng, dtype):
    kernel = int(rng.integers(1, 4))
    options = dict(kernel_size=kernel, stride=int(rng.integers(1, 4)),
                   padding=int(rng.integers(0, kernel // 2 + 1)))
    x = rng.permutation(np.linspace(-2, 2, 2 * 3 * 9 * 8)).reshape(2, 3, 9, 8).astype(dtype)
    return [x, options]  # distinct values: no ties for max


def _batch_norm_inputs(rng, dtype):
    c = int(rng.integers(1, 5))
    x = _uniform(rng, (int(rng.integers(2, 5)), c) + _shape(rng, 2, 1, 4), dtype)
    return [x, _uniform(rng, (c,), dtype), _uniform(rng, (c,), dtype)]


def _op_cases():
    distinct = dict(away_from=0.0)
    return [
        _op_case("add", lambda ns, a, b: a + b, _binary_broadcast, ("a", "b")),
        _op_case("sub", lambda ns, a, b: a - b, _binary_broadcast, ("a", "b")),
        _op_case("mul", lambda ns, a, b: a * b, _binary_broadcast, ("a", "b")),
        _op_case("div", lambda ns, a, b: a / b,
                 lambda rng, dt: _binary_broadcast(rng, dt, **distinct), ("a", "b")),
        _op_case("pow (scalar exponent)", lambda ns, x: x ** 2.5,
                 lambda rng, dt: _unary(rng, dt, low=0.5, high=2.0), ("x",)),
        _op_case("pow (tensor exponent)", lambda ns, a, b: a ** b,
                 lambda rng, dt: [_uniform(rng, (3, 4), dt, 0.5, 2.0), _uniform(rng, (4,), dt)],
                 ("a", "b")),
        _op_case("neg", lambda ns, x: -x, _unary, ("x",)),
        _op_case("abs", lambda ns, x: x.abs(), lambda rng, dt: _unary(rng, dt, **distinct),
                 ("x",)),
        _op_case("exp", lambda ns, x: x.exp(), _unary, ("x",)),
        _op_case("log", lambda ns, x: x.log(), lambda rng, dt: _unary(rng, dt, low=0.5),
                 ("x",)),
        _op_case("sqrt", lambda ns, x: x.sqrt(), lambda rng, dt: _unary(rng, dt, low=0.5),
                 ("x",)),
        _op_case("relu", lambda ns, x: ns.F.relu(x), lambda rng, dt: _unary(rng, dt, **distinct),
                 ("x",)),
        _op_case("leaky_relu", lambda ns, x: ns.F.leaky_relu(x, 0.2),
                 lambda rng, dt: _unary(rng, dt, **distinct), ("x",)),
        _op_case("gelu", lambda ns, x: ns.F.gelu(x), _unary, ("x",)),
        _op_case("gelu (tanh)", lambda ns, x: ns.F.gelu(x, approximate="tanh"), _unary, ("x",)),
        _op_case("sigmoid", lambda ns, x: x.sigmoid(), _unary, ("x",)),
        _op_case("tanh", lambda ns, x: x.tanh(), _unary, ("x",)),
        _op_case("clamp", lambda ns, x: x.clamp(-0.5, 1.0),
                 lambda rng, dt: [np.where(np.abs(np.abs(v - 0.25) - 0.75) < 0.1, 0.0, v)
                                  .astype(dt) for v in _unary(rng, dt)], ("x",)),
        _op_case("where", lambda ns, a, b: ns.lib.where(a > 0, a, b),
                 lambda rng, dt: [_uniform(rng, (4, 5), dt), _uniform(rng, (5,), dt)],
                 ("a", "b")),
        _op_case("maximum", lambda ns, a, b: ns.lib.maximum(a, b),
                 lambda rng, dt: [_uniform(rng, (4, 5), dt), _uniform(rng, (4, 5), dt) + 0.01],
                 ("a", "b")),
        _op_case("softmax", lambda ns, x: ns.F.softmax(x, dim=-1), _unary, ("x",)),
        _op_case("log_softmax", lambda ns, x: ns.F.log_softmax(x, dim=1),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 3), dt)], ("x",)),
        _op_case("sum", lambda ns, x: x.sum(dim=1, keepdim=True),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 3), dt)], ("x",)),
        _op_case("sum (all)", lambda ns, x: x.sum(), _unary, ("x",)),
        _op_case("mean", lambda ns, x: x.mean(dim=(0, 2)),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 3), dt)], ("x",)),
        _op_case("var", lambda ns, x: x.var(dim=1),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 2, 2, 6), dt)], ("x",), scale=10),
        _op_case("std", lambda ns, x: x.std(dim=0),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 2, 2, 6), dt)], ("x",), scale=10),
        _op_case("max (dim)", lambda ns, x: x.max(dim=1),
                 lambda rng, dt: [rng.permutation(np.linspace(-2, 2, 24)).reshape(4, 6)
                                  .astype(dt)], ("x",)),
        _op_case("amax", lambda ns, x: x.amax(dim=0),
                 lambda rng, dt: [rng.permutation(np.linspace(-2, 2, 24)).reshape(4, 6)
                                  .astype(dt)], ("x",)),
        _op_case("reshape", lambda ns, x: x.reshape(-1, 2),
                 lambda rng, dt: [_uniform(rng, (3, 4, 2), dt)], ("x",)),
        _op_case("permute", lambda ns, x: x.permute(2, 0, 1) * 1.5,
                 lambda rng, dt: [_uniform(rng, _shape(rng, 3), dt)], ("x",)),
        _op_case("transpose", lambda ns, x: x.transpose(0, 1),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 2), dt)], ("x",)),
        _op_case("expand", lambda ns, x: x.expand(3, 4, 5),
                 lambda rng, dt: [_uniform(rng, (4, 1), dt)], ("x",)),
        _op_case("getitem", lambda ns, x: x[1:, ::2],
                 lambda rng, dt: [_uniform(rng, (4, 6, 2), dt)], ("x",)),
        _op_case("cat", lambda ns, a, b: ns.lib.cat([a, b], dim=1),
                 lambda rng, dt: [_uniform(rng, (2, 3), dt), _uniform(rng, (2, 4), dt)],
                 ("a", "b")),
        _op_case("stack", lambda ns, a, b: ns.lib.stack([a, b], dim=0),
                 lambda rng, dt: [_uniform(rng, (2, 3), dt), _uniform(rng, (2, 3), dt)],
                 ("a", "b")),
        _op_case("flatten", lambda ns, x: x.flatten(1),
                 lambda rng, dt: [_uniform(rng, _shape(rng, 4), dt)], ("x",)),
        _op_case("squeeze/unsqueeze", lambda ns, x: x.unsqueeze(0).squeeze(2),
                 lambda rng, dt: [_uniform(rng, (3, 1, 2), dt)], ("x",)),
        _op_case("matmul", lambda ns, a, b: a @ b, _matrix_pair, ("a", "b")),
        _op_case("matmul (batched)", lambda ns, a, b: ns.lib.matmul(a, b),
                 lambda rng, dt: _matrix_pair(rng, dt, batch=(3,)), ("a", "b")),
        _op_case("linear", lambda ns, x, w, b: ns.F.linear(x, w, b),
                 lambda rng, dt: [_uniform(rng, (5, 7), dt), _uniform(rng, (3, 7), dt),
                                  _uniform(rng, (3,), dt)], ("x", "w", "b")),
        _op_case("conv2d", lambda ns, x, w, b, o: ns.F.conv2d(x, w, b, **o), _conv_inputs,
                 ("x", "w", "b")),
        _op_case("max_pool2d", lambda ns, x, o: ns.F.max_pool2d(x, **o), _pool_inputs, ("x",)),
        _op_case("avg_pool2d", lambda ns, x, o: ns.F.avg_pool2d(x, **o), _pool_inputs, ("x",)),
        _op_case("adaptive_avg_pool2d", lambda ns, x: ns.F.adaptive_avg_pool2d(x, (3, 2)),
                 lambda rng, dt: [_uniform(rng, (2, 3) + _shape(rng, 2, 3, 9), dt)], ("x",)),
        _op_case("batch_norm (training)",
                 lambda ns, x, g, b: ns.F.batch_norm(x, None, None, g, b, training=True),
                 _batch_norm_inputs, ("x", "gamma", "beta"), scale=10),
        _op_case("pad", lambda ns, x, o: ns.F.pad(x, **o), _pad_inputs, ("x",)),
        _op_case("interpolate", lambda ns, x, o: ns.F.interpolate(x, **o), _interpolate_inputs,
                 ("x",)),
        _op_case("layer_norm", lambda ns, x, w, b: ns.F.layer_norm(x, list(w.shape), w, b),
                 lambda rng, dt: [_uniform(rng, (3, 2, 5), dt), _uniform(rng, (2, 5), dt),
                                  _uniform(rng, (2, 5), dt)], ("x", "w", "b"), scale=10),
        _op_case("group_norm", lambda ns, x, w, b: ns.F.group_norm(x, 2, w, b),
                 lambda rng, dt: [_uniform(rng, (3, 4, 3, 2), dt), _uniform(rng, (4,), dt),
                                  _uniform(rng, (4,), dt)], ("x", "w", "b"), scale=10),
        _op_case("embedding", lambda ns, i, w: ns.F.embedding(i, w),
                 lambda rng, dt: [rng.integers(0, 6, (3, 4)), _uniform(rng, (6, 5), dt)],
                 ("indices", "weight")),
        _op_case("scaled_dot_product_attention",
                 lambda ns, q, k, v: ns.F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 lambda rng, dt: [_uniform(rng, (2, 2, 4, 8), dt), _uniform(rng, (2, 2, 4, 8), dt),
                                  _uniform(rng, (2, 2, 4, 6), dt)], ("q", "k", "v")),
    ]


def _pad_inputs(rng, dtype):
    mode = str(rng.choice(["constant", "reflect", "replicate", "circular"]))
    x = _uniform(rng, (2, 3, 5, 6), dtype)
    pad = tuple(int(p) for p in rng.integers(-1, 3, 4))
    return [x, dict(pad=pad, mode=mode)]


def _interpolate_inputs(rng, dtype):
    mode = str(rng.choice(["nearest", "nearest-exact", "bilinear", "bicubic"]))
    options = dict(size=tuple(int(n) for n in rng.integers(2, 12, 2)), mode=mode)
    if mode in ("bilinear", "bicubic"):
        options["align_corners"] = bool(rng.random() < 0.5)
    return [_uniform(rng, (2, 3, 5, 6), dtype), options]


# ----------------------------------------------------------------------------- layers

def _copy_module_state(torch_module, mg_module):
    """minigrad's parameters and buffers take torch's values (torch initialised them)."""
    theirs = dict(torch_module.named_parameters()) | dict(torch_module.named_buffers())
    mine = dict(mg_module.named_parameters()) | dict(mg_module.named_buffers())
    if set(theirs) != set(mine):
        raise AssertionError(f"state names differ: minigrad {sorted(mine)}, torch {sorted(theirs)}")
    for name, tensor in mine.items():
        tensor.data[...] = theirs[name].detach().numpy()


def _layer_case(name, build, input_shape, training=True, low=-2.0, high=2.0, scale=1.0):
    """A layer: ``build(nn)`` in both frameworks; torch's initial state is copied over."""
    def run(rng, dtype, torch):
        from minigrad.testing import compare_to_torch
        mine, theirs = _namespaces(torch)
        torch.manual_seed(int(rng.integers(1 << 30)))
        # both builds draw the same configuration, from copies of the generator
        torch_layer, mg_layer = build(theirs.nn, rng_copy(rng)), build(mine.nn, rng_copy(rng))
        if dtype == np.float64:
            torch_layer, mg_layer = torch_layer.double(), mg_layer.double()
        _copy_module_state(torch_layer, mg_layer)
        torch_layer.train(training)
        mg_layer.train(training)
        shape = input_shape(rng) if callable(input_shape) else input_shape
        x = _uniform(rng, shape, dtype, low, high, away_from=0.0)
        rtol, atol = _tolerance(dtype, scale)
        report = compare_to_torch(mg_layer, torch_layer, [x], rtol=rtol, atol=atol)
        errors = {_gradient_name(k, ("x",)): v for k, v in report.errors.items()}
        messages = list(report.messages)
        if report.passed:
            for pname, param in torch_layer.named_parameters():
                mg_param = dict(mg_layer.named_parameters())[pname]
                if param.grad is None or mg_param.grad is None:
                    if (param.grad is None) != (mg_param.grad is None):
                        messages.append(f"d{pname}: only one framework has a gradient")
                    continue
                _measure(f"d{pname}", mg_param.grad, param.grad, dtype, errors, messages, scale)
            for bname, buffer in torch_layer.named_buffers():
                if buffer.dtype.is_floating_point:
                    _measure(bname, dict(mg_layer.named_buffers())[bname], buffer, dtype, errors,
                             messages, scale)
        return errors, messages
    return CheckCase(name, "layer", run)


def rng_copy(rng):
    """A generator in the same state, so both frameworks draw the same configuration."""
    copy = np.random.default_rng()
    copy.bit_generator.state = rng.bit_generator.state
    return copy


def _seed_model(nn, rng):
    return nn.Sequential(
        nn.Conv2d(3, 8, 5, stride=1, padding=2), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 5, stride=1, padding=2), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 10))


def _layer_cases():
    def conv(nn, rng):
        return nn.Conv2d(3, 4, int(rng.integers(1, 4)), stride=int(rng.integers(1, 3)),
                         padding=int(rng.integers(0, 2)), bias=bool(rng.random() < 0.7))

    return [
        _layer_case("Linear", lambda nn, rng: nn.Linear(6, 4),
                    lambda rng: (int(rng.integers(1, 5)), 6)),
        _layer_case("Linear (no bias)", lambda nn, rng: nn.Linear(5, 3, bias=False), (2, 5)),
        _layer_case("Conv2d", conv, lambda rng: (2, 3) + _shape(rng, 2, 4, 8)),
        _layer_case("MaxPool2d", lambda nn, rng: nn.MaxPool2d(2), (2, 3, 6, 6)),
        _layer_case("AvgPool2d", lambda nn, rng: nn.AvgPool2d(3, stride=2, padding=1),
                    (2, 3, 7, 6)),
        _layer_case("AdaptiveAvgPool2d", lambda nn, rng: nn.AdaptiveAvgPool2d((2, 3)),
                    (2, 3, 7, 8)),
        _layer_case("ReLU", lambda nn, rng: nn.ReLU(), (3, 5)),
        _layer_case("LeakyReLU", lambda nn, rng: nn.LeakyReLU(0.1), (3, 5)),
        _layer_case("GELU", lambda nn, rng: nn.GELU(), (3, 5)),
        _layer_case("Sigmoid", lambda nn, rng: nn.Sigmoid(), (3, 5)),
        _layer_case("Tanh", lambda nn, rng: nn.Tanh(), (3, 5)),
        _layer_case("Softmax", lambda nn, rng: nn.Softmax(dim=1), (3, 5)),
        _layer_case("LogSoftmax", lambda nn, rng: nn.LogSoftmax(dim=1), (3, 5)),
        _layer_case("BatchNorm1d", lambda nn, rng: nn.BatchNorm1d(4), (6, 4), scale=10),
        _layer_case("BatchNorm2d", lambda nn, rng: nn.BatchNorm2d(3), (4, 3, 3, 2), scale=10),
        _layer_case("BatchNorm2d (eval)", lambda nn, rng: nn.BatchNorm2d(3), (4, 3, 3, 2),
                    training=False),
        _layer_case("Dropout (eval)", lambda nn, rng: nn.Dropout(0.5), (3, 5), training=False),
        _layer_case("Flatten", lambda nn, rng: nn.Flatten(), (2, 3, 4)),
        _layer_case("Identity", lambda nn, rng: nn.Identity(), (2, 3)),
        _layer_case("Conv1d", lambda nn, rng: nn.Conv1d(3, 4, 3, padding=1,
                                                       padding_mode="circular"), (2, 3, 9)),
        _layer_case("Conv2d (reflect padding)",
                    lambda nn, rng: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
                    (2, 3, 6, 5)),
        _layer_case("ConvTranspose2d", lambda nn, rng: nn.ConvTranspose2d(
            4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 4)),
        _layer_case("ConvTranspose1d", lambda nn, rng: nn.ConvTranspose1d(4, 2, 3, stride=2),
                    (2, 4, 6)),
        _layer_case("LayerNorm", lambda nn, rng: nn.LayerNorm(6), (3, 4, 6), scale=10),
        _layer_case("GroupNorm", lambda nn, rng: nn.GroupNorm(2, 4), (3, 4, 3, 3), scale=10),
        _layer_case("SiLU", lambda nn, rng: nn.SiLU(), (3, 5)),
        _layer_case("Mish", lambda nn, rng: nn.Mish(), (3, 5)),
        _layer_case("ELU", lambda nn, rng: nn.ELU(0.7), (3, 5)),
        _layer_case("Softplus", lambda nn, rng: nn.Softplus(2.0), (3, 5)),
        _layer_case("ReLU6", lambda nn, rng: nn.ReLU6(), (3, 5), low=-8.0, high=8.0),
        _layer_case("PReLU", lambda nn, rng: nn.PReLU(3), (2, 3, 4)),
        _layer_case("MaxPool1d", lambda nn, rng: nn.MaxPool1d(3, 2, 1), (2, 3, 9)),
        _layer_case("AvgPool1d", lambda nn, rng: nn.AvgPool1d(3, 2), (2, 3, 9)),
        _layer_case("AdaptiveMaxPool2d", lambda nn, rng: nn.AdaptiveMaxPool2d((2, 3)),
                    (2, 3, 7, 8)),
        _layer_case("Upsample (bilinear)", lambda nn, rng: nn.Upsample(scale_factor=2,
                                                                       mode="bilinear"),
                    (2, 3, 4, 5)),
        _layer_case("ReflectionPad2d", lambda nn, rng: nn.ReflectionPad2d((1, 2, 2, 0)),
                    (2, 3, 4, 5)),
        _layer_case("Dropout2d (eval)", lambda nn, rng: nn.Dropout2d(0.5), (2, 3, 4, 4),
                    training=False),
        _layer_case("Sequential (seed model, small)", _seed_model, (2, 3, 16, 16)),
    ]


# ----------------------------------------------------------------------------- losses

def _loss_case(name, fn, make_inputs, names, differentiable=("input", "target")):
    """A loss: gradients to the input and a float target, not to class or item weights
    (torch's losses are not differentiable in those)."""
    case = _op_case(name, fn, make_inputs, names, differentiable=differentiable)
    case.family = "loss"
    return case


def _logits_targets(rng, dtype, ignore=False):
    n, c = int(rng.integers(1, 6)), int(rng.integers(2, 6))
    targets = rng.integers(0, c, n).astype(np.int64)
    if ignore and n > 1:
        targets[0] = -100
    return [_uniform(rng, (n, c), dtype), targets]


def _loss_cases():
    reduction = ("mean", "sum", "none")

    def class_weights(rng, dt):
        logits, targets = _logits_targets(rng, dt, ignore=True)
        return [logits, targets, _uniform(rng, logits.shape[1:], dt, 0.5, 2.0)]

    def probabilities(rng, dt):
        logits = _uniform(rng, _shape(rng, 2, 2, 5), dt)
        q = rng.random(logits.shape)
        return [logits, (q / q.sum(1, keepdims=True)).astype(dt)]

    def pair(rng, dt):
        shape = _shape(rng, 2)
        return [_uniform(rng, shape, dt), _uniform(rng, shape, dt, away_from=0.0) * 0]

    def regression(rng, dt):
        shape = _shape(rng, 2)
        x = _uniform(rng, shape, dt)
        return [x, (x + _uniform(rng, shape, dt, 0.2, 1.0)).astype(dt)]

    def binary(rng, dt):
        shape = _shape(rng, 2)
        return [_uniform(rng, shape, dt), rng.random(shape).astype(dt),
                _uniform(rng, shape[-1:], dt, 0.5, 2.0)]

    cases = []
    for r in reduction:
        cases.append(_loss_case(f"cross_entropy ({r})",
                                lambda ns, x, t, r=r: ns.F.cross_entropy(x, t, reduction=r),
                                _logits_targets, ("input", "target")))
    cases += [
        _loss_case("cross_entropy (weight, ignore_index)",
                   lambda ns, x, t, w: ns.F.cross_entropy(x, t, weight=w),
                   class_weights, ("input", "target", "weight")),
        _loss_case("cross_entropy (label_smoothing)",
                   lambda ns, x, t: ns.F.cross_entropy(x, t, label_smoothing=0.2),
                   _logits_targets, ("input", "target")),
        _loss_case("cross_entropy (probabilities)",
                   lambda ns, x, q: ns.F.cross_entropy(x, q), probabilities, ("input", "target")),
        _loss_case("nll_loss", lambda ns, x, t: ns.F.nll_loss(ns.F.log_softmax(x, dim=1), t),
                   _logits_targets, ("input", "target")),
        _loss_case("mse_loss", lambda ns, x, y: ns.F.mse_loss(x, y), regression,
                   ("input", "target")),
        _loss_case("l1_loss", lambda ns, x, y: ns.F.l1_loss(x, y, reduction="sum"), regression,
                   ("input", "target")),
        _loss_case("binary_cross_entropy_with_logits",
                   lambda ns, x, y, p: ns.F.binary_cross_entropy_with_logits(x, y, pos_weight=p),
                   binary, ("input", "target", "pos_weight")),
        _loss_case("CrossEntropyLoss", lambda ns, x, t: ns.nn.CrossEntropyLoss()(x, t),
                   _logits_targets, ("input", "target")),
        _loss_case("NLLLoss", lambda ns, x, t: ns.nn.NLLLoss(reduction="sum")(x, t),
                   _logits_targets, ("input", "target")),
        _loss_case("MSELoss", lambda ns, x, y: ns.nn.MSELoss()(x, y), regression,
                   ("input", "target")),
        _loss_case("L1Loss", lambda ns, x, y: ns.nn.L1Loss()(x, y), regression,
                   ("input", "target")),
        _loss_case("BCEWithLogitsLoss", lambda ns, x, y, w: ns.nn.BCEWithLogitsLoss(weight=w)(x, y),
                   binary, ("input", "target", "weight")),
    ]
    return cases + _more_loss_cases(regression)


def _more_loss_cases(regression):
    def probabilities(rng, dt):
        shape = _shape(rng, 2)
        return [_uniform(rng, shape, dt, 0.05, 0.95), rng.random(shape).astype(dt),
                _uniform(rng, shape[-1:], dt, 0.5, 2.0)]

    def distributions(rng, dt):
        logits = _uniform(rng, _shape(rng, 2, 2, 5), dt)
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return [log_p.astype(dt), np.exp(log_p[::-1]).astype(dt)]

    def pairs(rng, dt):
        n, d = _shape(rng, 2)
        return [_uniform(rng, (n, d), dt), _uniform(rng, (n, d), dt),
                rng.choice([1.0, -1.0], n).astype(dt)]

    def ranked(rng, dt):
        n = int(rng.integers(1, 9))
        return [_uniform(rng, (n,), dt), _uniform(rng, (n,), dt),
                rng.choice([1.0, -1.0], n).astype(dt)]

    pair_names = ("input1", "input2", "target")
    return [
        _loss_case("binary_cross_entropy",
                   lambda ns, x, y, w: ns.F.binary_cross_entropy(x, y, weight=w), probabilities,
                   ("input", "target", "weight")),
        _loss_case("smooth_l1_loss", lambda ns, x, y: ns.F.smooth_l1_loss(x, y, beta=0.5),
                   regression, ("input", "target")),
        _loss_case("huber_loss", lambda ns, x, y: ns.F.huber_loss(x, y, delta=0.5),
                   regression, ("input", "target")),
        _loss_case("kl_div (batchmean)",
                   lambda ns, x, t: ns.F.kl_div(x, t, reduction="batchmean"), distributions,
                   ("input", "target")),
        _loss_case("kl_div (log_target)",
                   lambda ns, x, t: ns.F.kl_div(x, t.log(), reduction="sum", log_target=True),
                   distributions, ("input", "target")),
        _loss_case("cosine_embedding_loss",
                   lambda ns, a, b, t: ns.F.cosine_embedding_loss(a, b, t, margin=0.1), pairs,
                   pair_names, differentiable=("input1", "input2")),
        _loss_case("margin_ranking_loss",
                   lambda ns, a, b, t: ns.F.margin_ranking_loss(a, b, t, margin=0.2), ranked,
                   pair_names, differentiable=pair_names),
        _loss_case("BCELoss", lambda ns, x, y, w: ns.nn.BCELoss(weight=w)(x, y), probabilities,
                   ("input", "target", "weight")),
        _loss_case("SmoothL1Loss", lambda ns, x, y: ns.nn.SmoothL1Loss(beta=2.0)(x, y),
                   regression, ("input", "target")),
        _loss_case("HuberLoss", lambda ns, x, y: ns.nn.HuberLoss(reduction="sum")(x, y),
                   regression, ("input", "target")),
        _loss_case("KLDivLoss", lambda ns, x, t: ns.nn.KLDivLoss(reduction="batchmean")(x, t),
                   distributions, ("input", "target")),
        _loss_case("CosineEmbeddingLoss",
                   lambda ns, a, b, t: ns.nn.CosineEmbeddingLoss(margin=-0.2)(a, b, t), pairs,
                   pair_names, differentiable=("input1", "input2")),
        _loss_case("MarginRankingLoss",
                   lambda ns, a, b, t: ns.nn.MarginRankingLoss(reduction="sum")(a, b, t), ranked,
                   pair_names, differentiable=pair_names),
    ]


# ----------------------------------------------------------------------------- optimizers

STEPS = 4


def _optimizer_case(name, class_name, options):
    """Same parameters and the same gradient at each step; parameters compared after each."""
    def run(rng, dtype, torch):
        import minigrad
        mine, theirs = _namespaces(torch)
        shapes = [_shape(rng, int(rng.integers(1, 3)), 1, 7) for _ in range(3)]
        start = [_uniform(rng, s, dtype) for s in shapes]
        mg_params = [minigrad.tensor(a.copy(), requires_grad=True) for a in start]
        torch_params = [torch.tensor(a.copy(), requires_grad=True) for a in start]
        mg_opt = getattr(mine.optim, class_name)(mg_params, **options)
        torch_opt = getattr(theirs.optim, class_name)(torch_params, **options)
        errors, messages = {}, []
        for _ in range(STEPS):
            for mg_p, torch_p, shape in zip(mg_params, torch_params, shapes):
                grad = _uniform(rng, shape, dtype)
                mg_p.grad = minigrad.tensor(grad.copy())
                torch_p.grad = torch.tensor(grad.copy())
            mg_opt.step()
            torch_opt.step()
            for i, (mg_p, torch_p) in enumerate(zip(mg_params, torch_params)):
                step_errors = {}
                _measure("params", mg_p, torch_p, dtype, step_errors, messages)
                for key, (abs_err, rel_err, ok) in step_errors.items():
                    old = errors.get(key, (0.0, 0.0, True))
                    errors[key] = (max(old[0], abs_err), max(old[1], rel_err), old[2] and ok)
        return errors, messages
    return CheckCase(name, "optimizer", run)


def _optimizer_cases():
    return [
        _optimizer_case("SGD", "SGD", dict(lr=0.1)),
        _optimizer_case("SGD (momentum, dampening)", "SGD",
                        dict(lr=0.1, momentum=0.9, dampening=0.1)),
        _optimizer_case("SGD (nesterov, weight_decay)", "SGD",
                        dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        _optimizer_case("SGD (maximize)", "SGD", dict(lr=0.1, maximize=True)),
        _optimizer_case("Adam", "Adam", dict(lr=0.01)),
        _optimizer_case("Adam (amsgrad, weight_decay)", "Adam",
                        dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
        _optimizer_case("AdamW", "AdamW", dict(lr=0.01, weight_decay=0.1)),
        _optimizer_case("RMSprop", "RMSprop", dict(lr=0.01)),
        _optimizer_case("RMSprop (centered, momentum)", "RMSprop",
                        dict(lr=0.01, centered=True, momentum=0.5)),
        _optimizer_case("Adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.01)),
        _optimizer_case("Adadelta", "Adadelta", dict(lr=1.0)),
        _optimizer_case("Adadelta (rho, weight_decay, maximize)", "Adadelta",
                        dict(lr=0.5, rho=0.7, weight_decay=0.1, maximize=True)),
        _optimizer_case("Adamax", "Adamax", dict(lr=0.01)),
        _optimizer_case("Adamax (weight_decay)", "Adamax", dict(lr=0.01, weight_decay=0.1)),
        _optimizer_case("NAdam", "NAdam", dict(lr=0.01)),
        _optimizer_case("NAdam (decoupled weight decay)", "NAdam",
                        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
        _optimizer_case("RAdam", "RAdam", dict(lr=0.01)),
        _optimizer_case("RAdam (weight_decay, maximize)", "RAdam",
                        dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ]


CASES = _op_cases() + _layer_cases() + _loss_cases() + _optimizer_cases()


# ----------------------------------------------------------------------------- running

def run_checks(cases=None, configs=3, seed=0, dtypes=DTYPES, torch=None) -> list:
    """Every case x dtype over ``configs`` random configurations: a list of Result."""
    import torch as torch_module
    torch = torch or torch_module
    results = []
    for index, case in enumerate(CASES if cases is None else cases):
        for dtype in dtypes:
            result = Result(case, np.dtype(dtype))
            rng = np.random.default_rng([seed, index, np.dtype(dtype).itemsize])
            for _ in range(configs):
                try:
                    errors, messages = case.run(rng, np.dtype(dtype), torch)
                except Exception as error:  # a crash is a failure to report, not to hide
                    errors, messages = {}, [f"{type(error).__name__}: {error}"]
                result.add(errors, messages)
            results.append(result)
    return results


def _errors_text(errors: dict, names) -> str:
    return "  ".join(f"{name} {errors[name][0]:.1e}/{errors[name][1]:.1e}" for name in names)


def format_table(results: list) -> str:
    """One row per case and dtype; errors as largest absolute / largest relative error.
    The forward column of an optimizer holds its parameters after the steps."""
    title = (f"{'family':<10} {'case':<38} {'dtype':<8} {'result':<6} {'forward abs/rel':<17} "
             "gradients: name abs/rel")
    lines = [title, "-" * (len(title) + 30)]
    for result in results:
        forward = [k for k in result.errors if k.startswith("forward") or k == "params"]
        gradients = [k for k in result.errors if k not in forward]
        forward_text = " ".join(f"{result.errors[k][0]:.1e}/{result.errors[k][1]:.1e}"
                                for k in forward) or "-"
        lines.append(f"{result.case.family:<10} {result.case.name:<38} {result.dtype.name:<8} "
                     f"{'pass' if result.passed else 'FAIL':<6} {forward_text:<17} "
                     f"{_errors_text(result.errors, gradients) or '-'}")
        lines += [f"{'':<10} ! {message}" for message in dict.fromkeys(result.messages)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.check",
        description="Compare every minigrad op, layer, loss and optimizer with the installed "
                    "torch.")
    parser.add_argument("--quick", action="store_true",
                        help="one random configuration per case and dtype (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random configurations")
    parser.add_argument("--cases", default="",
                        help="only the cases whose name contains one of these comma-separated "
                             "words (case-insensitive)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print(f"minigrad.check compares minigrad with PyTorch, which is not installed. Install "
              f"the CPU build it is tested with (plain `pip install torch` fetches a CUDA build "
              f"of several GB on Linux):\n    {TORCH_CPU_INSTALL}", file=sys.stderr)
        return 2

    cases = CASES
    if args.cases:
        words = [w.strip().lower() for w in args.cases.split(",") if w.strip()]
        cases = [c for c in CASES if any(w in c.name.lower() or w == c.family for w in words)]
    results = run_checks(cases, configs=1 if args.quick else 3, seed=args.seed, torch=torch)
    print(f"minigrad vs torch {torch.__version__}: {len(cases)} cases x {len(DTYPES)} dtypes, "
          f"{1 if args.quick else 3} random configuration(s) each, seed {args.seed}")
    print(format_table(results))
    failed = [r for r in results if not r.passed]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
