"""The Tensor itself: creation functions, dtypes, conversions, repr, in-place ops and the
version counter that catches in-place changes to tensors saved for backward."""
import numpy as np
import pytest
import torch

import minigrad as mg

# ----------------------------------------------------------------------------- creation

CREATIONS = [
    "X.zeros(2, 3)",
    "X.zeros((2, 3))",
    "X.zeros([4])",
    "X.zeros(2, dtype=X.int64)",
    "X.ones(2, 3)",
    "X.ones((1,), dtype=X.float64)",
    "X.full((2,), 3)",
    "X.full((2, 2), 3.5)",
    "X.full((2,), True)",
    "X.full((3,), 2, dtype=X.float64)",
    "X.arange(5)",
    "X.arange(1, 5, 2)",
    "X.arange(0, 1, 0.25)",
    "X.arange(5.0)",
    "X.arange(3, dtype=X.float64)",
    "X.eye(3)",
    "X.linspace(0, 1, 5)",
    "X.tensor([[1, 2], [3, 4]])",
    "X.tensor([1.5, 2.5])",
    "X.tensor(2.5)",
    "X.tensor(3)",
    "X.tensor(True)",
    "X.tensor([True, False])",
    "X.tensor([1.0, 2.0], dtype=X.float64)",
    "X.tensor([1, 2], dtype=X.float32)",
    "X.tensor([[1.0], [2.0]], requires_grad=True)",
    "X.tensor(np.float64(1.5))",
    "X.tensor(np.array([1.0, 2.0]))",
    "X.tensor(np.array([1, 2], dtype=np.int32))",
    "X.tensor([])",
    "X.zeros_like(X.ones(2, 3, dtype=X.float64))",
    "X.ones_like(X.zeros(2, dtype=X.int64))",
    "X.zeros_like(X.ones(2), dtype=X.float64)",
]


# Each expression runs with X = minigrad and X = torch.
@pytest.mark.parametrize("expression", CREATIONS)
def test_creation_matches_torch(expression):
    mine = eval(expression, {"X": mg, "np": np})
    theirs = eval(expression, {"X": torch, "np": np})
    assert isinstance(mine, mg.Tensor)
    assert mine.shape == tuple(theirs.shape)
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    assert mine.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(mine.array, theirs.detach().numpy(), rtol=1e-6)


def test_empty_has_shape_and_dtype():
    x = mg.empty(2, 3)
    assert x.shape == (2, 3) and x.dtype == mg.float32
    assert mg.empty((4,), dtype=mg.float64).dtype == mg.float64
    assert mg.empty_like(x).shape == (2, 3)


def test_tensor_copies_and_from_numpy_shares_memory():
    array = np.arange(4.0)
    copied, shared = mg.tensor(array), mg.from_numpy(array)
    array[0] = 42.0
    assert copied[0].item() == 0.0
    assert shared[0].item() == 42.0
    shared.array[1] = -1.0
    assert array[1] == -1.0
    assert shared.dtype == mg.float64  # from_numpy keeps the array's dtype
    with pytest.raises(TypeError):
        mg.from_numpy([1.0, 2.0])


def test_tensor_of_a_tensor_copies():
    x = mg.ones(3)
    y = mg.tensor(x)
    y.fill_(2.0)
    assert x.sum().item() == 3.0


def test_rand_randn_randint_ranges_and_dtypes():
    u = mg.rand(1000)
    assert u.dtype == mg.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    n = mg.randn(10000, dtype=mg.float64)
    assert n.dtype == mg.float64
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    i = mg.randint(3, 7, (1000,))
    assert i.dtype == mg.int64 and i.min().item() == 3 and i.max().item() == 6
    j = mg.randint(5, (2, 3))
    assert j.shape == (2, 3) and 0 <= j.min().item() and j.max().item() < 5
    assert mg.rand(2, 3).shape == (2, 3) and mg.randn((4,)).shape == (4,)
    assert mg.rand(3, requires_grad=True).requires_grad


