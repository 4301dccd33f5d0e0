"""Where minigrad differs from torch 2.13 on purpose: each difference the fuzzer may meet,
with the reason it is intended. A 'differs' outcome that no entry explains fails the run;
tests/test_fuzz.py replays every entry's example, so an entry that no longer holds (minigrad
now agrees, or differs otherwise) fails too.

A difference is matched on the case and on the call (its arguments and what each framework
did), never on the case alone, so one entry cannot hide another kind of difference.
"""
from dataclasses import dataclass
from typing import Callable

import math

import numpy as np

from cases import CASES, Unbuilt
from specs import T, TensorSpec


@dataclass
class Difference:
    """cases: the case names or families it concerns ("*": any); applies(args, outcome):
    whether a call's difference is this one; example: (case name, args) that shows it.
    infinite: it may explain an infinity of minigrad's where torch's result is finite (a
    'nan' outcome) -- only where minigrad's infinity is the true value and torch's finite
    number comes from an integer wrapping around."""

    name: str
    reason: str
    cases: tuple
    applies: Callable
    example: tuple
    infinite: bool = False


def _mine(outcome) -> str:
    return outcome["detail"].split("| torch", 1)[0]


def _theirs(outcome) -> str:
    parts = outcome["detail"].split("| torch", 1)
    return parts[1] if len(parts) > 1 else ""


def _specs(args):
    """Every TensorSpec in the arguments (nested), and every other leaf value."""
    specs, values, stack = [], [], [args]
    while stack:
        item = stack.pop()
        if isinstance(item, TensorSpec):
            specs.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, Unbuilt):
            stack.append(item.value)
        else:
            values.append(item)
    return specs, values


_PARSER = ("must be int", "must be Tensor", "must be tuple of ints", "Overflow when unpacking",
           "invalid combination of arguments", "failed to unpack", "does not fit in a 64-bit",
           "must be an int", "sizes must be ints")


def _parser_first(args, outcome) -> bool:
    return outcome["kind"] == "exception type" and (
        any(p in _theirs(outcome) for p in _PARSER) or any(p in _mine(outcome) for p in _PARSER))


def _int_outside_dtype(args, outcome) -> bool:
    specs, values = _specs(args)
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    for spec in specs:
        if spec.dtype in ("int64", "int32", "int16", "int8", "uint8", "bool"):
            info = np.iinfo("int64" if spec.dtype == "bool" else spec.dtype)
            if any(not info.min <= v <= info.max for v in ints):
                return True
    return False


# torch's errors from its empty-shape shortcuts (minigrad computes these calls)
_EMPTY_QUIRKS = ("adaptive_avg_pool2d_backward", "the number of sizes provided",
                 "The expanded size of the tensor", "select(): index 0 out of range",
                 "backward through the graph a second time", "size mismatch (got input",
                 "INDICES element is out of DATA bounds")


def _inf_against_nan(outcome) -> bool:
    """One side NaN, the other an infinity (in a values mismatch's detail)."""
    text = outcome["detail"]
    mine, _, theirs = text.partition(" vs torch's ")
    return (("nan" in mine and "inf" in theirs) or ("inf" in mine and "nan" in theirs))


def _empty_tensor_quirk(args, outcome) -> bool:
    """torch accepts a call with an empty tensor that minigrad refuses (as it refuses the
    same call on a non-empty tensor), refuses it from an empty-shape shortcut, or skips the
    dtype check minigrad refuses it with."""
    specs, _ = _specs(args)
    if not any(0 in spec.shape for spec in specs):
        return False
    kind, theirs = outcome["kind"], _theirs(outcome)
    return (kind == "refused"
            or (kind in ("accepted", "exception type") and any(q in theirs
                                                               for q in _EMPTY_QUIRKS))
            or (kind == "exception type" and "not implemented for" in _mine(outcome)))


# What an error message is about: a call with several faults may be refused for any of them.
# (In this order: the first match names the fault.)
_FAULTS = {
    "memory": ("allocate", "Storage size"),
    "value": ("value for reduction", "Invalid reduction", "both be None", "must be between",
              "non-negative", "greater than zero",
              "appears multiple times",
              "should not be zero", "ZeroDivisionError", "overflow", "padding", "stride",
              "kernel size", "divisor", "step", "value cannot be converted", "split_size"),
    "dtype": ("not implemented for", "dtype", "expected scalar type", "floating point",
              "Boolean", "bool input", "can't be cast", "Long or Byte", "Float did not match"),
    "shape": ("size of tensor", "shape", "size", "dimension", "broadcast", "Dimension",
              "dimensions", "must match", "multiplied", "3D or 4D", "non-empty", "rank"),
    "index": ("index", "out of bounds", "out of range"),
}


def _fault(message: str):
    for fault, words in _FAULTS.items():
        if any(w in message for w in words):
            return fault
    return None


def _another_fault_first(args, outcome) -> bool:
    if outcome["kind"] != "exception type":
        return False
    mine, theirs = _fault(_mine(outcome)), _fault(_theirs(outcome))
    return mine is not None and theirs is not None and mine != theirs


