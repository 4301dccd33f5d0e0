"""The fuzzer's worker process: runs each call in minigrad and in torch and classifies it.

The parent (run.py) starts this file as a subprocess and sends it calls over a pipe; a call
that crashes the process (a segfault in a kernel) kills only the worker, whose death the
parent reports and survives. faulthandler writes the crashing call's Python stack to stderr.

A call's outcome, in ``classify``'s order:

- ``oob``: minigrad raised IndexError from inside a kernel (a .pyx frame raised it): an
  out-of-bounds access caught by a bounds-checked build (MINIGRAD_DEBUG=1).
- ``raised``: both raised, the same built-in exception type (messages are not compared).
- ``differs``: one raised and the other did not, or other exception types, or results that
  differ (structure, shape, dtype, requires_grad, values beyond the tolerance), forward or
  in the gradients of the leaves.
- ``nan``: a float result (or gradient) is NaN or infinite in minigrad where torch's is
  finite: a silent NaN, never intended.
- ``same``: equal results (and gradients) within the tolerance.
- ``harness``: the comparison itself failed (a bug of the fuzzer).
"""
import faulthandler
import math
import os
import pickle
import struct
import sys
import traceback
import warnings

import numpy as np

faulthandler.enable()

# (rtol, atol) by dtype for results compared element by element
TOLERANCE = {"float32": (2e-4, 1e-5), "float64": (1e-9, 1e-12)}


def builtin_type(error: BaseException) -> str:
    """The first built-in class in the error's MRO: torch's own classes (OutOfMemoryError,
    LinAlgError) compare as the built-in one they derive from."""
    for cls in type(error).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(error).__name__


def raised_in_a_kernel(error: BaseException) -> bool:
    """Whether an IndexError came from a Cython kernel's bounds check (its innermost frame is
    in a .pyx file), not from a Python front door."""
    if not isinstance(error, IndexError):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return ((bool(frames) and frames[-1].filename.endswith(".pyx"))
            or "Out of bounds on buffer access" in str(error))


# ----------------------------------------------------------------------------- results

def flatten(value, path="out"):
    """A result as a list of (path, leaf) pairs: tensors, numbers, strings, None."""
    if hasattr(value, "_fields"):            # namedtuples (max(dim), sort): their fields
        value = tuple(value)
    if isinstance(value, (tuple, list)) and not _is_size(value):
        if not value:
            return [(path, type(value).__name__ + "()")]
        items = []
        for i, v in enumerate(value):
            items += flatten(v, f"{path}[{i}]")
        return items
    if isinstance(value, dict):
        items = []
        for k in sorted(value, key=str):
            items += flatten(value[k], f"{path}[{k!r}]")
        return items or [(path, "{}")]
    if _is_size(value):
        return [(path, ("size", tuple(int(n) for n in value)))]
    return [(path, value)]


def _is_size(value) -> bool:
    return type(value).__name__ == "Size"


def tensor_parts(value):
    """(numpy array, dtype name, requires_grad) of a minigrad or torch tensor, else None."""
    module = type(value).__module__
    if module.startswith("minigrad"):
        if hasattr(value, "array"):
            return value.array, value.array.dtype.name, bool(value.requires_grad)
    elif module.startswith("torch") and hasattr(value, "detach"):
        array = value.detach().cpu()
        if array.dtype.is_complex or str(array.dtype) in ("torch.bfloat16",):
            array = array.float()
        return array.numpy(), str(value.dtype).replace("torch.", ""), bool(value.requires_grad)
    return None


class Mismatch(Exception):
    """A difference between minigrad's and torch's results: ``kind`` names it."""

    def __init__(self, kind, detail, silent_nan=False):
        super().__init__(detail)
        self.kind, self.detail, self.silent_nan = kind, detail, silent_nan


