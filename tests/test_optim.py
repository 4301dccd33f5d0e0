"""minigrad.optim against torch.optim: every algorithm, every combination of its options.

A fixed sequence of numpy gradients is assigned to the parameters of both frameworks; after the
steps the parameters and every state buffer must match torch's, and the fused Cython update must
match the NumPy reference (bit for bit, at every step, for Adadelta, Adamax, NAdam and RAdam).
"""
import itertools
import warnings

import numpy as np
import pytest
import torch

from minigrad import threads
from minigrad._kernels import optim as kernels
from minigrad.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from minigrad.reference import optim as reference
from minigrad.tensor import Tensor

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 100
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def options(**choices):
    """Every combination of the given option values, as dicts."""
    names = list(choices)
    return [dict(zip(names, values)) for values in itertools.product(*choices.values())]


SGD_OPTIONS = [o for o in options(momentum=[0, 0.9], dampening=[0, 0.1], nesterov=[False, True],
                                  weight_decay=[0, 0.1], maximize=[False, True])
               if not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)]
ADAM_OPTIONS = options(weight_decay=[0, 0.1], amsgrad=[False, True], maximize=[False, True],
                       betas=[(0.9, 0.999), (0.3, 0.5)])
RMSPROP_OPTIONS = options(weight_decay=[0, 0.1], momentum=[0, 0.5], centered=[False, True],
                          maximize=[False, True], alpha=[0.99, 0.3])
ADAGRAD_OPTIONS = options(lr_decay=[0, 0.01], weight_decay=[0, 0.1],
                          initial_accumulator_value=[0, 0.1], maximize=[False, True])
ADADELTA_OPTIONS = options(weight_decay=[0, 0.1], maximize=[False, True], rho=[0.9, 0.5],
                           eps=[1e-6, 1e-3])
ADAMAX_OPTIONS = options(weight_decay=[0, 0.1], maximize=[False, True],
                         betas=[(0.9, 0.999), (0.3, 0.5)])
NADAM_OPTIONS = options(weight_decay=[0, 0.1], decoupled_weight_decay=[False, True],
                        maximize=[False, True], betas=[(0.9, 0.999), (0.3, 0.5)],
                        momentum_decay=[4e-3, 0.1])
# betas (0.3, 0.5): rho_inf = 3, so every step takes the unrectified branch; (0.9, 0.999): the
# first five steps do, the rest the rectified one.
RADAM_OPTIONS = options(weight_decay=[0, 0.1], decoupled_weight_decay=[False, True],
                        maximize=[False, True], betas=[(0.9, 0.999), (0.3, 0.5)])

CASES = ([(SGD, torch.optim.SGD, dict(lr=0.05, **o)) for o in SGD_OPTIONS]
         + [(Adam, torch.optim.Adam, dict(lr=0.01, **o)) for o in ADAM_OPTIONS]
         + [(AdamW, torch.optim.AdamW, dict(lr=0.01, **o)) for o in ADAM_OPTIONS]
         + [(RMSprop, torch.optim.RMSprop, dict(lr=0.01, **o)) for o in RMSPROP_OPTIONS]
         + [(Adagrad, torch.optim.Adagrad, dict(lr=0.1, **o)) for o in ADAGRAD_OPTIONS]
         + [(Adadelta, torch.optim.Adadelta, dict(lr=1.0, **o)) for o in ADADELTA_OPTIONS]
         + [(Adamax, torch.optim.Adamax, dict(lr=0.01, **o)) for o in ADAMAX_OPTIONS]
         + [(NAdam, torch.optim.NAdam, dict(lr=0.01, **o)) for o in NADAM_OPTIONS]
         + [(RAdam, torch.optim.RAdam, dict(lr=0.01, **o)) for o in RADAM_OPTIONS])


def case_id(case):
    cls, _, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr")


