"""minigrad.autograd.gradcheck: float64 central differences against backward, for every
differentiable op (small shapes, inputs away from kinks), and a deliberately wrong Function
that it must catch."""
import numpy as np
import pytest

import minigrad as mg
from helpers import check, positive_array, random_array
from minigrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck

# name: (function, input arrays). Inputs are float64 and kept away from kinks and poles.
OPS = {
    "add": (lambda a, b: a + b, [(3, 1), (4,)]),
    "sub": (lambda a, b: a - b, [(2, 3), (3,)]),
    "mul": (lambda a, b: a * b, [(2, 3), (2, 1)]),
    "div": (lambda a, b: a / b, [(2, 3), "positive (3,)"]),
    "rdiv scalar": (lambda a: 2.0 / a, ["positive (4,)"]),
    "pow tensors": (lambda a, b: a ** b, ["positive (2, 3)", (3,)]),
    "pow scalar": (lambda a: a ** 3, [(5,)]),
    "pow fractional": (lambda a: a ** -1.5, ["positive (5,)"]),
    "rpow": (lambda a: 1.7 ** a, [(5,)]),
    "neg": (lambda a: -a, [(3, 2)]),
    "abs": (lambda a: a.abs(), ["kink (6,)"]),
    "exp": (lambda a: a.exp(), [(2, 3)]),
    "log": (lambda a: a.log(), ["positive (2, 3)"]),
    "sqrt": (lambda a: a.sqrt(), ["positive (2, 3)"]),
    "relu": (lambda a: a.relu(), ["kink (2, 3)"]),
    "sigmoid": (lambda a: a.sigmoid(), [(2, 3)]),
    "tanh": (lambda a: a.tanh(), [(2, 3)]),
    "maximum": (lambda a, b: mg.maximum(a, b), [(2, 3), "shifted (3,)"]),
    "minimum": (lambda a, b: mg.minimum(a, b), [(2, 3), "shifted (2, 1)"]),
    "matmul 2-d": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "matmul dot": (lambda a, b: a @ b, [(4,), (4,)]),
    "matmul vector-matrix": (lambda a, b: a @ b, [(3,), (3, 2)]),
    "matmul matrix-vector": (lambda a, b: a @ b, [(2, 3), (3,)]),
    "matmul batched broadcast": (lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)]),
    "sum": (lambda a: a.sum(), [(2, 3)]),
    "mean": (lambda a: a.mean(), [(2, 3)]),
    "min": (lambda a: a.min(), [(2, 3)]),
    "sum dim keepdim": (lambda a: a.sum(dim=(0, -1), keepdim=True), [(2, 3, 2)]),
    "mean dim": (lambda a: a.mean(dim=1), [(2, 3, 2)]),
    "max": (lambda a: a.max(), [(2, 3)]),
    "max dim": (lambda a: a.max(dim=1), [(3, 4)]),
    "min dim keepdim": (lambda a: a.min(dim=0, keepdim=True).values, [(3, 4)]),
    "amax dims": (lambda a: a.amax(dim=(0, 2)), [(2, 3, 2)]),
    "amin": (lambda a: a.amin(dim=-1), [(3, 4)]),
    "var": (lambda a: a.var(), [(2, 3)]),
    "var dim biased": (lambda a: a.var(dim=1, unbiased=False, keepdim=True), [(3, 4)]),
    "var correction": (lambda a: a.var(dim=0, correction=2), [(5, 2)]),
    "std": (lambda a: a.std(dim=0), [(4, 3)]),
    "reshape": (lambda a: a.reshape(3, -1) * 1.5, [(2, 3)]),
    "view": (lambda a: a.view(6), [(2, 3)]),
    "flatten": (lambda a: a.flatten(1), [(2, 2, 2)]),
    "squeeze": (lambda a: a.squeeze(1), [(3, 1, 2)]),
    "unsqueeze": (lambda a: a.unsqueeze(-1), [(3, 2)]),
    "transpose": (lambda a: a.transpose(0, 2), [(2, 3, 2)]),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 2)]),
    "t": (lambda a: a.t(), [(2, 3)]),
    "T": (lambda a: a.T, [(2, 3)]),
    "expand": (lambda a: a.expand(2, 3, 4) * mg.arange(4.0, dtype=mg.float64), [(3, 1)]),
    "index slices": (lambda a: a[1:, ::2], [(3, 4)]),
    "index int None Ellipsis": (lambda a: a[1, None, ..., 0], [(3, 4, 2)]),
    "index repeated ints": (lambda a: a[[0, 2, 0, 0]], [(3, 2)]),
    "index two arrays": (lambda a: a[mg.tensor([0, 0, 2]), mg.tensor([1, 1, 0])], [(3, 2)]),
    "index bool mask": (lambda a: a[mg.tensor([[True, False], [False, True], [True, True]])],
                        [(3, 2)]),
    "cat": (lambda a, b: mg.cat([a, b, a], dim=1), [(2, 1), (2, 3)]),
    "stack": (lambda a, b: mg.stack([a, b], dim=-1), [(2, 3), (2, 3)]),
    "softmax": (lambda a: a.softmax(-1), [(2, 4)]),
    "log_softmax": (lambda a: a.log_softmax(0), [(3, 2)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), ["clamp (3, 4)"]),
    "clamp tensor bounds": (lambda a, low: a.clamp(min=low), ["clamp (3, 4)", "shifted (4,)"]),
    "where": (lambda a, b: mg.where(mg.tensor([True, False, True]), a, b), [(2, 3), (3,)]),
    "clone": (lambda a: a.clone() * 2, [(3,)]),
    "several outputs": (lambda a, b: (a * b, (a - b).exp()), [(3,), (3,)]),
    "composite": (lambda a, w: ((a @ w).tanh().log_softmax(-1) * 2).mean(dim=0).sum(),
                  [(3, 4), (4, 5)]),
}


