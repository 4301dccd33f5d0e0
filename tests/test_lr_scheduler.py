"""minigrad.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr sequences."""
import math
import warnings

import numpy as np
import pytest
import torch

from minigrad.optim import SGD, Adam, lr_scheduler
from minigrad.tensor import Tensor

EPOCHS = 100

SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[10, 30, 30, 75], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=30, eta_min=1e-4)),
    ("CosineAnnealingLR", dict(T_max=100)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=40)),
    ("LinearLR", dict()),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.97 ** epoch / (1 + epoch % 5))),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=EPOCHS)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=EPOCHS + 1, anneal_strategy="linear",
                        three_phase=True, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=10, steps_per_epoch=10, cycle_momentum=False)),
    ("ConstantLR", dict(factor=0.25, total_iters=30)),
    ("ConstantLR", dict()),
    ("PolynomialLR", dict(total_iters=60, power=2.0)),
    ("PolynomialLR", dict(total_iters=150, power=0.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, eta_min=1e-3)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=9)),
    ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=[0.2, 0.05], step_size_up=7,
                      step_size_down=11, mode="triangular2", base_momentum=0.7)),
    ("CyclicLR", dict(base_lr=0.02, max_lr=0.3, step_size_up=5, mode="exp_range", gamma=0.97)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, cycle_momentum=False,
                      scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations")),
]


def optimizers(adam=False):
    """The same two-group optimizer in both frameworks."""
    mg = [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
    th = [torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)]
    if adam:
        return (Adam([{"params": mg[:1]}, {"params": mg[1:], "lr": 0.01}], lr=0.1),
                torch.optim.Adam([{"params": th[:1]}, {"params": th[1:], "lr": 0.01}], lr=0.1))
    return (SGD([{"params": mg[:1]}, {"params": mg[1:], "lr": 0.01}], lr=0.1, momentum=0.9),
            torch.optim.SGD([{"params": th[:1]}, {"params": th[1:], "lr": 0.01}], lr=0.1,
                            momentum=0.9))


def momenta(optimizer):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in optimizer.param_groups]


@pytest.mark.parametrize("adam", [False, True])
@pytest.mark.parametrize("name,kwargs", SCHEDULERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_sequence_matches_torch(name, kwargs, adam):
    mg_opt, th_opt = optimizers(adam)
    ours = getattr(lr_scheduler, name)(mg_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    steps = EPOCHS - 1 if name == "OneCycleLR" else EPOCHS
    for _ in range(steps):
        mg_opt.step()
        th_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in mg_opt.param_groups] == [g["lr"] for g in th_opt.param_groups]
        assert momenta(mg_opt) == momenta(th_opt)


def test_chained_schedulers_match_torch():
    mg_opt, th_opt = optimizers()
    ours = [lr_scheduler.ExponentialLR(mg_opt, gamma=0.97),
            lr_scheduler.MultiStepLR(mg_opt, milestones=[20, 50], gamma=0.5),
            lr_scheduler.CosineAnnealingLR(mg_opt, T_max=25)]
    theirs = [torch.optim.lr_scheduler.ExponentialLR(th_opt, gamma=0.97),
              torch.optim.lr_scheduler.MultiStepLR(th_opt, milestones=[20, 50], gamma=0.5),
              torch.optim.lr_scheduler.CosineAnnealingLR(th_opt, T_max=25)]
    for _ in range(EPOCHS):
        mg_opt.step()
        th_opt.step()
        for a, b in zip(ours, theirs):
            a.step()
            b.step()
        assert [g["lr"] for g in mg_opt.param_groups] == [g["lr"] for g in th_opt.param_groups]


@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULERS if s[0] != "OneCycleLR"][:6])
def test_closed_form_epoch_argument_matches_torch(name, kwargs):
    mg_opt, th_opt = optimizers()
    ours = getattr(lr_scheduler, name)(mg_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 17, 42, 10, 99]:
            ours.step(epoch)
            theirs.step(epoch)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-15)