def test_manual_seed_reproduces_every_random_draw():
    def draws():
        return [mg.rand(5).numpy().copy(), mg.randn(2, 3).numpy().copy(),
                mg.randint(0, 100, (6,)).numpy().copy(), mg.empty(4).uniform_(-1, 1).numpy().copy(),
                mg.empty(4).normal_(2.0, 0.5).numpy().copy()]

    mg.manual_seed(1234)
    first = draws()
    mg.manual_seed(1234)
    second = draws()
    third = draws()
    for a, b, c in zip(first, second, third):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_a_generator_argument_is_independent_of_the_default_one():
    g1, g2 = mg.Generator(7), mg.Generator(7)
    a = mg.rand(5, generator=g1)
    mg.rand(3)  # the default generator moves; g2 does not
    b = mg.rand(5, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ----------------------------------------------------------------------------- dtypes

def test_default_dtypes():
    assert mg.tensor([1.0]).dtype == mg.float32 == np.float32
    assert mg.tensor([1]).dtype == mg.int64 == np.int64
    assert mg.tensor([1.0], dtype=mg.float64).dtype == mg.float64
    assert mg.float == mg.float32 and mg.double == mg.float64 and mg.long == mg.int64


def test_dtype_casts():
    x = mg.tensor([1.7, -2.7])
    assert x.float() is x
    assert x.double().dtype == mg.float64
    assert x.long().dtype == mg.int64
    np.testing.assert_array_equal(x.long().numpy(), torch.tensor([1.7, -2.7]).long().numpy())
    assert x.to(mg.float64).dtype == mg.float64
    assert x.type(mg.float64).dtype == mg.float64
    assert mg.tensor([1, 0]).bool().dtype == mg.bool


def test_casts_to_integers_leave_the_graph():
    for module in (mg, torch):
        x = module.tensor([1.5, -2.5], requires_grad=True)
        for cast in (x.long(), x.int(), x.bool(), x.to(module.int64)):
            assert not cast.requires_grad and cast.grad_fn is None


def test_cast_passes_the_gradient_back_in_the_original_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ----------------------------------------------------------------------------- conversions

def test_numpy_shares_memory():
    x = mg.zeros(3)
    x.numpy()[1] = 5.0
    assert x[1].item() == 5.0
    assert x.detach().numpy() is x.array


def test_item_tolist_shape_size_dim_numel():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x[1, 2].item() == 6.0 and isinstance(x[1, 2].item(), float)
    assert mg.tensor([7]).item() == 7 and isinstance(mg.tensor([7]).item(), int)
    assert mg.tensor(2.5).tolist() == 2.5
    assert float(mg.tensor(2.5)) == 2.5 and int(mg.tensor(3)) == 3
    assert x.T.shape == (3, 2) and x.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]


def test_array_protocol():
    x = mg.tensor([1.0, 2.0])
    assert np.asarray(x).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    assert np.array(x, dtype=np.float64).dtype == np.float64
    assert np.add(np.ones(2), np.asarray(x)).tolist() == [2.0, 3.0]


def test_iteration_and_len():
    x = mg.arange(6).reshape(3, 2)
    assert [row.tolist() for row in x] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError):
        len(mg.tensor(1.0))


# ----------------------------------------------------------------------------- repr