def compare_arrays(path, mine, theirs, dtype, scale):
    if mine.shape != theirs.shape:
        raise Mismatch("shape", f"{path}: shape {mine.shape} != torch's {theirs.shape}")
    if mine.size > 2 ** 22:  # (an expanded view of billions of elements): a sample of them
        where = np.unravel_index(np.random.default_rng(0).integers(0, mine.size, 4096),
                                 mine.shape)
        mine, theirs = mine[where], theirs[where]
    if dtype not in TOLERANCE or mine.size == 0:
        if not np.array_equal(mine, theirs, equal_nan=dtype in TOLERANCE):
            raise Mismatch("values", f"{path}: {_sample(mine, theirs)}")
        return
    mine64, theirs64 = mine.astype(np.float64), theirs.astype(np.float64)
    finite = np.isfinite(theirs64)
    silent = finite & ~np.isfinite(mine64)
    if silent.any():
        raise Mismatch("nan", f"{path}: {int(silent.sum())} NaN/Inf where torch is finite: "
                       f"{_sample(mine, theirs, silent)}", silent_nan=True)
    same = (mine64 == theirs64) | (np.isnan(mine64) & np.isnan(theirs64))
    rtol, atol = TOLERANCE[dtype]
    with np.errstate(invalid="ignore", over="ignore"):
        close = same | (np.abs(mine64 - theirs64) <= atol + rtol * scale + rtol * np.abs(theirs64))
    if not close.all():
        raise Mismatch("values", f"{path}: {_sample(mine, theirs, ~close)}")


def _sample(mine, theirs, where=None):
    if where is None or mine.shape != theirs.shape:
        return f"{np.asarray(mine).ravel()[:4]} vs torch's {np.asarray(theirs).ravel()[:4]}"
    index = np.argwhere(where)[0]
    return f"at {tuple(int(i) for i in index)}: {mine[tuple(index)]!r} vs torch's " \
           f"{theirs[tuple(index)]!r}"


def compare_results(mine, theirs, scale, check_values=True, precision=None):
    """Raise Mismatch unless the two results agree (structure, then each leaf); float values
    within the tolerance of their dtype, or of ``precision`` if given."""
    a, b = flatten(mine), flatten(theirs)
    if [p for p, _ in a] != [p for p, _ in b]:
        raise Mismatch("structure", f"{[p for p, _ in a][:6]} vs torch's "
                       f"{[p for p, _ in b][:6]}")
    for (path, x), (_, y) in zip(a, b):
        tx, ty = tensor_parts(x), tensor_parts(y)
        if (tx is None) != (ty is None):
            raise Mismatch("type", f"{path}: {type(x).__name__} vs torch's {type(y).__name__}")
        if tx is None:
            _compare_plain(path, x, y)
            continue
        (xa, xd, xr), (ya, yd, yr) = tx, ty
        if xd != yd:
            raise Mismatch("dtype", f"{path}: dtype {xd} != torch's {yd}")
        if xr != yr:
            raise Mismatch("requires_grad", f"{path}: requires_grad {xr} != torch's {yr}")
        if xa.shape != ya.shape:
            raise Mismatch("shape", f"{path}: shape {xa.shape} != torch's {ya.shape}")
        if check_values:
            tolerance = precision if precision and xd in TOLERANCE else xd
            compare_arrays(path, np.asarray(xa), np.asarray(ya), tolerance, scale)


def _compare_plain(path, x, y):
    if isinstance(x, bool) or isinstance(y, bool) or x is None or y is None:
        if x != y or type(x) is not type(y):
            raise Mismatch("values", f"{path}: {x!r} vs torch's {y!r}")
    elif isinstance(x, (int, float)) and isinstance(y, (int, float)):
        if isinstance(x, int) != isinstance(y, int):
            raise Mismatch("type", f"{path}: {x!r} vs torch's {y!r}")
        if math.isfinite(y) and not math.isfinite(x):
            raise Mismatch("nan", f"{path}: {x!r} where torch gives {y!r}", silent_nan=True)
        if not (x == y or (x != x and y != y) or abs(x - y) <= 1e-6 * max(1.0, abs(y))):
            raise Mismatch("values", f"{path}: {x!r} vs torch's {y!r}")
    elif isinstance(x, tuple) and isinstance(y, tuple):
        if x != y:
            raise Mismatch("values", f"{path}: {x!r} vs torch's {y!r}")
    elif type(x) is not type(y) and not (isinstance(x, str) and isinstance(y, str)):
        raise Mismatch("type", f"{path}: {type(x).__name__} vs torch's {type(y).__name__}")
    elif isinstance(x, str) and x != y:
        raise Mismatch("values", f"{path}: {x!r} vs torch's {y!r}")


