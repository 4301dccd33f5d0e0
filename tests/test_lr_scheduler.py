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
