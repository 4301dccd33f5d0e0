"""In-place ops on tensors that are part of a graph, recorded as torch records them: the
tensor's history is rebased onto a new node whose input is its previous node. Each case runs
the same code on minigrad and torch and compares values, every gradient and the errors.
Views of graph tensors are the exception: minigrad refuses to record in-place ops on them (a
clear RuntimeError where torch would rebase the views), never a silent wrong gradient."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import autograd


def _leaves(module, dtype):
    x = module.tensor(np.array([1.5, -2.0, 0.5, 3.0], dtype=dtype), requires_grad=True)
    w = module.tensor(np.array([0.5, 2.0, -1.5, 1.25], dtype=dtype), requires_grad=True)
    return x, w


def _run_both(program, dtype=np.float64):
    """program(module, x, w) -> output tensor; returns (value, x.grad, w.grad) per module."""
    results = []
    for module in (mg, torch):
        x, w = _leaves(module, dtype)
        out = program(module, x, w)
        out.sum().backward()
        grads = [None if t.grad is None else t.grad.numpy().copy() for t in (x, w)]
        results.append((out.detach().numpy().copy(), *grads))
    return results


def _assert_same(results, rtol=1e-12):
    mine, theirs = results
    for a, b in zip(mine, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def _brief_example(m, x, w):
    y = x * 2
    y.add_(1)
    y.mul_(3)
    return y


def _setitem(y, index, value):
    y[index] = value
    return y


# name: program(module, x, w) -> output; x and w are leaves that require grad
PROGRAMS = {
    "y = x * 2; y.add_(1); y.mul_(3)": _brief_example,
    "add_ of a tensor with alpha": lambda m, x, w: (x * 1).add_(w, alpha=-2.5),
    "sub_ of a tensor": lambda m, x, w: (x * 1).sub_(w * w),
    "sub_ of a number with alpha": lambda m, x, w: (x * 1).sub_(2.0, alpha=3),
    "mul_ by a tensor": lambda m, x, w: (x + 1).mul_(w),
    "div_ by a tensor": lambda m, x, w: (x * 3).div_(w),
    "div_ of a number by nothing saved": lambda m, x, w: (x * 3).div_(4.0),
    "broadcast operand": lambda m, x, w: (x.reshape(2, 2) * 1).mul_(w[:2]),
    "0-d operand": lambda m, x, w: (x * 1).add_(w.sum()),
    "clamp_ with numbers": lambda m, x, w: (x * 1).clamp_(-1.0, 1.0),
    "clamp_ with a tensor bound": lambda m, x, w: (x * 1).clamp_(min=w),
    "relu_": lambda m, x, w: (x * w).relu_(),
    "zero_": lambda m, x, w: (x * 2).zero_() + w,
    "fill_ with a number": lambda m, x, w: (x * 2).fill_(3.0) * w,
    "fill_ with a 0-d tensor": lambda m, x, w: (x * 2).fill_(w.sum()),
    "copy_ of a tensor": lambda m, x, w: (x * 2).copy_(w),
    "copy_ broadcast": lambda m, x, w: (x.reshape(2, 2) * 2).copy_(w[2:]),
    "setitem of a number": lambda m, x, w: _setitem(x * 2, 1, 7.0),
    "setitem of a slice with a tensor": lambda m, x, w: _setitem(x * 2, slice(1, 3), w[:2] * 3),
    "setitem broadcast value": lambda m, x, w: _setitem(x.reshape(2, 2) * 2, 0, w[3]),
    "setitem with an index tensor": lambda m, x, w: _setitem(x * 2, m.tensor([3, 0]), w[:2]),
    "setitem with a mask": lambda m, x, w: _setitem(x * 2, x > 0, w.sum()),
    "setitem with repeated indices": lambda m, x, w: _setitem(x * 2, m.tensor([1, 1]), w[1]),
    "into a buffer that needs no grad": lambda m, x, w: m.zeros(4, dtype=x.dtype).add_(x).mul_(w),
    "setitem into a buffer": lambda m, x, w: _setitem(m.zeros(4, dtype=x.dtype), 2, w[0] * x[1]),
    "copy_ into a buffer": lambda m, x, w: m.ones(4, dtype=x.dtype).copy_(x) * w,
    "a chain of in-place ops": lambda m, x, w: (x * w).add_(1).mul_(w).sub_(x).div_(2).relu_(),
    "value used before the in-place op": lambda m, x, w: _used_before(x, w),
    "in-place op between two uses": lambda m, x, w: _between_uses(x, w),
}


def _used_before(x, w):
    y = x * 2
    before = y + w  # add saves nothing: y may change afterwards
    y.mul_(w)
    return before * 3 + y


def _between_uses(x, w):
    y = x.tanh()
    first = y * 2
    y = y.clone()  # tanh saved its output: change a copy
    y.add_(w)
    return first + y * y


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_recorded_inplace_op_matches_torch(name):
    _assert_same(_run_both(PROGRAMS[name]))


@pytest.mark.parametrize("name", ["y = x * 2; y.add_(1); y.mul_(3)", "a chain of in-place ops",
                                  "setitem of a slice with a tensor"])
def test_recorded_inplace_op_matches_torch_float32(name):
    _assert_same(_run_both(PROGRAMS[name], np.float32), rtol=1e-6)


def test_brief_example_values():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(3)
    assert type(y.grad_fn).__name__ == "MulBackward0" and not y.is_leaf
    y.sum().backward()
    assert y.tolist() == [9.0, 15.0] and x.grad.tolist() == [6.0, 6.0]


@pytest.mark.parametrize("name", ["mul_ by a tensor", "setitem of a slice with a tensor",
                                  "a chain of in-place ops", "copy_ broadcast",
                                  "setitem with a mask"])
def test_recorded_inplace_op_passes_gradcheck(name):
    x, w = _leaves(mg, np.float64)
    assert autograd.gradcheck(lambda a, b: PROGRAMS[name](mg, a, b), (x, w))


def test_autograd_grad_through_inplace_ops():
    results = []
    for module in (mg, torch):
        x, w = _leaves(module, np.float64)
        y = x * w
        y.add_(w).mul_(x)
        results.append([g.numpy() for g in (mg.autograd if module is mg else torch.autograd)
                        .grad(y.sum(), (x, w))])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_retain_graph_with_inplace_ops_accumulates():
    for module in (mg, torch):
        x, _ = _leaves(module, np.float64)
        y = x * 2
        y.mul_(3)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        assert x.grad.tolist() == [12.0] * 4


# ----------------------------------------------------------------------------- errors as torch

def test_inplace_on_a_leaf_requiring_grad_raises():
    for module in (mg, torch):
        x, w = _leaves(module, np.float64)
        for inplace in (lambda: x.add_(w), lambda: x.relu_(), lambda: x.clamp_(0, 1),
                        lambda: x.__setitem__(0, 1.0), lambda: x.sub_(1.0)):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                inplace()


def test_inplace_on_a_leaf_under_no_grad_writes_without_a_graph():
    for module in (mg, torch):
        x, w = _leaves(module, np.float64)
        with module.no_grad():
            x.add_(w).relu_()
            x[0] = w[1]
        assert x.is_leaf and x.grad_fn is None and x.requires_grad
        assert x.tolist() == [2.0, 0.0, 0.0, 4.25]


def test_inplace_on_a_graph_tensor_under_no_grad_is_not_recorded():
    for module in (mg, torch):
        x, _ = _leaves(module, np.float64)
        y = x * 2
        with module.no_grad():
            y.add_(100.0)  # mul saved x, not y: the gradient stays d(2x)/dx
        assert type(y.grad_fn).__name__ == "MulBackward0"
        y.sum().backward()
        assert x.grad.tolist() == [2.0] * 4


@pytest.mark.parametrize("saves", ["exp saves its output", "mul saves its operands",
                                   "relu_ saves the tensor itself", "sigmoid saves its output"])
def test_an_inplace_change_to_a_saved_tensor_still_raises(saves):
    def program(module, x):
        if saves == "exp saves its output":
            y = x.exp()
            out = y
        elif saves == "mul saves its operands":
            y = x * 2
            out = y * y
        elif saves == "relu_ saves the tensor itself":
            y = (x * 2).relu_()
            out = y
        else:
            y = x.sigmoid()
            out = y * 1
        y.add_(1.0)
        return out

    for module in (mg, torch):
        x, _ = _leaves(module, np.float64)
        out = program(module, x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_mul_by_itself_is_recorded_with_the_value_before_the_write():
    # torch saves y as the operand and then raises at backward (y changed since); minigrad's
    # node keeps a copy of the value before the write, so the gradient is right: d(y²)/dx = 2y.
    x, _ = _leaves(mg, np.float64)
    y = x + 1
    y.mul_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x.array + 1))
    np.testing.assert_allclose(y.array, (x.array + 1) ** 2)


def test_recording_does_not_trip_the_tensors_own_check():
    # mul_ needs y's value from before the write; a node recorded on y must not see its own
    # write as a change to what it saved.
    _assert_same(_run_both(lambda m, x, w: (x + 1).mul_(w).mul_(w).div_(w)))


def test_shape_and_dtype_errors_as_torch():
    for module in (mg, torch):
        x, w = _leaves(module, np.float64)
        y = x * 2
        with pytest.raises(RuntimeError):
            y.add_(module.ones(2, 4, dtype=y.dtype, requires_grad=True))  # would grow y
        with pytest.raises(RuntimeError):
            module.arange(4).add_(w)  # float into int64
        with pytest.raises(RuntimeError):
            y.copy_(module.ones(3, dtype=y.dtype, requires_grad=True))


# ----------------------------------------------------------------------------- views

_VIEW_ERROR = "view"


@pytest.mark.parametrize("make_view", [lambda y: y[0], lambda y: y[1:], lambda y: y.view(2, 2),
                                       lambda y: y.unsqueeze(0), lambda y: y.reshape(2, 2).T])
def test_inplace_on_a_view_of_a_graph_tensor_raises(make_view):
    # torch records this (CopySlices); minigrad refuses clearly rather than lose a gradient
    x, w = _leaves(mg, np.float64)
    y = x * 2
    view = make_view(y)
    with pytest.raises(RuntimeError, match=_VIEW_ERROR):
        view.mul_(3.0)
    with pytest.raises(RuntimeError, match=_VIEW_ERROR):
        y.add_(1.0)  # the base too: its view would keep a stale history
    with pytest.raises(RuntimeError, match=_VIEW_ERROR):
        y[0] = w[0]
    assert y.tolist() == (x * 2).tolist()  # nothing was written


def test_a_view_made_under_no_grad_modified_in_grad_mode_raises_as_torch():
    for module in (mg, torch):
        x, w = _leaves(module, np.float64)
        with module.no_grad():
            view = (x * 2)[:2]
        with pytest.raises(RuntimeError, match=_VIEW_ERROR):
            view.add_(w[:2])


def test_a_graph_tensor_without_views_is_rebased_after_clone():
    _assert_same(_run_both(lambda m, x, w: (lambda y: (y[0], y.clone().mul_(w))[1])(x * 2)))


def test_inplace_on_views_outside_any_graph_still_writes_through():
    x = mg.zeros(2, 3)
    x[0].add_(1.0)
    x.T[2].mul_(5.0)
    x[1, 2] = 4.0
    assert x.tolist() == [[1.0, 1.0, 5.0], [0.0, 0.0, 4.0]]


def test_a_recorded_inplace_op_bumps_the_version_once_and_keeps_the_array():
    x, w = _leaves(mg, np.float64)
    y = x * 2
    array, start = y.array, y._version.value
    y.add_(w).mul_(2.0)
    y[0] = 1.0
    assert y._version.value == start + 3  # torch's y._version counts the same
    assert y.array is array  # written in place: views made earlier by numpy see the values
