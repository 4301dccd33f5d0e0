"""Check minigrad against PyTorch: same inputs, forward values and every input's gradient.

    report = compare_to_torch(lambda x, w: x @ w, lambda x, w: x @ w, [x_np, w_np])
    assert_close_to_torch(mg_fn, torch_fn, inputs)          # raises AssertionError on mismatch

Inputs are numpy arrays (or Python scalars, passed through unchanged). Each floating array
becomes a leaf tensor that requires a gradient in both frameworks (``requires_grad`` may say
otherwise per input). Both functions get the same upstream gradient, a fixed random array per
output, so every gradient is compared through one backward call; an output that requires a
gradient in one framework and not in the other is a mismatch (a detached result cannot pass
by having no gradient to compare). torch is imported only here.

With ``second_order=True`` the gradients are taken with ``create_graph=True`` and compared,
then Σ_i <grad_i, v_i> (fixed random v_i) is differentiated again and those second-order
gradients are compared too ("grad2[i]"): the double backward of every input.
"""
from dataclasses import dataclass, field

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["TOLERANCES", "Comparison", "compare_to_torch", "assert_close_to_torch"]

# (rtol, atol) by dtype: float64 leaves room only for summation order, float32 for rounding.
TOLERANCES = {
    np.dtype("float64"): (1e-7, 1e-9),
    np.dtype("float32"): (1e-4, 1e-5),
}


@dataclass
class Comparison:
    """Largest errors of one minigrad-versus-torch comparison.

    ``errors`` maps a name ("forward", "forward[1]", "grad[0]", ...) to (largest absolute
    error, largest relative error, passed).
    """

    errors: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.messages and all(ok for _, _, ok in self.errors.values())


def _torch():
    try:
        import torch
    except ImportError as error:  # pragma: no cover - torch is a test dependency
        raise ImportError("minigrad.testing compares with PyTorch, which is not installed: "
                          "pip install 'minigrad[test]'") from error
    return torch


def _as_tuple(x):
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return x
    if hasattr(x, "_fields"):  # a namedtuple such as max(dim)'s (values, indices)
        return tuple(x)
    return x if isinstance(x, (tuple, list)) else (x,)


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _measure(name, mine, theirs, rtol, atol, report: Comparison):
    mine, theirs = _to_numpy(mine), _to_numpy(theirs)
    if mine.shape != theirs.shape:
        report.messages.append(f"{name}: shape {mine.shape} != torch's {theirs.shape}")
        return
    if mine.dtype != theirs.dtype:
        report.messages.append(f"{name}: dtype {mine.dtype} != torch's {theirs.dtype}")
        return
    if mine.dtype.kind not in "fc":
        equal = np.array_equal(mine, theirs)
        report.errors[name] = (0.0 if equal else float("inf"), 0.0 if equal else float("inf"),
                               equal)
        return
    if mine.size == 0:
        report.errors[name] = (0.0, 0.0, True)
        return
    mine = np.atleast_1d(mine).astype(np.float64)  # 0-d math would give scalars
    theirs = np.atleast_1d(theirs).astype(np.float64)
    # Equal values (infinities of one sign included) and NaN against NaN match exactly.
    same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(mine - theirs))
    scale = np.where(same, 0.0, np.abs(theirs))
    ok = bool(np.all(same | (diff <= atol + rtol * scale)))
    rel = diff / np.maximum(scale, np.finfo(np.float64).tiny)
    report.errors[name] = (float(np.nanmax(diff)), float(np.nanmax(np.where(scale > atol, rel, 0))),
                           ok)


