"""The ops issue 11 adds, each held to torch (values and every gradient, float32 and float64)
and refusing bad input with torch's exception type: the trig, hyperbolic and inverse family
and the other pointwise functions, cumulative ops, sort/argsort/topk, gather/scatter/
scatter_add/index_select/masked_fill, Tensor.where, repeat/tile/split/chunk/flip/roll/unbind,
einsum, meshgrid, isnan/isinf/nan_to_num, clamp with tensor bounds, axis= aliases, and the
values that used to differ from torch (view(dtype), mixed advanced indexing, integer
linspace)."""
import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import DTYPES, check, positive_array, random_array


def _idx(module, values):
    return module.tensor(np.asarray(values, dtype=np.int64))


# name: (f(module, x), input(dtype))
UNARY = {
    "sin": (lambda m, x: x.sin(), lambda d: random_array((3, 4), d)),
    "cos": (lambda m, x: m.cos(x), lambda d: random_array((3, 4), d)),
    "tan": (lambda m, x: x.tan(), lambda d: random_array((3, 4), d, -1.2, 1.2)),
    "asin": (lambda m, x: m.asin(x), lambda d: random_array((3, 4), d, -0.9, 0.9)),
    "acos": (lambda m, x: x.acos(), lambda d: random_array((3, 4), d, -0.9, 0.9)),
    "atan": (lambda m, x: m.arctan(x), lambda d: random_array((3, 4), d)),
    "sinh": (lambda m, x: x.sinh(), lambda d: random_array((3, 4), d)),
    "cosh": (lambda m, x: m.cosh(x), lambda d: random_array((3, 4), d)),
    "asinh": (lambda m, x: x.asinh(), lambda d: random_array((3, 4), d)),
    "acosh": (lambda m, x: m.acosh(x), lambda d: random_array((3, 4), d, 1.1, 3.0)),
    "atanh": (lambda m, x: x.atanh(), lambda d: random_array((3, 4), d, -0.9, 0.9)),
    "exp2": (lambda m, x: x.exp2(), lambda d: random_array((3, 4), d)),
    "expm1": (lambda m, x: m.expm1(x), lambda d: random_array((3, 4), d)),
    "log2": (lambda m, x: x.log2(), lambda d: positive_array((3, 4), d)),
    "log10": (lambda m, x: m.log10(x), lambda d: positive_array((3, 4), d)),
    "log1p": (lambda m, x: x.log1p(), lambda d: positive_array((3, 4), d)),
    "rsqrt": (lambda m, x: x.rsqrt(), lambda d: positive_array((3, 4), d)),
    "square": (lambda m, x: m.square(x), lambda d: random_array((3, 4), d)),
    "reciprocal": (lambda m, x: x.reciprocal(), lambda d: positive_array((3, 4), d)),
    "floor": (lambda m, x: x.floor() * x, lambda d: random_array((3, 4), d, -3, 3)),
    "ceil": (lambda m, x: m.ceil(x) * x, lambda d: random_array((3, 4), d, -3, 3)),
    "round": (lambda m, x: x.round() * x, lambda d: random_array((3, 4), d, -3, 3)),
    "round decimals": (lambda m, x: m.round(x, decimals=1), lambda d: random_array((3, 4), d)),
    "trunc": (lambda m, x: x.trunc() * x, lambda d: random_array((3, 4), d, -3, 3)),
    "frac": (lambda m, x: x.frac(), lambda d: random_array((3, 4), d, -3, 3)),
    "erf": (lambda m, x: x.erf(), lambda d: random_array((3, 4), d)),
    "sign": (lambda m, x: x.sign() * x, lambda d: random_array((3, 4), d, away_from=0.0)),
    "nan_to_num": (lambda m, x: (x.log()).nan_to_num(0.5, 7.0, -7.0),
                   lambda d: np.array([-1.0, 0.0, 2.0, 0.5], d)),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", DTYPES)
def test_pointwise_ops_match_torch(name, dtype):
    fn, make = UNARY[name]
    check(lambda x: fn(mg, x), lambda x: fn(torch, x), make(dtype))


@pytest.mark.parametrize("name", ["sin", "tan", "atan", "sinh", "exp2", "log2", "sqrt",
                                  "floor", "round", "square", "reciprocal"])
def test_pointwise_ops_on_integers_keep_torchs_dtype(name):
    values = np.array([1, 2, 4])
    mine = getattr(mg, name)(mg.tensor(values))
    theirs = getattr(torch, name)(torch.tensor(values))
    assert mine.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_atan2_matches_torch(dtype):
    a, b = random_array((3, 4), dtype, seed=1), random_array((4,), dtype, seed=2)
    check(lambda x, y: m_atan2(mg, x, y), lambda x, y: m_atan2(torch, x, y), a, b)


def m_atan2(module, x, y):
    return module.atan2(x, y) + x.atan2(y)


def test_isnan_isinf_isfinite_match_torch():
    values = np.array([1.0, np.nan, np.inf, -np.inf, 0.0], np.float32)
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(mg.tensor(values), name)().numpy(),
                                      getattr(torch.tensor(values), name)().numpy())
    mine = mg.nan_to_num(mg.tensor(values))
    theirs = torch.nan_to_num(torch.tensor(values))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