PLATEAU = [dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.01, cooldown=3),
           dict(threshold_mode="abs", patience=3, min_lr=[0.02, 0.001], eps=1e-3),
           dict(mode="max", threshold_mode="abs", patience=0, factor=0.7, min_lr=0.005)]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = 1.0 / (1 + np.arange(EPOCHS) / 10) + rng.normal(0, 0.02, EPOCHS)
    metrics[40:] = metrics[40] + rng.normal(0, 0.01, EPOCHS - 40)
    mg_opt, th_opt = optimizers()
    ours = lr_scheduler.ReduceLROnPlateau(mg_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(th_opt, **kwargs)
    lrs = set()
    for value in metrics:
        ours.step(float(value))
        theirs.step(float(value))
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.num_bad_epochs, ours.cooldown_counter, ours.best) == \
               (theirs.num_bad_epochs, theirs.cooldown_counter, theirs.best)
        lrs.add(tuple(ours.get_last_lr()))
    assert len(lrs) > 1   # the schedule did reduce


@pytest.mark.parametrize("name,kwargs", SCHEDULERS + [("ReduceLROnPlateau", dict(patience=1))],
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)] + ["Plateau"])
def test_state_dict_round_trip(name, kwargs):
    """Save after 40 epochs, load into a fresh scheduler, continue: same as never stopping."""
    def metric(epoch):
        return 1.0 / (1 + min(epoch, 20))

    def advance(opt, sched, epochs, start):
        out = []
        for epoch in range(start, start + epochs):
            opt.step()
            sched.step(metric(epoch)) if name == "ReduceLROnPlateau" else sched.step()
            out.append(sched.get_last_lr())
        return out

    cls = getattr(lr_scheduler, name)
    opt, _ = optimizers()
    straight = cls(opt, **kwargs)
    expected = advance(opt, straight, 90, 0)

    opt, _ = optimizers()
    first = cls(opt, **kwargs)
    advance(opt, first, 40, 0)
    saved = first.state_dict()
    opt_state = opt.state_dict()
    assert "optimizer" not in saved

    new_opt, _ = optimizers()
    resumed = cls(new_opt, **kwargs)
    new_opt.load_state_dict(opt_state)
    resumed.load_state_dict(saved)
    assert advance(new_opt, resumed, 50, 40) == expected[40:]


def test_state_dict_keys_match_torch():
    mg_opt, th_opt = optimizers()
    ours = lr_scheduler.StepLR(mg_opt, step_size=3)
    theirs = torch.optim.lr_scheduler.StepLR(th_opt, step_size=3)
    theirs_keys = set(theirs.state_dict()) - {"_get_lr_called_within_step"}
    assert set(ours.state_dict()) == theirs_keys


def test_lambda_state_dict_saves_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt, _ = optimizers()
    sched = lr_scheduler.LambdaLR(opt, [Decay(0.9), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.9}, None]
    other = lr_scheduler.LambdaLR(optimizers()[0], [Decay(0.5), lambda e: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.9


def test_argument_checks_match_torch():
    checks = [
        ("LinearLR", dict(start_factor=0)), ("LinearLR", dict(start_factor=1.5)),
        ("LinearLR", dict(end_factor=-0.1)),
        ("OneCycleLR", dict(max_lr=0.1)), ("OneCycleLR", dict(max_lr=0.1, total_steps=0)),
        ("OneCycleLR", dict(max_lr=0.1, epochs=0, steps_per_epoch=3)),
        ("OneCycleLR", dict(max_lr=0.1, epochs=2, steps_per_epoch=-3)),
        ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1)),
        ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="exp")),
        ("OneCycleLR", dict(max_lr=[0.1], total_steps=10)),
        ("LambdaLR", dict(lr_lambda=[lambda e: 1.0])),
        ("ReduceLROnPlateau", dict(factor=1.0)), ("ReduceLROnPlateau", dict(mode="up")),
        ("ReduceLROnPlateau", dict(threshold_mode="pct")),
        ("ReduceLROnPlateau", dict(min_lr=[0.1])),
    ]
    for name, kwargs in checks:
        mg_opt, th_opt = optimizers()
        with pytest.raises(ValueError) as ours:
            getattr(lr_scheduler, name)(mg_opt, **kwargs)
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
        assert str(ours.value) == str(theirs.value), name
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optimizers()[0], step_size=1, last_epoch=5)


def test_one_cycle_past_total_steps_raises():
    opt, _ = optimizers()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_scheduled_lr_reaches_the_update():
    p = Tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = Tensor(np.ones(1))
        opt.step()
        sched.step()
    assert math.isclose(float(p.array[0]), -(1 + 0.5 + 0.25))


# ----------------------------------------------------------------------------- long runs,
# schedulers of schedulers

LONG = 1000