DIFFERENCES = [
    Difference(
        "argument checks in another order",
        "A call with several faults: torch's argument parser rejects wrongly typed arguments "
        "(TypeError) and ints past int64 (ValueError) before any other check, while "
        "minigrad's front doors check their arguments in their own order and may name another "
        "of the faults first. Both refuse the call.",
        ("*",), _parser_first,
        ("transpose", (T((), "float32", "normal", seed=0), 1, None))),
    Difference(
        "another of several faults first",
        "A call with several faults (a wrong dtype and a wrong shape, say) is refused by both, "
        "but torch and minigrad's front door may check them in another order and name "
        "another fault first, with that fault's exception type.",
        ("*",), _another_fault_first,
        ("l1_loss", (T((2, 3), "float32", "normal", seed=0), T((4,), "float32", "normal",
                                                                 seed=1),
                     {"reduction": "avg"}))),
    Difference(
        "dim=None and keepdim without dim accepted",
        "minigrad's reductions, squeeze and softmax take dim=None as 'no dim given' (Python's "
        "default-argument idiom: every dimension, or the implicit softmax dim) and accept "
        "keepdim or unbiased without a dim; torch's signatures for these have no such form.",
        ("min_dim", "max_dim", "softmax", "log_softmax", "squeeze", "mean", "sum", "var",
         "std", "amax", "amin", "all", "any"),
        lambda args, o: o["kind"] == "accepted" and "TypeError" in _theirs(o) and (
            None in _specs(args)[1] or (isinstance(args[-1], dict) and "dim" not in args[-1])),
        ("squeeze", (T((2, 1), "float32", "normal", seed=0), None))),
    Difference(
        "Python int outside an integer tensor's dtype",
        "minigrad computes with numpy, which compares such an int exactly and refuses to cast "
        "it into the tensor's dtype (OverflowError naming the value); torch wraps it silently "
        "(an int32 tensor < 2**31 is False in torch) or refuses with a RuntimeError.",
        ("elementwise", "tensor", "index"), _int_outside_dtype,
        ("lt_scalar", (T((3,), "int32", "small", seed=0), 2 ** 31))),
    Difference(
        "floor_divide has a zero derivative",
        "minigrad differentiates floor_divide (zero almost everywhere, as floor and trunc); "
        "torch has no derivative for it and its backward raises.",
        ("floor_divide", "floor_divide_scalar"),
        lambda args, o: o["kind"] == "accepted" and o["phase"] == "backward",
        ("floor_divide", (T((3,), "float32", "normal", seed=1, requires_grad=True),
                          T((3,), "float32", "positive", seed=2)))),
    Difference(
        "atan2 or pow with a bool tensor differentiates the other operand",
        "minigrad's atan2 and pow promote the bool operand and differentiate the float one; "
        "torch's backward formulas negate the bool operand or subtract 1 from it, and refuse "
        "(Negation / Subtraction on a bool tensor).",
        ("atan2", "arctan2", "pow"),
        lambda args, o: o["kind"] == "accepted" and o["phase"] == "backward"
        and any(s.dtype == "bool" for s in _specs(args)[0]),
        ("atan2", (T((2,), "bool", "small", seed=0),
                   T((2,), "float32", "normal", seed=0, requires_grad=True)))),
    Difference(
        "std/var over dim=() get torch's gradient right",
        "With dim=() (every dimension) torch's backward of std and var is twice the true "
        "gradient (torch.autograd.gradcheck fails on it); minigrad's is the derivative of the "
        "value both compute (its gradcheck passes).",
        ("std", "var"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and isinstance(args[-1], dict) and args[-1].get("dim") in ((), []),
        ("std", (T((2,), "float32", "normal", seed=0, requires_grad=True),
                 {"dim": (), "correction": 0}))),
    Difference(
        "std/var's gradient with no degrees of freedom left",
        "When correction >= the number of elements reduced, the value is infinite (the "
        "divisor is clamped at 0). torch's backward over a dim divides by count - correction "
        "itself (a finite gradient for std and var); its backward over every element gives "
        "inf or NaN. minigrad uses the first formula for both.",
        ("std", "var"),
        lambda args, o: o["phase"] == "backward" and o["kind"] in ("values", "nan")
        and isinstance(args[-1], dict) and args[-1].get("dim") is None
        and isinstance(args[-1].get("correction"), (int, float))
        and args[-1]["correction"] >= math.prod(args[0].shape),
        ("std", (T((2,), "float32", "normal", seed=0, requires_grad=True),
                 {"correction": 5}))),
    Difference(
        "binary_cross_entropy_with_logits's gradient with a huge pos_weight",
        "torch's backward computes ((1 + (pw - 1) y) sigmoid(x) - pw y) w, which cancels "
        "catastrophically when pw y is huge (0 where the gradient is w (1 - y) at a large "
        "logit); minigrad computes the same derivative as (1 - y) - (1 + (pw - 1) y) "
        "sigmoid(-x), with no cancellation.",
        ("binary_cross_entropy_with_logits", "nn.BCEWithLogitsLoss"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and any(isinstance(a, dict) and isinstance(a.get("pos_weight"), TensorSpec)
                and a["pos_weight"].kind in ("special", "huge") for a in args),
        ("binary_cross_entropy_with_logits", (
            T((), "float32", "huge", seed=0, requires_grad=True),
            T((), "float32", "normal", seed=0),
            {"reduction": "mean", "weight": T((), "float32", "huge", seed=0),
             "pos_weight": T((), "float32", "huge", seed=0)}))),
    Difference(
        "torch's garbled message for an out-of-range uint8 target",
        "nll_loss with reduction='none' and a uint8 target outside [0, C): torch's message "
        "holds undecodable bytes (its Python binding raises UnicodeDecodeError); minigrad "
        "raises the IndexError naming the target.",
        ("nll_loss", "nn.NLLLoss", "cross_entropy", "nn.CrossEntropyLoss"),
        lambda args, o: o["kind"] == "exception type" and "UnicodeDecodeError" in _theirs(o)
        and "out of bounds" in _mine(o),
        ("nn.NLLLoss", (((), {"reduction": "none"}), (T((1, 2), "float32", "normal", seed=0),
                                                       T((1,), "uint8", "index:2:ignore",
                                                         seed=0)), 0, False))),
    Difference(
        "tensors with no elements are checked as any other",
        "For a tensor with no elements torch's kernels return before some of their checks "
        "(bool products, mixed dtypes in einsum, zero-size kernels, the dtype of an empty "
        "dropout or log_softmax, cummax's dim, tile's negative repeats, a mask that "
        "broadcasts to nothing), and its backward of adaptive_avg_pool2d and its batch norm "
        "fail on empty shapes; minigrad checks every call alike, whatever its size.",
        ("*",), _empty_tensor_quirk,
        ("bmm", (T((0, 0, 0), "bool", "small", seed=0), T((0, 0, 0), "bool", "small", seed=0)))),
    Difference(
        "numpy's MemoryError where an op outside the kernels cannot allocate",
        "Ops computed with numpy (repeat, chunk into billions of pieces, ...) let numpy's "
        "MemoryError, Python's own exception for this, through; torch raises RuntimeError "
        "(the kernels' outputs and the creation functions raise torch's RuntimeError).",
        ("*",), lambda args, o: o["kind"] == "exception type"
        and o.get("mine_error") == "MemoryError",
        ("repeat", (T((), "float32", "normal", seed=0), (2 ** 40,)))),
    Difference(
        "linspace to an infinite or NaN end",
        "linspace with an infinite or NaN start or end: minigrad's values are numpy's (the end "
        "itself is the last value); torch's start + i * step makes NaN everywhere the step "
        "does.",
        ("linspace",),
        lambda args, o: o["kind"] == "values" and any(
            isinstance(v, float) and not math.isfinite(v) for v in args[:2]),
        ("linspace", (0, float("inf"), 2))),
    Difference(
        "a Python float past float32's range beside an integer tensor",
        "An integer tensor with a Python float that float32 cannot hold (1e-56, 1e40): torch "
        "rounds the number to float32 for some ops and computes in double for others; "
        "minigrad rounds it to float32 for comparisons (as torch) and keeps its value "
        "elsewhere, so 0 ** 1e-56 is 1 in minigrad (0 ** 0) and 0 in torch.",
        ("elementwise",),
        lambda args, o: o["kind"] == "values" and any(
            isinstance(v, float) and v != 0 and (abs(v) < 1.2e-38 or abs(v) > 3.4e38)
            for v in _specs(args)[1]),
        ("pow_scalar", (T((2,), "int64", "small", seed=1), 1.7178664140156552e-56))),
    Difference(
        "atan2's gradient with an integer operand",
        "atan2 of a float tensor and an integer one: torch's backward computes with the "
        "integer operand in its own dtype (it squares an int64 past 3e9 with overflow, negates "
        "a uint8 into 256 - x), giving a wrong gradient; minigrad promotes it to float first.",
        ("atan2", "arctan2"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and any(s.dtype in ("int64", "int32", "int16", "int8", "uint8")
                for s in _specs(args)[0]),
        ("arctan2", (T((), "float32", "normal", seed=0, requires_grad=True),
                     T((), "int64", "extreme", seed=0)))),
    Difference(
        "weighted l1_loss and mse_loss of integers",
        "l1_loss and mse_loss of integer input and target with an integer weight: torch's "
        "weighted form (Python code) computes in integers; minigrad refuses them as torch's "
        "unweighted forms do (mse_cpu has no integer kernel, an integer mean no dtype).",
        ("l1_loss", "mse_loss"),
        lambda args, o: o["kind"] == "refused" and (
            "could not infer output dtype" in _mine(o) or "mse_cpu" in _mine(o))
        and args[-1].get("weight") is not None,
        ("l1_loss", (T((2,), "int64", "small", seed=0), T((2,), "int64", "small", seed=1),
                     {"weight": T((2,), "int64", "small", seed=2)}))),
    Difference(
        "a batch_size past sys.maxsize",
        "DataLoader with batch_size >= 2**63: torch's sampler slices with itertools.islice, "
        "which refuses it; minigrad's batches every sample into one batch (or meets a "
        "sampler's fault first).",
        ("DataLoader",),
        lambda args, o: o["kind"] in ("accepted", "exception type") and isinstance(
            args[1].get("batch_size"), int) and args[1]["batch_size"] >= 2 ** 63
        and any(w in _theirs(o) for w in ("islice", "index-sized")),
        ("DataLoader", ([T((3,), "float32", "normal", seed=0)], {"batch_size": 2 ** 63},
                        None, None))),
    Difference(
        "amax/amin's gradient at a NaN",
        "When the maximum (minimum) of a slice is NaN, torch's amax/amin backward gives NaN to "
        "every element of the slice (no element equals NaN, so it divides by a count of 0); "
        "minigrad gives the gradient to the NaN elements, as torch's own max() and min() do.",
        ("amax", "amin"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and "torch's np.float" in o["detail"] and "nan" in o["detail"].split("torch's", 1)[1],
        ("amax", (T((2, 5), "float32", "special", seed=0, requires_grad=True), {}))),
    Difference(
        "an infinity against a NaN",
        "With infinite inputs, or values whose products overflow (1e30 in float32) or "
        "underflow to 0 (a subnormal squared, divided by eps = 0), a result is NaN where a "
        "formula meets inf - inf, 0 * inf or 0 / 0 and an infinity where it does not: "
        "minigrad's formulas and summation orders (its GEMM's, its gradients', its fused "
        "optimizer updates') meet them in other places than torch's. Both results are "
        "non-finite.",
        ("*",), lambda args, o: o["kind"] == "values" and _inf_against_nan(o)
        and any(s.kind in ("huge", "special", "tiny") for s in _specs(args)[0]),
        ("linear", (T((2,), "float32", "huge", seed=0), T((2, 2), "float32", "huge", seed=0),
                    None))),
    Difference(
        "pow's gradient at an int64 exponent of -2**63",
        "For an int64 exponent b = -2**63 torch computes b - 1 in int64, which wraps to "
        "2**63 - 1, and its gradient b a^(b-1) comes out 0; minigrad's is the true value, "
        "b a^(b-1) = -2**63 * a^(-2**63 - 1), infinite for |a| < 1.",
        ("pow",), lambda args, o: o["phase"] == "backward" and any(
            s.dtype == "int64" and s.kind == "extreme" for s in _specs(args)[0]),
        ("pow", (T((2, 3), "float32", "normal", seed=0, requires_grad=True),
                 T((2, 3), "int64", "extreme", seed=0))), infinite=True),
    Difference(
        "an empty tensor with a dimension past 2**62",
        "numpy cannot describe an array with a dimension past about 2**62 even when another "
        "dimension is 0 (eye(0, 2**63 - 1), zeros(0, 2**63 - 1)); torch makes the empty "
        "tensor. minigrad refuses with torch's RuntimeError for sizes it cannot allocate.",
        ("*",), lambda args, o: o["kind"] == "refused" and (
            "array is too big" in _mine(o) or "Maximum allowed dimension" in _mine(o)
            or "Storage size calculation overflowed" in _mine(o)) and 0 in _specs(args)[1],
        ("eye", (0, 2 ** 63 - 1))),
    Difference(
        "a dtype refusal raised by another of torch's functions",
        "Both refuse the dtype; torch raises NotImplementedError from a kernel's dispatch or "
        "RuntimeError from another function it calls first (mean(), a cast), minigrad one of "
        "the two. NotImplementedError is a RuntimeError: `except RuntimeError` catches both.",
        ("*",), lambda args, o: o["kind"] == "exception type"
        and {o.get("mine_error"), o.get("theirs_error")} == {"NotImplementedError",
                                                              "RuntimeError"}
        and _fault(_mine(o)) == "dtype" and _fault(_theirs(o)) == "dtype",
        ("nn.BatchNorm1d", ((((2,), {"track_running_stats": False, "affine": False})),
                            T((2, 2), "int64", "small", seed=0, layout="transposed"), 0,
                            False))),
    Difference(
        "an integer tensor written with a value that requires grad",
        "Writing a float value that requires grad into an integer tensor (t[i] = v, fill_, "
        "copy_): torch records the write, making an integer tensor with a grad_fn; minigrad "
        "keeps integer tensors out of the graph (they carry no gradient, in torch too).",
        ("setitem", "fill_", "copy_", "masked_fill"),
        lambda args, o: o["kind"] == "requires_grad" and isinstance(args[0], TensorSpec)
        and args[0].dtype not in ("float32", "float64"),
        ("setitem", (T((2,), "int64", "small", seed=0), (),
                     T((), "float32", "normal", seed=0, requires_grad=True)))),
    Difference(
        "the gradient of a Python int base past int64",
        "pow(number, tensor) with an int base past int64: torch's backward gives NaN (its "
        "log of the base overflows); minigrad's is the derivative, finite.",
        ("scalar_pow",),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and isinstance(args[0], int) and abs(args[0]) >= 2 ** 63,
        ("scalar_pow", (2 ** 63, T((), "float32", "normal", seed=0, requires_grad=True)))),
    Difference(
        "which of tied values topk, sort and max(dim) pick first",
        "Among equal values the index returned by topk (and the order of sort without "
        "stable=True) is unspecified in torch, which picks by its algorithm; minigrad picks the "
        "first (a stable order). The values are the same.",
        ("topk", "sort", "argsort", "max_dim", "min_dim", "argmax_dim", "argmin_dim", "msort"),
        lambda args, o: o["kind"] == "values" and any(
            s.kind in ("zeros", "ties", "special", "extreme") or s.dtype == "bool"
            for s in _specs(args)[0]),
        ("topk", (T((4,), "float32", "zeros", seed=0, requires_grad=True), 1, {}))),
    Difference(
        "expand of a 0-d tensor to a size with 0 and -1",
        "torch.tensor(1).expand(0, -1) gives a tensor of size [0, -1] (a negative size: -1 is "
        "not checked when the result is empty); minigrad refuses -1 in a new leading "
        "dimension, as torch does for a result with elements.",
        ("expand",),
        lambda args, o: o["kind"] == "refused" and -1 in args[1] and 0 in args[1],
        ("expand", (T((), "int64", "small", seed=0), (0, -1)))),
    Difference(
        "pow(True, tensor)'s gradient",
        "torch's backward of pow with a bool base hits an internal assert (unknown ivalue tag "
        "4, 'please report a bug to PyTorch'); minigrad's is the derivative of 1 ** x, 0.",
        ("scalar_pow",),
        lambda args, o: o["kind"] == "accepted" and isinstance(args[0], bool)
        and "INTERNAL ASSERT" in _theirs(o),
        ("scalar_pow", (True, T((), "float32", "normal", seed=0, requires_grad=True)))),
    Difference(
        "index_select past the end on a 3-D input",
        "index_select with an index out of range: torch raises IndexError, but RuntimeError "
        "('INDICES element is out of DATA bounds') from the kernel it takes for inputs of "
        "three or more dimensions, and for an embedding of width 0; minigrad raises IndexError "
        "for every input.",
        ("index_select", "F.embedding", "nn.Embedding"),
        lambda args, o: o["kind"] == "exception type"
        and "INDICES element is out of DATA bounds" in _theirs(o),
        ("index_select", (T((1, 1, 2), "int64", "small", seed=0), 1,
                          T((), "int64", "index:2", seed=0)))),
    Difference(
        "a convolution of an input with no channels",
        "conv1d or conv2d of an input with 0 channels (or an empty batch): torch returns an "
        "output with 0 channels instead of F (its shortcut for empty inputs copies the input's "
        "channel count); minigrad's has F, as the weight says.",
        ("conv2d", "nn.Conv2d", "F.conv1d", "nn.Conv1d"),
        lambda args, o: o["kind"] == "shape" and any(
            len(s.shape) >= 2 and 0 in s.shape[:-1] for s in _specs(args)[0]),
        ("nn.Conv2d", (((0, 1, 1), {}), T((0, 0, 1, 1), "float32", "normal", seed=0), 0,
                       False))),
    Difference(
        "linear's path chosen by layout",
        "torch's linear picks its path by the input's memory layout: a contiguous input goes "
        "through addmm, which refuses a 1-D weight with a 1-D bias (mat2 must be a matrix) and "
        "a bias of another dtype; a non-contiguous one through matmul + add, which accepts "
        "both (promoting the dtypes). minigrad decides by the ranks alone, as addmm.",
        ("linear",), lambda args, o: o["kind"] in ("refused", "accepted")
        and args[2] is not None and len(args[0].shape) != 2 and (
            len(args[1].shape) == 1 or args[2].dtype != args[0].dtype),
        ("linear", (T((1, 2, 2), "float32", "normal", seed=0, layout="transposed"),
                    T((2,), "float32", "normal", seed=0), T((1,), "float32", "normal", seed=0)))),
    Difference(
        "an index with two ellipses",
        "torch accepts several ... in one index of a 0-d tensor; minigrad indexes with numpy, "
        "which allows one.",
        ("getitem", "setitem"), lambda args, o: o["kind"] == "refused"
        and "single ellipsis" in _mine(o),
        ("getitem", (T((), "float32", "normal", seed=0), (Ellipsis, Ellipsis)))),
    Difference(
        "cross_entropy's gradient where a term cancels a non-finite target",
        "With one class, or a probability target holding an infinity, torch's unfused "
        "log_softmax backward meets inf - inf (NaN); minigrad's fused kernel computes the "
        "same gradient as p * sum(q) - q, which is exactly 0 where the terms cancel.",
        ("cross_entropy", "nn.CrossEntropyLoss"), lambda args, o: o["phase"] == "backward"
        and o["kind"] == "values" and "nan" in o["detail"].split("torch's", 1)[-1]
        and any(s.kind == "special" for s in _specs(args)[0]),
        ("cross_entropy", (T((4, 1), "float32", "normal", seed=0, requires_grad=True),
                           T((4, 1), "float64", "special", seed=262143), None,
                           {"reduction": "mean", "ignore_index": -100,
                            "label_smoothing": 0.0}))),
    Difference(
        "torch crashes on the lowest integer divided by -1",
        "div(rounding_mode='trunc') and friends of the dtype's lowest value by -1 kill torch's "
        "process (SIGFPE, the C division trap); minigrad gives the wrapped quotient (the lowest "
        "value, as torch's floor division does) and a remainder of 0.",
        ("*",), lambda args, o: o["kind"] == "torch crashed"
        and "Floating point exception" in o["detail"],
        ("div_rounding", (T((), "int64", "extreme", seed=200), -1, {"rounding_mode": "trunc"}))),
    Difference(
        "view of a tensor whose strides a view cannot follow",
        "minigrad's view copies when the memory layout does not allow a view (its convolution "
        "outputs are channels-last, so x.view(n, -1) after a convolution must work as it does "
        "on torch's contiguous NCHW output); torch refuses and asks for reshape().",
        ("view",), lambda args, o: o["kind"] == "accepted"
        and "view size is not compatible" in _theirs(o),
        ("view", (T((2, 2), "float32", "normal", seed=0, layout="transposed"), (-1,)))),
    Difference(
        "nn.Unflatten checks its sizes before its dim",
        "torch's Tensor.unflatten method (what nn.Unflatten calls) checks that sizes is not "
        "empty before the dim; torch.unflatten checks the dim first. minigrad has one front "
        "door, which checks the dim first, as torch.unflatten.",
        ("nn.Unflatten",), lambda args, o: o["kind"] == "exception type"
        and "sizes must be non-empty" in _theirs(o),
        ("nn.Unflatten", (((1, ()), {}), T((), "float32", "normal", seed=0), 0, False))),
    Difference(
        "remainder by a subnormal or an infinity",
        "remainder and fmod with a subnormal or infinite operand: torch computes "
        "a - b * floor(a / b), where a / b overflows (NaN); minigrad uses numpy's exact "
        "fmod, which gives the true remainder.",
        ("remainder", "remainder_scalar", "fmod", "fmod_scalar"),
        lambda args, o: o["kind"] == "values" and "nan" in o["detail"].split("torch's", 1)[-1]
        and any(s.kind in ("special", "tiny", "huge") for s in _specs(args)[0]),
        ("remainder", (T((2, 2, 4), "int64", "small", seed=0),
                       T((2, 2, 4), "float32", "special", seed=0)))),
    Difference(
        "ragged nested lists",
        "minigrad.tensor refuses every list whose items have different lengths (ValueError); "
        "torch accepts some of them ([[], 0] gives an empty (2, 0) tensor) and refuses others "
        "with a TypeError.",
        ("tensor",), lambda args, o: o["kind"] in ("refused", "exception type")
        and "equal lengths" in _mine(o),
        ("tensor", ([[], 0],))),
    Difference(
        "chunk into nearly 2**63 pieces",
        "torch computes chunk's piece size as (size + chunks - 1) / chunks in int64, which "
        "overflows for chunks near 2**63 (a negative split size it then refuses); minigrad "
        "computes it exactly.",
        ("chunk",), lambda args, o: o["kind"] == "accepted" and isinstance(args[1], int)
        and args[1] > 2 ** 62,
        ("chunk", (T((2,), "float32", "normal", seed=0), 2 ** 63 - 1, 0))),
    Difference(
        "adaptive pooling's backward to an empty output",
        "For an output with no element (output_size 0) torch's backward of adaptive average "
        "and max pooling refuses the empty gradient its own forward produced; minigrad gives "
        "the input's gradient, zeros (interpolate's 'area' mode is adaptive average pooling).",
        ("adaptive_avg_pool2d", "nn.AdaptiveAvgPool2d", "F.adaptive_max_pool1d",
         "F.adaptive_max_pool2d", "nn.AdaptiveMaxPool2d", "F.adaptive_avg_pool1d",
         "F.interpolate", "nn.Upsample"),
        lambda args, o: o["kind"] == "accepted" and any(
            f"adaptive_{kind}_pool2d_backward" in _theirs(o) for kind in ("avg", "max")),
        ("adaptive_avg_pool2d", (T((1, 1, 1, 1), "float32", "normal", seed=0,
                                   requires_grad=True), 0))),
    Difference(
        "adaptive_avg_pool2d to 1x1 of a tensor that is not 3-D or 4-D",
        "For output_size 1 torch takes the mean over the last two dimensions without checking "
        "the input's rank; minigrad checks it for every output size.",
        ("adaptive_avg_pool2d", "nn.AdaptiveAvgPool2d"),
        lambda args, o: o["kind"] == "refused" and "3D or 4D" in _mine(o),
        ("adaptive_avg_pool2d", (T((3, 4), "float32", "normal", seed=0), 1))),
    Difference(
        "batch_norm of an input without a channel dim",
        "torch's batch_norm of a 1-D or 0-d input fails by accident, differently per shape "
        "and mode: an empty 1-D input is accepted in every mode, a 0-d one fails inside a "
        "SmallVector, others with an IndexError; minigrad refuses every input under 2-D "
        "(an IndexError naming the missing channel dim, as torch's most frequent error).",
        ("F.batch_norm",), lambda args, o: o["kind"] in ("refused", "exception type")
        and len(args[0].shape) < 2 and "no channel dim" in _mine(o),
        ("F.batch_norm", (T((0,), "float32", "normal", seed=0), None, None, {"weight": None},
                          {"bias": None}, {"training": True, "momentum": 0.1, "eps": 1e-05}))),
    Difference(
        "huber_loss's gradient with a target of another dtype",
        "huber_loss of a float input and a target of another dtype (float64 beside float32, "
        "an integer): torch's forward casts the target and computes the loss, but its backward "
        "then refuses ('Found dtype Double but expected Float'); minigrad's backward gives the "
        "gradient of the loss it returned.",
        ("huber_loss", "nn.HuberLoss"),
        lambda args, o: o["kind"] == "accepted" and "Found dtype" in _theirs(o)
        and "but expected" in _theirs(o),
        ("huber_loss", (T((), "float32", "normal", seed=0, requires_grad=True),
                        T((), "float64", "normal", seed=0),
                        {"reduction": "mean", "delta": 1.0, "weight": None}))),
    Difference(
        "group_norm's backward with a bias and no weight",
        "torch's backward of group_norm with a bias but no weight fails inside torch ('tensor "
        "does not have a device'); minigrad gives the gradients.",
        ("F.group_norm",), lambda args, o: o["kind"] == "accepted"
        and "does not have a device" in _theirs(o),
        ("F.group_norm", (T((1, 2), "float32", "normal", seed=0, requires_grad=True), 1, None,
                          T((2,), "float32", "normal", seed=0, requires_grad=True), 1e-05))),
    Difference(
        "interpolate(mode='area') of a 5-D input",
        "minigrad has no 3-D adaptive average pooling, so mode='area' of a 5-D input raises "
        "NotImplementedError naming the missing piece, whatever torch does with the call.",
        ("F.interpolate", "nn.Upsample"), lambda args, o: o["kind"] in ("refused",
                                                                        "exception type")
        and "mode='area' of a 5-D input" in _mine(o),
        ("F.interpolate", (T((1, 1, 2, 2, 2), "float32", "normal", seed=0),
                           {"mode": "area", "scale_factor": 0.5}))),
    Difference(
        "attention with no query rows: the mask's gradient",
        "scaled_dot_product_attention with an empty query (or key) never reads a float mask "
        "that requires grad in torch, so the mask's .grad stays None; minigrad adds the mask "
        "in its one fused op and gives it a gradient of zeros.",
        ("F.scaled_dot_product_attention",), lambda args, o: o["phase"] == "backward"
        and o["kind"] == "type" and any(0 in s.shape for s in _specs(args)[0]),
        ("F.scaled_dot_product_attention", (
            T((0, 0), "float32", "normal", seed=0),
            T((1, 0), "float32", "normal", seed=0, requires_grad=True),
            T((1, 0), "float32", "normal", seed=0),
            {"attn_mask": T((), "float32", "normal", seed=0, requires_grad=True),
             "is_causal": False, "scale": 0.5}))),
    Difference(
        "norms' statistics in double",
        "layer_norm, group_norm and batch_norm compute their means and variances in double "
        "(kernels/norm.pyx): float32 values near 1e30 give the normalised values, where torch's "
        "float32 variance overflows (NaN), and subnormal ones that torch's float32 variance "
        "loses; an empty group's weight gradient is an empty sum, 0, where torch divides 0 by "
        "0 (NaN); with eps = 0 and a constant group (1 / sqrt(0) = inf) the two meet inf * 0 "
        "in other places (NaN against an infinity).",
        ("F.layer_norm", "F.group_norm", "F.batch_norm", "nn.LayerNorm", "nn.GroupNorm",
         "nn.BatchNorm1d", "nn.BatchNorm2d"),
        lambda args, o: o["kind"] == "values" and (
            ("nan" in o["detail"].split("torch's", 1)[-1]
             and any(s.kind in ("huge", "special", "tiny") or 0 in s.shape
                     for s in _specs(args)[0]))
            or (_inf_against_nan(o) and 0.0 in _specs(args)[1])),
        ("F.group_norm", (T((1, 2), "float32", "huge", seed=0), 1, None, None, 1e-05))),
    Difference(
        "the gradient of elu at NaN",
        "torch's elu backward gives NaN at a NaN input in its vectorised loop and the upstream "
        "gradient in its scalar tail (the same call differs with the tensor's size); minigrad "
        "always gives the upstream gradient (NaN is on the identity side, as torch's forward).",
        ("F.elu", "nn.ELU"), lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and "nan" in o["detail"].split("torch's", 1)[-1]
        and any(s.kind == "special" for s in _specs(args)[0]),
        ("F.elu", (T((2, 4, 4), "float32", "special", seed=0, requires_grad=True), {}))),
    Difference(
        "softplus's gradient past exp's range",
        "softplus's gradient is sigmoid(beta x); torch computes it as e^(beta x) / "
        "(e^(beta x) + 1), which is inf / inf (NaN) once e^(beta x) overflows (a threshold of "
        "inf keeps huge inputs on that side); minigrad's sigmoid gives 1.",
        ("F.softplus", "nn.Softplus"), lambda args, o: o["phase"] == "backward"
        and o["kind"] == "values" and "nan" in o["detail"].split("torch's", 1)[-1]
        and any(s.kind in ("huge", "special") for s in _specs(args)[0]),
        ("F.softplus", (T((), "float32", "huge", seed=0, requires_grad=True),
                        {"threshold": math.inf}))),
    Difference(
        "a convolution's padding past int32",
        "minigrad's convolution kernels hold sizes in C ints: a padding past 2**31 - 1 is "
        "refused with a RuntimeError naming it (a stride or dilation past it that changes "
        "nothing is brought into range); torch computes some such calls with 64-bit loops.",
        ("conv",), lambda args, o: o["kind"] == "refused"
        and "does not fit the kernels' 32-bit integers" in _mine(o),
        ("F.conv1d", (T((1, 1, 1), "float32", "normal", seed=0),
                      T((1, 1, 1), "float32", "normal", seed=0), None,
                      {"stride": 2 ** 31, "padding": 2 ** 31, "dilation": 1, "groups": 1}))),
    Difference(
        "elu with an infinite alpha",
        "elu's gradient on the negative side is y + alpha (the form torch's in-place elu uses), "
        "which is -inf + inf = NaN for alpha = inf; torch's out-of-place backward computes "
        "alpha e^x, -inf or inf.",
        ("F.elu", "nn.ELU"), lambda args, o: o["kind"] == "values" and _inf_against_nan(o)
        and any(isinstance(a, dict) and isinstance(a.get("alpha"), float)
                and not math.isfinite(a["alpha"]) for a in args),
        ("F.elu", (T((2,), "float32", "normal", seed=0, requires_grad=True),
                   {"alpha": math.inf}))),
    Difference(
        "integer convolutions",
        "minigrad's convolution kernels take float32 and float64 only and refuse integer "
        "tensors with a RuntimeError naming the dtype; torch's slow transposed convolution "
        "also computes int64.",
        ("conv",), lambda args, o: o["kind"] == "refused"
        and "expects a float32 or float64 input" in _mine(o),
        ("F.conv_transpose1d", (T((1, 1, 1), "int64", "small", seed=0),
                                T((1, 1, 1), "int64", "small", seed=0), None,
                                {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1,
                                 "dilation": 1}))),
    Difference(
        "attention with empty operands: the mask's batch dimensions",
        "scaled_dot_product_attention with an empty query, key or value and a mask of more "
        "dimensions: torch's fused path returns the query's shape without reading the mask; "
        "minigrad follows the definition softmax(q k^T s + mask) v (torch's math path), whose "
        "batch dimensions are the broadcast of all three.",
        ("F.scaled_dot_product_attention",), lambda args, o: o["kind"] == "shape"
        and any(0 in s.shape for s in _specs(args)[0]),
        ("F.scaled_dot_product_attention", (
            T((0, 1), "float32", "normal", seed=0, requires_grad=True),
            T((1, 1), "float32", "normal", seed=0), T((1, 0), "float32", "normal", seed=0),
            {"attn_mask": T((0, 0, 1), "bool", "small", seed=0), "is_causal": False,
             "scale": None}))),
    Difference(
        "a 1-d pooling window past int32",
        "max_pool1d with a kernel, dilation or stride near 2**31: torch computes the output "
        "length in 32-bit arithmetic, which wraps, and accepts the call; minigrad computes it "
        "exactly and refuses the negative length it finds.",
        ("F.max_pool1d", "F.avg_pool1d", "nn.MaxPool1d", "nn.AvgPool1d"),
        lambda args, o: o["kind"] == "refused" and "Invalid computed output size" in _mine(o)
        and any(isinstance(v, int) and abs(v) >= 2 ** 30 for v in _specs(args)[1]),
        ("F.max_pool1d", (T((1, 1, 1), "float32", "normal", seed=0, requires_grad=True),
                          {"kernel_size": 2 ** 31 - 1, "stride": 1, "padding": 0,
                           "ceil_mode": False, "dilation": 2, "return_indices": False}))),
    Difference(
        "float64 subnormals round differently",
        "With float64 inputs near 1e-310 (subnormals, a few significant bits) a result "
        "computed in another order rounds differently past float64's relative tolerance; "
        "both are finite and agree to about 1e-8.",
        ("*",), lambda args, o: o["kind"] == "values" and "nan" not in o["detail"]
        and "inf" not in o["detail"]
        and any(s.kind == "tiny" and s.dtype == "float64" for s in _specs(args)[0]),
        ("cosine_embedding_loss", (T((1, 1), "float64", "normal", seed=0, requires_grad=True),
                                   T((1, 1), "float64", "tiny", seed=0, requires_grad=True),
                                   T((1,), "int64", "ties", seed=303),
                                   {"margin": 0.0, "reduction": "mean"}))),
    Difference(
        "uint8 images resampled only by nearest modes",
        "minigrad's interpolate takes uint8 input for the nearest modes only; linear, bilinear "
        "and bicubic of uint8 (which torch computes) raise NotImplementedError naming the "
        "mode and dtype.",
        ("F.interpolate", "nn.Upsample"), lambda args, o: o["kind"] == "refused"
        and "not implemented for 'Byte'" in _mine(o),
        ("F.interpolate", (T((1, 1, 1, 1), "uint8", "small", seed=0),
                           {"mode": "bilinear", "scale_factor": 1.0, "align_corners": None}))),
    Difference(
        "nll_loss's backward of a non-contiguous 4-D input",
        "torch's nll_loss2d backward refuses a non-contiguous input ('grad_input must be "
        "contiguous', a limitation of its kernel); minigrad takes any strides.",
        ("nll_loss", "cross_entropy", "nn.NLLLoss", "nn.CrossEntropyLoss"),
        lambda args, o: o["kind"] == "accepted" and "grad_input must be contiguous" in _theirs(o),
        ("nll_loss", (T((1, 1, 2, 3), "float32", "normal", seed=0, requires_grad=True,
                        layout="transposed"), T((1, 2, 3), "int64", "index:1", seed=0), None,
                      {"reduction": "mean", "ignore_index": -100}))),
    Difference(
        "a max-pooling window that lies in the padding",
        "With padding and dilation a window may hold no input element at all; its maximum is "
        "-inf in both, but torch's backward sends the window's gradient to an input element "
        "outside it, where minigrad sends none (the output depends on no input).",
        ("F.max_pool1d", "nn.MaxPool1d", "max_pool2d", "nn.MaxPool2d"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and isinstance(args[-1], dict) and args[-1].get("padding") not in (0, None, (0, 0))
        and args[-1].get("dilation") not in (1, None, (1, 1)),
        ("F.max_pool1d", (T((2, 1, 1), "float32", "normal", seed=0, requires_grad=True),
                          {"kernel_size": 2, "stride": None, "padding": 1, "ceil_mode": False,
                           "dilation": 2, "return_indices": False}))),
    Difference(
        "a transposed convolution's dilation of 0",
        "conv_transpose1d/2d with dilation 0: torch's kernel for some shapes never checks it "
        "and computes a result; minigrad refuses every non-positive dilation, as torch's "
        "convolutions do.",
        ("F.conv_transpose1d", "F.conv_transpose2d", "nn.ConvTranspose2d"),
        lambda args, o: o["kind"] == "refused" and "non-positive dilation" in _mine(o),
        ("F.conv_transpose1d", (T((2, 1), "float32", "normal", seed=0, requires_grad=True),
                                T((2, 1, 1), "float32", "normal", seed=0), None,
                                {"stride": 2 ** 31, "padding": 0, "output_padding": 0,
                                 "groups": 2, "dilation": 0}))),
    Difference(
        "circular padding of an axis the negative pads empty",
        "F.pad(mode='circular') whose negative pad crops every element of an axis that the "
        "positive pad then wraps: torch returns uninitialised memory (values like 4e16); "
        "minigrad refuses, naming the pads and the dimension.",
        ("F.pad",), lambda args, o: o["kind"] == "refused" and "to wrap" in _mine(o),
        ("F.pad", (T((1, 1), "float32", "normal", seed=0), (1, -1), "circular", None))),
    Difference(
        "binary_cross_entropy_with_logits where torch's terms overflow",
        "minigrad computes (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x) with the log-sum-exp "
        "kept finite, in the widest float dtype of the operands; torch's terms overflow or meet "
        "0 * inf for huge logits or weights (NaN) where minigrad's result is finite.",
        ("binary_cross_entropy_with_logits", "nn.BCEWithLogitsLoss"),
        lambda args, o: o["kind"] == "values" and "nan" in o["detail"].split("torch's", 1)[-1]
        and any(s.kind in ("huge", "special", "tiny") for s in _specs(args)[0]),
        ("binary_cross_entropy_with_logits", (
            T((2,), "float64", "huge", seed=0), T((2,), "float32", "positive", seed=0),
            {"reduction": "mean", "weight": T((2,), "float64", "tiny", seed=0),
             "pos_weight": None}))),
    Difference(
        "binary_cross_entropy's gradient at the clamp",
        "At x = 0 or 1 the gradient w (x - y) / max(x (1 - x), 1e-12) is about 1e12; minigrad "
        "and torch round its terms in another order, a relative difference near 1e-8 (float64) "
        "where the tolerance is 1e-9.",
        ("binary_cross_entropy", "nn.BCELoss"), lambda args, o: o["phase"] == "backward"
        and o["kind"] == "values" and "nan" not in o["detail"] and "inf" not in o["detail"]
        and any(s.kind in ("zeros", "ties") for s in _specs(args)[0]),
        ("binary_cross_entropy", (T((), "float64", "zeros", seed=0, requires_grad=True),
                                  T((), "float64", "probs", seed=0, requires_grad=True),
                                  {"weight": None, "reduction": "mean"}))),
    Difference(
        "hardtanh's and relu6's gradient at NaN",
        "torch's hardtanh backward gives 0 at a NaN input in its vectorised loop and the "
        "upstream gradient in its scalar tail (the same call differs with the tensor's size); "
        "minigrad always passes the gradient (NaN is not outside the limits).",
        ("F.hardtanh", "F.relu6", "nn.Hardtanh", "nn.ReLU6"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and any(s.kind == "special" for s in _specs(args)[0]),
        ("F.relu6", (T((2, 2, 4), "float32", "special", seed=1, requires_grad=True), {}))),
    Difference(
        "binary_cross_entropy_with_logits' gradient with an unsigned pos_weight",
        "torch's forward computes pos_weight - 1 in the unsigned dtype (0 - 1 wraps to 255) but "
        "its backward uses pos_weight itself, so its gradient is not the derivative of its "
        "loss; minigrad's is the derivative of the loss both compute.",
        ("binary_cross_entropy_with_logits", "nn.BCEWithLogitsLoss"),
        lambda args, o: o["phase"] == "backward" and o["kind"] == "values"
        and any(isinstance(a, dict) and isinstance(a.get("pos_weight"), TensorSpec)
                and a["pos_weight"].dtype == "uint8" for a in args),
        ("binary_cross_entropy_with_logits", (
            T((), "float32", "normal", seed=0, requires_grad=True),
            T((), "float32", "normal", seed=0),
            {"reduction": "mean", "weight": None,
             "pos_weight": T((), "uint8", "small", seed=264)}))),
    Difference(
        "einsum's shortcuts for size-1 and empty operands",
        "torch's einsum contracts size-1 dimensions by a product that promotes dtypes (float32 "
        "with float64 is accepted, refused for larger operands) and gives int64 for an empty "
        "bool contraction; minigrad's einsum refuses mixed dtypes and keeps bool, whatever the "
        "sizes.",
        ("einsum",), lambda args, o: (
            (o["kind"] == "refused" and "expected scalar type" in _mine(o)
             and any(1 in s.shape for s in _specs(args)[0]))
            or (o["kind"] == "refused" and '"bmm" not implemented' in _mine(o)
                and any(1 in s.shape for s in _specs(args)[0]))
            or (o["kind"] == "dtype" and any(0 in s.shape for s in _specs(args)[0]))),
        ("einsum", ("ij,jk->ik", (T((1, 1), "float32", "normal", seed=0),
                                  T((1, 1), "float64", "normal", seed=0))))),
    Difference(
        "an allocation of gigabytes near the worker's memory limit",
        "The fuzzer's worker caps its address space (6 GB, shared by both frameworks in one "
        "process) so that absurd sizes fail instead of exhausting the machine; a result of a "
        "few GB then fits or not depending on what the process already holds, so one "
        "framework may allocate it where the other's allocator fails.",
        ("*",), lambda args, o: (o["kind"] == "accepted" and "can't allocate memory" in _theirs(o))
        or (o["kind"] == "refused" and ("allocate" in _mine(o) or "MemoryError" in _mine(o))
            and any(isinstance(v, int) and v >= 2 ** 28 for v in _specs(args)[1])),
        ("tile", (T((2,), "uint8", "small", seed=3032), (2 ** 31,)))),
    Difference(
        "resampling taps of weight 0 beside an infinity",
        "Where a linear tap's weight is exactly 0 minigrad reads the other tap's position, so an "
        "infinity or NaN next to the sampled point does not enter as 0 * inf; torch multiplies "
        "it and gets NaN where minigrad's value is the finite sample.",
        ("F.interpolate", "nn.Upsample"), lambda args, o: o["kind"] == "values"
        and "nan" in o["detail"].split("torch's", 1)[-1]
        and "nan" not in o["detail"].split("torch's", 1)[0]
        and any(s.kind in ("special", "huge") for s in _specs(args)[0]),
        ("F.interpolate", (T((2, 2, 2), "float32", "special", seed=0, requires_grad=True),
                           {"mode": "linear", "scale_factor": 3, "align_corners": None}))),
    Difference(
        "interpolate's area mode of integers to an empty output",
        "mode='area' is adaptive average pooling, which refuses integer tensors in both; torch "
        "returns before that check when the output has no element (a scale that floors a size "
        "to 0); minigrad refuses every integer input.",
        ("F.interpolate", "nn.Upsample"), lambda args, o: o["kind"] == "refused"
        and '"upsample_area" not implemented' in _mine(o),
        ("F.interpolate", (T((1, 1, 1, 1), "int64", "small", seed=0),
                           {"mode": "area", "scale_factor": 0.5}))),
]


def explain(case_name, args, outcome):
    """The intended difference behind a 'differs' outcome, or None."""
    family = CASES[case_name].family
    for difference in DIFFERENCES:
        if ("*" in difference.cases or case_name in difference.cases
                or family in difference.cases) and difference.applies(args, outcome):
            return difference
    return None
