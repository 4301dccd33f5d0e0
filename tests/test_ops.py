"""Every op of the Tensor core against torch: forward values and every input's gradient, over
random shapes, broadcasting, Python scalars on either side, float32 and float64.

Each test builds the same inputs for both frameworks and goes through
``minigrad.testing.assert_close_to_torch`` (tolerances by dtype, stated there).
"""
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import DTYPES, check, positive_array, random_array

# Pairs of shapes that broadcast: equal, trailing, size-1 on both sides, rank differences, 0-d.
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((1,), (2, 3)),
    ((), (3, 2)),
    ((2, 3), ()),
    ((5, 1, 3), (4, 1)),
    ((2, 1, 4), (2, 3, 1)),
    ((1, 1, 1), (7,)),
]

BINARY_OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "add_fn": (mg.add, torch.add),
    "sub_fn": (mg.sub, torch.sub),
    "mul_fn": (mg.mul, torch.mul),
    "div_fn": (mg.div, torch.div),
    "pow_fn": (mg.pow, torch.pow),
    "maximum": (mg.maximum, torch.maximum),
    "minimum": (mg.minimum, torch.minimum),
}


def binary_inputs(name, shape_a, shape_b, dtype):
    a = random_array(shape_a, dtype, seed=1)
    b = random_array(shape_b, dtype, seed=2)
    if name.startswith("pow"):
        a = positive_array(shape_a, dtype, seed=1)  # real powers need a positive base
    if name.startswith("div"):
        b = random_array(shape_b, dtype, 0.5, 2.0, seed=2) * np.where(
            random_array(shape_b, np.float64, seed=3) > 0, 1, -1).astype(dtype)
    return a, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_binary_op_broadcasting(name, shapes, dtype):
    mg_fn, torch_fn = BINARY_OPS[name]
    check(mg_fn, torch_fn, *binary_inputs(name, *shapes, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_binary_op_one_side_without_grad(name, dtype):
    a, b = binary_inputs(name, (3, 4), (4,), dtype)
    check(*BINARY_OPS[name], a, b, requires_grad=[True, False])
    check(*BINARY_OPS[name], a, b, requires_grad=[False, True])


SCALAR_EXPRESSIONS = {
    "x + 2": lambda x: x + 2,
    "2 + x": lambda x: 2 + x,
    "x + 1.5": lambda x: x + 1.5,
    "x - 1.5": lambda x: x - 1.5,
    "1.5 - x": lambda x: 1.5 - x,
    "x * 3": lambda x: x * 3,
    "-0.5 * x": lambda x: -0.5 * x,
    "x / 2": lambda x: x / 2,
    "2 / x": lambda x: 2 / x,
    "x ** 2": lambda x: x ** 2,
    "x ** 3": lambda x: x ** 3,
    "x ** 0": lambda x: x ** 0,
    "x ** -1": lambda x: x ** -1,
    "x ** 0.5": lambda x: x ** 0.5,
    "x ** -1.5": lambda x: x ** -1.5,
    "2 ** x": lambda x: 2 ** x,
    "0.5 ** x": lambda x: 0.5 ** x,
    "2.5 ** x": lambda x: 2.5 ** x,
    "pow(x, 2)": lambda x: x.pow(2),
    "x + True": lambda x: x + True,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expression", list(SCALAR_EXPRESSIONS))
def test_python_scalar_on_either_side(expression, dtype):
    fn = SCALAR_EXPRESSIONS[expression]
    fractional_power = "** 0.5" in expression or "** -1.5" in expression
    x = positive_array((3, 5), dtype) if fractional_power else random_array(
        (3, 5), dtype, away_from=0.0, margin=0.3)
    check(fn, fn, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_integer_power_of_negative_base(dtype):
    x = random_array((4, 3), dtype, away_from=0.0)
    check(lambda x: x ** 3, lambda x: x ** 3, x)
    check(lambda x: x ** 2.0, lambda x: x ** 2.0, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_tensor_exponent_with_zero_base(dtype):
    # d(a^b)/db = a^b ln a is taken as 0 where a = 0 (torch's convention).
    a = np.array([0.0, 0.0, 1.5, 2.0], dtype=dtype)
    b = np.array([2.0, 3.0, 0.5, -1.0], dtype=dtype)
    check(lambda a, b: a ** b, lambda a, b: a ** b, a, b)


UNARY_OPS = {
    "neg": (lambda x: -x, lambda x: -x, "any"),
    "neg_fn": (mg.neg, torch.neg, "any"),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), "kink"),
    "abs_builtin": (abs, abs, "kink"),
    "exp": (lambda x: x.exp(), lambda x: x.exp(), "any"),
    "log": (lambda x: x.log(), lambda x: x.log(), "positive"),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), "positive"),
    "relu": (lambda x: x.relu(), lambda x: x.relu(), "kink"),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), "any"),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), "any"),
    "exp_fn": (mg.exp, torch.exp, "any"),
    "log_fn": (mg.log, torch.log, "positive"),
    "sqrt_fn": (mg.sqrt, torch.sqrt, "positive"),
    "relu_fn": (mg.relu, torch.relu, "kink"),
    "sigmoid_fn": (mg.sigmoid, torch.sigmoid, "any"),
    "tanh_fn": (mg.tanh, torch.tanh, "any"),
    "abs_fn": (mg.abs, torch.abs, "kink"),
}

