"""The graph engine: shared values, diamonds, long chains, grad modes, detach, retain_graph,
accumulation, backward(gradient), autograd.grad, and whole expressions against torch
(micrograd's test_engine.py in spirit: build the same expression in both, compare every
gradient)."""
import sys
import time

import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import check, random_array
from minigrad import autograd


def leaves(module, *arrays, dtype=np.float64):
    return [module.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]


def assert_same_gradients(mg_leaves, torch_leaves, rtol=1e-7, atol=1e-9):
    for mine, theirs in zip(mg_leaves, torch_leaves):
        assert (mine.grad is None) == (theirs.grad is None)
        if mine.grad is not None:
            np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=rtol,
                                       atol=atol)


# ----------------------------------------------------------------------------- graph shapes

def test_a_value_used_twice():
    for module in (mg, torch):
        (x,) = leaves(module, [-4.0])
        y = x * x + x  # x used three times
        y.sum().backward()
        assert x.grad.tolist() == [-7.0]


def test_a_diamond():
    # a feeds b and c, both feed d: da = dd/db * db/da + dd/dc * dc/da
    results = []
    for module in (mg, torch):
        (a,) = leaves(module, [1.5, -0.5])
        b = a * 3
        c = a.exp()
        d = (b * c).sum()
        d.backward()
        results.append(a.grad.tolist())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_x_plus_x_gradient_is_two():
    for module in (mg, torch):
        (x,) = leaves(module, [1.0, 2.0])
        (x + x).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]


def test_nested_shared_subexpressions_match_torch():
    expressions = [
        lambda x, w: ((x + x * 2) * w + x * 3).sum(),
        lambda x, w: (x * 3 + (x * 2 + x) * w).sum(),
        lambda x, w: ((x * w + x) * w + (x * 2) * (x + 1)).sum(),
        lambda x, w: ((x + (x * 2 + x * 3)) * w).sum(),
        lambda x, w: ((x * 2 + (x * 3 + x)) * w).sum(),
        lambda x, w: (x.exp() * x + (x * w).tanh() * x - x / (w * w + 1)).sum(),
    ]
    for fn in expressions:
        mine, theirs = leaves(mg, [1.0, 2.0], [3.0, -4.0]), leaves(torch, [1.0, 2.0], [3.0, -4.0])
        fn(*mine).backward()
        fn(*theirs).backward()
        assert_same_gradients(mine, theirs)


def test_a_chain_of_100000_ops_is_iterative_and_fast():
    x = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(100_000):
        y = y + 0.5
    y.backward()
    elapsed = time.perf_counter() - start
    assert y.item() == 50_000.0 and x.grad.item() == 1.0
    assert sys.getrecursionlimit() < 100_000  # the walk itself did not need deep recursion
    assert elapsed < 30.0  # about 2 s on one busy core


def test_a_long_chain_with_saved_tensors():
    for module in (mg, torch):
        (x,) = leaves(module, [1.0])
        y = x
        for _ in range(2000):
            y = y * 1.001
        y.sum().backward()
        np.testing.assert_allclose(x.grad.tolist(), [1.001 ** 2000], rtol=1e-10)


def test_a_wide_graph_sums_many_contributions():
    mine, theirs = leaves(mg, [0.5, 1.5]), leaves(torch, [0.5, 1.5])
    for (x,) in (mine, theirs):
        total = x * 0
        for k in range(500):
            total = total + x * k
        total.sum().backward()
    assert_same_gradients(mine, theirs)


def test_the_walk_order_is_deterministic():
    def run():
        (x,) = leaves(mg, [0.1, 0.2, 0.3])
        y = x
        for k in range(50):
            y = (y * 1.1 + x / (k + 1)).tanh() + y * x
        y.sum().backward()
        return x.grad.numpy().copy()

    first = run()
    for _ in range(3):
        np.testing.assert_array_equal(run(), first)


# ----------------------------------------------------------------------------- grad modes

def test_no_grad_records_nothing():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        with mg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_as_context_and_function():
    x = mg.ones(3, requires_grad=True)
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    mg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_modes_as_decorators():
    x = mg.ones(3, requires_grad=True)

    @mg.no_grad()
    def without():
        return x * 2

    @mg.enable_grad()
    def with_grad():
        return x * 2

    @mg.no_grad
    def without_parentheses():
        return x * 2

    @mg.set_grad_enabled(False)
    def switched_off():
        return x * 2

    assert mg.is_grad_enabled()  # decorating did not switch grad mode
    assert not without().requires_grad
    assert not switched_off().requires_grad
    assert not without_parentheses().requires_grad
    with mg.no_grad():
        assert with_grad().requires_grad
    assert mg.is_grad_enabled()
    for module in (mg, torch):  # the same under torch

        @module.set_grad_enabled(False)
        def f():
            return module.is_grad_enabled()

        assert module.is_grad_enabled() and not f() and module.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with mg.no_grad():
            raise ValueError
    assert mg.is_grad_enabled()


