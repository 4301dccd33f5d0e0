"""Hooks as torch's: Tensor.register_hook (leaf and non-leaf, replacing the gradient),
retain_grad, grad_fn pre- and post-hooks, Module forward / forward-pre / full backward /
backward-pre hooks (per module and global), fired in torch's order with torch's arguments and
removable through their handles; and grad_fn.next_functions. Each program runs on minigrad and
torch and records what the hooks saw."""
import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import DTYPES


def _values(x):
    """A hook argument as plain data (tensors as lists, None kept, tuples recursed)."""
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return tuple(_values(v) for v in x)
    if hasattr(x, "detach"):
        return np.round(x.detach().numpy().astype(np.float64), 6).tolist()
    return x


def _flat(value):
    if value is None:
        return [np.nan]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    return [float(value)]


def _same(mine, theirs):
    assert len(mine) == len(theirs), (mine, theirs)
    for a, b in zip(mine, theirs):
        assert a[0] == b[0], (mine, theirs)
        np.testing.assert_allclose(_flat(a[1]), _flat(b[1]), rtol=1e-5, atol=2e-6,
                                   err_msg=a[0])


def _leaf(module, values, dtype=np.float64):
    return module.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_tensor_hooks_on_leaves_and_non_leaves_in_torchs_order():
    runs = []
    for module in (mg, torch):
        events = []
        x = _leaf(module, [1.0, -2.0, 3.0])
        w = _leaf(module, [0.5, 0.25, 2.0])
        x.register_hook(lambda g: events.append(("x", _values(g))))
        y = x * w
        y.register_hook(lambda g: events.append(("y", _values(g))))
        z = y.exp()
        z.register_hook(lambda g: events.append(("z", _values(g))))
        w.register_hook(lambda g: events.append(("w", _values(g))))
        (z * 2).sum().backward()
        events.append(("x.grad", _values(x.grad)))
        runs.append(events)
    _same(*runs)


def test_a_hook_replaces_the_gradient():
    for module in (mg, torch):
        x = _leaf(module, [1.0, 2.0])
        y = x * 3
        y.register_hook(lambda g: g * 10)  # non-leaf: changes what flows on
        x.register_hook(lambda g: g + 1)   # leaf: changes what reaches .grad
        y.sum().backward()
        assert x.grad.tolist() == [31.0, 31.0]


def test_hook_handles_remove_and_hooks_on_tensors_without_grad_raise():
    for module in (mg, torch):
        x = _leaf(module, [1.0, 2.0])
        handle = x.register_hook(lambda g: g * 100)
        handle.remove()
        with x.register_hook(lambda g: g * 2):
            (x * 1).sum().backward()
        (x * 1).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            module.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_a_non_leaf_gradient_as_torch():
    results = []
    for module in (mg, torch):
        x = _leaf(module, [1.0, 2.0, 3.0])
        y = x * x
        y.retain_grad()
        z = y.sin()
        z.retain_grad()
        assert y.retains_grad and not x.retains_grad
        z.sum().backward(retain_graph=True)
        z.sum().backward()  # accumulates, as a leaf's
        results.append((_values(y.grad), _values(z.grad), _values(x.grad)))
        with pytest.raises(RuntimeError, match="requires_grad=False"):
            module.ones(2).retain_grad()
    np.testing.assert_allclose(np.asarray(results[0][0]), np.asarray(results[1][0]))
    np.testing.assert_allclose(np.asarray(results[0][2]), np.asarray(results[1][2]))


def test_retain_grad_and_hooks_run_in_torchs_order():
    runs = []
    for module in (mg, torch):
        events = []
        x = _leaf(module, [1.0, 2.0])
        y = x * 2
        y.register_hook(lambda g: events.append(("hook1", _values(g))) or g * 3)
        y.retain_grad()
        y.register_hook(lambda g: events.append(("hook2", _values(g))))
        y.grad_fn.register_prehook(lambda gs: events.append(("pre", _values(gs))))
        y.grad_fn.register_hook(lambda gi, go: events.append(("post", _values((gi, go)))))
        y.sum().backward()
        events.append(("y.grad", _values(y.grad)))
        runs.append(events)
    _same(*runs)


