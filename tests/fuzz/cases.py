"""The fuzzer's cases: for every public op, layer, loss, optimizer and the loader, a hypothesis
strategy that draws a call's arguments (bad and edge-case ones on purpose) and the call itself,
written once for both frameworks: ``call(lib, *args)`` runs with ``lib`` = minigrad or torch,
the arguments' TensorSpecs made tensors of that framework (specs.materialize).

Arguments are drawn to hit what breaks engines: empty and size-1 dimensions, 0-d tensors,
NaN, infinities, huge and subnormal values, integer and bool tensors where floats are
expected, non-contiguous inputs, dims and sizes out of range, negative and huge integers
(2**31, 2**63), floats where ints are expected, mismatched shapes and dtypes.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from specs import T

# ----------------------------------------------------------------------------- the registry


@dataclass
class Case:
    """One public entry point to fuzz.

    reduces: results sum many inputs (compared against the inputs' magnitude, not only the
    result's); products: ... of products of inputs (matmul, conv); compare: 'values', or
    'meta' for random results (shape, dtype and requires_grad only); grad: compare the
    gradients of the leaves too; weight: share of the calls this case gets."""

    name: str
    family: str
    strategy: st.SearchStrategy
    call: Callable
    grad: bool = True
    reduces: bool = False
    products: bool = False
    compare: str = "values"
    weight: int = 1


CASES: dict = {}


def case(name, family, strategy, call, **options):
    assert name not in CASES, name
    CASES[name] = Case(name, family, strategy, call, **options)


# ----------------------------------------------------------------------------- building blocks

FLOAT_KINDS = ("normal", "normal", "positive", "ties", "special", "huge", "tiny", "zeros",
               "distinct")
FLOATS = ("float32", "float64")
ALL_DTYPES = ("float32", "float32", "float32", "float64", "float64", "int64", "bool",
              "int32", "uint8", "int8", "int16")
HUGE_INTS = (2 ** 31, 2 ** 31 - 1, -2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63 - 1, 2 ** 64)

seeds = st.integers(0, 2 ** 20)
layouts = st.sampled_from(("contiguous", "contiguous", "contiguous", "transposed", "strided"))


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=5):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def tensors(draw, shape=None, dtypes=ALL_DTYPES, kinds=None, grad=True, layout=True,
            min_dims=0, max_dims=4, max_side=5):
    """A TensorSpec: a float tensor (a leaf that requires grad, mostly) or another dtype."""
    if shape is None:
        shape = draw(shapes(min_dims, max_dims, 0, max_side))
    dtype = draw(st.sampled_from(dtypes))
    if kinds is None:
        kinds = FLOAT_KINDS if dtype in FLOATS else ("small", "small", "extreme")
    kind = draw(st.sampled_from(kinds))
    requires_grad = grad and dtype in FLOATS and draw(st.booleans() | st.just(True))
    return T(tuple(shape), dtype, kind, draw(seeds), requires_grad,
             draw(layouts) if layout else "contiguous")


def floats_tensor(**kw):
    """Mostly float tensors; sometimes an integer or bool one (refused or promoted)."""
    return tensors(dtypes=("float32", "float32", "float64", "float64", "float32", "int64",
                           "bool"), **kw)


def scalars():
    return st.one_of(st.integers(-3, 3), st.floats(-4, 4),
                     st.sampled_from((0.5, -0.0, math.nan, math.inf, -math.inf, 1e30, 2 ** 31,
                                      2 ** 63, True, False)))


def dims(ndim_hint=4):
    return st.one_of(st.integers(-ndim_hint - 1, ndim_hint),
                     st.sampled_from((None, 2 ** 31, 2 ** 63, -2 ** 63 - 1, 1.0, "x")))


def dim_lists():
    return st.one_of(st.lists(st.integers(-5, 4), max_size=3).map(tuple),
                     st.sampled_from(((0, 0), (), [1, -1], (2 ** 63,))))


def ints(low=-2, high=6, huge=True):
    return st.one_of(st.integers(low, high), st.sampled_from(HUGE_INTS if huge else (0,)),
                     st.sampled_from((1.0, 2.5, None, True)))


def size_tuples():
    return st.one_of(st.lists(st.integers(-2, 5), max_size=4).map(tuple),
                     st.sampled_from(((2 ** 31,), (2 ** 62, 4), (2 ** 63,), (-1, -1), (1.5,))))


def broadcast_pair(dtypes_a=ALL_DTYPES, dtypes_b=ALL_DTYPES):
    """Two tensor specs whose shapes usually broadcast."""
    @st.composite
    def pair(draw):
        a_shape = draw(shapes(0, 4, 0, 4))
        mode = draw(st.sampled_from(("same", "broadcast", "broadcast", "any")))
        if mode == "same":
            b_shape = a_shape
        elif mode == "broadcast":
            b_shape = draw(hnp.broadcastable_shapes(a_shape, max_dims=4, min_side=0,
                                                    max_side=4))
        else:
            b_shape = draw(shapes(0, 4, 0, 4))
        return (draw(tensors(a_shape, dtypes_a)), draw(tensors(b_shape, dtypes_b)))
    return pair()


def tensor_or_scalar(shape_like=None):
    return st.one_of(tensors(shape_like), scalars()) if shape_like is not None else \
        st.one_of(tensors(), scalars())


def top(name):
    """call(lib, *args) -> lib.<name>(*args) (kwargs as a trailing dict)."""
    def call(lib, *args):
        if args and isinstance(args[-1], dict):
            return getattr(lib, name)(*args[:-1], **args[-1])
        return getattr(lib, name)(*args)
    call.__name__ = name
    return call


def functional(name):
    def call(lib, *args):
        fn = getattr(lib.nn.functional, name)
        if args and isinstance(args[-1], dict):
            return fn(*args[:-1], **args[-1])
        return fn(*args)
    call.__name__ = name
    return call


def method(name):
    def call(lib, x, *args):
        if args and isinstance(args[-1], dict):
            return getattr(x, name)(*args[:-1], **args[-1])
        return getattr(x, name)(*args)
    call.__name__ = name
    return call


def kwargs(**strategies):
    """A dict strategy where each key is present or absent."""
    return st.fixed_dictionaries({}, optional=strategies)


# ----------------------------------------------------------------------------- elementwise

UNARY = ("abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan "
         "atanh ceil cos cosh erf exp exp2 expm1 fix floor frac isfinite isinf isnan isneginf "
         "isposinf log log10 log1p log2 logical_not neg negative reciprocal relu round rsqrt "
         "sigmoid sign sin sinh sqrt square tan tanh trunc bitwise_not").split()
for _name in UNARY:
    case(_name, "elementwise", st.tuples(tensors()), top(_name))

case("nan_to_num", "elementwise",
     st.tuples(tensors(), kwargs(nan=scalars(), posinf=scalars(), neginf=scalars())),
     top("nan_to_num"))
case("round_decimals", "elementwise", st.tuples(floats_tensor(), st.integers(-3, 5)),
     lambda lib, x, d: lib.round(x, decimals=d))

BINARY = ("add sub subtract mul multiply div divide true_divide floor_divide fmod remainder pow "
          "maximum minimum atan2 arctan2 eq ne lt le gt ge logical_and logical_or logical_xor "
          "bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift").split()
for _name in BINARY:
    case(_name, "elementwise", broadcast_pair(), top(_name))
    case(_name + "_scalar", "elementwise", st.tuples(tensors(), scalars()), top(_name))

case("add_alpha", "elementwise", st.tuples(tensors(), tensor_or_scalar(),
                                           st.fixed_dictionaries({"alpha": scalars()})),
     top("add"))
case("div_rounding", "elementwise",
     st.tuples(tensors(), tensor_or_scalar(),
               st.fixed_dictionaries({"rounding_mode": st.sampled_from(
                   (None, "trunc", "floor", "bad"))})), top("div"))
case("scalar_pow", "elementwise", st.tuples(scalars(), tensors()), top("pow"))
case("where", "elementwise",
     st.tuples(tensors(dtypes=("bool", "bool", "bool", "float32", "int64")), tensors(),
               tensor_or_scalar()), top("where"))
case("clamp", "elementwise",
     st.tuples(tensors(), kwargs(min=st.one_of(scalars(), tensors()),
                                 max=st.one_of(scalars(), tensors()))), top("clamp"))
case("clip", "elementwise", st.tuples(tensors(), scalars(), scalars()), top("clip"))
case("isclose", "elementwise", broadcast_pair().flatmap(lambda ab: st.tuples(
    st.just(ab[0]), st.just(ab[1]),
    kwargs(rtol=st.floats(0, 1), atol=st.floats(0, 1), equal_nan=st.booleans()))),
     top("isclose"), grad=False)
case("allclose", "elementwise", broadcast_pair(), top("allclose"), grad=False)
case("equal", "elementwise", broadcast_pair(), top("equal"), grad=False)

# ----------------------------------------------------------------------------- reductions

for _name in "sum mean amax amin all any".split():
    case(_name, "reduce", st.tuples(tensors(), kwargs(dim=st.one_of(dims(), dim_lists()),
                                                      keepdim=st.booleans())),
         top(_name), reduces=True)
for _name in "max min argmax argmin".split():
    case(_name, "reduce", st.tuples(tensors()), top(_name), reduces=True)
    case(_name + "_dim", "reduce", st.tuples(tensors(), dims(), st.booleans()), top(_name),
         reduces=True)
case("max_binary", "reduce", broadcast_pair(), top("max"))
case("std", "reduce", st.tuples(floats_tensor(), kwargs(
    dim=st.one_of(dims(), dim_lists()), correction=st.sampled_from((0, 1, 2, 5, -1, 0.5)),
    keepdim=st.booleans())), top("std"), reduces=True)
case("var", "reduce", st.tuples(floats_tensor(), kwargs(
    dim=st.one_of(dims(), dim_lists()), unbiased=st.booleans(), keepdim=st.booleans())),
     top("var"), reduces=True)
for _name in "cumsum cumprod cummax cummin".split():
    case(_name, "reduce", st.tuples(tensors(), dims()), top(_name), reduces=True)
for _name in "softmax log_softmax".split():
    case(_name, "reduce", st.tuples(floats_tensor(), dims(),
                                    kwargs(dtype=st.sampled_from(("float32", "float64")))),
         lambda lib, x, d, kw, _n=_name: getattr(lib, _n)(
             x, d, **{k: getattr(lib, v) for k, v in kw.items()}), reduces=True)
case("numel", "reduce", st.tuples(tensors()), top("numel"))
case("sort", "sort", st.tuples(tensors(), kwargs(dim=dims(), descending=st.booleans(),
                                                  stable=st.booleans())), top("sort"))
case("argsort", "sort", st.tuples(tensors(), kwargs(dim=dims(), descending=st.booleans())),
     top("argsort"))
case("msort", "sort", st.tuples(tensors()), top("msort"))
case("topk", "sort", st.tuples(tensors(), ints(-1, 6), kwargs(
    dim=dims(), largest=st.booleans(), sorted=st.booleans())), top("topk"))

# ----------------------------------------------------------------------------- shapes

case("reshape", "shape", st.tuples(tensors(), size_tuples()), top("reshape"))
case("permute", "shape", st.tuples(tensors(), dim_lists()), top("permute"))
for _name in "transpose swapaxes swapdims".split():
    case(_name, "shape", st.tuples(tensors(), dims(), dims()), top(_name))
case("squeeze", "shape", st.tuples(tensors(), st.one_of(dims(), dim_lists())), top("squeeze"))
case("squeeze_all", "shape", st.tuples(tensors()), top("squeeze"))
case("unsqueeze", "shape", st.tuples(tensors(), dims()), top("unsqueeze"))
case("flatten", "shape", st.tuples(tensors(), kwargs(start_dim=dims(), end_dim=dims())),
     top("flatten"))
case("unflatten", "shape", st.tuples(tensors(), dims(), size_tuples()), top("unflatten"))
case("flip", "shape", st.tuples(tensors(), dim_lists()), top("flip"))
case("fliplr", "shape", st.tuples(tensors()), top("fliplr"))
case("flipud", "shape", st.tuples(tensors()), top("flipud"))
case("roll", "shape", st.tuples(tensors(), st.one_of(st.integers(-7, 7), dim_lists()),
                                 kwargs(dims=st.one_of(dims(), dim_lists()))), top("roll"))
case("tile", "shape", st.tuples(tensors(), size_tuples()), top("tile"))
case("t", "shape", st.tuples(tensors()), top("t"))
case("chunk", "shape", st.tuples(tensors(), ints(-1, 5), dims()), top("chunk"))
case("split", "shape", st.tuples(tensors(), st.one_of(ints(-1, 5), size_tuples()), dims()),
     top("split"))
case("unbind", "shape", st.tuples(tensors(), dims()), top("unbind"))


@st.composite
def tensor_lists(draw):
    base = draw(shapes(0, 3, 0, 3))
    count = draw(st.integers(0, 3))
    same = draw(st.booleans())
    return [draw(tensors(base if same else None, max_dims=3)) for _ in range(count)]


for _name in "cat concat concatenate".split():
    case(_name, "shape", st.tuples(tensor_lists(), dims()), top(_name))
case("stack", "shape", st.tuples(tensor_lists(), dims()), top("stack"))
case("meshgrid", "shape", st.tuples(st.lists(tensors(max_dims=2, max_side=4), max_size=3),
                                     st.sampled_from(("ij", "xy", "bad"))),
     lambda lib, ts, indexing: lib.meshgrid(*ts, indexing=indexing))


@st.composite
def gather_args(draw):
    x = draw(tensors(min_dims=0, max_dims=3))
    index_shape = draw(st.one_of(st.just(x.shape), shapes(0, 3, 0, 4)))
    side = max(x.shape) if x.shape else 1
    kind = draw(st.sampled_from((f"index:{side}", f"index:{side + 2}", "small")))
    index = draw(tensors(index_shape, dtypes=("int64", "int64", "int32", "float32"),
                         kinds=(kind,)))
    return x, draw(dims(3)), index


case("gather", "index", gather_args(), lambda lib, x, d, i: lib.gather(x, d, i))


@st.composite
def index_select_args(draw):
    x = draw(tensors(min_dims=0, max_dims=3))
    side = max(x.shape) if x.shape else 1
    index = draw(tensors(draw(shapes(0, 2, 0, 4)), dtypes=("int64", "int64", "int32", "float32"),
                         kinds=(f"index:{side}", f"index:{side + 2}")))
    return x, draw(dims(3)), index


case("index_select", "index", index_select_args(),
     lambda lib, x, d, i: lib.index_select(x, d, i))
case("scatter", "index", gather_args().flatmap(lambda a: st.tuples(
    st.just(a[0]), st.just(a[1]), st.just(a[2]),
    st.one_of(scalars(), tensors(a[2].shape, dtypes=(a[0].dtype,)))), ),
     lambda lib, x, d, i, src: lib.scatter(x, d, i, src))
case("scatter_add", "index", gather_args().flatmap(lambda a: st.tuples(
    st.just(a[0]), st.just(a[1]), st.just(a[2]), tensors(a[2].shape, dtypes=(a[0].dtype,)))),
     lambda lib, x, d, i, src: lib.scatter_add(x, d, i, src))
case("masked_fill", "index", broadcast_pair(dtypes_b=("bool", "bool", "int64")).flatmap(
    lambda ab: st.tuples(st.just(ab[0]), st.just(ab[1]), st.one_of(scalars(), tensors(())))),
     top("masked_fill"))

# ----------------------------------------------------------------------------- linear algebra


@st.composite
def matmul_args(draw, ranks=(1, 2, 3, 4), batch_match=True):
    ra, rb = draw(st.sampled_from(ranks)), draw(st.sampled_from(ranks))
    k = draw(st.integers(0, 4))
    a_shape = list(draw(shapes(ra, ra, 0, 4)))
    b_shape = list(draw(shapes(rb, rb, 0, 4)))
    if draw(st.integers(0, 4)) > 0:  # usually matching inner dimensions
        a_shape[-1] = k
        b_shape[0 if rb == 1 else -2] = k
    dtypes = draw(st.sampled_from((("float32",), ("float64",), ("float32", "float64"),
                                   ("int64",), ("bool",))))
    return (draw(tensors(tuple(a_shape), dtypes)), draw(tensors(tuple(b_shape), dtypes)))


case("matmul", "linalg", matmul_args(), top("matmul"), reduces=True, products=True, weight=3)
case("mm", "linalg", matmul_args((2, 2, 1, 3)), top("mm"), reduces=True, products=True)
case("bmm", "linalg", matmul_args((3, 3, 2)), top("bmm"), reduces=True, products=True)
case("einsum", "linalg", st.tuples(
    st.sampled_from(("ij,jk->ik", "ij->ji", "ii->i", "ij->", "bij,bjk->bik", "i,i->",
                     "...ij->...ji", "ij,jk", "a b", "ij->k", "ij,ij->ij")),
    matmul_args((2,))), lambda lib, eq, ab: lib.einsum(eq, *ab), reduces=True, products=True)

# ----------------------------------------------------------------------------- creation

case("zeros", "creation", st.tuples(size_tuples()), top("zeros"))
case("ones", "creation", st.tuples(size_tuples()), top("ones"))
case("empty", "creation", st.tuples(size_tuples()), top("empty"), compare="meta")
case("full", "creation", st.tuples(size_tuples(), scalars()), top("full"))
case("arange", "creation", st.tuples(st.lists(scalars(), min_size=1, max_size=3)),
     lambda lib, args: lib.arange(*args))
case("linspace", "creation", st.tuples(scalars(), scalars(), ints(-1, 7)), top("linspace"))
case("eye", "creation", st.tuples(ints(-1, 5), st.one_of(st.none(), ints(-1, 5))),
     lambda lib, n, m: lib.eye(n) if m is None else lib.eye(n, m))
for _name in "rand randn".split():
    case(_name, "creation", st.tuples(size_tuples()), top(_name), compare="meta")
case("randint", "creation", st.tuples(ints(-3, 5), ints(-3, 9), size_tuples()),
     lambda lib, low, high, size: lib.randint(low, high, size), compare="meta")
case("randperm", "creation", st.tuples(ints(-1, 9)), top("randperm"), compare="meta")
for _name in "zeros_like ones_like empty_like rand_like randn_like".split():
    case(_name, "creation", st.tuples(tensors()), top(_name),
         compare="meta" if _name[:4] in ("empt", "rand") else "values")
case("full_like", "creation", st.tuples(tensors(), scalars()), top("full_like"))
case("randint_like", "creation", st.tuples(tensors(), ints(1, 9)), top("randint_like"),
     compare="meta")
case("tensor", "creation", st.tuples(st.recursive(
    scalars(), lambda inner: st.lists(inner, max_size=3), max_leaves=8)), top("tensor"),
     grad=False)

# ----------------------------------------------------------------------------- tensor methods


@st.composite
def indices(draw, ndim):
    """An index for t[...]: ints, slices, None, Ellipsis, lists, bool and int tensors."""
    parts = []
    for _ in range(draw(st.integers(0, max(ndim, 1) + 1))):
        parts.append(draw(st.one_of(
            st.integers(-6, 6), st.sampled_from((None, Ellipsis, 2 ** 63, 1.5, True)),
            st.builds(slice, st.one_of(st.none(), st.integers(-6, 6)),
                      st.one_of(st.none(), st.integers(-6, 6)),
                      st.one_of(st.none(), st.integers(-2, 3))),
            st.lists(st.integers(-4, 4), max_size=3),
            tensors(dtypes=("int64", "bool"), kinds=("index:4", "small"), max_dims=2))))
    return tuple(parts) if draw(st.booleans()) else (parts[0] if len(parts) == 1 else
                                                       tuple(parts))


case("getitem", "tensor", tensors(min_dims=0, max_dims=3).flatmap(
    lambda x: st.tuples(st.just(x), indices(len(x.shape)))), lambda lib, x, i: x[i])


def _setitem(lib, x, index, value):
    y = x.clone()
    y[index] = value
    return y


case("setitem", "tensor", tensors(min_dims=0, max_dims=3).flatmap(
    lambda x: st.tuples(st.just(x), indices(len(x.shape)), tensor_or_scalar())), _setitem)
case("view", "tensor", st.tuples(tensors(), size_tuples()), lambda lib, x, s: x.view(*s))
case("expand", "tensor", st.tuples(tensors(max_dims=3), size_tuples()),
     lambda lib, x, s: x.expand(*s))
case("repeat", "tensor", st.tuples(tensors(max_dims=3), size_tuples()),
     lambda lib, x, s: x.repeat(*s))
case("item", "tensor", st.tuples(tensors(max_dims=2, max_side=2)), method("item"))
case("tolist", "tensor", st.tuples(tensors(max_dims=3)), method("tolist"), grad=False)
case("to_dtype", "tensor", st.tuples(tensors(), st.sampled_from(
    ("float32", "float64", "int64", "int32", "bool", "uint8"))),
     lambda lib, x, d: x.to(getattr(lib, d)))


def _inplace(name):
    def call(lib, x, *args):
        y = x.detach().clone()
        getattr(y, name)(*args)
        return y
    return call


for _name in "add_ mul_ sub_ div_".split():
    case(_name, "tensor", st.tuples(tensors(), tensor_or_scalar()), _inplace(_name))
case("clamp_", "tensor", st.tuples(tensors(), scalars(), scalars()), _inplace("clamp_"))
case("fill_", "tensor", st.tuples(tensors(), scalars()), _inplace("fill_"))
case("copy_", "tensor", broadcast_pair(), _inplace("copy_"))
case("zero_", "tensor", st.tuples(tensors()), _inplace("zero_"))

# ----------------------------------------------------------------------------- nn.functional

F_DTYPES = ("float32", "float32", "float64", "float64", "float32", "int64", "uint8", "bool")


def window_ints(low=-1, high=4):
    """An int, a pair, a triple, huge or a float: what torch's window arguments may get."""
    small = st.integers(low, high)
    return st.one_of(small, small, st.tuples(small, small), st.tuples(small),
                     st.tuples(small, small, small), st.sampled_from(HUGE_INTS),
                     st.tuples(small, st.sampled_from(HUGE_INTS)), st.just(2.0))


@st.composite
def images(draw, channels=None, min_side=0, max_side=7, dtypes=F_DTYPES,
           ranks=(4, 4, 4, 3, 3, 2, 5)):
    """An (N, C, H, W) or (C, H, W) tensor spec (sometimes another rank)."""
    rank = draw(st.sampled_from(ranks))
    c = draw(st.integers(0, 4)) if channels is None else channels
    sides = [draw(st.integers(min_side, max_side)) for _ in range(2)]
    shape = {4: [draw(st.integers(0, 3)), c] + sides, 3: [c] + sides, 2: sides,
             5: [1, 1, c] + sides}[rank]
    return draw(tensors(tuple(shape), dtypes))


@st.composite
def conv_args(draw):
    x = draw(images(max_side=8))
    channels = x.shape[-3] if len(x.shape) >= 3 else 1
    groups = draw(st.sampled_from((1, 1, 1, 1, 2, 3, max(channels, 1), 0, -1, 2 ** 31, 2.0)))
    consistent = draw(st.integers(0, 5)) > 0
    per_group = channels // groups if (consistent and isinstance(groups, int) and groups > 0
                                       and channels % groups == 0) else draw(st.integers(0, 3))
    g = groups if isinstance(groups, int) and 0 < groups < 8 else 1
    f = g * draw(st.integers(0, 3)) if consistent else draw(st.integers(0, 5))
    kernel = (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    w_shape = (f, per_group) + kernel if draw(st.integers(0, 9)) else (f, per_group, kernel[0])
    dtypes = (x.dtype,) if consistent else F_DTYPES
    w = draw(tensors(w_shape, dtypes))
    b = draw(st.one_of(st.none(), tensors((f,), dtypes), tensors((f,), dtypes),
                       tensors(draw(shapes(0, 2, 0, 4)), dtypes)))
    padding = draw(st.one_of(window_ints(-1, 3),
                             st.sampled_from(("same", "valid", "full", (2 ** 20, 0)))))
    return x, w, b, dict(stride=draw(window_ints(0, 3)), padding=padding,
                         dilation=draw(window_ints(0, 3)), groups=groups)


case("conv2d", "conv", conv_args(), lambda lib, x, w, b, kw: lib.nn.functional.conv2d(
    x, w, b, **kw), reduces=True, products=True, weight=5)


@st.composite
def pool_args(draw, op):
    x = draw(images(max_side=8))
    kw = dict(kernel_size=draw(window_ints(0, 4)),
              stride=draw(st.one_of(st.none(), window_ints(0, 3), st.just(()))),
              padding=draw(window_ints(-1, 2)), ceil_mode=draw(st.booleans()))
    if op == "max":
        kw.update(dilation=draw(window_ints(0, 3)), return_indices=draw(st.booleans()))
    else:
        kw.update(count_include_pad=draw(st.booleans()),
                  divisor_override=draw(st.one_of(st.none(), st.integers(-3, 5),
                                                  st.sampled_from(HUGE_INTS + (1.5,)))))
    return x, kw


case("max_pool2d", "pool", pool_args("max"), lambda lib, x, kw: lib.nn.functional.max_pool2d(
    x, **kw), weight=4)
case("avg_pool2d", "pool", pool_args("avg"), lambda lib, x, kw: lib.nn.functional.avg_pool2d(
    x, **kw), reduces=True, weight=4)
case("adaptive_avg_pool2d", "pool", st.tuples(images(max_side=8), st.one_of(
    st.integers(-1, 9), st.tuples(st.one_of(st.none(), st.integers(-1, 9)),
                                  st.one_of(st.none(), st.integers(-1, 9))),
    st.sampled_from(HUGE_INTS + ((1, 2, 3), (2 ** 63, 1), 2.0)))),
     functional("adaptive_avg_pool2d"), reduces=True, weight=4)


@st.composite
def linear_args(draw):
    batch = draw(shapes(0, 3, 0, 4))
    k, f = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    dtypes = draw(st.sampled_from((("float32",), ("float64",), ("float32", "float64"),
                                   ("int64",), ("bool",))))
    x = draw(tensors(batch + (k,), dtypes))
    w_shape = draw(st.one_of(st.just((f, k)), st.just((f, k)), st.just((k,)),
                             shapes(1, 3, 0, 5)))
    w = draw(tensors(w_shape, dtypes))
    out = batch + (f,)
    b = draw(st.one_of(st.none(), tensors((f,), dtypes), tensors((), dtypes),
                       tensors((1,), dtypes), tensors(out[-2:], dtypes),
                       tensors(draw(shapes(0, 3, 0, 5)), dtypes)))
    return x, w, b


case("linear", "nn", linear_args(), functional("linear"), reduces=True, products=True,
     weight=4)
for _name in "relu sigmoid tanh".split():
    case("F." + _name, "nn", st.tuples(tensors()), functional(_name))
case("F.gelu", "nn", st.tuples(tensors(), kwargs(approximate=st.sampled_from(
    ("none", "tanh", "erf")))), functional("gelu"))
case("F.leaky_relu", "nn", st.tuples(tensors(), kwargs(negative_slope=scalars())),
     functional("leaky_relu"))
for _name in "softmax log_softmax".split():
    case("F." + _name, "nn", st.tuples(floats_tensor(), kwargs(dim=dims())),
         functional(_name), reduces=True)
case("F.dropout", "nn", st.tuples(tensors(), kwargs(
    p=st.sampled_from((0.0, 1.0, 0.5, -0.1, 1.5, math.nan)), training=st.booleans())),
     lambda lib, x, kw: lib.nn.functional.dropout(x, **kw),
     compare="meta")
case("F.dropout_p0", "nn", st.tuples(tensors(), st.booleans()),
     lambda lib, x, training: lib.nn.functional.dropout(x, 0.0, training))


@st.composite
def batch_norm_args(draw):
    x = draw(tensors(draw(shapes(1, 5, 0, 4)), F_DTYPES))
    c = x.shape[1] if len(x.shape) > 1 else draw(st.integers(0, 3))
    c = c if draw(st.integers(0, 5)) else draw(st.integers(0, 4))
    stat = lambda kind: st.one_of(st.none(), tensors((c,), (x.dtype,), kinds=(kind,),  # noqa
                                                     grad=False, layout=False))
    return (x, draw(stat("normal")), draw(stat("positive")),
            dict(weight=draw(st.one_of(st.none(), tensors((c,), (x.dtype,))))),
            dict(bias=draw(st.one_of(st.none(), tensors((c,), (x.dtype,))))),
            dict(training=draw(st.booleans()), momentum=draw(st.sampled_from(
                (0.1, 0.0, 1.0, None, -1.0))), eps=draw(st.sampled_from((1e-5, 0.0, -1.0)))))


case("F.batch_norm", "nn", batch_norm_args(),
     lambda lib, x, rm, rv, w, b, kw: (lib.nn.functional.batch_norm(
         x, rm, rv, **w, **b, **kw), rm, rv), reduces=True, weight=2)

# ----------------------------------------------------------------------------- issue 13's ops:
# padding, resampling, 1-d and transposed convolutions, norms, embeddings, activations,
# 1-d and adaptive max pools, attention (basic coverage: shapes, dtypes, bad arguments)


@st.composite
def signals(draw, max_side=7, dtypes=F_DTYPES):
    """An (N, C, L) or (C, L) tensor spec (sometimes another rank)."""
    rank = draw(st.sampled_from((3, 3, 3, 3, 3, 2, 2, 4, 1)))
    c = draw(st.integers(0, 4))
    shape = {3: (draw(st.integers(0, 3)), c, draw(st.integers(0, max_side))),
             2: (c, draw(st.integers(0, max_side))), 4: (1, c, 2, draw(st.integers(0, 4))),
             1: (draw(st.integers(0, 5)),)}[rank]
    return draw(tensors(shape, dtypes))


MOSTLY_FLOATS = ("float32", "float32", "float64", "float64", "float32", "int64")
MOSTLY_POSITIVE = st.one_of(st.integers(1, 3), st.integers(1, 3), st.integers(-1, 3))


@st.composite
def pad_args(draw):
    x = draw(tensors(draw(shapes(0, 5, 0, 4)), F_DTYPES))
    pad = tuple(draw(st.lists(st.integers(-3, 3), max_size=6)))
    if draw(st.integers(0, 9)) == 0:
        pad = draw(st.sampled_from(((2 ** 31, 0), (1.5, 0), (2 ** 63, 0), (1,))))
    mode = draw(st.sampled_from(("constant", "constant", "reflect", "replicate", "circular",
                                 "bad")))
    value = draw(st.sampled_from((None, None, 0.0, 1.5, math.nan, -math.inf, 2)))
    return x, pad, mode, value


case("F.pad", "nn", pad_args(), lambda lib, x, pad, mode, value: lib.nn.functional.pad(
    x, pad, mode=mode, value=value), weight=3)


@st.composite
def interpolate_args(draw):
    x = draw(st.one_of(images(max_side=5), signals(5)))
    mode = draw(st.sampled_from(("nearest", "nearest", "nearest-exact", "linear", "bilinear",
                                 "bicubic", "area", "trilinear", "bad")))
    kw = dict(mode=mode)
    if draw(st.booleans()):
        kw["size"] = draw(st.one_of(st.integers(-1, 7), st.tuples(st.integers(0, 7)),
                                    st.tuples(st.integers(0, 7), st.integers(0, 7)),
                                    st.sampled_from((2 ** 31, None))))
    if draw(st.booleans()) or "size" not in kw:
        kw["scale_factor"] = draw(st.one_of(st.sampled_from((0.5, 1.0, 2.0, 1.7, 0.0, -1.0,
                                                             math.nan, math.inf, 3))
                                            , st.tuples(st.sampled_from((0.5, 2.0, 1.3)),
                                                        st.sampled_from((1.0, 2.5)))))
    if mode in ("linear", "bilinear", "bicubic", "trilinear") or draw(st.integers(0, 5)) == 0:
        kw["align_corners"] = draw(st.sampled_from((None, True, False)))
    return x, kw


case("F.interpolate", "nn", interpolate_args(),
     lambda lib, x, kw: lib.nn.functional.interpolate(x, **kw), reduces=True, weight=4)


@st.composite
def conv1d_args(draw):
    x = draw(signals(8, MOSTLY_FLOATS))
    channels = x.shape[-2] if len(x.shape) >= 2 else 1
    groups = draw(st.sampled_from((1, 1, 1, 2, max(channels, 1), 0, 2 ** 31)))
    consistent = draw(st.integers(0, 5)) > 0
    g = groups if isinstance(groups, int) and 0 < groups < 8 else 1
    per_group = channels // g if consistent and channels % g == 0 else draw(st.integers(0, 3))
    f = g * draw(st.integers(0, 3)) if consistent else draw(st.integers(0, 5))
    w = draw(tensors((f, per_group, draw(MOSTLY_POSITIVE)),
                     (x.dtype,) if consistent else F_DTYPES))
    b = draw(st.one_of(st.none(), tensors((f,), (x.dtype,))))
    padding = draw(st.one_of(st.integers(-1, 3), st.sampled_from(("same", "valid", 2 ** 31))))
    return x, w, b, dict(stride=draw(st.one_of(MOSTLY_POSITIVE, st.just(2 ** 31))),
                         padding=padding, dilation=draw(MOSTLY_POSITIVE), groups=groups)


case("F.conv1d", "conv", conv1d_args(), lambda lib, x, w, b, kw: lib.nn.functional.conv1d(
    x, w, b, **kw), reduces=True, products=True, weight=3)


@st.composite
def conv_transpose_args(draw, dims):
    x = draw(images(max_side=5, dtypes=MOSTLY_FLOATS, ranks=(4, 4, 4, 3, 3, 2))
             if dims == 2 else signals(6, MOSTLY_FLOATS))
    channels = x.shape[-1 - dims] if len(x.shape) > dims else 1
    groups = draw(st.sampled_from((1, 1, 1, 2, 0)))
    consistent = draw(st.integers(0, 5)) > 0
    g = groups if groups > 0 else 1
    c_in = channels if consistent else draw(st.integers(0, 4))
    kernel = tuple(draw(MOSTLY_POSITIVE) for _ in range(dims))
    w = draw(tensors((c_in, draw(st.integers(0, 3))) + kernel,
                     (x.dtype,) if consistent else F_DTYPES))
    b = draw(st.one_of(st.none(), tensors((w.shape[1] * g,), (x.dtype,))))
    return x, w, b, dict(stride=draw(st.one_of(MOSTLY_POSITIVE, st.just(2 ** 31))),
                         padding=draw(st.integers(-1, 2)),
                         output_padding=draw(st.integers(-1, 1)), groups=groups,
                         dilation=draw(MOSTLY_POSITIVE))


for _dims in (1, 2):
    case(f"F.conv_transpose{_dims}d", "conv", conv_transpose_args(_dims),
         lambda lib, x, w, b, kw, _d=_dims: getattr(
             lib.nn.functional, f"conv_transpose{_d}d")(x, w, b, **kw),
         reduces=True, products=True, weight=3)


@st.composite
def layer_norm_args(draw):
    x = draw(tensors(draw(shapes(0, 4, 0, 4)), F_DTYPES))
    tail = x.shape[len(x.shape) - draw(st.integers(0, len(x.shape))):] if x.shape else ()
    normalized = draw(st.one_of(st.just(tail), st.just(tail), shapes(0, 2, 0, 4),
                                st.integers(0, 4)))
    shape = normalized if isinstance(normalized, tuple) else (normalized,)
    affine = st.one_of(st.none(), tensors(shape, (x.dtype,)), tensors(shape, F_DTYPES))
    return x, normalized, draw(affine), draw(affine), draw(st.sampled_from((1e-5, 0.0, 1.0)))


case("F.layer_norm", "nn", layer_norm_args(), lambda lib, x, n, w, b, eps:
     lib.nn.functional.layer_norm(x, n, w, b, eps), reduces=True, weight=3)


@st.composite
def group_norm_args(draw):
    x = draw(tensors(draw(shapes(1, 4, 0, 4)), F_DTYPES))
    c = x.shape[1] if len(x.shape) > 1 else 1
    groups = draw(st.sampled_from((1, 1, 2, max(c, 1), 0, -1, 3)))
    affine = st.one_of(st.none(), tensors((c,), (x.dtype,)),
                       tensors(draw(shapes(1, 1, 0, 5)), F_DTYPES))
    return x, groups, draw(affine), draw(affine), draw(st.sampled_from((1e-5, 0.0, 1.0)))


case("F.group_norm", "nn", group_norm_args(), lambda lib, x, g, w, b, eps:
     lib.nn.functional.group_norm(x, g, w, b, eps), reduces=True, weight=3)


@st.composite
def embedding_args(draw):
    n = draw(st.integers(0, 5))
    weight = draw(tensors((n, draw(st.integers(0, 4))), ("float32", "float64", "int64"),
                          layout=False))
    index = draw(tensors(draw(shapes(0, 3, 0, 4)), ("int64", "int64", "int32", "float32"),
                         kinds=(f"index:{max(n, 1)}", f"index:{n + 2}"), grad=False))
    kw = draw(kwargs(padding_idx=st.sampled_from((None, 0, -1, n, 2 ** 63)),
                     scale_grad_by_freq=st.booleans(),
                     max_norm=st.sampled_from((None, 1.0, 0.0))))
    return index, weight, kw


case("F.embedding", "nn", embedding_args(), lambda lib, i, w, kw:
     lib.nn.functional.embedding(i, w, **kw), reduces=True, weight=2)
case("F.one_hot", "nn", st.tuples(tensors(dtypes=("int64", "int64", "int32", "float32"),
                                          kinds=("index:4", "small", "extreme"), max_dims=3),
                                  st.sampled_from((-1, -1, 0, 3, 5, 2 ** 40))),
     functional("one_hot"), grad=False)

for _name, _options in (
        ("elu", dict(alpha=scalars())), ("silu", {}), ("mish", {}), ("relu6", {}),
        ("softplus", dict(beta=st.sampled_from((1.0, 2.0, 0.0, -1.0, 1e30)),
                          threshold=st.sampled_from((20.0, 0.0, -1.0, math.inf)))),
        ("hardtanh", dict(min_val=scalars(), max_val=scalars()))):
    case("F." + _name, "nn", st.tuples(tensors(), kwargs(**_options)), functional(_name))


@st.composite
def prelu_args(draw):
    x = draw(tensors(draw(shapes(0, 4, 0, 4)), F_DTYPES))
    c = x.shape[1] if len(x.shape) > 1 else 1
    return x, draw(st.one_of(tensors((1,), (x.dtype,)), tensors((c,), (x.dtype,)),
                             tensors(draw(shapes(0, 2, 0, 4)), F_DTYPES)))


case("F.prelu", "nn", prelu_args(), functional("prelu"))


@st.composite
def pool1d_args(draw, op):
    x = draw(signals(8))
    small = st.integers(0, 4)
    kw = dict(kernel_size=draw(st.one_of(small, small, st.tuples(small),
                                         st.sampled_from(HUGE_INTS))),
              stride=draw(st.one_of(st.none(), st.integers(0, 3))),
              padding=draw(st.integers(-1, 2)), ceil_mode=draw(st.booleans()))
    if op == "max":
        kw.update(dilation=draw(st.integers(0, 3)), return_indices=draw(st.booleans()))
    else:
        kw.update(count_include_pad=draw(st.booleans()))
    return x, kw


case("F.max_pool1d", "pool", pool1d_args("max"), lambda lib, x, kw:
     lib.nn.functional.max_pool1d(x, **kw), weight=2)
case("F.avg_pool1d", "pool", pool1d_args("avg"), lambda lib, x, kw:
     lib.nn.functional.avg_pool1d(x, **kw), reduces=True, weight=2)
for _name in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
    case("F." + _name, "pool", st.tuples(signals(8), st.one_of(
        st.integers(-1, 9), st.tuples(st.integers(0, 5)), st.sampled_from(HUGE_INTS))),
         functional(_name), reduces=True, weight=2)
case("F.adaptive_max_pool2d", "pool", st.tuples(images(max_side=8), st.one_of(
    st.integers(-1, 9), st.tuples(st.one_of(st.none(), st.integers(0, 5)),
                                  st.one_of(st.none(), st.integers(0, 5))),
    st.sampled_from(HUGE_INTS)), st.booleans()), functional("adaptive_max_pool2d"), weight=3)


@st.composite
def attention_args(draw):
    batch = draw(shapes(0, 2, 0, 3))
    lq, lk, e, ev = (draw(st.integers(0, 4)) for _ in range(4))
    dtype = draw(st.sampled_from(("float32", "float64")))
    dtypes = (dtype,) if draw(st.integers(0, 5)) else F_DTYPES
    q = draw(tensors(batch + (lq, e), dtypes))
    k = draw(tensors(batch + (lk, e if draw(st.integers(0, 7)) else e + 1), dtypes))
    v = draw(tensors(batch + (lk, ev), dtypes))
    mask = draw(st.one_of(st.none(), st.none(),
                          tensors((lq, lk), ("bool",)), tensors((lq, lk), (dtype,), grad=False),
                          tensors(draw(shapes(0, 3, 0, 4)), ("bool", "float32"))))
    causal = draw(st.booleans()) if mask is None else draw(st.sampled_from((False, True)))
    return q, k, v, dict(attn_mask=mask, is_causal=causal,
                         scale=draw(st.sampled_from((None, None, 0.5, 0.0, -1.0))))


case("F.scaled_dot_product_attention", "nn", attention_args(), lambda lib, q, k, v, kw:
     lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw), reduces=True,
     products=True, weight=3)