def _both(build, adam=False):
    """(optimizer, scheduler) in minigrad and in torch, from build(lr_scheduler, optimizer)."""
    mg_opt, th_opt = optimizers(adam)
    with warnings.catch_warnings():  # torch's "lr_scheduler.step() before optimizer.step()"
        warnings.simplefilter("ignore")  # when a scheduler's construction steps inner ones
        return ((mg_opt, build(lr_scheduler, mg_opt)),
                (th_opt, build(torch.optim.lr_scheduler, th_opt)))


def _warmup_cosine(lrs, opt):
    return lrs.SequentialLR(opt, [lrs.LinearLR(opt, start_factor=0.01, total_iters=50),
                                  lrs.CosineAnnealingLR(opt, T_max=LONG - 50, eta_min=1e-5)],
                            milestones=[50])


LONG_RUNS = {
    "warm-up then cosine": _warmup_cosine,
    "constant, exponential, step": lambda lrs, opt: lrs.SequentialLR(
        opt, [lrs.ConstantLR(opt, factor=0.1, total_iters=20), lrs.ExponentialLR(opt, 0.995),
              lrs.StepLR(opt, step_size=100, gamma=0.5)], milestones=[30, 400]),
    "warm-up then restarts": lambda lrs, opt: lrs.SequentialLR(
        opt, [lrs.LinearLR(opt, start_factor=0.1, total_iters=10),
              lrs.CosineAnnealingWarmRestarts(opt, T_0=20, T_mult=2, eta_min=1e-4)],
        milestones=[10]),
    "polynomial after constant": lambda lrs, opt: lrs.SequentialLR(
        opt, [lrs.ConstantLR(opt, factor=0.5, total_iters=5),
              lrs.PolynomialLR(opt, total_iters=800, power=1.5)], milestones=[100]),
    "chained constant and exponential": lambda lrs, opt: lrs.ChainedScheduler(
        [lrs.ConstantLR(opt, factor=0.1, total_iters=40), lrs.ExponentialLR(opt, gamma=0.999)]),
    "chained cosine and polynomial": lambda lrs, opt: lrs.ChainedScheduler(
        [lrs.CosineAnnealingLR(opt, T_max=300), lrs.PolynomialLR(opt, total_iters=900)],
        optimizer=opt),
    "warm restarts": lambda lrs, opt: lrs.CosineAnnealingWarmRestarts(opt, T_0=50, eta_min=1e-6),
    "warm restarts, doubling": lambda lrs, opt: lrs.CosineAnnealingWarmRestarts(opt, T_0=10,
                                                                                 T_mult=2),
    "polynomial": lambda lrs, opt: lrs.PolynomialLR(opt, total_iters=700, power=3.0),
    "cyclic": lambda lrs, opt: lrs.CyclicLR(opt, base_lr=1e-3, max_lr=0.1, step_size_up=37,
                                            step_size_down=61),
    "cyclic triangular2": lambda lrs, opt: lrs.CyclicLR(opt, 1e-3, 0.1, step_size_up=50,
                                                        mode="triangular2"),
    "cyclic exp_range": lambda lrs, opt: lrs.CyclicLR(opt, [1e-3, 1e-4], [0.1, 0.05], 40,
                                                      mode="exp_range", gamma=0.999),
    "sequential of chained": lambda lrs, opt: lrs.SequentialLR(
        opt, [lrs.ChainedScheduler([lrs.ConstantLR(opt, factor=0.5, total_iters=40),
                                    lrs.ExponentialLR(opt, 0.995)]),
              lrs.CosineAnnealingLR(opt, T_max=200)],
        milestones=[100]),
}


def test_sequential_cannot_restart_a_chained_scheduler_as_torch():
    """At a milestone SequentialLR restarts the next scheduler through its closed form or
    get_lr: a ChainedScheduler has neither, in torch as here."""
    (mg_opt, ours), (th_opt, theirs) = _both(lambda lrs, opt: lrs.SequentialLR(
        opt, [lrs.ConstantLR(opt), lrs.ChainedScheduler([lrs.ExponentialLR(opt, 0.9)])], [3]))
    for opt, sched in ((mg_opt, ours), (th_opt, theirs)):
        for _ in range(2):
            opt.step()
            sched.step()
        opt.step()
        with pytest.raises(NotImplementedError):
            sched.step()