def make_problem(dtype, shapes=SHAPES, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return initial, grads


def minigrad_params(initial):
    return [Tensor(a.copy(), requires_grad=True) for a in initial]


def torch_params(initial):
    return [torch.tensor(a.copy(), requires_grad=True) for a in initial]


def run(optimizer, params, grads, make_grad=Tensor):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else make_grad(g.copy())
        optimizer.step()


def assert_state_equal(mg_opt, mg_params, torch_opt, torch_params, **tol):
    for p, tp in zip(mg_params, torch_params):
        mg_state, torch_state = mg_opt.state.get(p, {}), torch_opt.state.get(tp, {})
        assert sorted(mg_state) == sorted(torch_state)
        for key, value in torch_state.items():
            expected = value.detach().numpy()
            actual = mg_state[key].array
            assert actual.shape == expected.shape and actual.dtype == expected.dtype, key
            np.testing.assert_allclose(actual, expected, err_msg=key, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch_and_reference(case, dtype):
    cls, torch_cls, kwargs = case
    initial, grads = make_problem(dtype)
    tol = TOLERANCE[dtype]

    tp = torch_params(initial)
    torch_opt = torch_cls(tp, **kwargs)
    run(torch_opt, tp, grads, make_grad=torch.tensor)

    fused_params = minigrad_params(initial)
    fused_opt = cls(fused_params, **kwargs)
    run(fused_opt, fused_params, grads)

    reference_params = minigrad_params(initial)
    reference_opt = cls(reference_params, fused=False, **kwargs)
    run(reference_opt, reference_params, grads)

    for p, r, t in zip(fused_params, reference_params, tp):
        np.testing.assert_allclose(p.array, t.detach().numpy(), **tol)
        np.testing.assert_allclose(p.array, r.array, rtol=1e-12 if dtype == np.float64 else 1e-6)
        assert p.array.dtype == dtype
    assert_state_equal(fused_opt, fused_params, torch_opt, tp, **tol)
    assert_state_equal(reference_opt, reference_params, torch_opt, tp, **tol)


FULL_OPTIONS = [
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (AdamW, torch.optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    (Adamax, torch.optim.Adamax, dict(lr=0.01, weight_decay=0.1)),
    (NAdam, torch.optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (RAdam, torch.optim.RAdam, dict(lr=0.01, weight_decay=0.1)),
]
FULL_IDS = [c[0].__name__ for c in FULL_OPTIONS]


@pytest.mark.parametrize("case", FULL_OPTIONS, ids=FULL_IDS)
def test_missing_gradients_and_groups(case):
    """Parameters without a gradient are skipped (as torch does); per-group options apply."""
    cls, torch_cls, kwargs = case
    initial, grads = make_problem(np.float64, steps=30)
    for i, step_grads in enumerate(grads):   # parameter 1 has no gradient on some steps
        if i % 4 == 1 or 10 <= i < 14:
            step_grads[1] = None

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] * 0.5}]

    tp = torch_params(initial)
    torch_opt = torch_cls(groups(tp), **kwargs)
    run(torch_opt, tp, grads, make_grad=torch.tensor)
    mp = minigrad_params(initial)
    opt = cls(groups(mp), **kwargs)
    run(opt, mp, grads)
    for p, t in zip(mp, tp):
        np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert_state_equal(opt, mp, torch_opt, tp, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", FULL_OPTIONS, ids=FULL_IDS)
def test_state_dict_round_trip(case):
    """state_dict -> new optimizer -> load_state_dict -> continue equals never stopping."""
    cls, torch_cls, kwargs = case
    initial, grads = make_problem(np.float64, steps=40)

    straight = minigrad_params(initial)
    run(cls(straight, **kwargs), straight, grads)

    first = minigrad_params(initial)
    opt = cls(first, **kwargs)
    run(opt, first, grads[:20])
    saved = opt.state_dict()
    second = [Tensor(p.array.copy(), requires_grad=True) for p in first]
    resumed = cls(second, lr=123.0)   # the options come back from the state dict
    resumed.load_state_dict(saved)
    run(resumed, second, grads[20:])
    run(opt, first, grads[20:])       # the source optimizer is independent of the copy
    for a, b, c in zip(straight, first, second):
        np.testing.assert_array_equal(a.array, b.array)
        if cls is NAdam:  # loading casts mu_product to float64 (torch too): last-bit changes
            np.testing.assert_allclose(a.array, c.array, rtol=1e-13, atol=1e-15)
        else:
            np.testing.assert_array_equal(a.array, c.array)

    # The structure is torch's: integer keys, the same state names and param_groups options.
    tp = torch_params(initial)
    torch_opt = torch_cls(tp, **kwargs)
    run(torch_opt, tp, grads[:20], make_grad=torch.tensor)
    torch_saved = torch_opt.state_dict()
    assert list(saved["state"]) == list(torch_saved["state"])
    for index, state in torch_saved["state"].items():
        assert sorted(saved["state"][index]) == sorted(state)
        assert saved["state"][index]["step" if "step" in state else "momentum_buffer"] is not None
    ours, theirs = saved["param_groups"][0], torch_saved["param_groups"][0]
    assert ours["params"] == theirs["params"]
    for key, value in ours.items():
        if key != "fused":
            assert theirs[key] == value, key


@pytest.mark.parametrize("cls", [Adam, Adadelta, Adamax, NAdam, RAdam],
                         ids=lambda c: c.__name__)
def test_state_dict_accepts_torch_state(cls):
    """A torch state dict loads into minigrad's optimizer and continues as torch's does after
    loading it (loading casts NAdam's mu_product to the parameters' dtype, in both)."""
    initial, grads = make_problem(np.float64, steps=20)
    source = torch_params(initial)
    torch_cls = getattr(torch.optim, cls.__name__)
    torch_opt = torch_cls(source, lr=0.01)
    run(torch_opt, source, grads[:10], make_grad=torch.tensor)
    tp = [t.detach().clone().requires_grad_() for t in source]
    reloaded = torch_cls(tp)
    reloaded.load_state_dict(torch_opt.state_dict())
    mp = [Tensor(t.detach().numpy().copy(), requires_grad=True) for t in source]
    opt = cls(mp)
    opt.load_state_dict(torch_opt.state_dict())
    assert_state_equal(opt, mp, reloaded, tp, rtol=0, atol=0)
    run(reloaded, tp, grads[10:], make_grad=torch.tensor)
    run(opt, mp, grads[10:])
    for p, t in zip(mp, tp):
        np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert_state_equal(opt, mp, reloaded, tp, rtol=1e-10, atol=1e-12)


KERNEL_CASES = {
    "sgd": lambda ps, gs, st, first: (
        [ps, gs, st[0], first], dict(lr=0.1, weight_decay=0.01, momentum=0.9, dampening=0.1,
                                     nesterov=False, maximize=True)),
    "adam": lambda ps, gs, st, first: (
        [ps, gs, st[0], st[1], st[2], st[3]],
        dict(amsgrad=True, beta1=0.9, beta2=0.999, lr=0.01, weight_decay=0.01, eps=1e-8,
             maximize=False, decoupled_weight_decay=True)),
    "rmsprop": lambda ps, gs, st, first: (   # square_avgs, grad_avgs, momentum_buffers
        [ps, gs, st[0], st[2], st[1], st[3]],
        dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01, momentum=0.5, centered=True,
             maximize=False)),
    "adagrad": lambda ps, gs, st, first: (
        [ps, gs, st[0], st[3]], dict(lr=0.1, weight_decay=0.01, lr_decay=0.01, eps=1e-10,
                                     maximize=False)),
}


@pytest.fixture(params=kernels.supported_isas())
def isa(request):
    """Run the kernels with each instruction set's loops this CPU has."""
    kernels.set_isa(request.param)
    yield request.param
    kernels.set_isa(None)


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("name", list(KERNEL_CASES))
def test_kernel_matches_reference_large_mixed(name, num_threads, isa):
    """Large tensors (chunked, multi-threaded) and a group mixing float32 and float64, with
    each instruction-set variant of the loops."""
    rng = np.random.default_rng(1)
    shapes, dtypes = [(300, 250), (7,), (40000,), (3, 5)], [np.float32, np.float64] * 2

    def arrays(scale=1.0, positive=False):
        out = [(rng.standard_normal(s) * scale).astype(d) for s, d in zip(shapes, dtypes)]
        return [np.abs(a) if positive else a for a in out]

    # state[0] positive and above state[2]**2: a valid square average / sum of squares.
    params = arrays()
    state = [[a + 10 for a in arrays(positive=True)], arrays(positive=True), arrays(0.5), None]
    results = []
    for impl in ("kernel", "reference"):
        ps = [a.copy() for a in params]
        st = [[a.copy() for a in s] for s in state[:3]]
        st.append([np.zeros((), np.float32) for _ in shapes])
        first = [True, False, True, False]
        for step in range(3):
            gs = [(np.random.default_rng(step).standard_normal(s)).astype(d)
                  for s, d in zip(shapes, dtypes)]
            args, kwargs = KERNEL_CASES[name](ps, gs, st, first)
            if impl == "kernel":
                getattr(kernels, name + "_step")(*args, **kwargs, num_threads=num_threads)
            else:
                getattr(reference, name + "_step")(*args, **kwargs)
            first = [False] * 4
        results.append((ps, st))
    (kp, ks), (rp, rs) = results
    for a, b in zip(kp + sum(ks, []), rp + sum(rs, [])):
        np.testing.assert_allclose(a, b, rtol=1e-6 if a.dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_isa_variants_are_bit_identical(dtype):
    """No FMA in any variant: the AVX2 and AVX-512 loops give the baseline loops' bits (the
    ISAs this CPU lacks are named by test_conv_nhwc's check)."""
    rng = np.random.default_rng(3)
    p, g, m = (rng.standard_normal(1001).astype(dtype) for _ in range(3))
    v = np.abs(rng.standard_normal(1001)).astype(dtype)
    outputs = []
    assert "base" in kernels.supported_isas()
    try:
        for name in kernels.supported_isas():
            kernels.set_isa(name)
            arrays = [p.copy(), m.copy(), v.copy(), np.zeros((), np.float32)]
            kernels.adam_step([arrays[0]], [g], [arrays[1]], [arrays[2]], [], [arrays[3]],
                              False, 0.3, 0.5, 0.01, 0.1, 1e-8, True, False, 1)
            kernels.rmsprop_step([arrays[0]], [g], [arrays[2]], [arrays[1]], [], [arrays[3]],
                                 0.01, 0.9, 1e-8, 0.1, 0, True, False, 1)
            outputs.append(arrays)
    finally:
        kernels.set_isa(None)
    for other in outputs[1:]:
        for a, b in zip(outputs[0], other):
            np.testing.assert_array_equal(a, b)


def test_kernel_rejects_bad_arrays():
    p = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="elements"):
        kernels.sgd_step([p], [np.zeros(5, np.float32)], [], [], 0.1, 0, 0, 0, False, False, 1)
    with pytest.raises(ValueError, match="float32"):
        kernels.sgd_step([p], [np.zeros(4, np.float64)], [], [], 0.1, 0, 0, 0, False, False, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.sgd_step([p], [np.zeros(8, np.float32)[::2]], [], [], 0.1, 0, 0, 0, False,
                         False, 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.sgd_step([np.zeros(4, np.int64)], [p], [], [], 0.1, 0, 0, 0, False, False, 1)


def test_step_updates_in_place_and_bumps_version():
    p = Tensor(np.ones(3, np.float32), requires_grad=True)
    data, version = p.array, p._version.value
    p.grad = Tensor(np.ones(3, np.float32))
    Adam([p], lr=0.1).step()
    assert p.array is data and p._version.value == version + 1
    np.testing.assert_allclose(p.array, 0.9, rtol=1e-6)


def test_noncontiguous_gradient_and_assignments_torch_refuses():
    p = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    p.grad = Tensor(np.arange(6, dtype=np.float32).reshape(3, 2).T.copy().T.T)
    opt = SGD([p], lr=1.0)
    opt.step()
    np.testing.assert_allclose(p.array, 1 - np.arange(6).reshape(3, 2).T)
    # torch refuses a gradient of another dtype or size when it is assigned (minigrad let a
    # float64 one reach the float32 update)
    for bad, match in ((np.ones((2, 3)), "dtype 'double'.*grad_dtype 'Float'"),
                       (np.ones((3, 2), np.float32), "size '\\[3, 2\\]'")):
        with pytest.raises(RuntimeError, match=match):
            p.grad = Tensor(bad)
        with pytest.raises(RuntimeError):
            torch.ones((2, 3), requires_grad=True).grad = torch.tensor(bad)
    with pytest.raises(TypeError, match="Tensor or None"):
        p.grad = np.ones((2, 3), np.float32)
    p.grad = None
    assert p.grad is None


def test_closure_zero_grad_and_repr():
    p = Tensor(np.ones(2), requires_grad=True)
    opt = SGD([p], lr=0.5)

    def closure():
        p.grad = Tensor(np.full(2, 2.0))
        return 7.0

    assert opt.step(closure) == 7.0
    np.testing.assert_allclose(p.array, 0.0)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.array, 0.0)
    opt.zero_grad()
    assert p.grad is None
    opt.step()   # no gradients: nothing happens
    assert "lr: 0.5" in repr(opt)


def test_param_groups_and_add_param_group():
    a, b = (Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = SGD([{"params": [a]}], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {Tensor(np.ones(1))}})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([a])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        SGD([np.ones(2)])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(a)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SGD([a, a])
    assert any("duplicate parameters" in str(w.message) for w in caught)
    named = SGD([("w", a), ("b", b)])
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(named.state_dict())


ARGUMENT_ERRORS = [
    (SGD, dict(lr=-1), "Invalid learning rate: -1"),
    (SGD, dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    (SGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    (Adam, dict(lr=-1e-3), "Invalid learning rate"),
    (Adam, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (Adam, dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    (Adam, dict(betas=(0, 0.9)), "betas must be either both floats or both Tensors"),
    (AdamW, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (RMSprop, dict(lr=-0.1), "Invalid learning rate"),
    (RMSprop, dict(eps=-1e-8), "Invalid epsilon value"),
    (RMSprop, dict(momentum=-1), "Invalid momentum value"),
    (RMSprop, dict(weight_decay=-1), "Invalid weight_decay value"),
    (RMSprop, dict(alpha=-0.9), "Invalid alpha value: -0.9"),
    (Adagrad, dict(lr=-0.1), "Invalid learning rate"),
    (Adagrad, dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (Adagrad, dict(weight_decay=-0.1), "Invalid weight_decay value"),
    (Adagrad, dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (Adagrad, dict(eps=-1), "Invalid epsilon value"),
    (Adadelta, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (Adadelta, dict(eps=-1e-6), "Invalid epsilon value"),
    (Adadelta, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (Adamax, dict(lr=-0.1), "Invalid learning rate"),
    (Adamax, dict(eps=-1.0), "Invalid epsilon value"),
    (Adamax, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adamax, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (Adamax, dict(weight_decay=-0.5), "Invalid weight_decay value"),
    (NAdam, dict(lr=-0.1), "Invalid learning rate"),
    (NAdam, dict(eps=-1.0), "Invalid epsilon value"),
    (NAdam, dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (NAdam, dict(betas=(0.9, 2)), "Invalid beta parameter at index 1: 2"),
    (NAdam, dict(weight_decay=-0.5), "Invalid weight_decay value"),
    (NAdam, dict(momentum_decay=-0.1), "Invalid momentum_decay value: -0.1"),
    (RAdam, dict(lr=-0.1), "Invalid learning rate"),
    (RAdam, dict(eps=-1.0), "Invalid epsilon value"),
    (RAdam, dict(betas=(1.5, 0.999)), "Invalid beta parameter at index 0: 1.5"),
    (RAdam, dict(betas=(0.9, -1.0)), "Invalid beta parameter at index 1: -1.0"),
    (RAdam, dict(weight_decay=-0.5), "Invalid weight_decay value"),
]


@pytest.mark.parametrize("cls,kwargs,message", ARGUMENT_ERRORS,
                         ids=[f"{c.__name__}-{list(k)[0]}" for c, k, _ in ARGUMENT_ERRORS])
def test_argument_checks_match_torch(cls, kwargs, message):
    torch_cls = getattr(torch.optim, cls.__name__)
    with pytest.raises(ValueError, match=message) as ours:
        cls([Tensor(np.ones(2), requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as theirs:
        torch_cls([torch.ones(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_non_leaf_rejected():
    from minigrad.autograd import Function

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Double.apply(Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([y])


def test_num_threads_honoured():
    previous = threads.get_num_threads()
    try:
        threads.set_num_threads(1)
        p = Tensor(np.ones(70000, np.float32), requires_grad=True)
        p.grad = Tensor(np.ones(70000, np.float32))
        SGD([p], lr=0.5).step()
        np.testing.assert_array_equal(p.array, 0.5)
    finally:
        threads.set_num_threads(previous)


def test_training_a_layer_with_backward_matches_torch():
    """Gradients from minigrad's engine on nn.Linear parameters, five Adam steps."""
    import minigrad
    from minigrad import nn

    layer, twin = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.array.copy()))
        twin.bias.copy_(torch.from_numpy(layer.bias.array.copy()))
    opt = Adam(layer.parameters(), lr=0.1, amsgrad=True)
    torch_opt = torch.optim.Adam(twin.parameters(), lr=0.1, amsgrad=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.standard_normal((8, 3)).astype(np.float32)
    for _ in range(5):
        opt.zero_grad()
        nn.MSELoss()(layer(minigrad.tensor(x)), minigrad.tensor(y)).backward()
        opt.step()
        torch_opt.zero_grad()
        torch.nn.MSELoss()(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        torch_opt.step()
    np.testing.assert_allclose(layer.weight.array, twin.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.bias.array, twin.bias.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cache_follows_group_and_state_changes():
    """Appending to a group's params or replacing optimizer.state takes effect at once."""
    a, b = (Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = SGD([a], lr=1.0, momentum=0.5)
    for p in (a, b):
        p.grad = Tensor(np.ones(2))
    opt.step()
    opt.param_groups[0]["params"].append(b)
    opt.step()
    np.testing.assert_allclose(b.array, 0.0)          # b's first step: b = g
    np.testing.assert_allclose(a.array, -1.5)         # a: 1 - 1 - (0.5 * 1 + 1)
    opt.state.clear()
    opt.step()                                       # fresh buffers: b = g again
    np.testing.assert_allclose(a.array, -2.5)
    np.testing.assert_allclose(b.array, -1.0)
    opt.state = type(opt.state)(dict)
    opt.step()
    np.testing.assert_allclose(a.array, -3.5)
    assert len(opt.state) == 2


@pytest.mark.parametrize("replace", ["entry", "dict", "array"])
def test_replacing_optimizer_state_takes_effect_as_in_torch(replace):
    """opt.state[p]["momentum_buffer"] = ... is legal in torch and used by the next step."""
    import minigrad as mg
    results = []
    for module in (mg, torch):
        p = module.tensor([1.0, -2.0, 0.5], dtype=module.float64, requires_grad=True)
        opt = module.optim.SGD([p], lr=0.1, momentum=0.9)
        for step in range(6):
            opt.zero_grad()
            (p * p * p).sum().backward()
            opt.step()
            if step == 1:
                buffer = module.full((3,), 40.0, dtype=module.float64)
                if replace == "entry":
                    opt.state[p]["momentum_buffer"] = buffer
                elif replace == "dict":
                    opt.state[p] = {"momentum_buffer": buffer}
                else:
                    opt.state[p]["momentum_buffer"].data = buffer
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    assert results[0].min() < -30  # the replaced buffer moved it (torch: about -92)


# ----------------------------------------------------------------------------- edge inputs
# What a fuzzer found (issue 12): torch optimizes parameters that are strided views.

@pytest.mark.parametrize("case", CASES[::4], ids=case_id)
@pytest.mark.parametrize("view", ["step", "transposed_step", "transposed"])
def test_parameters_that_are_strided_views_as_torch(case, view):
    """A leaf made from a strided view (every other column, a transposed slice) is updated in
    place (its base sees the change) with torch's values."""
    mg_cls, torch_cls, options = case
    base = np.arange(48, dtype=np.float32).reshape(6, 8) / 10

    def make(tensor):
        b = tensor(base.copy())
        v = {"step": lambda: b[:, ::2], "transposed_step": lambda: b.t()[::3],
             "transposed": lambda: b.t()}[view]()
        return b, v.detach().requires_grad_()

    mg_base, mg_p = make(Tensor)
    torch_base, torch_p = make(torch.tensor)
    mg_opt, torch_opt = mg_cls([mg_p], **options), torch_cls([torch_p], **options)
    for step in range(3):
        grad = np.random.default_rng(step).standard_normal(mg_p.shape).astype(np.float32)
        mg_p.grad, torch_p.grad = Tensor(grad), torch.tensor(grad)
        mg_opt.step()
        torch_opt.step()
        np.testing.assert_allclose(mg_p.array, torch_p.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mg_base.array, torch_base.numpy(), rtol=1e-5, atol=1e-6)


def test_parameter_with_overlapping_elements_refused_as_torch():
    mg_p = Tensor(np.arange(6, dtype=np.float32)).expand(3, 6).detach().requires_grad_()
    torch_p = torch.arange(6.0).expand(3, 6).detach().requires_grad_()
    for p, opt, grad in ((mg_p, SGD([mg_p], lr=0.1), Tensor(np.ones((3, 6), np.float32))),
                         (torch_p, torch.optim.SGD([torch_p], lr=0.1), torch.ones(3, 6))):
        p.grad = grad
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            opt.step()


# ----------------------------------------------------------------------------- Adadelta, Adamax,
# NAdam, RAdam: the fused kernels give the reference's bits, step by step

def _new_kernel_call(name, module, ps, gs, st, steps, products, option, num_threads):
    """One step of ``name`` through ``module`` (the kernels or their twins); option (0 or 1)
    switches weight decay, maximize and the decoupled decay on and off."""
    extra = (num_threads,) if module is kernels else ()
    wd, flag = (0.0, False) if option == 0 else (0.05, True)
    if name == "adadelta":
        module.adadelta_step(ps, gs, st[0], st[1], steps, 0.5, 0.9, 1e-6, wd, flag, *extra)
    elif name == "adamax":
        module.adamax_step(ps, gs, st[2], st[1], steps, 0.9, 0.999, 0.01, wd, 1e-8, flag, *extra)
    elif name == "nadam":
        module.nadam_step(ps, gs, st[2], st[0], products, steps, 0.9, 0.999, 0.01, wd, 4e-3,
                          1e-8, flag, flag, *extra)
    else:
        module.radam_step(ps, gs, st[2], st[0], steps, 0.9, 0.999, 0.01, wd, 1e-8, flag, flag,
                          *extra)


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("name", ["adadelta", "adamax", "nadam", "radam"])
def test_new_kernels_match_reference_bit_for_bit(name, num_threads, isa):
    """Large tensors (chunked, multi-threaded), odd sizes and a group mixing float32 and
    float64: every step of every ISA's loops at 1 and 2 threads gives the NumPy twin's bits,
    parameters, state, step counters and NAdam's mu_product alike."""
    rng = np.random.default_rng(5)
    shapes, dtypes = [(300, 250), (7,), (40001,), (3, 5)], [np.float32, np.float64] * 2
    params = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
    # state[0] and [1] positive: square averages, accumulated updates, infinity norms
    state = [[np.abs(rng.standard_normal(s)).astype(d) for s, d in zip(shapes, dtypes)]
             for _ in range(2)]
    state.append([(0.5 * rng.standard_normal(s)).astype(d) for s, d in zip(shapes, dtypes)])
    copies = {}
    for impl in (kernels, reference):
        copies[impl] = ([a.copy() for a in params], [[a.copy() for a in s] for s in state],
                        [np.zeros((), np.float32) for _ in shapes],
                        [np.ones((), d) for d in dtypes])
    for step in range(8):
        gs = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
        for impl, (ps, st, steps, products) in copies.items():
            _new_kernel_call(name, impl, ps, gs, st, steps, products, step % 2, num_threads)
        (kp, ks, ksteps, kprod), (rp, rs, rsteps, rprod) = copies.values()
        for a, b in zip(kp + sum(ks, []) + ksteps + kprod, rp + sum(rs, []) + rsteps + rprod):
            np.testing.assert_array_equal(a, b, err_msg=f"step {step}")
            assert a.dtype == b.dtype


NEW_OPTIMIZERS = [
    (Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.01, maximize=True)),
    (Adamax, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)),
    (NAdam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01, momentum_decay=0.01)),
    (NAdam, dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True, maximize=True)),
    (RAdam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)),
    (RAdam, dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", NEW_OPTIMIZERS,
                         ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(NEW_OPTIMIZERS)])
def test_new_optimizers_step_by_step(case, dtype):
    """500 steps through the optimizer classes: after every step the fused update equals the
    reference bit for bit, and both follow torch.optim (same state keys, step counters and
    float32 mu_product exactly; parameters and buffers within float64 / float32 rounding)."""
    cls, kwargs = case
    initial, grads = make_problem(dtype, steps=500, seed=2)
    tp = torch_params(initial)
    torch_opt = getattr(torch.optim, cls.__name__)(tp, **kwargs)
    fused_params, reference_params = minigrad_params(initial), minigrad_params(initial)
    fused = cls(fused_params, **kwargs)
    slow = cls(reference_params, fused=False, **kwargs)
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for step_grads in grads:
        run(torch_opt, tp, [step_grads], make_grad=torch.tensor)
        run(fused, fused_params, [step_grads])
        run(slow, reference_params, [step_grads])
        for p, r, t in zip(fused_params, reference_params, tp):
            np.testing.assert_array_equal(p.array, r.array)
            for key, value in fused.state[p].items():
                np.testing.assert_array_equal(value.array, slow.state[r][key].array, key)
                if value.array.ndim == 0:   # step, mu_product: the same float32 arithmetic
                    np.testing.assert_array_equal(value.array, torch_opt.state[t][key].numpy())
        assert_state_equal(fused, fused_params, torch_opt, tp, **tol)
    for p, t in zip(fused_params, tp):
        np.testing.assert_allclose(p.array, t.detach().numpy(), **tol)


@pytest.mark.parametrize("cls", [Adadelta, Adamax, NAdam, RAdam], ids=lambda c: c.__name__)
def test_new_optimizers_take_torchs_keywords(cls):
    """foreach (ignored: the update is always fused), capturable and differentiable are
    accepted as torch spells them; the modes minigrad lacks refuse True before any step."""
    params = [Tensor(np.ones(3), requires_grad=True)]
    group = cls(params, foreach=True).param_groups[0]
    torch_group = getattr(torch.optim, cls.__name__)([torch.ones(3)], foreach=True).param_groups[0]
    assert set(torch_group) <= set(group)
    assert {k: v for k, v in group.items() if k != "params" and k in torch_group} == \
        {k: v for k, v in torch_group.items() if k != "params"}
    with pytest.raises(AssertionError, match="capturable=True"):
        cls(params, capturable=True)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        cls(params, differentiable=True)


def test_adadelta_and_adamax_take_foreach_positionally_as_torch():
    p = Tensor(np.ones(2), requires_grad=True)
    assert Adadelta([p], 1.0, 0.9, 1e-6, 0, True).param_groups[0]["foreach"] is True
    assert Adamax([p], 2e-3, (0.9, 0.999), 1e-8, 0, False).param_groups[0]["foreach"] is False


def test_kernels_check_mu_products():
    p, g = np.zeros(4), np.ones(4)
    m, v = np.zeros(4), np.zeros(4)
    with pytest.raises(TypeError, match="mu_products"):
        kernels.nadam_step([p], [g], [m], [v], [np.ones(3)], [np.zeros(())], 0.9, 0.999, 0.01,
                           0, 4e-3, 1e-8, False, False, 1)
    with pytest.raises(ValueError, match="expected 1 arrays each"):
        kernels.nadam_step([p], [g], [m], [v], [], [np.zeros(())], 0.9, 0.999, 0.01, 0, 4e-3,
                           1e-8, False, False, 1)