def compare_to_torch(mg_fn, torch_fn, inputs, *, requires_grad=None, rtol=None, atol=None,
                     grad=True, seed=0, second_order=False) -> Comparison:
    """Run both functions on the same inputs and measure forward and gradient errors."""
    torch = _torch()
    inputs = list(inputs)
    if requires_grad is None:
        requires_grad = [isinstance(x, np.ndarray) and x.dtype.kind == "f" for x in inputs]
    mg_inputs, torch_inputs = [], []
    for value, needs in zip(inputs, requires_grad):
        if isinstance(value, np.ndarray):
            mg_value = Tensor(value.copy(), requires_grad=bool(needs and grad))
            torch_value = torch.from_numpy(value.copy()).requires_grad_(bool(needs and grad))
        else:
            mg_value = torch_value = value
        mg_inputs.append(mg_value)
        torch_inputs.append(torch_value)

    float_dtypes = [x.dtype for x in inputs if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    dtype = np.dtype("float32") if np.dtype("float32") in float_dtypes else np.dtype("float64")
    default_rtol, default_atol = TOLERANCES[dtype]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol

    report = Comparison()
    mg_out = _as_tuple(mg_fn(*mg_inputs))
    torch_out = _as_tuple(torch_fn(*torch_inputs))
    if len(mg_out) != len(torch_out):
        report.messages.append(f"{len(mg_out)} outputs != torch's {len(torch_out)}")
        return report
    for i, (mine, theirs) in enumerate(zip(mg_out, torch_out)):
        name = "forward" if len(mg_out) == 1 else f"forward[{i}]"
        _measure(name, mine, theirs, rtol, atol, report)
        # An output that carries no gradient in one framework only would make every gradient
        # comparison below pass by skipping it: that difference is a failure of its own.
        mine_records = isinstance(mine, Tensor) and mine.requires_grad
        theirs_records = bool(getattr(theirs, "requires_grad", False))
        if mine_records != theirs_records:
            report.messages.append(f"{name}: requires_grad is {mine_records}, torch's is "
                                   f"{theirs_records}")
    if not grad or not report.passed:
        return report

    rng = np.random.default_rng(seed)
    mg_loss, torch_loss = None, None
    for mine, theirs in zip(mg_out, torch_out):
        if not (isinstance(mine, Tensor) and mine.requires_grad):
            continue
        upstream = rng.standard_normal(mine.shape).astype(mine.dtype)
        mg_term = (mine * Tensor(upstream)).sum()
        torch_term = (theirs * torch.from_numpy(upstream)).sum()
        mg_loss = mg_term if mg_loss is None else mg_loss + mg_term
        torch_loss = torch_term if torch_loss is None else torch_loss + torch_term
    if mg_loss is None:
        return report
    if second_order:
        _compare_second_order(mg_loss, torch_loss, mg_inputs, torch_inputs, rng, rtol, atol,
                              report)
        return report
    mg_loss.backward()
    torch_loss.backward()
    for i, (mine, theirs) in enumerate(zip(mg_inputs, torch_inputs)):
        if not isinstance(mine, Tensor) or not mine.requires_grad:
            continue
        if mine.grad is None or theirs.grad is None:
            if (mine.grad is None) != (theirs.grad is None):
                mine_has = "has none" if mine.grad is None else "has one"
                theirs_has = "has none" if theirs.grad is None else "has one"
                report.messages.append(f"grad[{i}]: minigrad {mine_has}, torch {theirs_has}")
            continue
        _measure(f"grad[{i}]", mine.grad, theirs.grad, rtol, atol, report)
    return report


def _compare_second_order(mg_loss, torch_loss, mg_inputs, torch_inputs, rng, rtol, atol,
                          report):
    """First gradients with create_graph (compared), then the gradients of Σ <grad_i, v_i>."""
    from minigrad.autograd import grad as mg_grad
    torch = _torch()
    pairs = [(i, m, t) for i, (m, t) in enumerate(zip(mg_inputs, torch_inputs))
             if isinstance(m, Tensor) and m.requires_grad]
    mine = mg_grad(mg_loss, [m for _, m, _ in pairs], create_graph=True, allow_unused=True)
    theirs = torch.autograd.grad(torch_loss, [t for _, _, t in pairs], create_graph=True,
                                 allow_unused=True)
    mg_total = torch_total = None
    for (i, m, _), g_mine, g_theirs in zip(pairs, mine, theirs):
        if (g_mine is None) != (g_theirs is None):
            report.messages.append(f"grad[{i}]: minigrad and torch disagree on its existence")
            continue
        if g_mine is None:
            continue
        _measure(f"grad[{i}]", g_mine, g_theirs, rtol, atol, report)
        # A gradient that is recorded in one framework only must then have zero second
        # derivatives: the comparison below shows it.
        v = rng.standard_normal(m.shape).astype(m.dtype)
        if g_mine.requires_grad:
            mg_term = (g_mine * Tensor(v)).sum()
            mg_total = mg_term if mg_total is None else mg_total + mg_term
        if g_theirs.requires_grad:
            torch_term = (g_theirs * torch.from_numpy(v)).sum()
            torch_total = torch_term if torch_total is None else torch_total + torch_term
    if (mg_total is None and torch_total is None) or not report.passed:
        return
    count = len(pairs)
    second_mine = (None,) * count if mg_total is None else mg_grad(
        mg_total, [m for _, m, _ in pairs], allow_unused=True)
    second_theirs = (None,) * count if torch_total is None else torch.autograd.grad(
        torch_total, [t for _, _, t in pairs], allow_unused=True)
    for (i, m, _), a, b in zip(pairs, second_mine, second_theirs):
        if a is None and b is None:
            continue
        a = np.zeros(m.shape, m.dtype) if a is None else a
        b = np.zeros(m.shape, m.dtype) if b is None else b
        _measure(f"grad2[{i}]", a, b, rtol, atol, report)


def assert_close_to_torch(mg_fn, torch_fn, inputs, **kwargs) -> Comparison:
    """``compare_to_torch`` that raises AssertionError naming every mismatch."""
    report = compare_to_torch(mg_fn, torch_fn, inputs, **kwargs)
    if not report.passed:
        lines = list(report.messages)
        lines += [f"{name}: max abs err {abs_err:.3g}, max rel err {rel_err:.3g}"
                  for name, (abs_err, rel_err, ok) in report.errors.items() if not ok]
        raise AssertionError("minigrad differs from torch:\n  " + "\n  ".join(lines))
    return report