def test_detach():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert d.array is x.array  # shares memory
    y = (x * d).sum()  # d is a constant
    y.backward()
    assert x.grad.tolist() == [1.0, 2.0]


def test_requires_grad_():
    x = mg.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.requires_grad_(False)
    assert not (x * 3).requires_grad
    for module in (mg, torch):
        with pytest.raises(RuntimeError):
            module.tensor([1, 2]).requires_grad_()  # integers cannot require grad
        y = module.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError):
            y.requires_grad_(False)  # not a leaf


def test_is_leaf_and_grad_fn():
    x = mg.ones(2, requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert mg.ones(2).is_leaf
    assert y.grad is None
    y.sum().backward()
    assert y.grad is None  # non-leaf gradients are not kept (as torch without retain_grad)


# ----------------------------------------------------------------------------- retain_graph

def test_second_backward_without_retain_graph_raises():
    for module in (mg, torch):
        x = module.ones(3, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    for module in (mg, torch):
        x = module.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        assert x.grad.tolist() == [2.0, 4.0]
        y.backward()
        assert x.grad.tolist() == [4.0, 8.0]


def test_saved_arrays_are_freed_after_backward_unless_retained():
    x = mg.ones(3, requires_grad=True)
    h = x * mg.full((3,), 2.0)
    h.sum().backward(retain_graph=True)
    assert len(h.grad_fn.saved_tensors) == 2
    h.sum().backward()
    with pytest.raises(RuntimeError, match="already been freed"):
        h.grad_fn.saved_tensors


def test_a_graph_that_saved_nothing_can_run_backward_twice():
    for module in (mg, torch):  # torch only refuses when saved tensors were freed
        x = module.ones(2, requires_grad=True)
        y = (x + 1.0).sum()
        y.backward()
        y.backward()
        assert x.grad.tolist() == [2.0, 2.0]


def test_accumulation_across_two_graphs():
    for module in (mg, torch):
        x = module.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        (x * x).sum().backward()
        assert x.grad.tolist() == [5.0, 7.0]
        x.grad = None
        (x * 3).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]


def test_grad_can_be_zeroed_in_place_between_steps():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    grad = x.grad
    grad.zero_()
    (x * 3).sum().backward()
    assert x.grad is grad and grad.tolist() == [3.0, 3.0]


# ----------------------------------------------------------------------------- gradients

def test_backward_with_a_gradient_for_a_non_scalar():
    upstream = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    mine, theirs = leaves(mg, np.arange(6.0).reshape(2, 3)), leaves(
        torch, np.arange(6.0).reshape(2, 3))
    (mine[0] * mine[0]).backward(mg.tensor(upstream))
    (theirs[0] * theirs[0]).backward(torch.tensor(upstream))
    assert_same_gradients(mine, theirs)


def test_backward_of_a_leaf_itself():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(mg.tensor([3.0, 4.0]))
    assert x.grad.tolist() == [3.0, 4.0]


def test_backward_gradient_is_cast_to_the_output_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(np.array([1.0, 1.0]))  # float64 gradient for a float32 output
    assert x.grad.dtype == mg.float32


def test_backward_with_inputs_only_fills_those():
    x = mg.ones(2, requires_grad=True)
    w = mg.ones(2, requires_grad=True)
    (x * w * 3).sum().backward(inputs=[x])
    assert x.grad.tolist() == [3.0, 3.0] and w.grad is None


def _inputs_graph(module):
    x, w = leaves(module, [1.0, -2.0, 0.5], [0.5, 3.0, -1.0])
    y = x * w  # non-leaf, used twice below
    z = y.exp() * 2 + y
    out = (z * z).sum() + y.sum()
    return x, w, y, z, out


# torch warns when the test reads .grad of a non-leaf that was not among the inputs
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
@pytest.mark.parametrize("chosen", [("y",), ("z",), ("y", "x"), ("z", "y", "w"), ("out",)])
def test_backward_with_non_leaf_inputs_matches_torch(chosen):
    grads = []
    for module in (mg, torch):
        x, w, y, z, out = _inputs_graph(module)
        named = {"x": x, "w": w, "y": y, "z": z, "out": out}
        out.backward(inputs=[named[n] for n in chosen], retain_graph=True)
        out.backward(inputs=[named[n] for n in chosen])  # accumulates a second time
        grads.append({n: None if t.grad is None else t.grad.numpy().copy()
                      for n, t in named.items()})
    mine, theirs = grads
    for name in mine:
        assert (mine[name] is None) == (theirs[name] is None), name
        assert (mine[name] is None) == (name not in chosen), name
        if mine[name] is not None:
            np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-12)