REPRS = [
    "X.tensor([1., 2.], requires_grad=True)",
    "X.tensor(2.3026)",
    "X.tensor(3)",
    "X.tensor([1.5])",
    "X.tensor([1.5, 2.25, 3.0])",
    "X.tensor([[1., 2.], [3., 4.]])",
    "X.tensor([True, False])",
    "X.tensor([1e-8, 1.])",
    "X.tensor([1e10, 1.])",
    "X.tensor([-1., 2.])",
    "X.tensor([[-1e-5, 3.]])",
    "X.tensor(float('nan'))",
    "X.tensor([float('inf'), 1.])",
    "X.tensor([0.1234567], dtype=X.float64)",
    "X.tensor(-0.5, dtype=X.float64)",
    "X.tensor([1, 2], dtype=X.int32)",
    "X.tensor([[1, -200], [3, 4]])",
    "X.tensor([12345678.5, 1.])",
    "X.zeros(3, dtype=X.float64)",
    "X.zeros(0)",
    "X.zeros(2, 0)",
    "X.zeros(0, dtype=X.int64)",
    "X.zeros(0, dtype=X.bool)",
    "X.arange(100)",
    "X.arange(30.) / 7",
    "X.arange(40.).reshape(2, 4, 5) * 1.5",
    "X.arange(2000.)",
    "X.arange(3000).reshape(30, 100)",
    "X.arange(3000.).reshape(30, 100) / 7",
    "X.tensor([1., 2.], requires_grad=True) * 2",
    "X.tensor([1., 2.], requires_grad=True).sum()",
    "X.tensor(2.3026, requires_grad=True) + 1",
    "(X.tensor([[1., 2.]], requires_grad=True) / 3).mean()",
    "X.tensor([0.5, 2.], dtype=X.float64, requires_grad=True).log().sigmoid()",
    "X.tensor([1., 2.], requires_grad=True).exp()",
    "X.tensor([1., 2.], requires_grad=True).detach()",
]


@pytest.mark.parametrize("expression", REPRS)
def test_repr_matches_torch(expression):
    mine = eval(expression, {"X": mg})
    theirs = eval(expression, {"X": torch})
    assert repr(mine) == repr(theirs).replace("torch.", "minigrad.")


# ----------------------------------------------------------------------------- in-place

def test_inplace_ops_match_torch():
    for module in (mg, torch):
        x = module.tensor([1.0, 2.0, 3.0])
        x.add_(1.0).mul_(2.0).sub_(module.tensor([1.0, 1.0, 1.0]), alpha=2).div_(2.0)
        x.add_(module.tensor([0.5, 0.5, 0.5]), alpha=-2)
        x.clamp_(1.0, 2.5)
        if module is mg:
            mine = x.tolist()
        else:
            assert mine == x.tolist()


def test_zero_fill_copy():
    x = mg.ones(2, 3)
    assert x.zero_() is x and x.sum().item() == 0.0
    x.fill_(2.5)
    assert x.tolist() == [[2.5] * 3] * 2
    x.copy_(mg.tensor([1.0, 2.0, 3.0]))  # broadcasts
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    x.copy_(mg.tensor([[1, 2, 3], [4, 5, 6]]))  # casts
    assert x.dtype == mg.float32 and x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    x.copy_(np.zeros((2, 3)))
    assert x.sum().item() == 0.0


def test_uniform_and_normal_fill_in_place():
    x = mg.empty(10000, dtype=mg.float64)
    assert x.uniform_(-2.0, 3.0) is x
    assert -2.0 <= x.min().item() and x.max().item() < 3.0
    assert abs(x.mean().item() - 0.5) < 0.1
    x.normal_(1.0, 2.0)
    assert abs(x.mean().item() - 1.0) < 0.1 and abs(x.std().item() - 2.0) < 0.1
    assert x.dtype == mg.float64


def test_inplace_on_a_view_writes_through():
    x = mg.zeros(3, 4)
    x[1].fill_(1.0)
    x[:, 0].add_(2.0)
    x.T[3].mul_(0.0)
    x[2, 3].fill_(7.0)  # a single element is a 0-d view too
    x[0][1].add_(-1.0)
    expected = torch.zeros(3, 4)
    expected[1].fill_(1.0)
    expected[:, 0].add_(2.0)
    expected.T[3].mul_(0.0)
    expected[2, 3].fill_(7.0)
    expected[0][1].add_(-1.0)
    assert x.tolist() == expected.tolist()


