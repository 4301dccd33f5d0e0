"""Python's in-place operators change the tensor itself (``w -= lr * w.grad`` under no_grad),
``Tensor.data`` is a detached tensor sharing storage, and the operators torch gives tensors
(%, //, <<, >>, &, |, ^, ~) give torch's values and dtypes; all held to torch."""
import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import DTYPES, check, random_array

OPERATORS = {
    "+=": lambda a, b: a.__iadd__(b), "-=": lambda a, b: a.__isub__(b),
    "*=": lambda a, b: a.__imul__(b), "/=": lambda a, b: a.__itruediv__(b),
    "**=": lambda a, b: a.__ipow__(b), "//=": lambda a, b: a.__ifloordiv__(b),
    "%=": lambda a, b: a.__imod__(b),
}


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("operand", ["number", "tensor"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_operator_changes_the_tensor_itself(op, operand, dtype):
    base = random_array((2, 3), dtype, 0.5, 2.0, seed=1)
    other = random_array((3,), dtype, 0.5, 2.0, seed=2)
    results = []
    for module in (mg, torch):
        x = module.tensor(base.copy())
        alias = x
        y = 1.5 if operand == "number" else module.tensor(other.copy())
        out = OPERATORS[op](x, y)
        assert out is alias  # the name is not rebound to a new tensor
        results.append(alias.numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("op", ["&=", "|=", "^=", "<<=", ">>="])
def test_integer_inplace_operators(op):
    apply = {"&=": lambda a, b: a.__iand__(b), "|=": lambda a, b: a.__ior__(b),
             "^=": lambda a, b: a.__ixor__(b), "<<=": lambda a, b: a.__ilshift__(b),
             ">>=": lambda a, b: a.__irshift__(b)}[op]
    results = []
    for module in (mg, torch):
        x = module.tensor([5, 12, 7])
        assert apply(x, module.tensor([3, 1, 2])) is x
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(*results)


def test_the_tutorials_manual_update_trains():
    """The 'polynomial with autograd' loop: w -= lr * w.grad under no_grad."""
    losses = []
    for module in (mg, torch):
        x = module.linspace(-3.0, 3.0, 200, dtype=module.float64)
        y = module.sin(x)
        a = module.tensor(0.1, dtype=module.float64, requires_grad=True)
        b = module.tensor(-0.2, dtype=module.float64, requires_grad=True)
        for _ in range(200):
            loss = (a + b * x - y).pow(2).sum()
            loss.backward()
            with module.no_grad():
                a -= 1e-4 * a.grad
                b -= 1e-4 * b.grad
                a.grad = None
                b.grad = None
        losses.append((loss.item(), a.item(), b.item()))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    assert losses[0][0] < 40


def test_inplace_operator_on_a_leaf_requiring_grad_raises_as_torch():
    for module in (mg, torch):
        w = module.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            w += 1


def test_inplace_operator_in_a_graph_is_recorded_as_torch():
    def program(module):
        def f(x):
            y = x * 2
            y += x
            y *= x
            y /= 3
            return y
        return f
    check(program(mg), program(torch), random_array((4,), seed=3))


def test_inplace_operator_refuses_a_wider_result_as_torch():
    for module in (mg, torch):
        x = module.tensor([1, 2])
        with pytest.raises(RuntimeError, match="can't be cast"):
            x += 1.5
        with pytest.raises(RuntimeError, match="can't be cast"):
            x /= 2


# ----------------------------------------------------------------------------- .data

def test_data_is_a_detached_tensor_sharing_storage():
    for module in (mg, torch):
        p = module.ones(3, requires_grad=True)
        d = p.data
        assert isinstance(d, module.Tensor) and not d.requires_grad and d.grad_fn is None
        d.mul_(2)  # not tracked: allowed on a leaf that requires grad
        assert p.detach().numpy().tolist() == [2.0, 2.0, 2.0]


def test_data_idioms_of_the_tutorials():
    results = []
    for module in (mg, torch):
        module.manual_seed(0)
        layer = module.nn.Linear(4, 3)
        outputs = layer(module.ones(5, 4))
        _, predicted = module.max(outputs.data, 1)  # the CIFAR tutorial's accuracy line
        copy = layer.weight.data.clone()
        layer.weight.data.normal_(0.0, 0.02)        # init idiom
        layer.bias.data.fill_(0.5)
        layer.weight.data = copy                    # replace the storage
        results.append((predicted.numpy().tolist(), layer.bias.detach().numpy().tolist(),
                        layer.weight.detach().numpy().shape, predicted.dtype == module.int64))
        assert layer.weight.requires_grad and layer.weight.is_leaf
    assert results[0][1:] == results[1][1:]
    with pytest.raises(TypeError):
        mg.ones(2).data = np.zeros(2)


def test_changes_through_data_are_not_tracked_as_torch():
    for module in (mg, torch):
        x = module.ones(2, requires_grad=True)
        y = x * x
        x.data.mul_(3)  # torch's version counter is not bumped: backward uses the new value
        y.sum().backward()
        assert x.grad.numpy().tolist() == [6.0, 6.0]


# ----------------------------------------------------------------------------- operators

@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
@pytest.mark.parametrize("expression", [
    lambda a, b: a % b, lambda a, b: a % 3, lambda a, b: 7 % b, lambda a, b: a // b,
    lambda a, b: a // 2, lambda a, b: 7 // b, lambda a, b: a.fmod(b), lambda a, b: a.remainder(b),
])
def test_division_operators_match_torch(expression, dtype):
    a = np.array([5, -3, 8, -7, 0, 9]).astype(dtype)
    b = np.array([2, 2, -3, -4, 5, 4]).astype(dtype)
    mine = expression(mg.tensor(a), mg.tensor(b))
    theirs = expression(torch.tensor(a), torch.tensor(b))
    assert mine.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_remainder_and_fmod_gradients_match_torch(dtype):
    a = random_array((5,), dtype, 1.0, 9.0, seed=4)
    b = random_array((5,), dtype, 1.2, 3.0, seed=5)
    check(lambda x, y: x % y, lambda x, y: x % y, a, b)
    check(lambda x, y: x.fmod(y), lambda x, y: x.fmod(y), -a, b)


@pytest.mark.parametrize("left, right", [
    ("int64", "int64"), ("int32", "int64"), ("uint8", "int64"), ("bool", "bool"),
    ("bool", "int64"), ("int32", "int32"),
])
@pytest.mark.parametrize("op", ["&", "|", "^"])
def test_bitwise_operators_keep_torchs_integer_types(left, right, op):
    a = np.array([5, 3, 0, 6]).astype(left)
    b = np.array([1, 2, 3, 6]).astype(right)
    fn = {"&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y}[op]
    for other in (b, 3, True):
        mine = fn(mg.tensor(a), mg.tensor(other) if isinstance(other, np.ndarray) else other)
        theirs = fn(torch.tensor(a), torch.tensor(other) if isinstance(other, np.ndarray)
                    else other)
        assert mine.dtype == theirs.numpy().dtype, (left, right, other)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_shifts_and_invert_match_torch():
    for fn in (lambda m: m.tensor([5, 3]) >> 1, lambda m: m.tensor([5, 3]) << m.tensor([1, 2]),
               lambda m: 3 << m.tensor([1, 2]), lambda m: ~m.tensor([5, 0]),
               lambda m: ~m.tensor([True, False]), lambda m: 12 >> m.tensor([1, 2])):
        mine, theirs = fn(mg), fn(torch)
        assert mine.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("call, error", [
    (lambda m: m.ones(2) & 1, NotImplementedError), (lambda m: m.ones(2) << 1, NotImplementedError),
    (lambda m: ~m.ones(2), TypeError),
])
def test_bitwise_on_floats_raises_as_torch(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match="Float|integer"):
        call(mg)


def test_logical_ops_match_torch():
    a, b = [1, 0, 2, 0], [True, True, False, False]
    for name in ("logical_and", "logical_or", "logical_xor"):
        mine = getattr(mg.tensor(a), name)(mg.tensor(b))
        theirs = getattr(torch.tensor(a), name)(torch.tensor(b))
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    np.testing.assert_array_equal(mg.tensor(a).logical_not().numpy(),
                                  torch.tensor(a).logical_not().numpy())