def test_backward_with_a_single_non_leaf_input_and_a_gradient():
    for module in (mg, torch):
        x, w = leaves(module, [1.0, 2.0], [3.0, 4.0])
        y = x * w
        z = y * 2
        z.backward(module.tensor([1.0, -1.0], dtype=module.float64), inputs=y)
        assert y.grad.tolist() == [2.0, -2.0] and x.grad is None and w.grad is None


def test_backward_inputs_errors_as_torch():
    for module in (mg, torch):
        x, = leaves(module, [1.0, 2.0])
        out = (x * 2).sum()
        with pytest.raises(RuntimeError, match="cannot be empty"):
            out.backward(inputs=[], retain_graph=True)
        with pytest.raises(RuntimeError, match="requires_grad=False"):
            out.backward(inputs=[module.ones(2)])


def test_leaf_gradients_are_not_aliased():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.add_(10.0)
    assert y.grad.tolist() == [1.0, 1.0]

    upstream = mg.ones(2)
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    (a + b).backward(upstream)
    a.grad.mul_(5.0)
    assert upstream.tolist() == [1.0, 1.0] and b.grad.tolist() == [1.0, 1.0]

    c = mg.tensor([1.0, 2.0], requires_grad=True)
    c.backward(upstream)
    c.grad.add_(1.0)
    assert upstream.tolist() == [1.0, 1.0]


def test_leaf_gradient_does_not_alias_a_view_of_another():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    (x.reshape(2) + y).sum().backward()
    y.grad.add_(1.0)
    assert x.grad.tolist() == [[1.0, 1.0]]