def test_inplace_on_an_expanded_tensor_raises_as_torch():
    for module in (mg, torch):
        with pytest.raises(RuntimeError):
            module.ones(3, 1).expand(3, 2).add_(1.0)


def test_setitem():
    x = mg.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = mg.tensor([1.0, 2.0, 3.0])
    x[:, 2] = 9
    assert x.tolist() == [[0.0, 5.0, 9.0], [1.0, 2.0, 9.0]]


def test_inplace_on_a_leaf_requiring_grad_raises_as_torch():
    for module in (mg, torch):
        x = module.ones(3, requires_grad=True)
        for inplace in (lambda: x.add_(1.0), lambda: x.mul_(2.0), lambda: x.zero_(),
                        lambda: x.fill_(1.0), lambda: x.copy_(module.zeros(3)),
                        lambda: x.uniform_(), lambda: x.normal_()):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                inplace()


def test_inplace_on_a_leaf_is_allowed_under_no_grad():
    for module in (mg, torch):
        x = module.ones(3, requires_grad=True)
        with module.no_grad():
            x.mul_(3.0).add_(1.0)
        assert x.tolist() == [4.0, 4.0, 4.0] and x.requires_grad and x.grad_fn is None


def _saved_then_modified(module, modify):
    """y = (x * w * x).sum() saves w and x; modify(x, w) then changes one in place."""
    x = module.ones(3, requires_grad=True)
    w = module.full((3,), 2.0)
    y = (x * w * x).sum()
    modify(module, x, w)
    return y


MODIFICATIONS = {
    "the saved operand": lambda m, x, w: w.add_(1.0),
    "the saved operand through a view": lambda m, x, w: w[1:].mul_(2.0),
    "the saved operand through detach": lambda m, x, w: w.detach().zero_(),
    "the saved operand by setitem": lambda m, x, w: w.__setitem__(0, 5.0),
    "a saved leaf under no_grad": lambda m, x, w: _no_grad_add(m, x),
}


def _no_grad_add(module, x):
    with module.no_grad():
        x.add_(1.0)


@pytest.mark.parametrize("name", list(MODIFICATIONS))
def test_inplace_change_to_a_saved_tensor_raises_at_backward(name):
    for module in (mg, torch):
        y = _saved_then_modified(module, MODIFICATIONS[name])
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_inplace_change_to_a_saved_output_raises_at_backward():
    for module in (mg, torch):
        x = module.ones(3, requires_grad=True)
        y = x.exp()  # exp saves its output
        with module.no_grad():
            y.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_change_to_an_unsaved_tensor_is_fine():
    for module in (mg, torch):
        x = module.ones(3, requires_grad=True)
        w = module.full((3,), 2.0)
        y = (x + w).sum()  # add saves nothing
        w.add_(1.0)
        y.backward()
        assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_version_counter_counts_inplace_writes():
    x = mg.zeros(3)
    start = x._version.value
    x.add_(1.0)
    x[0] = 2.0
    x.view(3).mul_(2.0)
    assert x._version.value == start + 3


def test_inplace_ops_from_a_tensor_requiring_grad_are_recorded_as_torch():
    # An in-place op whose source requires grad makes the destination part of the graph
    # (tests/test_inplace.py covers the recording itself).
    for module in (mg, torch):
        w = module.ones(3, requires_grad=True)
        buffer = module.zeros(3)
        buffer.add_(w)
        assert buffer.requires_grad and not buffer.is_leaf
        assert type(buffer.grad_fn).__name__ == "AddBackward0"
        buffer.sum().backward()
        assert w.grad.tolist() == [1.0, 1.0, 1.0]
    for module in (mg, torch):
        w = module.ones(3, requires_grad=True)
        buffer = module.zeros(3)
        with module.no_grad():
            buffer.add_(w)
            buffer[0] = w[1]
        assert buffer.tolist() == [1.0, 1.0, 1.0] and not buffer.requires_grad