UNARY_SHAPES = [(), (1,), (7,), (3, 4), (2, 1, 5)]


def unary_input(domain, shape, dtype):
    if domain == "positive":
        return positive_array(shape, dtype)
    if domain == "kink":
        return random_array(shape, dtype, away_from=0.0)
    return random_array(shape, dtype, -3.0, 3.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY_OPS))
def test_unary_op(name, shape, dtype):
    mg_fn, torch_fn, domain = UNARY_OPS[name]
    check(mg_fn, torch_fn, unary_input(domain, shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_tanh_saturate_without_overflow(dtype):
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise"):
        check(lambda x: x.sigmoid(), lambda x: x.sigmoid(), x)
        check(lambda x: x.tanh(), lambda x: x.tanh(), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_follow_torch(dtype):
    # At the kink torch takes abs'(0) = 0 and relu'(0) = 0; clamp passes the gradient at
    # the bounds themselves.
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0], dtype=dtype)
    check(lambda x: x.abs(), lambda x: x.abs(), x)
    check(lambda x: x.relu(), lambda x: x.relu(), x)
    check(lambda x: x.clamp(0.0, 1.0), lambda x: x.clamp(0.0, 1.0), x)


# ----------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((1,), (1,)),
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((7, 33), (33, 5)),
    ((3,), (3, 4)),  # vector-matrix
    ((2, 3), (3,)),  # matrix-vector
    ((5, 2, 3), (3, 4)),  # batched @ matrix
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims
    ((1, 3, 2), (4, 1, 2, 6)),
    ((4, 2, 3), (3,)),  # batched matrix-vector
    ((3,), (4, 3, 2)),  # vector-batched matrix
    ((17, 9), (9, 1)),
    ((1, 13), (13, 11)),
    ((33, 65), (65, 17)),  # several cache blocks of the GEMM, odd edges
    ((3, 31, 9), (9, 257)),
    ((257,), (257, 7)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, dtype):
    a = random_array(shapes[0], dtype, seed=1)
    b = random_array(shapes[1], dtype, seed=2)
    check(lambda a, b: a @ b, lambda a, b: a @ b, a, b)
    check(mg.matmul, torch.matmul, a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_on_transposed_and_sliced_views(dtype):
    a = random_array((6, 4), dtype, seed=1)
    b = random_array((5, 6), dtype, seed=2)
    check(lambda a, b: a.T @ b.T, lambda a, b: a.T @ b.T, a, b)
    check(lambda a, b: a[::2, 1:] @ b[1:4, ::2].T, lambda a, b: a[::2, 1:] @ b[1:4, ::2].T,
          a, b)


def test_mm_and_bmm():
    a = random_array((3, 2, 4), seed=1)
    b = random_array((3, 4, 5), seed=2)
    check(mg.bmm, torch.bmm, a, b)
    check(mg.mm, torch.mm, a[0], b[0])


def test_matmul_one_side_without_grad():
    a = random_array((4, 3), seed=1)
    b = random_array((3, 2), seed=2)
    check(mg.matmul, torch.matmul, a, b, requires_grad=[False, True])
    check(mg.matmul, torch.matmul, a, b, requires_grad=[True, False])


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_of_matrices_without_a_graph(dtype):
    """Two float matrices that record no graph take matmul's shortcut to the kernel: the same
    values and an output without grad_fn, as torch; bad input still raises as torch does."""
    a = random_array((37, 20), dtype, seed=1)
    b = random_array((20, 45), dtype, seed=2)
    expected = torch.from_numpy(a) @ torch.from_numpy(b)
    for ta, tb in [(mg.tensor(a), mg.tensor(b)),
                   (mg.tensor(a, requires_grad=True), mg.tensor(b))]:
        with mg.no_grad():
            out = mg.matmul(ta, tb)
        assert out.grad_fn is None and not out.requires_grad and out.dtype == ta.dtype
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    out = mg.tensor(a) @ mg.tensor(b)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    for left, right in [(a, a), (a, b.astype(np.float16)), (a, b[:, :1].T.copy())]:
        with pytest.raises(RuntimeError) as mine:
            mg.matmul(mg.tensor(left), mg.tensor(right))
        with pytest.raises(RuntimeError) as theirs:
            torch.matmul(torch.from_numpy(left), torch.from_numpy(right))
        assert type(mine.value) is type(theirs.value)


def test_integer_matmul_is_exact_and_int64():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    out = mg.tensor(a) @ mg.tensor(b)
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.numpy(), (torch.tensor(a) @ torch.tensor(b)).numpy())


# ----------------------------------------------------------------------------- reductions

REDUCE_DIMS = [
    dict(),
    dict(dim=0),
    dict(dim=1),
    dict(dim=-1),
    dict(dim=-1, keepdim=True),
    dict(dim=(0, 2)),
    dict(dim=(-1, 0), keepdim=True),
    dict(dim=(0, 1, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reductions_over_dims(name, kwargs, dtype):
    x = random_array((3, 4, 5), dtype)
    check(lambda x: getattr(x, name)(**kwargs), lambda x: getattr(x, name)(**kwargs), x)
    if name in ("sum", "mean", "amax"):
        check(lambda x: getattr(mg, name)(x, **kwargs),
              lambda x: getattr(torch, name)(x, **kwargs), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (6,), (2, 1, 3)], ids=str)
def test_full_reductions_of_small_shapes(shape, dtype):
    x = random_array(shape, dtype)
    for name in ["sum", "mean", "max", "min", "amax"]:
        check(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(dim=0), dict(dim=1), dict(dim=-1),
                                    dict(dim=2, keepdim=True), dict(dim=-3, keepdim=True)],
                         ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_dim_return_values_and_indices(name, kwargs, dtype):
    x = random_array((3, 4, 5), dtype)
    check(lambda x: getattr(x, name)(**kwargs), lambda x: getattr(x, name)(**kwargs), x)
    check(lambda x: getattr(mg, name)(x, **kwargs), lambda x: getattr(torch, name)(x, **kwargs),
          x)
    out = getattr(mg.tensor(x), name)(**kwargs)
    assert out.indices.dtype == mg.int64
    values, indices = out  # unpacks as torch's (values, indices)
    assert values is out.values and indices is out.indices


def test_max_gradient_with_ties_follows_torch():
    # Without dim (and amax) the gradient is shared by the tied maxima; with dim it goes to
    # the index torch returns.
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check(lambda x: x.max(), lambda x: x.max(), x)
    check(lambda x: x.amax(dim=1), lambda x: x.amax(dim=1), x)
    check(lambda x: x.min(), lambda x: x.min(), x)
    check(lambda x: x.max(dim=1).values, lambda x: x.max(dim=1).values, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(), dict(dim=0), dict(dim=-1, keepdim=True),
                                    dict(unbiased=False), dict(dim=1, unbiased=False),
                                    dict(dim=(0, 2), correction=0),
                                    dict(dim=1, correction=2, keepdim=True)], ids=str)
def test_var(kwargs, dtype):
    x = random_array((4, 5, 3), dtype)
    check(lambda x: x.var(**kwargs), lambda x: x.var(**kwargs), x)
    check(lambda x: mg.var(x, **kwargs), lambda x: torch.var(x, **kwargs), x)


def test_std():
    x = random_array((4, 5))
    check(lambda x: x.std(dim=1), lambda x: x.std(dim=1), x)


def test_sum_of_integers_is_int64():
    values = np.array([[1, 2], [3, 4]], dtype=np.int32)
    assert mg.tensor(values).sum().dtype == mg.int64
    assert mg.tensor([True, True, False]).sum().item() == 2
    assert mg.tensor([True, True, False]).sum().dtype == mg.int64


# ----------------------------------------------------------------------------- shape ops

SHAPE_OPS = {
    "reshape(2, 6)": lambda x: x.reshape(2, 6),
    "reshape((12,))": lambda x: x.reshape((12,)),
    "reshape(-1)": lambda x: x.reshape(-1),
    "reshape(4, -1)": lambda x: x.reshape(4, -1),
    "reshape(1, 3, 1, 4)": lambda x: x.reshape(1, 3, 1, 4),
    "view(6, 2)": lambda x: x.view(6, 2),
    "view(-1, 3)": lambda x: x.view(-1, 3),
    "flatten()": lambda x: x.flatten(),
    "unsqueeze(0)": lambda x: x.unsqueeze(0),
    "unsqueeze(-1)": lambda x: x.unsqueeze(-1),
    "unsqueeze(1)": lambda x: x.unsqueeze(1),
    "transpose(0, 1)": lambda x: x.transpose(0, 1),
    "transpose(-1, -2)": lambda x: x.transpose(-1, -2),
    "permute(1, 0)": lambda x: x.permute(1, 0),
    "t()": lambda x: x.t(),
    "T": lambda x: x.T,
    "expand(2, 3, 4)": lambda x: x.expand(2, 3, 4),
    "expand(5, -1, -1)": lambda x: x.expand(5, -1, -1),
    "T then reshape": lambda x: x.T.reshape(-1),
    "transpose then view as": lambda x: x.t().contiguous().view(2, 6),
    "free reshape": lambda x: (mg if isinstance(x, mg.Tensor) else torch).reshape(x, (6, 2)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_ops(name, dtype):
    fn = SHAPE_OPS[name]
    check(fn, fn, random_array((3, 4), dtype))


SHAPE_OPS_4D = {
    "flatten(1)": lambda x: x.flatten(1),
    "flatten(0, 1)": lambda x: x.flatten(0, 1),
    "flatten(-2, -1)": lambda x: x.flatten(-2, -1),
    "squeeze()": lambda x: x.squeeze(),
    "squeeze(1)": lambda x: x.squeeze(1),
    "squeeze(-2)": lambda x: x.squeeze(-2),  # not size 1: unchanged
    "squeeze((1, 3))": lambda x: x.squeeze((1, 3)),
    "unsqueeze(4)": lambda x: x.unsqueeze(4),
    "permute(3, 0, 2, 1)": lambda x: x.permute(3, 0, 2, 1),
    "permute((2, 3, 0, 1))": lambda x: x.permute((2, 3, 0, 1)),
    "permute(-1, 0, 1, 2)": lambda x: x.permute(-1, 0, 1, 2),
    "transpose(0, 2)": lambda x: x.transpose(0, 2),
    "expand(2, -1, 3, -1, 1)": lambda x: x.expand(2, -1, 3, -1, 1)[..., 0],
    "mT": lambda x: x.mT,
    "free squeeze": lambda x: (mg if isinstance(x, mg.Tensor) else torch).squeeze(x, 1),
    "free permute": lambda x: (mg if isinstance(x, mg.Tensor) else torch).permute(
        x, (1, 0, 3, 2)),
    "free transpose": lambda x: (mg if isinstance(x, mg.Tensor) else torch).transpose(x, 0, 3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPE_OPS_4D))
def test_shape_ops_4d_with_unit_dims(name, dtype):
    fn = SHAPE_OPS_4D[name]
    check(fn, fn, random_array((2, 1, 3, 1), dtype))


def test_reshape_and_view_share_memory_with_their_input():
    x = mg.zeros(3, 4)
    x.view(12)[5] = 7.0
    assert x[1, 1].item() == 7.0
    y = x.reshape(2, 6)
    y.fill_(2.0)
    assert x.sum().item() == 24.0


# ----------------------------------------------------------------------------- indexing

def _index_pair(make):
    """An indexing function for each framework: make(module) builds the index."""
    return (lambda x: x[make(mg)]), (lambda x: x[make(torch)])


INDEXES = {
    "int": lambda m: 1,
    "negative int": lambda m: -1,
    "slice": lambda m: slice(1, 3),
    "step slice": lambda m: slice(None, None, 2),
    "int, slice": lambda m: (1, slice(1, None)),
    "slice, int": lambda m: (slice(None), 2),
    "Ellipsis, int": lambda m: (Ellipsis, 0),
    "None, int": lambda m: (None, 1),
    "int, None, slice, None": lambda m: (1, None, slice(None), None),
    "list with repeats": lambda m: [0, 2, 0, 0],
    "int tensor with repeats": lambda m: m.tensor([2, 2, 1]),
    "2-d int tensor": lambda m: m.tensor([[0, 1], [1, 1]]),
    "two arrays with repeated pairs": lambda m: (m.tensor([0, 0, 2]), m.tensor([1, 1, 3])),
    "array, slice": lambda m: (m.tensor([1, 1, 0]), slice(1, 3)),
    "slice, array": lambda m: (slice(None), m.tensor([3, 0, 3])),
    "negative array": lambda m: m.tensor([-1, 0, -1]),
    "bool mask rows": lambda m: m.tensor([True, False, True]),
    "bool mask 2-d": lambda m: m.tensor([[True, False, True, True]] * 3) == m.tensor(
        [[True], [False], [True]]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(INDEXES))
def test_indexing(name, dtype):
    mg_fn, torch_fn = _index_pair(INDEXES[name])
    check(mg_fn, torch_fn, random_array((3, 4), dtype))


def test_indexing_with_a_mask_computed_from_the_tensor():
    x = random_array((4, 5), away_from=0.0)
    check(lambda x: x[x > 0], lambda x: x[x > 0], x)
    check(lambda x: (x * 2)[x.abs() < 1].sum(), lambda x: (x * 2)[x.abs() < 1].sum(), x)


def test_indexing_3d_mixed():
    x = random_array((3, 4, 5))
    check(lambda x: x[1:, ..., ::2], lambda x: x[1:, ..., ::2], x)
    check(lambda x: x[:, [0, 0, 3], 1], lambda x: x[:, [0, 0, 3], 1], x)
    check(lambda x: x[[2, 0], :, [4, 4]], lambda x: x[[2, 0], :, [4, 4]], x)


# ----------------------------------------------------------------------------- cat/stack

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_cat(dim, dtype):
    shapes = {0: [(2, 3), (1, 3), (4, 3)], 1: [(2, 3), (2, 1), (2, 2)]}
    axis = dim % 2
    inputs = [random_array(s, dtype, seed=i) for i, s in enumerate(shapes[axis])]
    check(lambda *xs: mg.cat(xs, dim), lambda *xs: torch.cat(xs, dim), *inputs)
    check(lambda *xs: mg.cat(list(xs), dim=dim), lambda *xs: torch.cat(list(xs), dim=dim),
          *inputs, requires_grad=[True, False, True])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim, dtype):
    inputs = [random_array((2, 3), dtype, seed=i) for i in range(3)]
    check(lambda *xs: mg.stack(xs, dim), lambda *xs: torch.stack(xs, dim), *inputs)


def test_cat_of_a_tensor_with_itself():
    x = random_array((2, 3))
    check(lambda x: mg.cat([x, x * 2, x], 1), lambda x: torch.cat([x, x * 2, x], 1), x)


# ----------------------------------------------------------------------------- softmax

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, dim, dtype):
    x = random_array((3, 4, 5), dtype, -4, 4)
    check(lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim), x)
    check(lambda x: getattr(mg, name)(x, dim), lambda x: getattr(torch, name)(x, dim), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_large_values_is_stable(name, dtype):
    x = np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise"):
        check(lambda x: getattr(x, name)(-1), lambda x: getattr(x, name)(-1), x)


# ----------------------------------------------------------------------------- clamp/where

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5), (0, 1)], ids=str)
def test_clamp(bounds, dtype):
    x = random_array((4, 5), dtype)
    x = np.where(np.min(np.abs(x[..., None] - np.array([-0.5, 0.0, 0.5, 1.0])), -1) < 0.05,
                 x + 0.1, x).astype(dtype)  # away from the bounds
    low, high = bounds
    check(lambda x: x.clamp(low, high), lambda x: x.clamp(low, high), x)
    check(lambda x: x.clamp(min=low, max=high), lambda x: x.clamp(min=low, max=high), x)
    check(lambda x: mg.clamp(x, low, high), lambda x: torch.clamp(x, low, high), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), (3, 4)),
                                    ((3, 4), (1, 4), (3, 1)), ((4,), (2, 3, 4), (4,))], ids=str)