def test_gradient_dtype_and_shape_follow_each_leaf():
    x = mg.ones(3, dtype=mg.float64, requires_grad=True)
    w = mg.ones(2, 1, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == mg.float64 and x.grad.shape == (3,)
    assert w.grad.dtype == mg.float32 and w.grad.shape == (2, 1)
    assert x.grad.tolist() == [2.0, 2.0, 2.0] and w.grad.tolist() == [[3.0], [3.0]]


# ----------------------------------------------------------------------------- autograd.grad

def test_grad_with_respect_to_leaves():
    x, w = leaves(mg, [1.0, 2.0], [3.0, 4.0])
    y = (x * w).sum()
    gx, gw = autograd.grad(y, [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None  # returned, not accumulated


def test_grad_with_respect_to_a_non_leaf():
    for module, grad_fn in ((mg, autograd.grad), (torch, torch.autograd.grad)):
        (x,) = leaves(module, [1.0, 2.0])
        h = x * x
        y = (h * 3).sum()
        (gh,) = grad_fn(y, h, retain_graph=True)
        (gx,) = grad_fn(y, [x])
        assert gh.tolist() == [3.0, 3.0] and gx.tolist() == [6.0, 12.0]


def test_grad_allow_unused():
    for module, grad_fn in ((mg, autograd.grad), (torch, torch.autograd.grad)):
        x, unused = leaves(module, [1.0], [2.0])
        y = (x * 2).sum()
        with pytest.raises(RuntimeError):
            grad_fn(y, [x, unused], retain_graph=True)
        gx, gu = grad_fn(y, [x, unused], allow_unused=True)
        assert gx.tolist() == [2.0] and gu is None


def test_grad_with_grad_outputs_and_several_outputs():
    for module, grad_fn in ((mg, autograd.grad), (torch, torch.autograd.grad)):
        (x,) = leaves(module, [1.0, 2.0])
        y1, y2 = x * 2, x * x
        (g,) = grad_fn([y1, y2], x, grad_outputs=[module.ones(2, dtype=module.float64),
                                                   module.tensor([1.0, 0.5],
                                                                 dtype=module.float64)])
        assert g.tolist() == [4.0, 4.0]


def test_grad_of_an_input_not_requiring_grad_raises():
    for module, grad_fn in ((mg, autograd.grad), (torch, torch.autograd.grad)):
        x = module.ones(2, requires_grad=True)
        c = module.ones(2)
        with pytest.raises(RuntimeError):
            grad_fn((x * c).sum(), c)


def test_grad_frees_the_graph_unless_retained():
    x = mg.ones(2, requires_grad=True)
    y = (x * x).sum()
    autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        autograd.grad(y, x)


# ----------------------------------------------------------------------------- expressions

def _mlp_expression(x, w1, b1, w2, v, m):
    """A small network with most ops on the path: matmul, broadcasting, activations,
    reductions, indexing, cat, softmax, clamp, where."""
    mod = mg if isinstance(x, mg.Tensor) else torch
    h = (x @ w1 + b1).relu()
    h = mod.cat([h, (x @ w1).tanh() * 0.5], dim=1)
    logits = h @ w2
    logp = logits.log_softmax(-1)
    picked = logp[mod.arange(4), mod.tensor([0, 2, 1, 2])]
    gate = mod.where(v > 0, v.sigmoid(), (v * v + 1).sqrt())
    extra = (m.exp() / (1 + m.abs())).clamp(-2.0, 2.0).amax(dim=0) ** 2
    var = logits.var(dim=0, unbiased=False).mean()
    return -picked.mean() + (gate * extra).sum() + var + h.max() - h.min(dim=1).values.sum()


def test_whole_expression_against_torch():
    inputs = [random_array(s, seed=i) for i, s in enumerate(
        [(4, 5), (5, 6), (6,), (12, 3), (7,), (3, 7)])]
    check(_mlp_expression, _mlp_expression, *inputs)


def test_whole_expression_against_torch_float32():
    inputs = [random_array(s, np.float32, seed=i) for i, s in enumerate(
        [(4, 5), (5, 6), (6,), (12, 3), (7,), (3, 7)])]
    check(_mlp_expression, _mlp_expression, *inputs, rtol=1e-4, atol=1e-4)


def _micrograd_expression(a, b):
    """The sanity expression of micrograd's test_engine.py, on vectors."""
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_micrograd_style_expression():
    check(_micrograd_expression, _micrograd_expression, np.array([-4.0, 2.0, 0.5]),
          np.array([2.0, -3.0, 1.5]))


def test_grad_returns_the_kernels_fresh_arrays_without_copying_them():
    """autograd.grad hands back a backward's own fresh array (here the channels-last input
    gradient of a max pool): no copy, no reorder to C order; a gradient that could be shared
    (a view of the caller's grad_outputs) is still copied."""
    import minigrad
    import minigrad.nn.functional as F
    from minigrad._kernels.buffers import channels_last_empty, made_here
    storage = channels_last_empty(2, 16, 8, 8, np.float32)
    storage[...] = np.random.default_rng(0).standard_normal(storage.shape)
    x = minigrad.Tensor(storage, requires_grad=True)
    out = F.max_pool2d(x, 2)
    (gx,) = minigrad.autograd.grad(out, [x], minigrad.ones(*out.shape))
    assert made_here(gx.numpy()) and gx.numpy().strides == storage.strides
    y = minigrad.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    upstream = np.full((12,), 2.0, np.float32)
    (gy,) = minigrad.autograd.grad(y.reshape(12), [y], minigrad.tensor(upstream))
    gy.numpy()[0, 0] = 7
    assert upstream[0] == 2.0


def test_a_callers_gradient_array_is_read_not_copied_and_never_aliased():
    """backward(gradient) and grad(grad_outputs) read the caller's array in place (no copy:
    torch makes none), and neither a leaf's .grad nor a returned gradient shares its memory,
    even through view ops or when it is one of the kernels' own aligned buffers."""
    import minigrad
    from minigrad._kernels.buffers import channels_last_empty
    upstream = channels_last_empty(2, 3, 4, 5, np.float64)   # what made_here() recognises
    upstream[...] = 2.0
    for make_output in (lambda x: x * 1, lambda x: x.reshape(2, 3, 20).reshape(2, 3, 4, 5),
                        lambda x: x.permute(0, 2, 3, 1).permute(0, 3, 1, 2)):
        x = minigrad.zeros(2, 3, 4, 5, dtype=minigrad.float64, requires_grad=True)
        make_output(x).backward(minigrad.from_numpy(upstream))
        (returned,) = minigrad.autograd.grad(make_output(x), [x], minigrad.from_numpy(upstream))
        for gradient in (x.grad.numpy(), returned.numpy()):
            assert not np.shares_memory(gradient, upstream)
            gradient[...] = 7.0
        assert (upstream == 2.0).all() and upstream.flags.writeable