for _name in ("dropout1d", "dropout2d"):
    case("F." + _name, "nn", st.tuples(tensors(dtypes=F_DTYPES), kwargs(
        p=st.sampled_from((0.0, 1.0, 0.5, -0.1, 1.5)), training=st.booleans())),
         functional(_name), compare="meta")

# ----------------------------------------------------------------------------- valid windows:
# calls drawn to be accepted (odd shapes, groups, strides, dilations, paddings, both float
# dtypes, strided and transposed inputs), so that the kernels themselves run often


@st.composite
def valid_conv_args(draw, transposed=False):
    g = draw(st.sampled_from((1, 1, 1, 2, 3)))
    c, f = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    sides = tuple(max(d * (k - 1) + 1 - 2 * p, 1) + draw(st.integers(0, 4))
                  for k, d, p in zip(kernel, dilation, padding))
    dtype = draw(st.sampled_from(FLOATS))
    x = draw(tensors((draw(st.integers(0, 3)), c) + sides, (dtype,),
                     kinds=("normal", "normal", "distinct", "ties", "zeros")))
    w_shape = (c, f // g) + kernel if transposed else (f, c // g) + kernel
    w = draw(tensors(w_shape, (dtype,), kinds=("normal",)))
    b = draw(st.one_of(st.none(), tensors((f,), (dtype,), kinds=("normal",))))
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=g)
    if transposed:
        kw["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1))
                                     for s, d in zip(stride, dilation))
    return x, w, b, kw