# ----------------------------------------------------------------------------- cumulative

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumulative_ops_match_torch(dim, dtype):
    x = random_array((3, 4), dtype, 0.5, 2.0, seed=3)
    for name in ("cumsum", "cumprod"):
        check(lambda t: getattr(t, name)(dim), lambda t: getattr(t, name)(dim), x)
    for name in ("cummax", "cummin"):
        check(lambda t: getattr(mg, name)(t, dim), lambda t: getattr(torch, name)(t, dim), x)


def test_cumulative_ops_with_ties_zeros_and_integers_match_torch():
    ties = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0]])
    check(lambda t: t.cummax(1), lambda t: t.cummax(1), ties)
    check(lambda t: t.cummin(axis=1), lambda t: t.cummin(axis=1), -ties)
    zeros = np.array([[2.0, 0.0, 3.0, 0.0, 1.5]])
    check(lambda t: t.cumprod(1), lambda t: t.cumprod(1), zeros)
    flags = np.array([[False, True, False, True]])
    for name in ("cummax", "cummin"):
        mine, theirs = getattr(mg.tensor(flags), name)(1), getattr(torch.tensor(flags), name)(1)
        np.testing.assert_array_equal(mine.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.numpy(), theirs.indices.numpy())
    ints = np.array([[1, 2], [3, 4]])
    for name in ("cumsum", "cumprod"):
        mine, theirs = getattr(mg.tensor(ints), name)(0), getattr(torch.tensor(ints), name)(0)
        assert mine.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


# ----------------------------------------------------------------------------- sorting

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_match_torch(descending, dtype):
    x = random_array((3, 5), dtype, seed=4)
    check(lambda t: t.sort(1, descending), lambda t: t.sort(1, descending), x)
    check(lambda t: mg.sort(t, 0, descending=descending),
          lambda t: torch.sort(t, 0, descending=descending), x)
    np.testing.assert_array_equal(mg.tensor(x).argsort(1, descending).numpy(),
                                  torch.tensor(x).argsort(1, descending).numpy())