def test_where(shapes, dtype):
    shape_c, shape_a, shape_b = shapes
    condition = random_array(shape_c, seed=5) > 0
    a = random_array(shape_a, dtype, seed=1)
    b = random_array(shape_b, dtype, seed=2)
    check(lambda a, b: mg.where(mg.tensor(condition), a, b),
          lambda a, b: torch.where(torch.tensor(condition), a, b), a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_with_a_scalar(dtype):
    x = random_array((3, 4), dtype)
    check(lambda x: mg.where(x > 0, x, 0.0), lambda x: torch.where(x > 0, x, 0.0), x)
    check(lambda x: mg.where(x > 0, -1.0, x * 2), lambda x: torch.where(x > 0, -1.0, x * 2), x)


# ----------------------------------------------------------------------------- no gradient

COMPARISONS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "> 0.5": lambda a, b: a > 0.5,
    "== scalar": lambda a, b: a == 1.0,
    "eq": lambda a, b: a.eq(b),
    "lt": lambda a, b: a.lt(b),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparisons_are_bool_and_carry_no_gradient(name, dtype):
    fn = COMPARISONS[name]
    a = np.round(random_array((3, 4), dtype, seed=1))  # rounded: some equal pairs
    b = np.round(random_array((4,), dtype, seed=2))
    check(fn, fn, a, b)
    out = fn(mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True))
    assert out.dtype == mg.bool
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("kwargs", [dict(), dict(dim=0), dict(dim=1), dict(dim=-1, keepdim=True),
                                    dict(dim=0, keepdim=True)], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, kwargs):
    x = random_array((4, 5), np.float32)
    check(lambda x: getattr(x, name)(**kwargs), lambda x: getattr(x, name)(**kwargs), x)
    check(lambda x: getattr(mg, name)(x, **kwargs), lambda x: getattr(torch, name)(x, **kwargs),
          x)
    out = getattr(mg.tensor(x, requires_grad=True), name)(**kwargs)
    assert out.dtype == mg.int64 and not out.requires_grad


