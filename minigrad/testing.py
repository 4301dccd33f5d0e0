"""Check minigrad against PyTorch: same inputs, forward values and every input's gradient.

    report = compare_to_torch(lambda x, w: x @ w, lambda x, w: x @ w, [x_np, w_np])
    assert_close_to_torch(mg_fn, torch_fn, inputs)          # raises AssertionError on mismatch

Inputs are numpy arrays (or Python scalars, passed through unchanged). Each floating array
becomes a leaf tensor that requires a gradient in both frameworks (``requires_grad`` may say
otherwise per input). Both functions get the same upstream gradient, a fixed random array per
output, so every gradient is compared through one backward call. torch is imported only here.
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
                     grad=True, seed=0) -> Comparison:
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
        _measure("forward" if len(mg_out) == 1 else f"forward[{i}]", mine, theirs, rtol, atol,
                 report)
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


def assert_close_to_torch(mg_fn, torch_fn, inputs, **kwargs) -> Comparison:
    """``compare_to_torch`` that raises AssertionError naming every mismatch."""
    report = compare_to_torch(mg_fn, torch_fn, inputs, **kwargs)
    if not report.passed:
        lines = list(report.messages)
        lines += [f"{name}: max abs err {abs_err:.3g}, max rel err {rel_err:.3g}"
                  for name, (abs_err, rel_err, ok) in report.errors.items() if not ok]
        raise AssertionError("minigrad differs from torch:\n  " + "\n  ".join(lines))
    return report