def make_input(spec, seed):
    if isinstance(spec, tuple):
        return random_array(spec, np.float64, -1.5, 1.5, seed=seed)
    kind, shape = spec.split(" ", 1)
    shape = eval(shape)
    if kind == "positive":
        return positive_array(shape, seed=seed)
    if kind == "kink":
        return random_array(shape, away_from=0.0, margin=0.2, seed=seed)
    if kind == "clamp":  # away from -0.5, 0.5 and the shifted bounds
        values = random_array(shape, seed=seed, low=-1.0, high=1.0)
        return np.round(values * 4) / 4 + 0.125
    if kind == "shifted":  # differs from the other operand: no ties in max/min
        return random_array(shape, seed=seed) + 0.03
    raise ValueError(spec)


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck_passes(name):
    fn, specs = OPS[name]
    inputs = [mg.tensor(make_input(spec, seed), dtype=mg.float64, requires_grad=True)
              for seed, spec in enumerate(specs)]
    assert gradcheck(fn, inputs)


def test_gradcheck_with_a_constant_input():
    x = mg.tensor(random_array((2, 3)), requires_grad=True)
    w = mg.tensor(random_array((3,)))
    assert gradcheck(lambda x, w: x * w + w, [x, w])


def test_gradcheck_leaves_inputs_unchanged():
    array = random_array((2, 3))
    x = mg.tensor(array, requires_grad=True)
    gradcheck(lambda x: (x * x).sum(), [x])
    np.testing.assert_array_equal(x.detach().numpy(), array)


def test_gradcheck_of_a_non_contiguous_input():
    base = mg.tensor(random_array((3, 4)))
    x = mg.Tensor(base.array.T, requires_grad=True)  # a transposed (F-ordered) leaf
    assert not x.is_contiguous()
    assert gradcheck(lambda x: (x @ mg.tensor(random_array((3, 2)))).exp(), [x])


class WrongSquare(Function):
    """z = a², with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a


class WrongBroadcastMul(Function):
    """z = a * b, with b's gradient using the wrong operand."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * b