# ----------------------------------------------------------------------------- promotion

PROMOTIONS = [
    # (left, right) as (kind, dtype): "t" a tensor, "0-d" a 0-d tensor, "s" a Python scalar
    (("t", np.int64), ("s", 2.5)),
    (("s", 2.5), ("t", np.int64)),
    (("t", np.int64), ("s", 3)),
    (("t", np.int64), ("t", np.float32)),
    (("t", np.float32), ("t", np.int64)),
    (("t", np.int32), ("t", np.float64)),
    (("t", np.float32), ("t", np.float64)),
    (("t", np.float64), ("t", np.float32)),
    (("t", np.int32), ("t", np.int64)),
    (("t", np.float32), ("s", 2)),
    (("t", np.float64), ("s", 0.5)),
    (("t", np.bool_), ("t", np.float32)),
    (("t", np.bool_), ("s", 1.5)),
    (("t", np.int32), ("0-d", np.int64)),
    (("t", np.float32), ("0-d", np.float64)),
    (("0-d", np.float64), ("t", np.float32)),
    (("t", np.int64), ("0-d", np.float64)),
    (("0-d", np.int64), ("t", np.float32)),
]


def _operand(module, kind, dtype, seed):
    if kind == "s":
        return dtype
    if kind == "0-d":
        return module.tensor(np.array(3 + seed, dtype=dtype))
    values = np.arange(1, 7).reshape(2, 3) + seed
    return module.tensor(values.astype(dtype) if dtype != np.bool_ else values % 2 == 0)


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
@pytest.mark.parametrize("left, right", PROMOTIONS, ids=str)
def test_type_promotion_matches_torch(left, right, op):
    if op == "-" and np.bool_ in (left[1], right[1]):
        for module in (mg, torch):  # torch refuses - on bool tensors, and so do we
            a, b = _operand(module, *left, seed=0), _operand(module, *right, seed=1)
            with pytest.raises(RuntimeError, match="bool tensor is not supported"):
                a - b
        return
    results = []
    for module in (mg, torch):
        a = _operand(module, *left, seed=0)
        b = _operand(module, *right, seed=1)
        results.append(eval(f"a {op} b"))
    mine, theirs = results
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