def test_sort_is_stable_and_puts_nan_where_torch_does():
    values = np.array([3.0, 1.0, np.nan, 1.0, 2.0, 3.0])
    for descending in (False, True):
        mine = mg.tensor(values).sort(descending=descending, stable=True)
        theirs = torch.tensor(values).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(mine.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.numpy(), theirs.indices.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_torch(largest, dtype):
    x = random_array((4, 6), dtype, seed=5)
    check(lambda t: t.topk(3, largest=largest), lambda t: t.topk(3, largest=largest), x)
    check(lambda t: mg.topk(t, 2, dim=0), lambda t: torch.topk(t, 2, dim=0), x)


# ----------------------------------------------------------------------------- gather, scatter

@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_scatter_index_select_match_torch(dtype):
    x = random_array((3, 4), dtype, seed=6)
    src = random_array((3, 4), dtype, seed=7)
    index = np.array([[0, 2], [3, 1], [1, 1]])
    unique = np.array([[0, 2], [3, 1], [2, 0]])

    def both(fn):
        check(lambda a, b: fn(mg, a, b), lambda a, b: fn(torch, a, b), x, src)

    both(lambda m, a, b: a.gather(1, _idx(m, index)) + b[:, :2])
    both(lambda m, a, b: a.scatter(1, _idx(m, unique), b[:, :2]))
    both(lambda m, a, b: m.scatter(a, 1, _idx(m, unique), 2.5) * b)
    both(lambda m, a, b: a.scatter_add(1, _idx(m, index), b[:, :2]))
    both(lambda m, a, b: m.scatter_add(a, 0, _idx(m, [[2, 0, 1, 2]]), b[:1]))
    both(lambda m, a, b: a.index_select(1, _idx(m, [3, 0, 3])) * b[:, :3])
    both(lambda m, a, b: m.index_select(a, 0, _idx(m, [2, 2])) + b[:2])
    both(lambda m, a, b: a.masked_fill(a > 0, 1.5) * b)
    both(lambda m, a, b: a.masked_fill(m.tensor(np.array([True, False, True, False])),
                                       b[0, 0]))
    both(lambda m, a, b: a.where(a > 0, b))


@pytest.mark.filterwarnings("ignore:The reduce argument")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_matches_torch_and_has_no_derivative(dtype, reduce):
    x = random_array((3, 4), dtype, seed=6)
    src = random_array((3, 4), dtype, seed=7)
    index = np.array([[0, 2], [3, 3], [1, 1]])
    for module in (mg, torch):
        a = module.tensor(x, requires_grad=True)
        results = [a.scatter(1, _idx(module, index), module.tensor(src[:, :2]), reduce=reduce),
                   module.scatter(a, 0, _idx(module, [[2, 0, 2, 2]]), 1.5, reduce=reduce)]
        z = a.detach().clone()
        results.append(z.scatter_(1, _idx(module, index), module.tensor(src), reduce=reduce))
        if module is mg:
            mine = results
        for result in results[:2]:
            with pytest.raises(RuntimeError, match="derivative for aten::scatter is not "
                                                   "implemented"):
                result.sum().backward()
    for m, t in zip(mine, results):
        assert m.dtype == dtype and t.dtype == getattr(torch, np.dtype(dtype).name)
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        mg.ones(2).scatter(0, _idx(mg, [1]), 2.0, reduce="max")


def test_inplace_forms_match_torch():
    def program(module):
        def f(x, y):
            z = x * 1
            z.masked_fill_(x > 0, 0.5)
            z.scatter_(1, _idx(module, [[1], [0], [2]]), y[:, :1])
            z.scatter_add_(0, _idx(module, [[0, 1, 2, 0]]), y[:1])
            return z
        return f
    check(program(mg), program(torch), random_array((3, 4), seed=8),
          random_array((3, 4), seed=9))


# ----------------------------------------------------------------------------- repeat, split

@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_tile_flip_roll_match_torch(dtype):
    x = random_array((2, 3), dtype, seed=10)
    for fn in (lambda m, t: t.repeat(2, 3), lambda m, t: t.repeat(2, 1, 2),
               lambda m, t: m.tile(t, (2,)), lambda m, t: t.tile(3, 1, 1),
               lambda m, t: t.flip(0), lambda m, t: m.flip(t, (0, 1)), lambda m, t: t.fliplr(),
               lambda m, t: t.roll(1, 1), lambda m, t: m.roll(t, (1, -2), (0, 1)),
               lambda m, t: t.roll(4)):
        check(lambda t: fn(mg, t), lambda t: fn(torch, t), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_split_chunk_unbind_match_torch(dtype):
    x = random_array((5, 4), dtype, seed=11)
    for fn in (lambda m, t: t.split(2), lambda m, t: m.split(t, [1, 3], 1),
               lambda m, t: t.chunk(3), lambda m, t: m.chunk(t, 2, 1), lambda m, t: t.unbind(1),
               lambda m, t: m.unbind(t), lambda m, t: t.split(2)[1:]):
        check(lambda t: fn(mg, t), lambda t: fn(torch, t), x)


def test_split_pieces_are_views_sharing_memory():
    x = mg.arange(6.0)
    a, b = x.split(3)
    b[0] = 100.0
    assert x[3].item() == 100.0
    assert a.grad_fn is None and mg.arange(6.0, requires_grad=True).split(3)[0].grad_fn.name() \
        == torch.arange(6.0, requires_grad=True).split(3)[0].grad_fn.name()


# ----------------------------------------------------------------------------- einsum, meshgrid

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("...ij->...ji", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("iij->j", [(2, 2, 3)]),
    ("ij,ij->i", [(2, 3), (2, 3)]), ("bi,bi->b", [(3, 4), (1, 4)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),
])
def test_einsum_matches_torch(equation, shapes, dtype):
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    check(lambda *t: mg.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    a, b = random_array((3,), seed=13), random_array((4,), seed=14)
    check(lambda x, y: mg.meshgrid(x, y, indexing=indexing),
          lambda x, y: torch.meshgrid(x, y, indexing=indexing), a, b)


def test_randperm_is_a_permutation_seeded_by_manual_seed():
    mg.manual_seed(3)
    first = mg.randperm(10)
    mg.manual_seed(3)
    assert first.dtype == mg.int64 and sorted(first.tolist()) == list(range(10))
    assert mg.randperm(10).tolist() == first.tolist()


# ----------------------------------------------------------------------------- clamp, axis

@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_with_tensor_bounds_matches_torch(dtype):
    x = random_array((3, 4), dtype, seed=15)
    low = random_array((4,), dtype, -1.5, -0.2, seed=16)
    high = random_array((3, 1), dtype, 0.2, 1.5, seed=17)
    check(lambda a, lo, hi: a.clamp(lo, hi), lambda a, lo, hi: a.clamp(lo, hi), x, low, high)
    check(lambda a, lo: mg.clamp(a, min=lo), lambda a, lo: torch.clamp(a, min=lo), x, low)
    check(lambda a, hi: a.clip(max=hi), lambda a, hi: a.clip(max=hi), x, high)


@pytest.mark.parametrize("call", [
    lambda m, x: x.sum(axis=1), lambda m, x: m.sum(x, axis=0, keepdims=True),
    lambda m, x: x.mean(axis=1), lambda m, x: x.max(axis=1)[0], lambda m, x: x.argmax(axis=0),
    lambda m, x: x.std(axis=1), lambda m, x: m.var(x, axis=0), lambda m, x: x.amax(axis=1),
    lambda m, x: x.cumsum(axis=1), lambda m, x: x.softmax(axis=1),
    lambda m, x: m.cat([x, x], axis=1), lambda m, x: m.stack([x, x], axis=1),
    lambda m, x: x.squeeze(axis=0), lambda m, x: x.unsqueeze(axis=0),
    lambda m, x: x.log_softmax(axis=0), lambda m, x: x.sort(axis=0)[0],
    lambda m, x: x.topk(1, axis=0)[0], lambda m, x: x.gather(axis=1, index=_idx(m, [[0], [1]])),
    lambda m, x: x.index_select(axis=1, index=_idx(m, [1])), lambda m, x: x.all(axis=1),
    lambda m, x: x.any(axis=0), lambda m, x: x.min(axis=0, keepdims=True)[0],
])
def test_axis_is_accepted_where_torch_accepts_it(call):
    x = random_array((2, 3), np.float32, seed=18)
    mine, theirs = call(mg, mg.tensor(x)), call(torch, torch.tensor(x))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5)


def test_add_alpha_and_random_keyword_forms():
    for module in (mg, torch):
        x = module.ones(3)
        assert x.add(module.ones(3), alpha=2).tolist() == [3.0, 3.0, 3.0]
        assert module.add(x, 2, alpha=3).tolist() == [7.0, 7.0, 7.0]
        assert x.sub(module.ones(3), alpha=0.5).tolist() == [0.5, 0.5, 0.5]
        assert module.rand(size=(2, 3)).shape == (2, 3)
        assert module.randn(size=(4,)).shape == (4,)
        r = module.randint(low=2, high=5, size=(50,))
        assert r.dtype == module.int64 and 2 <= r.min() and r.max() < 5
        assert module.randint(5, size=(3,)).shape == (3,)
        assert module.randint(3, 6, (2, 2)).shape == (2, 2)


# ----------------------------------------------------------------------------- values

@pytest.mark.parametrize("source, target", [
    (np.float32, np.int32), (np.float32, np.uint8), (np.int64, np.float64),
    (np.int32, np.float32), (np.float64, np.int64), (np.int64, np.int32),
])
def test_view_dtype_reinterprets_the_bits_as_torch(source, target):
    values = np.array([[1.5, -2.0, 3.25, 4.0]]).astype(source)
    mine = mg.tensor(values).view(target)
    theirs = torch.tensor(values).view(getattr(torch, np.dtype(target).name))
    assert mine.shape == theirs.shape and mine.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_view_dtype_shares_memory_and_refuses_bad_sizes_as_torch():
    x = mg.zeros(4)
    x.view(mg.int32)[0] = 1065353216  # the bits of 1.0
    assert x[0].item() == 1.0
    for module in (mg, torch):
        with pytest.raises(RuntimeError):
            module.zeros(3, dtype=module.int8).view(module.int32)


@pytest.mark.parametrize("index", [
    lambda m: (m.tensor([0, 1]), slice(None), m.tensor([0, 1])),
    lambda m: (0, slice(None), m.tensor([0, 1])),
    lambda m: (slice(None), 0, slice(None), m.tensor([1, 2])),
    lambda m: (m.tensor([0, 1]), 1),
    lambda m: (Ellipsis, m.tensor([0, 1]), 1),
    lambda m: (None, m.tensor([0, 1]), slice(None), 1),
    lambda m: (m.tensor([[0], [1]]), slice(None), m.tensor([1, 2])),
    lambda m: (1, m.tensor([True, False, True])),
])
def test_mixed_advanced_indexing_orders_dims_as_torch(index):
    x = random_array((2, 3, 4, 5), seed=19)
    check(lambda t: t[index(mg)], lambda t: t[index(torch)], x)


def test_setitem_with_mixed_indexing_writes_where_torch_does():
    results = []
    for module in (mg, torch):
        x = module.zeros(2, 3, 4)
        x[0, :, module.tensor([1, 3])] = module.arange(6.0).reshape(3, 2)
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32", "float64"])
@pytest.mark.parametrize("start, end, steps", [(0, 10, 4), (-3, 7, 6), (10, 0, 7), (1, 2, 1)])
def test_linspace_truncates_integers_as_torch(start, end, steps, dtype):
    mine = mg.linspace(start, end, steps, dtype=getattr(mg, dtype))
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    assert mine.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- errors

ERRORS = {
    "atan2 of a number": (lambda m: m.atan2(m.ones(2), 1.0), TypeError, "Tensor"),
    "cumsum without dim": (lambda m: m.ones(2).cumsum(), TypeError, "dim"),
    "cumsum dim out of range": (lambda m: m.ones(2).cumsum(2), IndexError, "out of range"),
    "topk k too large": (lambda m: m.ones(3).topk(4), RuntimeError, "out of range"),
    "sort dim out of range": (lambda m: m.ones(3).sort(1), IndexError, "out of range"),
    "gather index of floats": (lambda m: m.ones(3).gather(0, m.ones(2)), RuntimeError, "int64"),
    "gather index out of range": (lambda m: m.ones(3).gather(0, m.tensor([3])), RuntimeError,
                                  "out of bounds"),
    "gather index of other rank": (lambda m: m.ones(3, 2).gather(0, m.tensor([0])),
                                   RuntimeError, "same number of dimensions"),
    "scatter index out of range": (lambda m: m.ones(3).scatter(0, m.tensor([5]), m.ones(1)),
                                   RuntimeError, "out of bounds"),
    "scatter_add of another dtype": (
        lambda m: m.ones(3).scatter_add(0, m.tensor([1]), m.ones(1, dtype=m.float64)),
        RuntimeError, "dtype"),
    "index_select of a matrix index": (
        lambda m: m.ones(3).index_select(0, m.tensor([[0]])), IndexError, "vector"),
    "index_select out of range": (lambda m: m.ones(3).index_select(0, m.tensor([3])),
                                  IndexError, "out of range"),
    "masked_fill with a float mask": (lambda m: m.ones(3).masked_fill(m.ones(3), 0.0),
                                      RuntimeError, "boolean"),
    "masked_fill with a vector value": (
        lambda m: m.ones(3).masked_fill(m.ones(3) > 0, m.ones(2)), RuntimeError,
        "0-dimensional"),
    "repeat with too few sizes": (lambda m: m.ones(2, 3).repeat(2), RuntimeError,
                                  "repeat dims can not be smaller"),
    "split sizes not summing": (lambda m: m.ones(5).split([2, 2]), RuntimeError,
                                "sum exactly to 5"),
    "chunk into zero": (lambda m: m.ones(5).chunk(0), RuntimeError, "greater than 0"),
    "roll shifts and dims differ": (lambda m: m.ones(2, 2).roll((1, 1), 0), RuntimeError,
                                    "align"),
    "flip the same dim twice": (lambda m: m.ones(2, 2).flip((0, 0)), RuntimeError, "multiple"),
    "unbind of a 0-d tensor": (lambda m: m.tensor(1.0).unbind(), IndexError, "no dimensions"),
    "einsum with too many operands": (lambda m: m.einsum("ij", m.ones(2, 2), m.ones(2)),
                                      RuntimeError, "more operands"),
    "einsum with wrong subscripts": (lambda m: m.einsum("ijk", m.ones(2, 2)), RuntimeError,
                                     "number of subscripts"),
    "einsum of mismatched sizes": (lambda m: m.einsum("ij,jk", m.ones(2, 3), m.ones(2, 2)),
                                   RuntimeError, "subscript j has size 2 for operand 1"),
    "meshgrid of a matrix": (lambda m: m.meshgrid(m.ones(2, 2), indexing="ij"), RuntimeError,
                             "0D or 1D"),
    "meshgrid with a bad indexing": (lambda m: m.meshgrid(m.ones(2), indexing="ab"),
                                     RuntimeError, "indexing"),
    "randperm of a negative n": (lambda m: m.randperm(-1), RuntimeError, "n must be"),
    "frac of integers": (lambda m: m.tensor([1, 2]).frac(), RuntimeError, "frac"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_input_raises_torchs_exception_type(name):
    call, error, pattern = ERRORS[name]
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=pattern):
        call(mg)
