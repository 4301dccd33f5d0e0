"""torch.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) and create_graph through
backward() and grad(), held to torch: values, structure (tensor or tuples mirroring the inputs
and outputs), float32 and float64."""
import numpy as np
import pytest
import torch

import minigrad as mg
from helpers import DTYPES, random_array


def _f(module):
    return mg.nn.functional if module is mg else torch.nn.functional


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _structure(value):
    if isinstance(value, (tuple, list)):
        return tuple(_structure(v) for v in value)
    return None if value is None else tuple(value.shape)


def _assert_same(mine, theirs, dtype):
    assert _structure(mine) == _structure(theirs)
    rtol = 1e-9 if dtype == np.float64 else 2e-5
    for a, b in zip(_flatten(mine), _flatten(theirs)):
        if a is None and b is None:
            continue
        assert a.dtype == b.detach().numpy().dtype
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=rtol)


def _scalar_fn(module):
    def f(x, y):
        return ((x * y).tanh() * x).sum() + (y ** 3).sum()
    return f


def _vector_fn(module):
    def f(x, y):
        return (x.exp() * y, _f(module).softmax(x + y, -1))
    return f


def _inputs(module, dtype):
    return (module.tensor(random_array((2, 3), dtype, seed=1)),
            module.tensor(random_array((2, 3), dtype, seed=2)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_products_match_torch(name, dtype):
    results = []
    for module in (mg, torch):
        functional = module.autograd.functional
        x, y = _inputs(module, dtype)
        v = (module.tensor(random_array((2, 3), dtype, seed=3)),
             module.tensor(random_array((2, 3), dtype, seed=4)))
        if name == "vjp":
            out = functional.vjp(_vector_fn(module), (x, y), v)
        elif name == "jvp":
            out = functional.jvp(_vector_fn(module), (x, y), v)
        else:
            out = getattr(functional, name)(_scalar_fn(module), (x, y), v)
        results.append(out)
    _assert_same(*results, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_single_tensor_forms_match_torch(dtype):
    results = []
    for module in (mg, torch):
        functional = module.autograd.functional
        x = module.tensor(random_array((3,), dtype, seed=5))
        f = lambda t: (t.sin() * t).sum()  # noqa: E731
        results.append((functional.vjp(f, x), functional.hessian(f, x),
                        functional.jacobian(lambda t: t.exp() * t[0], x),
                        functional.jvp(lambda t: t * t, x, module.ones_like(x)),
                        functional.hvp(f, x, x)))
    _assert_same(*results, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian_and_hessian_of_several_inputs_and_outputs(dtype):
    results = []
    for module in (mg, torch):
        functional = module.autograd.functional
        x, y = _inputs(module, dtype)
        results.append((functional.jacobian(_vector_fn(module), (x, y)),
                        functional.jacobian(lambda a: (a * 2, a.sum()), x),
                        functional.hessian(_scalar_fn(module), (x, y))))
    _assert_same(*results, dtype)


def test_create_graph_results_can_be_differentiated_again():
    results = []
    for module in (mg, torch):
        x = module.tensor(random_array((3,), np.float64, seed=6), requires_grad=True)
        hess = module.autograd.functional.hessian(lambda t: (t ** 4).sum(), x,
                                                  create_graph=True)
        hess.sum().backward()
        results.append(x.grad.numpy().copy())
    np.testing.assert_allclose(*results, rtol=1e-12)


def test_functional_errors_as_torch():
    for module in (mg, torch):
        functional = module.autograd.functional
        x = module.ones(3)
        with pytest.raises(RuntimeError, match="can only be None"):
            functional.vjp(lambda t: t * 2, x)
        with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
            functional.jacobian(lambda t: t, [1.0])
        with pytest.raises(RuntimeError, match="invalid size"):
            functional.jvp(lambda t: t * 2, x, module.ones(2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_penalty_through_a_network(dtype):
    """WGAN-GP's penalty: the gradient of the critic's output with respect to its input,
    taken with create_graph, then trained on."""
    results = []
    for module in (mg, torch):
        module.manual_seed(0)
        nn = module.nn
        critic = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).to(
            module.float64 if dtype == np.float64 else module.float32)
        rng = np.random.default_rng(0)
        with module.no_grad():
            for p in critic.parameters():
                p.copy_(module.tensor(rng.uniform(-1, 1, tuple(p.shape)).astype(dtype)))
        x = module.tensor(random_array((4, 3), dtype, seed=7), requires_grad=True)
        (grad,) = module.autograd.grad(critic(x).sum(), x, create_graph=True)
        penalty = ((grad * grad).sum(1).sqrt() - 1).pow(2).mean()
        penalty.backward()
        results.append([penalty.detach()] + [p.grad for p in critic.parameters()] + [x.grad])
    _assert_same(*results, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_with_create_graph_stores_a_recorded_grad(dtype):
    results = []
    for module in (mg, torch):
        x = module.tensor(random_array((3,), dtype, seed=8), requires_grad=True)
        (x.sin() * x).sum().backward(create_graph=True)
        assert x.grad.requires_grad
        first = x.grad.detach().clone()
        (second,) = module.autograd.grad(x.grad.sum(), x)
        results.append((first, second))
    _assert_same(*results, dtype)
