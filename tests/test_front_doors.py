"""One front door per op: every spelling of an op (Tensor method, top-level function,
nn.functional, module) is the same function and behaves as torch's; multi-output Functions;
and every module of the package imports first on its own (the Tensor <-> ops <-> autograd
circle resolves from any entry point)."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check, random_array
from minigrad import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent


# name: spellings (module, functional, nn) -> callables of one input tensor
SPELLINGS = {
    "sigmoid": lambda m, f, n: [lambda x: x.sigmoid(), m.sigmoid, f.sigmoid, n.Sigmoid()],
    "tanh": lambda m, f, n: [lambda x: x.tanh(), m.tanh, f.tanh, n.Tanh()],
    "relu": lambda m, f, n: [lambda x: x.relu(), m.relu, f.relu, n.ReLU()],
    "softmax": lambda m, f, n: [lambda x: x.softmax(-1), lambda x: m.softmax(x, -1),
                                lambda x: f.softmax(x, -1), n.Softmax(-1)],
    "flatten": lambda m, f, n: [lambda x: x.flatten(1), lambda x: m.flatten(x, 1),
                                n.Flatten()],
}


@pytest.mark.parametrize("name", list(SPELLINGS))
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_every_spelling_matches_torch(name, dtype):
    values = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    mine = SPELLINGS[name](mg, F, nn)
    theirs = SPELLINGS[name](torch, torch.nn.functional, torch.nn)
    for mine_fn, their_fn in zip(mine, theirs):
        try:
            expected = their_fn(torch.from_numpy(values.copy()))
        except RuntimeError as error:
            with pytest.raises(RuntimeError, match=str(error).split("'")[0][:20]):
                mine_fn(mg.tensor(values))
            continue
        out = mine_fn(mg.tensor(values))
        assert out.dtype == expected.numpy().dtype
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_functional_and_top_level_names_are_the_front_doors():
    from minigrad.ops import elementwise, nn as nn_ops, shape
    assert F.sigmoid is mg.sigmoid is elementwise.sigmoid
    assert F.relu is mg.relu is elementwise.relu
    assert F.linear is nn_ops.linear
    assert mg.cat is shape.cat and F.flatten is mg.flatten is shape.flatten


@pytest.mark.parametrize("layer, functional", [
    (lambda n: n.LeakyReLU(0.2, inplace=True), None),
    (lambda n: n.ReLU(inplace=True), None),
    (None, lambda f, x: f.leaky_relu(x, 0.2, inplace=True)),
    (None, lambda f, x: f.relu(x, inplace=True)),
])
def test_inplace_flags_write_into_the_input(layer, functional):
    values = random_array((3, 4), np.float32, seed=3)
    results = []
    for module, f, n in ((mg, F, nn), (torch, torch.nn.functional, torch.nn)):
        x = module.tensor(values.copy())
        out = layer(n)(x) if layer else functional(f, x)
        assert out is x
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(*results)


def test_inplace_leaky_relu_in_a_graph_matches_torch():
    def fn(module, f):
        def program(x):
            y = x * 2
            f.leaky_relu(y, 0.1, inplace=True)
            return y
        return program
    check(fn(mg, F), fn(torch, torch.nn.functional), random_array((2, 5), away_from=0.0))


def test_dropout_inplace_writes_into_the_input():
    x = mg.ones(1000)
    out = F.dropout(x, 0.5, training=True, inplace=True)
    assert out is x and 300 < int((x.numpy() == 0).sum()) < 700


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_along_a_dim_is_one_node_with_two_outputs(dtype):
    x = random_array((3, 5), dtype)
    check(lambda t: t.max(1), lambda t: t.max(1), x)
    check(lambda t: mg.min(t, 0, keepdim=True), lambda t: torch.min(t, 0, keepdim=True), x)
    values, indices = mg.tensor(x, requires_grad=True).max(1)
    assert values.grad_fn is not None and not indices.requires_grad
    assert indices.dtype == np.int64 and values.grad_fn.name() == "MaxBackward0"


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_with_indices_is_one_node_with_two_outputs(dtype):
    x = random_array((2, 3, 6, 6), dtype, seed=4)
    check(lambda t: F.max_pool2d(t, 2, return_indices=True),
          lambda t: torch.nn.functional.max_pool2d(t, 2, return_indices=True), x)
    out, indices = F.max_pool2d(mg.tensor(x, requires_grad=True), 3, 2, return_indices=True)
    assert not indices.requires_grad and out.grad_fn is not None


def _sort_function(base):
    """A custom Function with two outputs, the second marked non-differentiable."""
    class Sort(base):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort(-1)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            (indices,) = ctx.saved_tensors
            return (grad_values * 0).scatter(-1, indices, grad_values)
    return Sort


def test_a_custom_function_with_a_non_differentiable_output_matches_torch():
    mine = _sort_function(mg.autograd.Function)
    theirs = _sort_function(torch.autograd.Function)
    x = random_array((3, 4), seed=5)
    check(mine.apply, theirs.apply, x)
    values, indices = mine.apply(mg.tensor(x, requires_grad=True))
    assert values.requires_grad and not indices.requires_grad
    assert values.grad_fn.name() == "SortBackward"  # torch names custom nodes class+Backward


MODULES = sorted(str(p.relative_to(ROOT).with_suffix("")).replace("/", ".")
                 for p in (ROOT / "minigrad").rglob("*.py")
                 if "__" not in p.name and "examples" not in p.parts and "_kernels" not in p.parts)


def test_every_module_imports_first():
    """Each module imported first, in a fresh interpreter (one process for all: the cost is
    the interpreter start-up)."""
    program = ("import importlib, sys\n"
               "for name in sys.argv[1:]:\n"
               "    for key in [k for k in sys.modules if k.startswith('minigrad')]:\n"
               "        del sys.modules[key]\n"
               "    importlib.import_module(name)\n")
    result = subprocess.run([sys.executable, "-c", program, *MODULES], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "minigrad.tensor" in MODULES and "minigrad.autograd.engine" in MODULES


def test_gradcheck_is_importable_from_both_places():
    from minigrad.autograd import gradcheck as from_package
    from minigrad.autograd.gradcheck import gradcheck as from_module
    assert from_package is from_module