def test_integer_division_gives_float32():
    a, b = mg.tensor([1, 2, 3]), mg.tensor([2, 2, 2])
    assert (a / b).dtype == mg.float32
    assert (a / 2).dtype == mg.float32
    assert (2 / a).dtype == mg.float32
    np.testing.assert_allclose((a / b).numpy(), [0.5, 1.0, 1.5])


def test_mixed_dtype_gradients_keep_each_inputs_dtype():
    a = random_array((3,), np.float32, seed=1)
    b = random_array((2, 3), np.float64, seed=2)
    check(lambda a, b: a * b + a, lambda a, b: a * b + a, a, b)
    check(lambda a, b: (a - b) / 2, lambda a, b: (a - b) / 2, a, b)


# ----------------------------------------------------------------------------- edge cases

EDGE_CASES = {
    # name: (function for both frameworks, inputs)
    "matmul with k = 0": (lambda a, b: a @ b, [np.zeros((2, 0)), np.zeros((0, 3))]),
    "matmul with m = 0": (lambda a, b: a @ b, [np.zeros((0, 3)), np.ones((3, 2))]),
    "sum of an empty dim": (lambda a: a.sum(0), [np.zeros((0, 3))]),
    "mean of nothing is nan": (lambda a: a.mean(), [np.zeros((0, 3))]),
    "var of one element is nan": (lambda a: a.var(), [np.array([2.0])]),
    "empty list index": (lambda a: a[[]], [np.ones((3, 3))]),
    "0-d [None]": (lambda a: a[None], [np.array(2.0)]),
    "0-d [...]": (lambda a: a[...], [np.array(2.0)]),
    "0-d squeeze": (lambda a: a.squeeze(), [np.array(2.0)]),
    "0-d unsqueeze": (lambda a: a.unsqueeze(0), [np.array(2.0)]),
    "0-d flatten": (lambda a: a.flatten(), [np.array(2.0)]),
    "0-d sum(0)": (lambda a: a.sum(0), [np.array(2.0)]),
    "0-d mean(-1)": (lambda a: a.mean(-1), [np.array(2.0)]),
    "0-d max(0)": (lambda a: a.max(0), [np.array(2.0)]),
    "0-d softmax": (lambda a: a.softmax(0), [np.array(2.0)]),
    "0-d expand": (lambda a: a.expand(3, 2), [np.array(2.0)]),
    "1-d t()": (lambda a: a.t(), [np.array([2.0, 3.0])]),
    "x ** 0 at 0": (lambda a: a ** 0, [np.zeros(3)]),
    "x ** 2.0 at 0": (lambda a: a ** 2.0, [np.zeros(3)]),
    "x ** 1 at 0": (lambda a: a ** 1, [np.zeros(3)]),
    "sqrt at 0 (infinite gradient)": (lambda a: a.sqrt(), [np.zeros(3)]),
    "x * x": (lambda a: a * a, [np.array([3.0, -1.0])]),
    "int clamp": (lambda a: a.clamp(1, 2), [np.arange(4)]),
    "int clamp to a float bound is float": (lambda a: a.clamp(0.5), [np.arange(4)]),
    "clamp with tensor bounds": (lambda a, lo, hi: a.clamp(lo, hi),
                                 [np.arange(5.0), np.full(5, 1.5), np.array([3.5])]),
    "where float32 / float64": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).where(
        a > 1, a, b), [np.arange(4.0, dtype=np.float32), np.ones(4)]),
    "cat float32 with float64": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).cat(
        [a, b]), [np.arange(4.0, dtype=np.float32), np.ones(4)]),
    "sum(dtype=float64)": (lambda a: a.sum(dtype=(
        mg.float64 if isinstance(a, mg.Tensor) else torch.float64)),
        [random_array((3, 4), np.float32)]),
    "sum over a list of dims": (lambda a: a.sum([0, 1]), [random_array((3, 4))]),
    "1.5 - int tensor": (lambda a: 1.5 - a, [np.arange(3)]),
    "-int tensor": (lambda a: -a, [np.arange(3)]),
    "abs(int tensor)": (lambda a: abs(a), [np.arange(3) - 1]),
    "exp(int tensor) is float32": (lambda a: a.exp(), [np.arange(3)]),
    "sqrt(int tensor) is float32": (lambda a: a.sqrt(), [np.arange(3)]),
    "sigmoid(int tensor) is float32": (lambda a: a.sigmoid(), [np.arange(3)]),
    "tanh(int tensor) is float32": (lambda a: a.tanh(), [np.arange(3)]),
    "log(int tensor) is float32": (lambda a: a.log(), [np.arange(1, 4)]),
    "relu(int tensor) stays int": (lambda a: a.relu(), [np.arange(3) - 1]),
    "0-d int tensor index": (lambda a: a[(mg if isinstance(a, mg.Tensor) else torch).tensor(1)],
                             [np.arange(3.0)]),
    "0-d bool mask": (lambda a: a[a.sum() > 0], [np.arange(3.0)]),
    "float / int tensor": (lambda a, b: a / b, [random_array((3, 4)), np.arange(1, 5)]),
    "int tensor / float tensor": (lambda a, b: b / a, [random_array((3, 4)), np.arange(1, 5)]),
    "float ** int tensor": (lambda a, b: a ** b, [positive_array((3, 4)), np.arange(1, 5)]),
    "int tensor ** float tensor": (lambda a, b: b ** a,
                                   [random_array((3, 4)), np.arange(1, 5)]),
    "int tensor ** 0.5": (lambda a: a ** 0.5, [np.arange(1, 5)]),
    "2 ** int tensor": (lambda a: 2 ** a, [np.arange(1, 5)]),
    "2.5 ** int tensor": (lambda a: 2.5 ** a, [np.arange(1, 5)]),
    "permute then batched matmul": (lambda a, b: a.permute(0, 2, 1) @ b,
                                    [random_array((2, 3, 4)), random_array((3, 5))]),
    "expand then batched matmul": (lambda a, b: a.expand(4, 3, 3) @ b,
                                   [random_array((3, 3)), random_array((4, 3, 2))]),
    "max(other tensor)": (lambda a, b: a.max(b), [random_array(3, seed=1), random_array(3)]),
    "softmax of float32 range": (lambda a: a.softmax(0), [np.arange(30.0, dtype=np.float32)]),
    "sum(dim=()) reduces everything": (lambda a: a.sum(dim=()), [random_array((3, 4))]),
    "mean(dim=[]) reduces everything": (lambda a: a.mean(dim=[]), [random_array((3, 4))]),
    "sum(keepdim=True) without dim": (lambda a: a.sum(dim=None, keepdim=True),
                                      [random_array((3, 4))]),
    "var(keepdim=True) without dim": (lambda a: a.var(dim=None, keepdim=True),
                                      [random_array((3, 4))]),
    "std of a constant has a zero gradient": (lambda a: a.std(), [np.ones(3)]),
    "std(dim, unbiased=False)": (lambda a: a.std(1, unbiased=False), [random_array((3, 4))]),
    "std(correction=0, keepdim=True)": (lambda a: a.std(dim=0, correction=0, keepdim=True),
                                         [random_array((3, 4))]),
    "max(dim) with ties picks torch's index": (
        lambda a: a.max(1), [np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 2.0]])]),
    "min(dim) with ties picks torch's index": (
        lambda a: a.min(0), [np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])]),
    "maximum with ties splits the gradient": (lambda a, b: a.max(b),
                                              [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    "clamp with min > max": (lambda a: a.clamp(1.0, 0.0), [np.array([-1.0, 0.5, 2.0])]),
    "softmax of a row with -inf": (lambda a: a.softmax(-1), [np.array([[-np.inf, 0.0],
                                                                       [1.0, 2.0]])]),
    "log of 0 and of a negative": (lambda a: a.log(), [np.array([0.0, -1.0, 1.0])]),
    "division by zero": (lambda a, b: a / b, [np.array([1.0, 0.0, -1.0]), np.zeros(3)]),
    "float32 exp overflow": (lambda a: a.exp(), [np.array([100.0, 1.0], dtype=np.float32)]),
    "float64 tensor * float32 0-d tensor": (lambda a, b: a * b,
                                            [random_array((3, 4)), np.array(2.0, np.float32)]),
    "float32 tensor * float64 0-d tensor is float32": (
        lambda a, b: a * b, [random_array((3, 4), np.float32), np.array(2.0)]),
    "float64 0-d tensor + float32 tensor is float32": (
        lambda a, b: b + a, [random_array((3, 4), np.float32), np.array(2.0)]),
    "bool mask times a tensor": (lambda a: a * (a > 0), [random_array((3, 4))]),
    "float tensor + bool tensor": (lambda a: a + (a > 0), [random_array((3, 4))]),
    "bool list index": (lambda a: a[[True, False, True]], [random_array((3, 4))]),
    "0-d bool tensor index": (lambda a: a[(mg if isinstance(a, mg.Tensor) else torch).tensor(
        True)], [random_array((3, 4))]),
    "reshape to ()": (lambda a: a.reshape(()), [np.ones(1)]),
    "view(-1) of 0-d": (lambda a: a.view(-1), [np.array(2.0)]),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases(name):
    fn, inputs = EDGE_CASES[name]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nan results and torch's deprecation notices
        check(fn, fn, *inputs)


NUMPY_SCALARS_ON_THE_LEFT = {
    "np.float64 * x": lambda x: np.float64(2.0) * x,
    "np.float32 + x": lambda x: np.float32(2.0) + x,
    "np.float64 - x": lambda x: np.float64(1.0) - x,
    "np.float64 / x": lambda x: np.float64(2.0) / x,
    "np.int64 ** x": lambda x: np.int64(2) ** x,
    "x * np.int32": lambda x: x * np.int32(3),
    "x ** np.float64": lambda x: x ** np.float64(2.0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NUMPY_SCALARS_ON_THE_LEFT))
def test_numpy_scalars_defer_to_the_tensor(name, dtype):
    # Without __array_priority__ numpy would turn the tensor into an array and drop the graph.
    fn = NUMPY_SCALARS_ON_THE_LEFT[name]
    check(fn, fn, positive_array((2, 3), dtype))
    assert isinstance(fn(mg.ones(2, requires_grad=True)), mg.Tensor)


# ----------------------------------------------------------------------------- the helper

def test_the_torch_comparison_catches_wrong_values_gradients_and_dtypes():
    x = random_array((3,))
    with pytest.raises(AssertionError, match="forward"):
        check(lambda x: x * 2.001, lambda x: x * 2, x)
    with pytest.raises(AssertionError, match=r"grad\[0\]"):
        check(lambda x: x * x.detach(), lambda x: x * x, x)  # forward right, gradient half
    with pytest.raises(AssertionError, match="dtype"):
        check(lambda x: x.float(), lambda x: x, x)
    with pytest.raises(AssertionError, match="shape"):
        check(lambda x: x.reshape(3, 1), lambda x: x, x)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError, match="forward"):
            check(lambda x: x * np.nan, lambda x: x, x)
        check(lambda x: x / 0.0, lambda x: x / 0.0, x)  # equal infinities match


# ----------------------------------------------------------------------------- edge inputs
# What a fuzzer found (issue 12): empty inner dimensions, products torch refuses or accepts.

@pytest.mark.parametrize("a_shape, b_shape", [
    ((6, 0), (2, 0, 5)), ((0,), (0,)), ((3, 0), (0, 4)), ((2, 3, 0), (0, 4)), ((0,), (0, 2)),
    ((3, 0), (0,)), ((0, 3, 0), (0, 2)), ((2, 0, 3), (3, 4)),
])
def test_matmul_with_empty_dimensions_as_torch(a_shape, b_shape):
    a, b = np.zeros(a_shape), np.ones(b_shape)
    check(mg.matmul, torch.matmul, a, b)


@pytest.mark.parametrize("x_shape, w_shape, b_shape", [
    ((2, 0), (4, 0), (4,)), ((0, 3), (4, 3), (4,)), ((2, 3), (0, 3), (0,)), ((5, 2, 0), (4, 0), None),
])
def test_linear_with_empty_dimensions_as_torch(x_shape, w_shape, b_shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, b_shape) if s is not None]
    check(mg.nn.functional.linear, torch.nn.functional.linear, *arrays)