# ----------------------------------------------------------------------------- one call

def _reset(minigrad, torch):
    """The same starting state before every call (a case may change global settings)."""
    minigrad.set_grad_enabled(True)
    torch.set_grad_enabled(True)
    minigrad.manual_seed(0)
    torch.manual_seed(0)


def _attempt(lib, fn, args):
    """(result, error, leaves) of fn(lib, *materialized args)."""
    from specs import materialize
    leaves = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call_args = materialize(lib, args, leaves)
            return fn(lib, *call_args), None, leaves
    except Exception as error:  # noqa: BLE001 - every exception is an outcome
        return None, error, leaves


def _float_outputs_requiring_grad(result):
    outs = []
    for _, leaf in flatten(result):
        parts = tensor_parts(leaf)
        if parts is not None and parts[2] and parts[1] in TOLERANCE:
            outs.append(leaf)
    return outs


def _backward(lib, result, leaves):
    """Gradients of sum(out * u) (u fixed per shape) for the leaves: a list, None where a
    leaf got none; or the exception backward raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            total = None
            for out in _float_outputs_requiring_grad(result):
                shape = tuple(out.shape)
                upstream = np.random.default_rng(len(shape) + sum(shape)).standard_normal(shape)
                term = (out * lib.tensor(upstream.astype(tensor_parts(out)[1]))).sum()
                total = term if total is None else total + term
            if total is None:
                return None, None
            total.backward()
            return [leaf.grad for leaf in leaves], None
    except Exception as error:  # noqa: BLE001
        return None, error


def _has_float32(args) -> bool:
    from specs import TensorSpec
    stack = [args]
    while stack:
        item = stack.pop()
        if isinstance(item, TensorSpec):
            if item.dtype == "float32":
                return True
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _scale(args, products):
    """The magnitude results are compared against: a reduction over n terms of inputs up to
    m in size may round by about n * m (m^2 for products) times the precision."""
    from specs import TensorSpec, build
    largest, count = 1.0, 0
    stack = [args]
    while stack:
        item = stack.pop()
        if isinstance(item, TensorSpec):
            values = build(item)
            if values.dtype.kind in "fiu" and values.size:
                finite = values[np.isfinite(values)].astype(np.float64)
                if finite.size:
                    largest = max(largest, float(np.abs(finite).max()))
            count += values.size
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    largest = min(largest, 1e150)  # past that, products overflow in both frameworks
    return (largest ** 2 if products else largest) * max(count, 1)


def _mark(framework: str) -> None:
    """Which framework runs now, for the parent to name the one that crashed the process."""
    print(f"--- running {framework}", file=sys.__stderr__, flush=True)


def run_call(case, args) -> dict:
    """Run one call of ``case`` (a cases.Case) in both frameworks; return its outcome."""
    import minigrad
    import torch
    _reset(minigrad, torch)
    _mark("minigrad")
    mine, mine_error, mine_leaves = _attempt(minigrad, case.call, args)
    _reset(minigrad, torch)
    _mark("torch")  # a crash after this line is torch's (run.py reads the last mark)
    theirs, theirs_error, theirs_leaves = _attempt(torch, case.call, args)
    outcome = _errors_outcome(mine_error, theirs_error, "forward")
    if outcome is not None:
        return outcome
    scale = _scale(args, case.products) if case.reduces else 0.0
    # results computed from a float32 input are float32-precise, whatever their dtype
    precision = "float32" if _has_float32(args) else None
    try:
        compare_results(mine, theirs, scale, check_values=case.compare == "values",
                        precision=precision)
    except Mismatch as m:
        return dict(outcome="nan" if m.silent_nan else "differs", kind=m.kind,
                    phase="forward", detail=m.detail)
    if (not case.grad or case.compare != "values" or not mine_leaves
            or len(mine_leaves) != len(theirs_leaves)):
        return dict(outcome="same", kind="", phase="forward", detail="")
    _mark("minigrad")
    mine_grads, mine_error = _backward(minigrad, mine, mine_leaves)
    _mark("torch")
    theirs_grads, theirs_error = _backward(torch, theirs, theirs_leaves)
    outcome = _errors_outcome(mine_error, theirs_error, "backward")
    if outcome is not None:
        return outcome
    # gradients that flowed through a float32 result are float32-precise, whatever the leaf
    dtypes = {tensor_parts(t)[1] for t in _float_outputs_requiring_grad(mine) + mine_leaves}
    try:
        compare_results(mine_grads, theirs_grads, scale,
                        precision="float32" if "float32" in dtypes or precision else None)
    except Mismatch as m:
        return dict(outcome="nan" if m.silent_nan else "differs", kind=m.kind,
                    phase="backward", detail=m.detail)
    return dict(outcome="same", kind="", phase="backward", detail="")


def _errors_outcome(mine, theirs, phase):
    """The outcome when either framework raised, else None."""
    if mine is None and theirs is None:
        return None
    if mine is not None and raised_in_a_kernel(mine):
        frames = traceback.format_tb(mine.__traceback__)[-2:]
        return dict(outcome="oob", kind="IndexError", phase=phase,
                    detail=f"{mine}\n{''.join(frames)}")
    mine_text = "" if mine is None else f"{builtin_type(mine)}: {str(mine)[:300]}"
    theirs_text = "" if theirs is None else f"{builtin_type(theirs)}: {str(theirs)[:300]}"
    if mine is not None and theirs is not None:
        if builtin_type(mine) == builtin_type(theirs):
            return dict(outcome="raised", kind=builtin_type(mine), phase=phase,
                        detail=f"{mine_text} | torch: {theirs_text}")
        return dict(outcome="differs", kind="exception type", phase=phase,
                    detail=f"{mine_text} | torch: {theirs_text}",
                    mine_error=builtin_type(mine), theirs_error=builtin_type(theirs))
    if mine is not None:
        return dict(outcome="differs", kind="refused", phase=phase,
                    detail=f"minigrad {mine_text} | torch accepts", mine_error=builtin_type(mine))
    return dict(outcome="differs", kind="accepted", phase=phase,
                detail=f"minigrad accepts | torch {theirs_text}",
                theirs_error=builtin_type(theirs))


# ----------------------------------------------------------------------------- the process

def _read(stream):
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(stream.read(size))


def _write(stream, value):
    data = pickle.dumps(value)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    limit = os.environ.get("MINIGRAD_FUZZ_MEMORY")
    if limit:  # an absurd allocation fails instead of taking the machine's memory
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    import minigrad
    import minigrad._kernels.build_info as build_info
    import torch
    from cases import CASES
    torch.set_num_threads(1)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a print inside a call must not corrupt the pipe
    _write(sink, dict(minigrad=os.path.dirname(minigrad.__file__),
                      bounds_checked=build_info.bounds_checked(), torch=torch.__version__,
                      threads=minigrad.get_num_threads()))
    while True:
        message = _read(source)
        if message is None:
            return
        name, args = message
        print(f"--- call {name} {args!r}", file=sys.stderr, flush=True)
        try:
            result = run_call(CASES[name], args)
        except Exception:  # noqa: BLE001 - a bug of the fuzzer, reported as such
            result = dict(outcome="harness", kind="", phase="", detail=traceback.format_exc())
        _write(sink, result)


if __name__ == "__main__":
    main()