case("conv2d_valid", "conv", valid_conv_args(), lambda lib, x, w, b, kw:
     lib.nn.functional.conv2d(x, w, b, **kw), reduces=True, products=True, weight=6)
case("conv_transpose2d_valid", "conv", valid_conv_args(True), lambda lib, x, w, b, kw:
     lib.nn.functional.conv_transpose2d(x, w, b, **kw), reduces=True, products=True, weight=4)


@st.composite
def valid_pool_args(draw, op):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if op == "max" else (1, 1)
    kw = dict(kernel_size=kernel,
              stride=draw(st.one_of(st.none(), st.tuples(st.integers(1, 3),
                                                         st.integers(1, 3)))),
              padding=tuple(draw(st.integers(0, k // 2)) for k in kernel),
              ceil_mode=draw(st.booleans()))
    if op == "max":
        kw.update(dilation=dilation, return_indices=draw(st.booleans()))
    else:
        kw.update(count_include_pad=draw(st.booleans()),
                  divisor_override=draw(st.one_of(st.none(), st.integers(1, 5))))
    sides = tuple(d * (k - 1) + 1 + draw(st.integers(0, 5)) for k, d in zip(kernel, dilation))
    x = draw(tensors((draw(st.integers(0, 3)), draw(st.integers(1, 4))) + sides, FLOATS,
                     kinds=("normal", "normal", "distinct", "ties", "special")))
    return x, kw


case("max_pool2d_valid", "pool", valid_pool_args("max"), lambda lib, x, kw:
     lib.nn.functional.max_pool2d(x, **kw), weight=4)
case("avg_pool2d_valid", "pool", valid_pool_args("avg"), lambda lib, x, kw:
     lib.nn.functional.avg_pool2d(x, **kw), reduces=True, weight=4)
case("adaptive_avg_pool2d_valid", "pool", st.tuples(
    tensors((2, 3, 5, 7), FLOATS, kinds=("normal", "distinct")) | tensors(
        (1, 2, 9, 4), FLOATS, kinds=("normal", "special")),
    st.tuples(st.integers(1, 9), st.integers(1, 9))), functional("adaptive_avg_pool2d"),
     reduces=True, weight=2)


# ----------------------------------------------------------------------------- losses

REDUCTION = st.sampled_from(("mean", "mean", "sum", "none", "elementwise_mean", "avg"))


@st.composite
def class_loss_args(draw, probabilities=True):
    n, c = draw(st.integers(0, 4)), draw(st.integers(0, 5))
    spatial = draw(st.sampled_from(((), (), (2,), (2, 3), None)))
    x_shape = (c,) if spatial is None else (n, c) + spatial
    x = draw(tensors(x_shape, ("float32", "float32", "float64", "int64"),
                     kinds=FLOAT_KINDS + ("huge",)))
    t_shape = () if spatial is None else (n,) + spatial
    ignore = draw(st.sampled_from((-100, -100, 0, 1, -1, 2 ** 40, 2 ** 63, 1.5)))
    kind = draw(st.sampled_from((f"index:{c}", f"index:{c}:ignore", f"index:{c + 2}")))
    targets = [tensors(t_shape, ("int64", "int64", "int64", "uint8", "int32", "float32"),
                       kinds=(kind,), grad=False),
               tensors(draw(shapes(0, 3, 0, 4)), ("int64",), kinds=(kind,), grad=False)]
    if probabilities:
        targets.append(tensors(x_shape, ("float32", "float64"), kinds=("probs", "special")))
    target = draw(st.one_of(*targets))
    if target.dtype == "int64" and "ignore" in target.kind and isinstance(ignore, int) \
            and abs(ignore) < 2 ** 62:
        target = T(target.shape, target.dtype, target.kind.replace(":ignore", "") +
                   (":ignore" if ignore == -100 else ""), target.seed)
    weight = draw(st.one_of(st.none(), tensors((c,), (x.dtype,), kinds=("positive", "zeros"),
                                               grad=False),
                            tensors(draw(shapes(0, 2, 0, 6)), F_DTYPES, grad=False)))
    kw = dict(reduction=draw(REDUCTION), ignore_index=ignore)
    if probabilities:
        kw["label_smoothing"] = draw(st.sampled_from((0.0, 0.0, 0.1, 1.0, -0.5, 1.5,
                                                      math.nan, 2)))
    return x, target, weight, kw


case("cross_entropy", "loss", class_loss_args(), lambda lib, x, t, w, kw:
     lib.nn.functional.cross_entropy(x, t, w, **kw), reduces=True, weight=6)
case("nll_loss", "loss", class_loss_args(False), lambda lib, x, t, w, kw:
     lib.nn.functional.nll_loss(x, t, w, **kw), reduces=True, weight=4)


@st.composite
def regression_args(draw, logits=False):
    x, y = draw(broadcast_pair(("float32", "float32", "float64", "int64"),
                               ("float32", "float64", "float32", "int64")))
    if logits and draw(st.booleans()):
        y = T(x.shape, y.dtype, "positive" if y.dtype in FLOATS else y.kind, y.seed,
              y.requires_grad)
    kw = dict(reduction=draw(REDUCTION))
    extra = st.one_of(st.none(), tensors(x.shape, (x.dtype,), grad=not logits),
                      tensors(x.shape[-1:], (x.dtype,), grad=False),
                      tensors(draw(shapes(0, 3, 0, 4)), F_DTYPES, grad=False))
    if logits:
        kw.update(weight=draw(extra), pos_weight=draw(extra))
    else:
        kw.update(weight=draw(extra))
    return x, y, kw


case("mse_loss", "loss", regression_args(), lambda lib, x, y, kw:
     lib.nn.functional.mse_loss(x, y, **kw), reduces=True, products=True, weight=2)
case("l1_loss", "loss", regression_args(), lambda lib, x, y, kw:
     lib.nn.functional.l1_loss(x, y, **kw), reduces=True, weight=2)
case("binary_cross_entropy_with_logits", "loss", regression_args(logits=True),
     lambda lib, x, y, kw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, **kw),
     reduces=True, weight=3)

@st.composite
def probability_pair(draw):
    x, y = draw(broadcast_pair(("float32", "float32", "float64", "int64"),
                               ("float32", "float64", "float32", "int64")))
    kinds = ("probs", "probs", "zeros", "ties", "special", "positive")
    x = T(x.shape, x.dtype, draw(st.sampled_from(kinds)), x.seed, x.requires_grad)
    y = T(x.shape if draw(st.integers(0, 5)) else y.shape, y.dtype,
          draw(st.sampled_from(kinds)), y.seed, y.requires_grad)
    weight = draw(st.one_of(st.none(), tensors(x.shape, (x.dtype,), grad=False),
                            tensors(draw(shapes(0, 3, 0, 4)), F_DTYPES, grad=False)))
    return x, y, dict(weight=weight, reduction=draw(REDUCTION))


case("binary_cross_entropy", "loss", probability_pair(), lambda lib, x, y, kw:
     lib.nn.functional.binary_cross_entropy(x, y, **kw), reduces=True, weight=2)
case("smooth_l1_loss", "loss", regression_args().flatmap(lambda a: st.tuples(
    st.just(a[0]), st.just(a[1]), st.fixed_dictionaries(dict(
        reduction=REDUCTION, beta=st.sampled_from((1.0, 0.0, 0.5, -1.0, 1e30)))))),
     lambda lib, x, y, kw: lib.nn.functional.smooth_l1_loss(x, y, **kw), reduces=True)
case("huber_loss", "loss", regression_args().flatmap(lambda a: st.tuples(
    st.just(a[0]), st.just(a[1]), st.fixed_dictionaries(dict(
        reduction=REDUCTION, delta=st.sampled_from((1.0, 0.5, 0.0, -1.0)),
        weight=st.one_of(st.none(), tensors(a[0].shape, (a[0].dtype,))))))),
     lambda lib, x, y, kw: lib.nn.functional.huber_loss(x, y, **kw), reduces=True)
case("kl_div", "loss", regression_args().flatmap(lambda a: st.tuples(
    st.just(a[0]), st.just(T(a[1].shape, a[1].dtype, "probs", a[1].seed, a[1].requires_grad)),
    st.fixed_dictionaries(dict(reduction=st.sampled_from(
        ("mean", "sum", "none", "batchmean", "bad")), log_target=st.booleans())))),
     lambda lib, x, y, kw: lib.nn.functional.kl_div(x, y, **kw), reduces=True)


@st.composite
def pair_target_args(draw):
    n, d = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    rank = draw(st.sampled_from((1, 2, 2)))
    shape = (n, d)[:rank] if rank == 2 else (n,)
    x1 = draw(tensors(shape, ("float32", "float32", "float64", "int64")))
    x2 = draw(tensors(shape if draw(st.integers(0, 5)) else draw(shapes(0, 2, 0, 4)),
                      (x1.dtype,) if draw(st.integers(0, 5)) else F_DTYPES))
    y = draw(tensors((n,) if draw(st.integers(0, 5)) else draw(shapes(0, 2, 0, 4)),
                     ("float32", "float64", "int64"), kinds=("ties", "normal")))
    return x1, x2, y, dict(margin=draw(st.sampled_from((0.0, 0.5, -1.0, math.nan))),
                           reduction=draw(REDUCTION))


for _name in ("cosine_embedding_loss", "margin_ranking_loss"):
    case(_name, "loss", pair_target_args(), lambda lib, a, b, y, kw, _n=_name: getattr(
        lib.nn.functional, _n)(a, b, y, **kw), reduces=True)

# ----------------------------------------------------------------------------- modules


def _fill_parameters(lib, module, seed):
    """The same parameter values in both frameworks (drawn from ``seed``)."""
    with lib.no_grad():
        for i, (_, p) in enumerate(sorted(module.named_parameters())):
            values = np.random.default_rng(seed + i).standard_normal(tuple(p.shape)) * 0.5
            p.copy_(lib.tensor(values.astype(str(p.dtype).replace("torch.", ""))))


def module_call(lib, cls, ctor, x, seed, train):
    """Build ``lib.nn.<cls>(*args, **kwargs)``, run it on x, backpropagate a fixed upstream
    gradient; return the output and every gradient (of x and of each parameter, by name)."""
    args, kw = ctor
    kw = {k: (getattr(lib, v[6:]) if isinstance(v, str) and v.startswith("dtype:") else v)
          for k, v in kw.items()}
    module = getattr(lib.nn, cls)(*args, **kw)
    _fill_parameters(lib, module, seed)
    module.train(train)
    out = module(*x) if isinstance(x, tuple) else module(x)
    grads = {}
    outs = out if isinstance(out, tuple) else (out,)
    floats = [o for o in outs if hasattr(o, "requires_grad") and o.requires_grad]
    if floats:
        total = sum((o * lib.tensor(np.full(tuple(o.shape), 0.7, str(o.dtype).replace(
            "torch.", "")))).sum() for o in floats)
        total.backward()
        grads = {name: p.grad for name, p in sorted(module.named_parameters())}
    buffers = {name: b for name, b in sorted(module.named_buffers())}
    return out, grads, buffers


def module_case(cls, ctor, x, weight=1, **options):
    case("nn." + cls, "module", st.tuples(ctor, x, seeds, st.booleans()),
         lambda lib, ctor_args, xs, seed, train: module_call(lib, cls, ctor_args, xs, seed,
                                                             train),
         grad=False, weight=weight, **options)  # module_call compares the gradients


def ctor(*positional, **keywords):
    return st.tuples(st.tuples(*positional), kwargs(**keywords))


module_case("Linear", ctor(st.integers(0, 5), st.integers(0, 5), bias=st.booleans(),
                           dtype=st.sampled_from(("dtype:float32", "dtype:float64"))),
            tensors(dtypes=("float32", "float32", "float64"), min_dims=1, max_dims=3),
            reduces=True, products=True, weight=3)
module_case("Conv2d", ctor(st.integers(0, 4), st.integers(0, 4), window_ints(0, 3),
                           stride=window_ints(0, 2), padding=st.one_of(
                               window_ints(-1, 2), st.sampled_from(("same", "valid"))),
                           dilation=window_ints(0, 2), groups=st.sampled_from((1, 1, 2, 0)),
                           bias=st.booleans(),
                           padding_mode=st.sampled_from(("zeros", "zeros", "bad"))),
            images(max_side=7), reduces=True, products=True, weight=4)
module_case("MaxPool2d", ctor(window_ints(0, 3), stride=st.one_of(st.none(), window_ints(0, 2)),
                              padding=window_ints(-1, 2), dilation=window_ints(0, 2),
                              return_indices=st.booleans(), ceil_mode=st.booleans()),
            images(max_side=7), weight=2)
module_case("AvgPool2d", ctor(window_ints(0, 3), stride=st.one_of(st.none(), window_ints(0, 2)),
                              padding=window_ints(-1, 2), ceil_mode=st.booleans(),
                              count_include_pad=st.booleans(),
                              divisor_override=st.one_of(st.none(), st.integers(-1, 4))),
            images(max_side=7), reduces=True, weight=2)
module_case("AdaptiveAvgPool2d", ctor(st.one_of(st.integers(0, 5), st.tuples(
    st.one_of(st.none(), st.integers(0, 5)), st.one_of(st.none(), st.integers(0, 5))))),
            images(max_side=7), reduces=True, weight=2)
for _cls, _rank in (("BatchNorm1d", (2, 3)), ("BatchNorm2d", (4, 4))):
    module_case(_cls, ctor(st.integers(0, 4), eps=st.sampled_from((1e-5, 0.1)),
                           momentum=st.sampled_from((0.1, None, 0.0, 1.0)),
                           affine=st.booleans(), track_running_stats=st.booleans()),
                tensors(dtypes=("float32", "float32", "float64", "int64"),
                        min_dims=_rank[0], max_dims=_rank[1]), reduces=True, weight=2)
module_case("Dropout", ctor(st.sampled_from((0.0, 1.0, -0.5, 2.0))), tensors())
module_case("Flatten", ctor(dims(), dims()), tensors())
module_case("Unflatten", ctor(dims(), size_tuples()), tensors())
module_case("GELU", ctor(approximate=st.sampled_from(("none", "tanh", "x"))), tensors())
module_case("LeakyReLU", ctor(scalars()), tensors())
for _cls in ("ReLU", "Sigmoid", "Tanh", "Identity"):
    module_case(_cls, ctor(), tensors())
for _cls in ("Softmax", "LogSoftmax"):
    module_case(_cls, ctor(dims()), floats_tensor(), reduces=True)
module_case("CrossEntropyLoss", st.tuples(st.tuples(), kwargs(
    ignore_index=st.sampled_from((-100, 0, 2 ** 40)), reduction=REDUCTION,
    label_smoothing=st.sampled_from((0.0, 0.2, math.nan)))),
            class_loss_args().map(lambda a: (a[0], a[1])), reduces=True, weight=2)
module_case("NLLLoss", st.tuples(st.tuples(), kwargs(ignore_index=st.sampled_from((-100, 0)),
                                                     reduction=REDUCTION)),
            class_loss_args(False).map(lambda a: (a[0], a[1])), reduces=True)
for _cls in ("MSELoss", "L1Loss", "BCEWithLogitsLoss"):
    module_case(_cls, st.tuples(st.tuples(), kwargs(reduction=REDUCTION)),
                regression_args(_cls.startswith("BCE")).map(lambda a: (a[0], a[1])),
                reduces=True)

module_case("Conv1d", ctor(st.integers(0, 4), st.integers(0, 4), st.integers(0, 3),
                           stride=st.integers(0, 2), padding=st.one_of(
                               st.integers(-1, 2), st.sampled_from(("same", "valid"))),
                           dilation=st.integers(0, 2), groups=st.sampled_from((1, 1, 2, 0)),
                           bias=st.booleans(), padding_mode=st.sampled_from(
                               ("zeros", "zeros", "reflect", "replicate", "circular", "bad"))),
            signals(8), reduces=True, products=True, weight=2)
module_case("ConvTranspose2d", ctor(st.integers(0, 4), st.integers(0, 4), window_ints(0, 3),
                                    stride=window_ints(0, 2), padding=window_ints(-1, 2),
                                    output_padding=st.integers(0, 1),
                                    groups=st.sampled_from((1, 1, 2)), bias=st.booleans(),
                                    dilation=st.integers(1, 2)),
            images(max_side=5), reduces=True, products=True, weight=2)
module_case("LayerNorm", ctor(st.one_of(st.integers(0, 4), shapes(0, 2, 0, 4)),
                              eps=st.sampled_from((1e-5, 0.0)),
                              elementwise_affine=st.booleans(), bias=st.booleans()),
            tensors(dtypes=("float32", "float32", "float64", "int64")), reduces=True, weight=2)
module_case("GroupNorm", ctor(st.integers(0, 4), st.integers(0, 4),
                              affine=st.booleans(), eps=st.sampled_from((1e-5, 0.0))),
            tensors(dtypes=("float32", "float32", "float64"), min_dims=1), reduces=True,
            weight=2)
module_case("Embedding", ctor(st.integers(0, 5), st.integers(0, 4),
                              padding_idx=st.sampled_from((None, 0, -1, 9))),
            tensors(dtypes=("int64", "int64", "int32"), kinds=("index:5", "index:7"),
                    max_dims=3), reduces=True)
module_case("Upsample", ctor(scale_factor=st.sampled_from((2.0, 0.5, 1.5, None)),
                             size=st.sampled_from((None, 3, (2, 3))),
                             mode=st.sampled_from(("nearest", "bilinear", "bad"))),
            images(max_side=5), reduces=True)
for _cls in ("SiLU", "Mish", "ELU", "Softplus", "Hardtanh", "ReLU6", "PReLU"):
    module_case(_cls, ctor(), tensors())
for _cls in ("MaxPool1d", "AvgPool1d"):
    module_case(_cls, ctor(st.integers(0, 3), stride=st.one_of(st.none(), st.integers(0, 2)),
                           padding=st.integers(-1, 1)), signals(7))
module_case("AdaptiveMaxPool2d", ctor(st.one_of(st.integers(0, 4), st.tuples(
    st.integers(0, 4), st.integers(0, 4)))), images(max_side=6))
for _cls in ("BCELoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss"):
    module_case(_cls, st.tuples(st.tuples(), kwargs(reduction=st.sampled_from(
        ("mean", "sum", "none")))), probability_pair().map(lambda a: (a[0], a[1])),
                reduces=True)
for _cls in ("CosineEmbeddingLoss", "MarginRankingLoss"):
    module_case(_cls, st.tuples(st.tuples(), kwargs(margin=st.sampled_from((0.0, 0.5)))),
                pair_target_args().map(lambda a: a[:3]), reduces=True)

# ----------------------------------------------------------------------------- optimizers

OPTIMIZER_OPTIONS = {
    "SGD": dict(lr=st.sampled_from((0.1, 0.0, -0.1, 1e30)), momentum=st.sampled_from(
        (0.0, 0.9, -0.1)), dampening=st.sampled_from((0.0, 0.5)), nesterov=st.booleans(),
        weight_decay=st.sampled_from((0.0, 0.1, -1.0)), maximize=st.booleans()),
    "Adam": dict(lr=st.sampled_from((1e-3, 0.0, -1.0, 10.0)), betas=st.sampled_from(
        ((0.9, 0.999), (0.0, 0.0), (1.0, 0.5), (-0.1, 0.9), (0.9,))), eps=st.sampled_from(
        (1e-8, 0.0, -1.0)), weight_decay=st.sampled_from((0.0, 0.1, -1.0)),
        amsgrad=st.booleans(), maximize=st.booleans()),
    "AdamW": dict(lr=st.sampled_from((1e-3, 0.0, -1.0)), betas=st.sampled_from(
        ((0.9, 0.999), (0.5, 0.5), (2.0, 0.9))), eps=st.sampled_from((1e-8, 0.0)),
        weight_decay=st.sampled_from((0.01, 0.0, -1.0)), amsgrad=st.booleans(),
        maximize=st.booleans()),
    "RMSprop": dict(lr=st.sampled_from((1e-2, 0.0, -1.0)), alpha=st.sampled_from(
        (0.99, 0.0, -0.5)), eps=st.sampled_from((1e-8, 0.0, -1.0)), weight_decay=st.sampled_from(
        (0.0, 0.1, -0.1)), momentum=st.sampled_from((0.0, 0.5, -1.0)), centered=st.booleans(),
        maximize=st.booleans()),
    "Adagrad": dict(lr=st.sampled_from((1e-2, 0.0, -1.0)), lr_decay=st.sampled_from(
        (0.0, 0.1, -0.1)), weight_decay=st.sampled_from((0.0, 0.1, -0.1)),
        initial_accumulator_value=st.sampled_from((0.0, 0.1, -0.1)), eps=st.sampled_from(
            (1e-10, 0.0, -1.0)), maximize=st.booleans()),
    "Adadelta": dict(lr=st.sampled_from((1.0, 0.0, -1.0)), rho=st.sampled_from(
        (0.9, 0.0, 1.0, 1.5)), eps=st.sampled_from((1e-6, 0.0, -1.0)),
        weight_decay=st.sampled_from((0.0, 0.1, -0.1)), maximize=st.booleans()),
    "Adamax": dict(lr=st.sampled_from((2e-3, 0.0, -1.0)), betas=st.sampled_from(
        ((0.9, 0.999), (0.0, 0.0), (1.0, 0.5))), eps=st.sampled_from((1e-8, 0.0, -1.0)),
        weight_decay=st.sampled_from((0.0, 0.1, -1.0)), maximize=st.booleans()),
    "NAdam": dict(lr=st.sampled_from((2e-3, 0.0, -1.0)), betas=st.sampled_from(
        ((0.9, 0.999), (0.0, 0.0), (1.0, 0.5))), eps=st.sampled_from((1e-8, 0.0, -1.0)),
        weight_decay=st.sampled_from((0.0, 0.1, -1.0)), momentum_decay=st.sampled_from(
            (4e-3, 0.0, -1.0)), decoupled_weight_decay=st.booleans(), maximize=st.booleans()),
    "RAdam": dict(lr=st.sampled_from((1e-3, 0.0, -1.0)), betas=st.sampled_from(
        ((0.9, 0.999), (0.0, 0.0), (1.0, 0.5))), eps=st.sampled_from((1e-8, 0.0, -1.0)),
        weight_decay=st.sampled_from((0.0, 0.1, -1.0)), decoupled_weight_decay=st.booleans(),
        maximize=st.booleans()),
}


@st.composite
def optimizer_args(draw, name):
    params = [draw(tensors(dtypes=FLOATS, grad=False, max_dims=3)) for _ in range(
        draw(st.integers(1, 3)))]
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        grads = []
        for p in params:
            choice = draw(st.integers(0, 9))
            if choice == 0:
                grads.append(None)
            elif choice == 1:  # another dtype or shape: refused where it is assigned
                grads.append(draw(tensors(dtypes=FLOATS, grad=False, layout=False)))
            else:
                grads.append(draw(tensors(p.shape, (p.dtype,), grad=False, layout=False)))
        steps.append(grads)
    return params, steps, draw(st.fixed_dictionaries({}, optional=OPTIMIZER_OPTIONS[name]))


def _leaf_parameter(lib, values, layout):
    """A leaf that requires grad, dense or a strided view (torch optimizes both)."""
    if layout == "strided" and values.ndim:
        wide = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
        wide[..., ::2] = values
        return lib.tensor(wide)[..., ::2].detach().requires_grad_()
    if layout == "transposed" and values.ndim >= 2:
        return lib.tensor(np.ascontiguousarray(values.T)).t().detach().requires_grad_()
    return lib.tensor(values).requires_grad_()


def optimizer_call(name):
    def call(lib, params, steps, options):
        from specs import build
        leaves = [_leaf_parameter(lib, build(p), p.layout) for p in params]
        optimizer = getattr(lib.optim, name)(leaves, **options)
        for grads in steps:
            for leaf, grad in zip(leaves, grads):
                leaf.grad = None if grad is None else lib.tensor(build(grad))
            optimizer.step()
        return [leaf.detach() for leaf in leaves]
    return call


for _name in OPTIMIZER_OPTIONS:
    # the specs are built inside the call (parameters must be leaves): pass them unbuilt
    case("optim." + _name, "optim", optimizer_args(_name).map(
        lambda a: (Unbuilt(a[0]), Unbuilt(a[1]), a[2])),
         lambda lib, p, s, o, _n=_name: optimizer_call(_n)(lib, p.value, s.value, o),
         grad=False, weight=4)


class Unbuilt:
    """Arguments the call builds itself (specs.materialize leaves them alone)."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


# ----------------------------------------------------------------------------- data loading

@st.composite
def loader_args(draw):
    n = draw(st.integers(0, 7))
    count = draw(st.integers(1, 2))
    datasets = [draw(tensors((n if draw(st.integers(0, 6)) else draw(st.integers(0, 7)),)
                             + draw(shapes(0, 2, 0, 3)), grad=False, layout=False))
                for _ in range(count)]
    kw = draw(kwargs(batch_size=st.one_of(st.integers(-1, 9), st.sampled_from(
        (None, 2 ** 63, 1.5))), drop_last=st.booleans(),
        shuffle=st.sampled_from((False, None)), num_workers=st.sampled_from((0, -1))))
    sampler = draw(st.one_of(st.none(), st.lists(st.integers(-2, 8), max_size=6),
                             st.just("sequential")))
    batch_sampler = draw(st.one_of(st.none(), st.none(), st.tuples(
        st.integers(0, 4), st.booleans())))
    return datasets, kw, sampler, batch_sampler


def loader_call(lib, datasets, kw, sampler, batch_sampler):
    data = lib.utils.data
    dataset = data.TensorDataset(*datasets)
    kw = dict(kw)
    if sampler == "sequential":
        kw["sampler"] = data.SequentialSampler(dataset)
    elif sampler is not None:
        kw["sampler"] = sampler
    if batch_sampler is not None:
        size, drop = batch_sampler
        kw["batch_sampler"] = data.BatchSampler(data.SequentialSampler(dataset), size, drop)
    loader = data.DataLoader(dataset, **kw)
    return list(loader), len(loader)


case("DataLoader", "data", loader_args(), loader_call, grad=False, weight=4)
case("Subset", "data", st.tuples(tensors((5, 2), grad=False, layout=False),
                                  st.lists(st.integers(-7, 7), max_size=6)),
     lambda lib, x, idx: [tuple(s) for s in lib.utils.data.Subset(
         lib.utils.data.TensorDataset(x), idx)], grad=False)