@pytest.mark.parametrize("adam", [False, True])
@pytest.mark.parametrize("name", list(LONG_RUNS))
def test_long_runs_are_bitwise_torchs(name, adam):
    """1000 steps: every float64 lr (and the momentum or beta1 CyclicLR cycles) equals
    torch's exactly, step after step."""
    (mg_opt, ours), (th_opt, theirs) = _both(LONG_RUNS[name], adam)
    assert ours.get_last_lr() == theirs.get_last_lr()
    lrs = set()
    for _ in range(LONG):
        mg_opt.step()
        th_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in mg_opt.param_groups] == [g["lr"] for g in th_opt.param_groups]
        assert momenta(mg_opt) == momenta(th_opt)
        lrs.add(ours.get_last_lr()[0])
    assert len(lrs) > 20   # the schedule moved


def test_warmup_cosine_reaches_its_targets():
    """The warm-up climbs from 1% of the lr to the lr, the cosine then descends to eta_min."""
    (mg_opt, sched), _ = _both(_warmup_cosine)
    first = sched.get_last_lr()[0]
    seen = [first]
    for _ in range(LONG):
        mg_opt.step()
        sched.step()
        seen.append(sched.get_last_lr()[0])
    assert math.isclose(first, 0.1 * 0.01)
    assert max(seen) == pytest.approx(0.1) and seen.index(max(seen)) == 50
    assert seen[-1] == pytest.approx(1e-5, rel=1e-3)
    assert all(a >= b for a, b in zip(seen[50:], seen[51:]))


@pytest.mark.parametrize("name", ["warm-up then cosine", "constant, exponential, step",
                                  "chained constant and exponential", "sequential of chained",
                                  "cyclic exp_range"])
def test_schedulers_of_schedulers_state_dict_round_trip(name):
    """state_dict after 300 steps (the inner schedulers' states included), loaded into fresh
    schedulers: the next 300 lrs are the uninterrupted run's."""
    build = LONG_RUNS[name]

    def advance(opt, sched, steps):
        out = []
        for _ in range(steps):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out

    (opt, straight), _ = _both(build)
    expected = advance(opt, straight, 600)
    (opt, first), _ = _both(build)
    advance(opt, first, 300)
    saved, opt_state = first.state_dict(), opt.state_dict()
    assert "optimizer" not in saved
    (new_opt, resumed), _ = _both(build)
    new_opt.load_state_dict(opt_state)
    resumed.load_state_dict(saved)
    assert advance(new_opt, resumed, 300) == expected[300:]
    (_, _), (_, theirs) = _both(build)
    assert set(saved) == set(theirs.state_dict()) - {"_get_lr_called_within_step"}


def test_closed_forms_of_the_new_schedulers_match_torch():
    """step(epoch): ConstantLR's and PolynomialLR's closed forms; CosineAnnealingWarmRestarts
    at fractional epochs (a step per batch) and jumps back and forth across restarts."""
    builds = [lambda lrs, o: lrs.ConstantLR(o, factor=0.3, total_iters=12),
              lambda lrs, o: lrs.PolynomialLR(o, total_iters=40, power=2.0),
              lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=0.001),
              lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=3)]
    epochs = [3, 17, 42, 10, 99, 0, 12, 11.5, 2.25, 130.75, 40, 39.999]
    for build in builds:
        (_, ours), (_, theirs) = _both(build)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in epochs:
                ours.step(epoch)
                theirs.step(epoch)
                assert ours.get_last_lr() == theirs.get_last_lr(), epoch
                assert ours.last_epoch == theirs.last_epoch
    for T_mult in (1, 2):   # the documented per-batch use, 5 epochs of 7 batches
        (_, ours), (_, theirs) = _both(
            lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=T_mult))
        for epoch in range(5):
            for batch in range(7):
                ours.step(epoch + batch / 7)
                theirs.step(epoch + batch / 7)
                assert ours.get_last_lr() == theirs.get_last_lr()
                assert (ours.T_cur, ours.T_i) == (theirs.T_cur, theirs.T_i)