def test_node_hooks_may_replace_gradients():
    for module in (mg, torch):
        a = _leaf(module, [0.0, 0.0, 0.0])
        b = a.clone()
        handle = b.grad_fn.register_prehook(lambda gs: (gs[0] * 2,))
        b.sum().backward(retain_graph=True)
        assert a.grad.tolist() == [2.0, 2.0, 2.0]
        handle.remove()
        a.grad = None
        b.grad_fn.register_hook(lambda gi, go: (go[0] * 5,))
        b.sum().backward()
        assert a.grad.tolist() == [5.0, 5.0, 5.0]


def _model(module):
    module.manual_seed(0)
    nn = module.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    rng = np.random.default_rng(0)
    with module.no_grad():
        for p in model.parameters():
            p.copy_(module.tensor(rng.uniform(-1, 1, tuple(p.shape)).astype(np.float32)))
    return model


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_module_hooks_fire_in_torchs_order_with_torchs_arguments(input_requires_grad):
    runs = []
    for module in (mg, torch):
        events = []
        model = _model(module)
        for name, layer in [("model", model), ("fc1", model[0]), ("tanh", model[1]),
                            ("fc2", model[2])]:
            layer.register_forward_pre_hook(
                lambda m, args, name=name: events.append((f"{name} pre", _values(args))))
            layer.register_forward_hook(
                lambda m, args, out, name=name: events.append((f"{name} fwd", _values(out))))
            layer.register_full_backward_pre_hook(
                lambda m, go, name=name: events.append((f"{name} bwd pre", _values(go))))
            layer.register_full_backward_hook(
                lambda m, gi, go, name=name: events.append((f"{name} bwd", _values(gi))))
        x = module.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
                          requires_grad=input_requires_grad)
        with pytest.warns(UserWarning) if not input_requires_grad else _nothing():
            model(x).pow(2).sum().backward()
        runs.append([(name, np.nan_to_num(np.asarray(v if v is not None and v != (None,)
                                                     else 0.0, dtype=float)).tolist())
                     for name, v in events])
    _same(*runs)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_module_hooks_replace_inputs_outputs_and_gradients():
    results = []
    for module in (mg, torch):
        model = _model(module)
        model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[1].register_forward_hook(lambda m, args, out: out + 1)
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        x = module.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        out = model(x)
        out.sum().backward()
        results.append((_values(out), _values(x.grad), _values(model[0].weight.grad)))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_module_hooks_with_kwargs_prepend_and_removal():
    runs = []
    for module in (mg, torch):
        events = []
        layer = module.nn.Linear(2, 2)
        h1 = layer.register_forward_hook(lambda m, a, out: events.append("first"))
        layer.register_forward_hook(lambda m, a, out: events.append("prepended"), prepend=True)
        layer.register_forward_pre_hook(
            lambda m, args, kwargs: events.append(("kwargs", sorted(kwargs))) or None,
            with_kwargs=True)
        layer.register_forward_hook(
            lambda m, args, kwargs, out: events.append("with kwargs"), with_kwargs=True)
        layer(module.ones(1, 2))
        h1.remove()
        layer(module.ones(1, 2))
        runs.append(events)
    assert runs[0] == runs[1]


def test_global_module_hooks():
    runs = []
    for module, hooks in ((mg, mg.nn.hooks), (torch, torch.nn.modules.module)):
        events = []
        handles = [
            hooks.register_module_forward_pre_hook(
                lambda m, a: events.append(("pre", type(m).__name__))),
            hooks.register_module_forward_hook(
                lambda m, a, o: events.append(("fwd", type(m).__name__))),
            hooks.register_module_full_backward_hook(
                lambda m, gi, go: events.append(("bwd", type(m).__name__))),
        ]
        try:
            model = module.nn.Sequential(module.nn.Linear(2, 3), module.nn.ReLU())
            model(module.ones(1, 2, requires_grad=True)).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        model(module.ones(1, 2))
        runs.append(events)
    assert runs[0] == runs[1]