def test_gradcheck_catches_a_wrong_backward():
    x = mg.tensor(random_array((3,)), requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongSquare.apply, [x])
    assert gradcheck(WrongSquare.apply, [x], raise_exception=False) is False
    assert issubclass(GradcheckError, RuntimeError)


def test_gradcheck_catches_a_wrong_gradient_of_the_second_input():
    a = mg.tensor(random_array((2, 3), seed=1), requires_grad=True)
    b = mg.tensor(random_array((3,), seed=2), requires_grad=True)
    assert gradcheck(WrongBroadcastMul.apply, [a, b], raise_exception=False) is False
    assert gradcheck(lambda a, b: WrongBroadcastMul.apply(a, b), [a, b.detach()])  # a is right


def test_gradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, [mg.ones(2, requires_grad=True)])
    with pytest.raises(ValueError):
        gradcheck(lambda x: x * 2, [mg.ones(2, dtype=mg.float64)])


# ----------------------------------------------------------------------------- vacuous passes
# The oracles must not pass a function that hides its derivative (issue 12): a detached
# result, an input that gets no gradient, a backward that is not recorded.

def test_gradcheck_fails_a_detached_result():
    x = mg.tensor(random_array((3,)), requires_grad=True)
    with pytest.raises(GradcheckError, match="does not require grad"):
        gradcheck(lambda x: (x * 2).detach(), [x])
    with pytest.raises(GradcheckError, match="output 1 does not require grad"):
        gradcheck(lambda x: (x * 2, (x * 3).detach()), [x])
    assert gradcheck(lambda x: (x * 2, (x * 0).detach() + 1), [x])  # truly constant: fine


class ForgetsSecondInput(Function):
    """z = a * b whose backward gives b nothing."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, None


def test_gradcheck_fails_an_input_that_gets_no_gradient():
    a = mg.tensor(random_array((3,), seed=1), requires_grad=True)
    b = mg.tensor(random_array((3,), seed=2), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1 gets no gradient"):
        gradcheck(ForgetsSecondInput.apply, [a, b])
    assert gradcheck(lambda a, b: a * 2, [a, b])  # b unused: its Jacobian is zero indeed


class UnrecordedSquare(Function):
    """z = a² whose backward computes 2 a g outside the graph (no second derivative)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return mg.tensor(2 * a.detach().numpy() * grad.detach().numpy())


def test_gradgradcheck_fails_a_backward_that_is_not_recorded():
    a = mg.tensor(random_array((3,)), requires_grad=True)
    assert gradcheck(UnrecordedSquare.apply, [a])
    with pytest.raises(GradcheckError):
        gradgradcheck(UnrecordedSquare.apply, [a])
    assert gradgradcheck(lambda a: a * a, [a])


def test_compare_helper_fails_a_detached_result():
    """check() compared only outputs that require grad in minigrad: a detached one passed."""
    x = random_array((3,))
    with pytest.raises(AssertionError, match="requires_grad is False, torch's is True"):
        check(lambda t: (t * 2).detach(), lambda t: t * 2, x)
    with pytest.raises(AssertionError, match="requires_grad is True, torch's is False"):
        check(lambda t: t * 2, lambda t: (t * 2).detach(), x)
    check(lambda t: (t * 2).detach(), lambda t: (t * 2).detach(), x)
    check(lambda t: t.argmax(), lambda t: t.argmax(), x)  # integer outputs: neither


def test_a_detached_probability_cross_entropy_fails_the_oracles():
    """The issue's example: cross_entropy with probability targets made to return a detached
    result must fail the compare helper and gradcheck."""
    import torch.nn.functional as TF
    x, q = random_array((4, 5), seed=3), positive_array((4, 5), seed=4)

    def broken(a, b):
        return mg.nn.functional.cross_entropy(a, b).detach()

    with pytest.raises(AssertionError, match="requires_grad"):
        check(broken, TF.cross_entropy, x, q)
    with pytest.raises(GradcheckError):
        gradcheck(broken, [mg.tensor(x, requires_grad=True), mg.tensor(q)])