def test_cyclic_lr_state_dict_keeps_a_callable_scale_function():
    class Halving:
        def __init__(self, base):
            self.base = base

        def __call__(self, cycle):
            return self.base ** cycle

    opt, _ = optimizers()
    sched = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=Halving(0.5))
    state = sched.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.5} and "_scale_fn_ref" not in state
    other = lr_scheduler.CyclicLR(optimizers()[0], 0.01, 0.1, 3, scale_fn=Halving(0.9))
    other.load_state_dict(state)
    assert other._scale_fn_custom.base == 0.5
    plain = lr_scheduler.CyclicLR(optimizers()[0], 0.01, 0.1, 3, mode="exp_range", gamma=0.9)
    plain_state = plain.state_dict()
    assert plain_state["_scale_fn_custom"] is None and "_scale_fn_ref" not in plain_state
    restored = lr_scheduler.CyclicLR(optimizers()[0], 0.01, 0.1, 3)
    restored.load_state_dict(plain_state)
    assert restored.mode == "exp_range" and restored.scale_fn(2) == pytest.approx(0.81)


def test_new_scheduler_argument_checks_match_torch():
    def other_optimizer(lrs):
        module = torch if lrs is torch.optim.lr_scheduler else None
        if module is None:
            return SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
        return torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)

    checks = [
        (lambda lrs, o: lrs.ConstantLR(o, factor=1.5), ValueError),
        (lambda lrs, o: lrs.ConstantLR(o, factor=-0.1), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=0), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=2.5), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=5, eta_min="0"), ValueError),
        (lambda lrs, o: lrs.CosineAnnealingWarmRestarts(o, T_0=5).step(-1), ValueError),
        (lambda lrs, o: lrs.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), ValueError),
        (lambda lrs, o: lrs.CyclicLR(o, [0.01], 0.1), ValueError),
        (lambda lrs, o: lrs.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError),
        (lambda lrs, o: lrs.SequentialLR(o, [], milestones=[]), ValueError),
        (lambda lrs, o: lrs.SequentialLR(o, [lrs.ConstantLR(o), lrs.ConstantLR(o)],
                                         milestones=[]), ValueError),
        (lambda lrs, o: lrs.SequentialLR(o, [lrs.ConstantLR(o), lrs.ReduceLROnPlateau(o)],
                                         milestones=[3]), ValueError),
        (lambda lrs, o: lrs.SequentialLR(o, [lrs.ConstantLR(o), object()], milestones=[3]),
         TypeError),
        (lambda lrs, o: lrs.SequentialLR(o, [lrs.ConstantLR(other_optimizer(lrs))],
                                         milestones=[]), ValueError),
        (lambda lrs, o: lrs.ChainedScheduler([]), ValueError),
        (lambda lrs, o: lrs.ChainedScheduler([lrs.ConstantLR(o), lrs.ReduceLROnPlateau(o)]),
         ValueError),
        (lambda lrs, o: lrs.ChainedScheduler([lrs.ConstantLR(o)], other_optimizer(lrs)),
         ValueError),
    ]
    for build, error in checks:
        mg_opt, th_opt = optimizers()
        with pytest.raises(error) as ours:
            build(lr_scheduler, mg_opt)
        with pytest.raises(error) as theirs:
            build(torch.optim.lr_scheduler, th_opt)
        if "which is different from" in str(theirs.value):   # names the optimizers' reprs
            assert str(ours.value).split(" has ")[0] == str(theirs.value).split(" has ")[0]
        else:
            assert str(ours.value) == str(theirs.value)
    adadelta = lambda module, p: module.optim.Adadelta([p])  # noqa: E731  no momentum, no betas
    import minigrad
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.CyclicLR(adadelta(minigrad, Tensor(np.ones(1), requires_grad=True)),
                              0.01, 0.1)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        torch.optim.lr_scheduler.CyclicLR(adadelta(torch, torch.ones(1, requires_grad=True)),
                                          0.01, 0.1)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_schedulers_drive_the_new_optimizers(name):
    """OneCycleLR and CyclicLR cycle beta1 of the Adam family as torch does; the lr reaches
    the update."""
    import minigrad
    cycle = name != "Adadelta"
    results = []
    for module in (minigrad, torch):
        p = module.tensor([1.0, -2.0, 0.5], dtype=module.float64, requires_grad=True)
        opt = getattr(module.optim, name)([p], lr=0.01)
        sched = module.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=60,
                                                     cycle_momentum=cycle)
        trace = []
        for _ in range(59):
            opt.zero_grad()
            (p * p * p).sum().backward()
            opt.step()
            sched.step()
            trace.append((sched.get_last_lr(), momenta(opt) if cycle else None))
        results.append((p.detach().numpy().copy(), trace))
    assert results[0][1] == results[1][1]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