def test_post_accumulate_grad_hook():
    for module in (mg, torch):
        seen = []
        w = _leaf(module, [1.0, 2.0])
        w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        (w * 3).sum().backward()
        assert seen == [[3.0, 3.0]]


# ----------------------------------------------------------------------------- next_functions

def _walk(grad_fn, depth=4):
    """Names along next_functions, depth first (the blitz tutorial's walk)."""
    if grad_fn is None or depth == 0:
        return []
    names = [type(grad_fn).__name__]
    for fn, nr in grad_fn.next_functions:
        names.append(("->", None if fn is None else type(fn).__name__, nr))
        names += _walk(fn, depth - 1)
    return names


@pytest.mark.parametrize("dtype", DTYPES)
def test_next_functions_match_torch(dtype):
    graphs = []
    for module in (mg, torch):
        x = _leaf(module, [1.0, 2.0], dtype)
        c = module.tensor(np.array([3.0, 4.0], dtype=dtype))
        y = ((x * c).exp() + x).sum()
        graphs.append(_walk(y.grad_fn, 6))
        acc = y.grad_fn.next_functions[0][0].next_functions[1][0]
        assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert graphs[0] == graphs[1]


def test_next_functions_of_several_outputs():
    for module in (mg, torch):
        x = _leaf(module, [[1.0, 5.0], [3.0, 2.0]])
        values, _ = x.max(1)
        z = values * 2
        fn, nr = z.grad_fn.next_functions[0]
        assert type(fn).__name__ == "MaxBackward0" and nr == 0


@pytest.mark.parametrize("expression", [
    lambda m, x: x * 2, lambda m, x: x + 1, lambda m, x: 1 - x, lambda m, x: x / 2,
    lambda m, x: x ** 2, lambda m, x: 2 ** x, lambda m, x: x.clamp(0, 1),
    lambda m, x: m.where(x > 0, x, 0.0), lambda m, x: x.sum(0), lambda m, x: x[0],
    lambda m, x: x * x, lambda m, x: x.exp().log(), lambda m, x: m.cat([x, x * 2]),
])
def test_next_functions_list_torchs_inputs(expression):
    entries = []
    for module in (mg, torch):
        x = _leaf(module, [1.0, 2.0])
        fn = expression(module, x).grad_fn
        entries.append([(None if f is None else type(f).__name__, nr)
                        for f, nr in fn.next_functions])
    assert entries[0] == entries[1]


@pytest.mark.parametrize("bias", [True, False])
def test_linear_next_functions_and_node_hooks_see_the_transposed_weight(bias):
    """torch's linear of a matrix is addmm(bias, x, weight.t()) (mm without a bias): its
    next_functions pass through a TBackward0 to the weight, and its node hooks get the
    weight's gradient transposed; a hook's replacement is transposed back."""
    runs = []
    for module in (mg, torch):
        linear = module.nn.Linear(3, 2, bias=bias)
        with module.no_grad():
            for p in linear.parameters():
                p.copy_(module.tensor(np.linspace(-1, 1, p.numel(), dtype=np.float32)
                                      .reshape(tuple(p.shape))))
        x = _leaf(module, [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], np.float32)
        y = linear(x)
        names = [fn.name() for fn, _ in y.grad_fn.next_functions]
        weight_view = y.grad_fn.next_functions[-1][0]
        assert weight_view is y.grad_fn.next_functions[-1][0]
        assert weight_view.next_functions[0][0].variable is linear.weight
        events = [("names", names, [fn.name() for fn, _ in weight_view.next_functions])]

        def hook(grad_inputs, grad_outputs):
            events.append(("hook", [tuple(g.shape) for g in grad_inputs]))
            return grad_inputs[:-1] + (grad_inputs[-1] * 3,)
        y.grad_fn.register_hook(hook)
        (y * y).sum().backward()
        runs.append((events, linear.weight.grad.detach().numpy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-6)