@pytest.mark.parametrize("x_shape, b_shape", [
    ((2, 3), ()), ((2, 3), (1,)), ((2, 3), (1, 4)), ((2, 3), (2, 4)), ((2, 3), (2, 1)),
    ((3,), (1,)), ((3,), ()), ((5, 2, 3), (4,)),
])
def test_linear_biases_that_broadcast_as_torch(x_shape, b_shape):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, (4, 3), b_shape))
    check(mg.nn.functional.linear, torch.nn.functional.linear, x, w, b)
    check(mg.nn.functional.linear, torch.nn.functional.linear, x, w, b, second_order=True)


def test_linear_refuses_what_torch_refuses():
    x, w = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)
    for bias, error in ((np.ones(3, np.float32), RuntimeError), (np.ones(4), RuntimeError),
                        (np.ones((3, 4), np.float32), RuntimeError), (1.0, TypeError)):
        for lib in (mg, torch):
            b = lib.tensor(bias) if isinstance(bias, np.ndarray) else bias
            with pytest.raises(error):
                lib.nn.functional.linear(lib.tensor(x), lib.tensor(w), b)


def test_linear_of_integers_and_of_a_vector_weight_as_torch():
    rng = np.random.default_rng(2)
    x, w, b = rng.integers(-9, 9, (2, 3)), rng.integers(-9, 9, (4, 3)), rng.integers(-9, 9, 4)
    for args in ((x, w), (x, w, b)):
        mine = mg.nn.functional.linear(*map(mg.tensor, args))
        theirs = torch.nn.functional.linear(*map(torch.tensor, args))
        assert mine.dtype == np.int64
        np.testing.assert_array_equal(mine.array, theirs.numpy())
    check(mg.nn.functional.linear, torch.nn.functional.linear, rng.standard_normal((2, 3)),
          rng.standard_normal(3))


@pytest.mark.parametrize("a_shape, b_shape", [((2,), (2,)), ((3, 2), (2,)), ((2,), (2, 3)),
                                              ((3, 2), (2, 3)), ((2, 3, 2), (2, 2, 3))])
def test_bool_products_refused_as_torch(a_shape, b_shape):
    for lib in (mg, torch):
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            lib.matmul(lib.ones(a_shape, dtype=lib.bool), lib.ones(b_shape, dtype=lib.bool))
