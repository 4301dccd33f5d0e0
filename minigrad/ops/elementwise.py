"""Elementwise ops, softmax and casts, on numpy arrays with numpy broadcasting: each op's
Function (forward, backward) and its front door (validation, promotion, apply).

Binary ops return their gradients in the broadcast shape; the engine sums them back to each
input's shape. A Python number operand arrives as a plain float or int and gets no gradient.
Backward formulas use only saved inputs and outputs and ``grad_math``, so that the same code
runs on Tensors for ``create_graph=True``.
"""
import math
import warnings

import numpy as np

from minigrad import dtypes as _dtypes
from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops.arguments import check_floating, check_tensor, dim_alias, normalize_dim
from minigrad.ops.arguments import type_name
from minigrad.ops.promotion import floating, promote_operands, result_type, result_type_of
from minigrad.tensor import Tensor, wrap

__all__ = ["add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "neg", "abs", "exp",
           "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
           "reciprocal", "relu", "sigmoid", "tanh", "sign", "sin", "cos", "tan", "asin", "acos",
           "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "atan2", "erf", "floor", "ceil",
           "round", "trunc", "frac", "isnan", "isinf", "isfinite", "nan_to_num", "clamp",
           "clip", "maximum", "minimum", "where", "softmax", "log_softmax", "clone", "eq", "ne",
           "lt", "le", "gt", "ge", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_left_shift", "bitwise_right_shift", "logical_not", "logical_and",
           "logical_or", "logical_xor", "remainder", "fmod", "floor_divide", "broadcast_error"]


def broadcast_error(a, b) -> RuntimeError:
    """torch's message for operands whose shapes do not broadcast."""
    shape_a, shape_b = np.shape(a), np.shape(b)
    ndim = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    padded_b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    for dim in range(ndim):
        x, y = padded_a[dim], padded_b[dim]
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                                f"({y}) at non-singleton dimension {dim} (shapes "
                                f"{tuple(shape_a)} and {tuple(shape_b)})")
    return RuntimeError(f"shapes {tuple(shape_a)} and {tuple(shape_b)} do not broadcast")


def _broadcasting(ufunc, a, b):
    try:
        return ufunc(a, b)
    except ValueError:
        raise broadcast_error(a, b) from None


# ----------------------------------------------------------------------------- arithmetic

class Add(ArrayFunction):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    graph_arguments = (0, 1)  # a number operand is an input without grad, as torch

    @staticmethod
    def forward(ctx, a, b):
        return _broadcasting(np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(ArrayFunction):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    graph_arguments = (0, 1)  # a number operand is an input without grad, as torch

    @staticmethod
    def forward(ctx, a, b):
        return _broadcasting(np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class AddScaled(ArrayFunction):
    """z = a + alpha b (torch's add with alpha, one node);  dz/da = 1, dz/db = alpha. alpha
    scales b's gradient before the engine sums it over broadcast dims, as torch: a NaN alpha
    times an empty broadcast adds nothing."""

    node_name = "AddBackward0"
    graph_arguments = (0, 1)

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return _broadcasting(np.add, a, np.multiply(b, alpha, dtype=b.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad, (grad * ctx.alpha if ctx.needs_input_grad[1] else None), None


class SubScaled(AddScaled):
    """z = a - alpha b (torch's sub with alpha): AddScaled with -alpha."""

    node_name = "SubBackward0"


class Rsub(Sub):
    """z = a - b with the Python number on the left (torch's rsub: ``1 - t``)."""

    node_name = "RsubBackward1"
    graph_arguments = (1,)


class Mul(ArrayFunction):
    """z = a * b;  dz/da = b, dz/db = a."""

    graph_arguments = (0, 1)  # a number operand is an input without grad, as torch

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        grad_b = grad * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(ArrayFunction):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b² = -z/b."""

    graph_arguments = (0, 1)  # a number operand is an input without grad, as torch

    @staticmethod
    def forward(ctx, a, b):
        out = _broadcasting(np.true_divide, a, b)
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        b, out = ctx.saved_tensors
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        grad_b = -grad * out / b if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Rdiv(Div):
    """z = a / b with the Python number on the left (``2 / t``): torch computes it as
    reciprocal(t) * 2, so its last node is a multiply; minigrad's one node keeps that name."""

    node_name = "MulBackward0"
    graph_arguments = (1, 0)


def _check_integer_divisor(b) -> None:
    """torch's integer division by zero (numpy's gives 0 with a warning)."""
    if np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


def _integer_division(a, b, mode):
    """The quotient ('floor' or 'trunc') or remainder ('mod', the divisor's sign; 'fmod',
    the dividend's) of integers, without the hardware's trap: the dtype's lowest value
    divided by -1 (SIGFPE in C, a crash) wraps to itself, as torch's, its remainder is 0."""
    dtype = np.result_type(a, b)  # before asarray: a Python int stays weak (int32 stays)
    try:
        a, b = np.broadcast_arrays(np.asarray(a, dtype), np.asarray(b, dtype))
    except ValueError:
        raise broadcast_error(a, b) from None
    minus_one = b == -1
    b = np.where(minus_one, np.ones((), b.dtype), b)
    if mode in ("mod", "fmod"):
        out = (np.mod if mode == "mod" else np.fmod)(a, b)
        return np.where(minus_one, np.zeros((), out.dtype), out)
    with np.errstate(over="ignore"):
        out = np.floor_divide(a, b)
        if mode == "trunc":  # numpy floors; step back toward zero where a remainder is left
            out += ((out * b != a) & ((a < 0) != (b < 0))).astype(out.dtype)
        return np.where(minus_one, np.negative(a), out)


class DivRounding(ArrayFunction):
    """z = a / b rounded toward zero ('trunc') or down ('floor'); piecewise constant, so both
    gradients are zero (as torch: DivBackward2)."""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, mode):
        if np.result_type(a, b).kind in "iub":
            _check_integer_divisor(b)
            dtype = np.result_type(a, b)
            if dtype == np.bool_:  # bools divide as int64, as torch
                dtype = np.dtype(np.int64)
            return _integer_division(np.asarray(a, dtype), np.asarray(b, dtype), mode)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            if mode == "floor":  # Python's divmod rule: floor(-1e-40 / 1e30) is -1
                return _broadcasting(np.floor_divide, a, b)
            return np.trunc(_broadcasting(np.true_divide, a, b))

    @staticmethod
    def backward(ctx, grad):
        zero = G.zeros_like(grad)  # not grad * 0: an infinite grad would make NaN
        return zero, zero, None


class Remainder(ArrayFunction):
    """z = a - b floor(a / b) (the sign of b, Python's %);  dz/da = 1, dz/db = -floor(a/b)."""

    rounding = staticmethod(np.floor)
    quotient = staticmethod(np.floor_divide)  # floor(a / b) as torch's div(floor): exact

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        if np.result_type(a, b).kind in "iu":
            _check_integer_divisor(b)
            return _integer_division(a, b, "mod" if cls.rounding is np.floor else "fmod")
        if cls.rounding is np.floor:
            return _broadcasting(np.mod, a, b)
        return _broadcasting(np.fmod, a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = None
        if ctx.needs_input_grad[1]:
            value_a = np.asarray(a.array if G.is_tensor(a) else a)
            value_b = np.asarray(b.array if G.is_tensor(b) else b)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                grad_b = -grad * cls.quotient(value_a, value_b)
        return grad, grad_b


class Fmod(Remainder):
    """z = a - b trunc(a / b) (the sign of a, C's fmod);  dz/da = 1, dz/db = -trunc(a/b)."""

    rounding = staticmethod(np.trunc)
    quotient = staticmethod(lambda a, b: np.trunc(a / b))


def _integer_power(a, b):
    """a ** b for integers with some b < 0, as torch's integer pow: 1 and -1 keep their
    powers (-1 by the parity of b), any other base gives 0 (numpy refuses)."""
    dtype = np.result_type(a, b)  # before asarray: a Python int stays weak (as torch's)
    try:
        a, b = np.broadcast_arrays(*(np.asarray(v) for v in (a, b)))
    except ValueError:
        raise broadcast_error(np.asarray(a), np.asarray(b)) from None
    negative = b < 0
    out = _broadcasting(np.power, a, np.where(negative, 0, b).astype(b.dtype)).astype(dtype)
    inverse = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(negative, inverse, out).astype(dtype)


class Pow(ArrayFunction):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = z ln a (taken as 0 where a = 0 and b >= 0).
    Named per call as torch: PowBackward0 for a number exponent (this class), PowBackward1
    for a tensor exponent, PowBackward2 for a number base."""

    @staticmethod
    def forward(ctx, a, b):
        if np.result_type(a, b).kind in "iu" and np.any(np.asarray(b) < 0):
            if not isinstance(b, np.ndarray):  # a number exponent: torch refuses
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            out = _integer_power(a, b)
        else:
            out = _broadcasting(np.power, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            # a number exponent's b - 1 in double, as torch (in float32 -1 - 6e-8 is -1)
            less = b - 1 if G.is_tensor(b) or isinstance(b, np.ndarray) else np.float64(b - 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_a = grad * b * G.astype(a ** less, np.result_type(a, b)) \
                    if not G.is_tensor(a) else grad * b * a ** (b - 1)
            zero_exponent = np.asarray(b.array if G.is_tensor(b) else b) == 0
            if np.any(zero_exponent):  # d(a^0)/da = 0, also at a = 0 (as torch)
                grad_a = G.where(zero_exponent, 0.0, grad_a)
        if ctx.needs_input_grad[1]:
            base = np.asarray(a.array if G.is_tensor(a) else a)
            exponent = np.asarray(b.array if G.is_tensor(b) else b)
            # torch's masking: 0 where a = 0 and b >= 0 (0 ** b is flat there); for b < 0 the
            # infinite power times log 0 stays infinite
            flat = (base == 0) & (exponent >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = G.log(G.where(flat, 1.0, a))
                grad_b = G.where(flat, 0.0, grad * out * log_a)
        return grad_a, grad_b


class PowTensorExponent(Pow):
    node_name = "PowBackward1"


class PowNumberBase(Pow):
    node_name = "PowBackward2"


def _extremum_grads(grad, a, b, largest):
    """torch's maximum/minimum backward: g to each input but where it loses, g/2 to both on
    a tie; where a NaN is involved neither loses, so both get g."""
    a = a.array if G.is_tensor(a) else a
    b = b.array if G.is_tensor(b) else b
    share = G.where(a == b, grad * 0.5, grad)
    a_loses, b_loses = (a < b, a > b) if largest else (a > b, a < b)
    return G.where(a_loses, 0.0, share), G.where(b_loses, 0.0, share)


class Maximum(ArrayFunction):
    """z = max(a, b); the gradient goes to the larger input, split equally on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.maximum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _extremum_grads(grad, a, b, largest=True)


class Minimum(ArrayFunction):
    """z = min(a, b); the gradient goes to the smaller input, split equally on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.minimum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _extremum_grads(grad, a, b, largest=False)


class Neg(ArrayFunction):
    """z = -a."""

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(ArrayFunction):
    """z = |a|;  dz/da = sign(a) (0 at 0, as torch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * G.sign(a)


class Sign(ArrayFunction):
    """z = sign(a) (-1, 0 or 1; 0 for NaN, as torch);  dz/da = 0."""

    @staticmethod
    def forward(ctx, a):
        return G.sign(a)

    @staticmethod
    def backward(ctx, grad):
        return G.zeros_like(grad)


class Unary(ArrayFunction):
    """z = f(a) elementwise;  dz/da = f'(a), written by each subclass as ``derivative`` of
    the input a, or of the output z when ``of_output`` (e^a, tan, ...). Functions with poles
    or a limited domain (``quiet``) compute without numpy's warnings, as torch gives inf and
    NaN silently; the others skip that context (it costs a microsecond a call)."""

    of_output = False
    quiet = False

    @staticmethod
    def compute(a):
        raise NotImplementedError

    @staticmethod
    def derivative(value):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, a):
        if cls.quiet:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = cls.compute(a)
        else:
            out = cls.compute(a)
        if type(out) is not np.ndarray or out.dtype != a.dtype:
            out = np.asarray(out, dtype=a.dtype)
        ctx.save_for_backward(out if cls.of_output else a)
        return out

    # dz/da = 1 / denominator(a) where given: grad / denominator does not overflow where
    # 1 / denominator does (log of a subnormal: 1 / 1e-40 is inf in float32, g / 1e-40 not)
    denominator = None

    @classmethod
    def backward(cls, ctx, grad):
        (value,) = ctx.saved_tensors
        if cls.quiet:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if cls.denominator is not None:
                    return grad / cls.denominator(value)
                return grad * cls.derivative(value)
        return grad * cls.derivative(value)


class Exp(Unary):
    """z = e^a;  dz/da = z."""

    of_output = True
    compute = staticmethod(np.exp)
    derivative = staticmethod(lambda z: z)


class Exp2(Unary):
    """z = 2^a;  dz/da = z ln 2."""

    of_output = True
    compute = staticmethod(np.exp2)
    derivative = staticmethod(lambda z: z * math.log(2.0))


class Expm1(Unary):
    """z = e^a - 1;  dz/da = z + 1."""

    of_output = True
    compute = staticmethod(np.expm1)
    derivative = staticmethod(lambda z: z + 1)


class Log(Unary):
    """z = ln a;  dz/da = 1/a."""

    quiet = True

    compute = staticmethod(np.log)
    derivative = staticmethod(lambda a: 1 / a)
    denominator = staticmethod(lambda a: a)


class Log2(Unary):
    """z = log2 a;  dz/da = 1/(a ln 2)."""

    quiet = True

    compute = staticmethod(np.log2)
    derivative = staticmethod(lambda a: 1 / (a * math.log(2.0)))
    denominator = staticmethod(lambda a: a * math.log(2.0))


class Log10(Unary):
    """z = log10 a;  dz/da = 1/(a ln 10)."""

    quiet = True

    compute = staticmethod(np.log10)
    derivative = staticmethod(lambda a: 1 / (a * math.log(10.0)))
    denominator = staticmethod(lambda a: a * math.log(10.0))


class Log1p(Unary):
    """z = ln(1 + a);  dz/da = 1/(1 + a)."""

    quiet = True

    node_name = "Log1PBackward0"

    compute = staticmethod(np.log1p)
    derivative = staticmethod(lambda a: 1 / (a + 1))
    denominator = staticmethod(lambda a: a + 1)


class Sqrt(Unary):
    """z = √a;  dz/da = 1 / (2 z)."""

    quiet = True

    of_output = True
    compute = staticmethod(np.sqrt)
    derivative = staticmethod(lambda z: 1 / (2 * z))


class Rsqrt(Unary):
    """z = 1/√a;  dz/da = -z³/2."""

    quiet = True

    of_output = True
    compute = staticmethod(lambda a: 1 / np.sqrt(a))
    derivative = staticmethod(lambda z: -0.5 * z * z * z)


class Square(Unary):
    """z = a²;  dz/da = 2a (torch computes it as pow(a, 2))."""

    node_name = "PowBackward0"

    compute = staticmethod(np.square)
    derivative = staticmethod(lambda a: 2 * a)


class Reciprocal(Unary):
    """z = 1/a;  dz/da = -z²."""

    quiet = True

    of_output = True
    compute = staticmethod(np.reciprocal)
    derivative = staticmethod(lambda z: -(z * z))


class Sin(Unary):
    """z = sin a;  dz/da = cos a."""

    compute = staticmethod(np.sin)
    derivative = staticmethod(lambda a: G.cos(a))


class Cos(Unary):
    """z = cos a;  dz/da = -sin a."""

    compute = staticmethod(np.cos)
    derivative = staticmethod(lambda a: -G.sin(a))


class Tan(Unary):
    """z = tan a;  dz/da = 1 + z²."""

    of_output = True
    compute = staticmethod(np.tan)
    derivative = staticmethod(lambda z: 1 + z * z)


class Asin(Unary):
    """z = asin a;  dz/da = 1/√(1 - a²)."""

    quiet = True

    compute = staticmethod(np.arcsin)
    derivative = staticmethod(lambda a: 1 / G.sqrt(1 - a * a))


class Acos(Unary):
    """z = acos a;  dz/da = -1/√(1 - a²)."""

    quiet = True

    compute = staticmethod(np.arccos)
    derivative = staticmethod(lambda a: -1 / G.sqrt(1 - a * a))


class Atan(Unary):
    """z = atan a;  dz/da = 1/(1 + a²)."""

    compute = staticmethod(np.arctan)
    derivative = staticmethod(lambda a: 1 / (1 + a * a))


class Sinh(Unary):
    """z = sinh a;  dz/da = cosh a."""

    compute = staticmethod(np.sinh)
    derivative = staticmethod(lambda a: G.cosh(a))


class Cosh(Unary):
    """z = cosh a;  dz/da = sinh a."""

    compute = staticmethod(np.cosh)
    derivative = staticmethod(lambda a: G.sinh(a))


class Asinh(Unary):
    """z = asinh a;  dz/da = 1/√(a² + 1)."""

    compute = staticmethod(np.arcsinh)
    derivative = staticmethod(lambda a: 1 / G.sqrt(a * a + 1))


class Acosh(Unary):
    """z = acosh a;  dz/da = 1/√(a² - 1)."""

    quiet = True

    compute = staticmethod(np.arccosh)
    derivative = staticmethod(lambda a: 1 / G.sqrt(a * a - 1))


class Atanh(Unary):
    """z = atanh a;  dz/da = 1/(1 - a²)."""

    quiet = True

    compute = staticmethod(np.arctanh)
    derivative = staticmethod(lambda a: 1 / (1 - a * a))


class Tanh(Unary):
    """z = tanh a;  dz/da = 1 - z²."""

    of_output = True
    compute = staticmethod(np.tanh)
    derivative = staticmethod(lambda z: 1 - z * z)


_erf_objects = np.frompyfunc(math.erf, 1, 1)


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise without scipy: math.erf is exact to double precision."""
    return np.asarray(_erf_objects(x)).astype(x.dtype)  # a 0-d input gives a Python float


class Erf(Unary):
    """z = erf a = 2/√π ∫₀ᵃ e^(-t²) dt;  dz/da = 2/√π e^(-a²)."""

    compute = staticmethod(erf_array)
    derivative = staticmethod(lambda a: (2.0 / math.sqrt(math.pi)) * G.exp(-(a * a)))


class Rounding(Unary):
    """z = floor, ceil, round (half to even, as torch) or trunc of a;  dz/da = 0 (zeros, not
    a * 0: an infinite input must not make a NaN gradient)."""

    derivative = staticmethod(G.zeros_like)


class Floor(Rounding):
    compute = staticmethod(np.floor)


class Ceil(Rounding):
    compute = staticmethod(np.ceil)


class Round(Rounding):
    compute = staticmethod(np.round)


class Trunc(Rounding):
    compute = staticmethod(np.trunc)


class Frac(Unary):
    """z = a - trunc(a);  dz/da = 1."""

    compute = staticmethod(lambda a: a - np.trunc(a))
    derivative = staticmethod(lambda a: 1)


class NanToNum(ArrayFunction):
    """z = a with NaN, +inf and -inf replaced by numbers;  dz/da = 1 where a is finite."""

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.finite, None, None, None


class Atan2(ArrayFunction):
    """z = atan2(a, b), the angle of (b, a);  dz/da = b/(a² + b²), dz/db = -a/(a² + b²)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _broadcasting(np.arctan2, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        radius2 = a * a + b * b
        origin = radius2 == 0  # torch's gradient at (0, 0) is 0, not 0/0
        scale = G.where(origin, 0, grad / G.where(origin, 1, radius2))
        return (scale * b if ctx.needs_input_grad[0] else None,
                -scale * a if ctx.needs_input_grad[1] else None)


class Relu(ArrayFunction):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    inplace_saves_output = True  # relu_ saves the tensor itself, as torch

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * ~(out <= 0)  # torch's threshold: a NaN passes its gradient


class Sigmoid(ArrayFunction):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z). Computed without overflow for large |a|."""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Clamp(ArrayFunction):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0 (as torch);
    tensor bounds: dz/dlo = 1 where a < lo, dz/dhi = 1 where a > hi. Number bounds name the
    node ClampBackward1, tensor bounds (ClampTensorBounds) ClampBackward0, as torch."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        out = a
        if low is not None:
            out = np.maximum(out, low)
        if high is not None:
            out = np.minimum(out, high)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        value = np.asarray(a.array if G.is_tensor(a) else a)
        inside = np.ones(value.shape, dtype=bool)  # tensor bounds may broadcast a
        if ctx.low is not None:
            inside = inside & (value >= ctx.low)
        if ctx.high is not None:
            inside = inside & (value <= ctx.high)
        grad_low = grad * (value < ctx.low) if ctx.needs_input_grad[1] else None
        grad_high = grad * (value > ctx.high) if ctx.needs_input_grad[2] else None
        return grad * inside, grad_low, grad_high


class ClampTensorBounds(Clamp):
    node_name = "ClampBackward0"


class Where(ArrayFunction):
    """z = a where condition else b; the gradient goes to the chosen side."""

    graph_arguments = (1, 2)

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        try:
            return np.where(condition, a, b)
        except ValueError:
            try:
                left = np.broadcast_to(condition, np.broadcast_shapes(np.shape(condition),
                                                                      np.shape(a)))
            except ValueError:
                raise broadcast_error(condition, a) from None
            raise broadcast_error(left, b) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        grad_a = G.where(condition, grad, 0.0) if ctx.needs_input_grad[1] else None
        grad_b = G.where(condition, 0.0, grad) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


class MaskedFill(Where):
    """masked_fill(mask, number): z = value where mask else a;  da = g where not mask."""

    node_name = "MaskedFillBackward0"
    graph_arguments = (2,)


class MaskedFillTensor(Where):
    """masked_fill(mask, 0-d tensor): dvalue = Σ g where mask (the engine sums it)."""

    node_name = "MaskedFillBackward1"
    graph_arguments = (2, 1)


class Cast(ArrayFunction):
    """z = a converted to another dtype; the gradient is converted back by the engine."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Clone(ArrayFunction):
    """z = a copy of a (C-contiguous)."""

    @staticmethod
    def forward(ctx, a):
        return np.array(a, order="C", copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Fill(ArrayFunction):
    """z = a filled with the value v (``fill_``);  da = 0, dv = Σ g (v a 0-d tensor)."""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, a, value):
        return np.full(a.shape, value, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return G.zeros_like(grad), (grad.sum() if ctx.needs_input_grad[1] else None)


class FillTensor(Fill):
    node_name = "FillBackward3"


class Zero(Fill):
    """z = zeros like a (``zero_``);  da = 0."""

    node_name = "ZeroBackward0"


class Copy(ArrayFunction):
    """z = src broadcast to a's shape and cast to its dtype (``copy_``);  da = 0, dsrc = g
    (summed back over the broadcast dimensions by the engine)."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, a, src):
        out = np.empty_like(a)
        np.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, grad):
        return G.zeros_like(grad), grad


class Softmax(ArrayFunction):
    """s = e^(a - max a) / Σ e^(a - max a) along dim;  da = s (g - Σ g s)."""

    @staticmethod
    def forward(ctx, a, dim):
        out = G.softmax(a, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(ArrayFunction):
    """l = a - max a - ln Σ e^(a - max a) along dim;  da = g - softmax(a) Σ g."""

    @staticmethod
    def forward(ctx, a, dim):
        if a.size == 0:  # no maximum to subtract: an empty result
            out = a.copy()
        else:
            shifted = a - a.max(axis=dim, keepdims=True)
            out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - G.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None


# ----------------------------------------------------------------------------- front doors

def _binary(function, input, other, name):
    """Promote the operands as torch does and apply ``function``."""
    if type(input) is not Tensor and not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    a, b = promote_operands(input, other)
    if a is NotImplemented:
        raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not "
                        f"{type(other).__name__}")
    return function.apply(a, b)


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


def _check_alpha(input, other, alpha) -> None:
    """torch's rules for ``alpha``: no float alpha for an integer result, no bool alpha but
    for a bool one."""
    if not isinstance(input, Tensor):
        input, other = other, input
    if not isinstance(input, Tensor):
        return
    dtype = result_type(input, other)
    if isinstance(alpha, bool):
        if dtype != np.bool_:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and dtype.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def add(input, other, *, alpha=1, out=None):
    """input + alpha · other."""
    if type(alpha) is not int or alpha != 1:
        _check_alpha(input, other, alpha)
    if type(input) is not Tensor and not isinstance(input, Tensor):
        input, other = other, input  # torch.add(2, t) and 2 + t
    if alpha != 1 and isinstance(other, Tensor):
        a, b = promote_operands(input, other)
        return AddScaled.apply(a, b, alpha)
    return _binary(Add, input, _scaled(other, alpha), "add")


def _check_not_bool_subtraction(a, other) -> None:
    if a.array.dtype == np.bool_ or isinstance(other, bool) or (
            isinstance(other, Tensor) and other.array.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def sub(input, other, *, alpha=1, out=None):
    """input - alpha · other."""
    if not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    _check_not_bool_subtraction(input, other)
    if type(alpha) is not int or alpha != 1:
        _check_alpha(input, other, alpha)
    if alpha != 1 and isinstance(other, Tensor):
        a, b = promote_operands(input, other)
        return SubScaled.apply(a, b, -alpha)
    return _binary(Sub, input, _scaled(other, alpha), "sub")


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha · input (``number - t``)."""
    _check_not_bool_subtraction(input, other)
    a, b = promote_operands(input, other)
    if a is NotImplemented:
        raise TypeError(f"rsub(): argument 'other' must be Tensor or Number, not "
                        f"{type(other).__name__}")
    return Rsub.apply(b, _scaled(a, alpha))


def mul(input, other, *, out=None):
    if type(input) is not Tensor and not isinstance(input, Tensor):
        input, other = other, input
    return _binary(Mul, input, other, "mul")


multiply = mul


def _true_division_operands(input, other):
    """Integer by integer divides in float32; with a float operand, promotion decides."""
    if input.array.dtype.kind == "f":
        return input
    other_is_float = (other.array.dtype.kind == "f" if isinstance(other, Tensor)
                      else isinstance(other, float))
    return input if other_is_float else input.type(_dtypes.default_float)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'trunc' or 'floor' rounds the quotient (zero gradient)."""
    if not isinstance(input, Tensor):
        return rdiv(other, input)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                               f"'floor' but found '{rounding_mode}'")
        _check_not_bool(input, other, f"div_{rounding_mode}_cpu")
        a, b = promote_operands(input, other)
        return DivRounding.apply(a, b, rounding_mode)
    return _binary(Div, _true_division_operands(input, other), other, "div")


divide = true_divide = div


def rdiv(input, other):
    """other / input (``number / t``)."""
    a, b = promote_operands(_true_division_operands(input, other), other)
    return Rdiv.apply(b, a)


def floor_divide(input, other):
    _check_not_bool(input, other, "div_floor_cpu")
    if not isinstance(input, Tensor):
        a, b = promote_operands(other, input)
        return DivRounding.apply(b, a, "floor")
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """input - other · floor(input / other): Python's %, the sign of the divisor."""
    _check_not_bool(input, other, "remainder_cpu")
    if not isinstance(input, Tensor):
        a, b = promote_operands(other, input)
        return Remainder.apply(b, a)
    return _binary(Remainder, input, other, "remainder")


def fmod(input, other):
    """input - other · trunc(input / other): C's fmod, the sign of the dividend."""
    _check_not_bool(input, other, "fmod_cpu")
    return _binary(Fmod, input, other, "fmod")


def _check_not_bool(input, other, kernel) -> None:
    """torch's remainder and fmod have no bool kernel (two bool operands)."""
    if all(isinstance(v, bool) or (isinstance(v, Tensor) and v.array.dtype == np.bool_)
           for v in (input, other)):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def pow(input, exponent, *, out=None):  # noqa: A001
    """input ** exponent (a number or a tensor)."""
    _check_not_bool(input, exponent, "pow")
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    function = PowTensorExponent if isinstance(exponent, Tensor) else Pow
    return _binary(function, input, exponent, "pow")


def rpow(input, base):
    """base ** input (``2 ** t``)."""
    a, b = promote_operands(input, base)
    return PowNumberBase.apply(b, a)


def _unary(function, input, name, to_float=True):
    check_tensor(input, "input", name)
    return function.apply(floating(input) if to_float else input)


def neg(input):
    if isinstance(input, Tensor) and input.array.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _unary(Neg, input, "neg", to_float=False)


negative = neg


def abs(input):  # noqa: A001
    if isinstance(input, Tensor) and input.array.dtype == np.bool_:
        raise NotImplementedError('"abs_cpu" not implemented for \'Bool\'')
    return _unary(Abs, input, "abs", to_float=False)


absolute = abs


def sign(input):
    if isinstance(input, Tensor) and input.array.dtype == np.bool_:
        return Tensor(input.array.copy())  # sign(True) is True, as torch
    return _unary(Sign, input, "sign", to_float=False)


def exp(input):
    return _unary(Exp, input, "exp")


def exp2(input):
    return _unary(Exp2, input, "exp2")


def expm1(input):
    return _unary(Expm1, input, "expm1")


def log(input):
    return _unary(Log, input, "log")


def log2(input):
    return _unary(Log2, input, "log2")


def log10(input):
    return _unary(Log10, input, "log10")


def log1p(input):
    return _unary(Log1p, input, "log1p")


def sqrt(input):
    return _unary(Sqrt, input, "sqrt")


def rsqrt(input):
    return _unary(Rsqrt, input, "rsqrt")


def square(input):
    if isinstance(input, Tensor) and input.array.dtype == np.bool_:
        input = input.type(_dtypes.int64)  # torch's pow(bool, 2) is int64
    return _unary(Square, input, "square", to_float=False)


def reciprocal(input):
    return _unary(Reciprocal, input, "reciprocal")


def sin(input):
    return _unary(Sin, input, "sin")


def cos(input):
    return _unary(Cos, input, "cos")


def tan(input):
    return _unary(Tan, input, "tan")


def asin(input):
    return _unary(Asin, input, "asin")


def acos(input):
    return _unary(Acos, input, "acos")


def atan(input):
    return _unary(Atan, input, "atan")


def sinh(input):
    return _unary(Sinh, input, "sinh")


def cosh(input):
    return _unary(Cosh, input, "cosh")


def asinh(input):
    return _unary(Asinh, input, "asinh")


def acosh(input):
    return _unary(Acosh, input, "acosh")


def atanh(input):
    return _unary(Atanh, input, "atanh")


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _to_float_operands(input, other):
    """torch's integer-to-float promotion of a float op: the common dtype's float, each
    operand cast to it from its own dtype (not through the integer common dtype)."""
    dtype = result_type(input, other)
    if dtype.kind != "f":
        dtype = _dtypes.default_float
    return tuple(t if t.array.dtype == dtype else t.type(dtype) for t in (input, other))


def atan2(input, other):
    """The angle of the point (other, input), in (-π, π] (integers promote to float32)."""
    check_tensor(other, "other", "atan2")
    return Atan2.apply(*_to_float_operands(input, other))


arctan2 = atan2


def erf(input):
    return _unary(Erf, input, "erf")


def _rounding(function, input, name):
    check_tensor(input, "input", name)
    if input.array.dtype == np.bool_:
        raise NotImplementedError(f'"{name}_vml_cpu" not implemented for \'Bool\'')
    if input.array.dtype.kind in "iu":  # integers are already whole (a copy, as torch)
        return Tensor(input.array.copy())
    return function.apply(input)


def floor(input):
    return _rounding(Floor, input, "floor")


def ceil(input):
    return _rounding(Ceil, input, "ceil")


def round(input, *, decimals=None):  # noqa: A001
    """Half to even, as torch; with ``decimals``, at that decimal place (floats only, as
    torch's round.decimals)."""
    if decimals is not None:
        check_tensor(input, "input", "round")
        check_floating(input, "round_vml_cpu")
    if decimals:
        scale = 10.0 ** decimals
        return _rounding(Round, input * scale, "round") / scale
    return _rounding(Round, input, "round")


def trunc(input):
    return _rounding(Trunc, input, "trunc")


fix = trunc


def frac(input):
    check_tensor(input, "input", "frac")
    check_floating(input, "frac_cpu")
    return Frac.apply(input)


def isnan(input):
    return Tensor(np.isnan(input.array))


def isinf(input):
    return Tensor(np.isinf(input.array))


def isposinf(input):
    return Tensor(np.isposinf(input.array))


def isneginf(input):
    return Tensor(np.isneginf(input.array))


def isfinite(input):
    return Tensor(np.isfinite(input.array))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's largest), -inf -> ``neginf``
    (default: its lowest); integers pass through."""
    check_tensor(input, "input", "nan_to_num")
    if input.array.dtype.kind in "biu":
        return Tensor(input.array.copy())
    return NanToNum.apply(input, nan, posinf, neginf)


def relu(input, inplace: bool = False):
    """max(x, 0); with ``inplace``, written into ``input`` (``input.relu_()``)."""
    check_tensor(input, "input", "relu")
    if input.array.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return input.relu_() if inplace else Relu.apply(input)


def sigmoid(input):
    """1 / (1 + e^-x) (integers promote to float32, in every spelling)."""
    return _unary(Sigmoid, input, "sigmoid")


def tanh(input):
    return _unary(Tanh, input, "tanh")


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """min(max(input, min), max); bounds are numbers or tensors (broadcast)."""
    check_tensor(input, "input", "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) != isinstance(max, Tensor) and min is not None \
            and max is not None:
        # torch's parser reads a 0-d tensor that requires no grad as a number beside a
        # number; else refuses
        if isinstance(min, Tensor) and min.array.ndim == 0 and not min.requires_grad:
            min = min.item()
        elif isinstance(max, Tensor) and max.array.ndim == 0 and not max.requires_grad:
            max = max.item()
        else:
            raise TypeError("clamp() received an invalid combination of arguments: min and "
                            "max must both be tensors or both numbers")
    dtype = result_type_of(input, min, max)  # torch's, of the three (a bool clamped to 0: int64)
    if dtype != input.array.dtype:
        input = input.type(dtype)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        low = None if min is None else _bound(min, input)
        high = None if max is None else _bound(max, input)
        return ClampTensorBounds.apply(input, low, high)
    return Clamp.apply(input, min, max)


clip = clamp


def _bound(value, input):
    if not isinstance(value, Tensor):
        value = Tensor(np.asarray(value, dtype=input.array.dtype))
    try:
        np.broadcast_shapes(input.array.shape, value.array.shape)
    except ValueError:
        raise broadcast_error(input.array, value.array) from None
    return value if value.array.dtype == input.array.dtype else value.type(input.array.dtype)


def maximum(input, other):
    check_tensor(other, "other", "maximum")
    return _binary(Maximum, input, other, "maximum")


def minimum(input, other):
    check_tensor(other, "other", "minimum")
    return _binary(Minimum, input, other, "minimum")


def where(condition, input=None, other=None):
    """input where condition else other (broadcasting; gradients to both); with the
    condition alone, the indices of its nonzero elements (``nonzero(as_tuple=True)``)."""
    condition_array = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(condition_array))
    if condition_array.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {type_name(condition_array.dtype)}")
    if isinstance(input, Tensor):
        input, other = promote_operands(input, other)
    elif isinstance(other, Tensor):
        other, input = promote_operands(other, input)
    else:
        raise TypeError("where expects at least one of input and other to be a Tensor")
    return Where.apply(Tensor(condition_array), input, other)


def _implicit_softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_family(function, name: str, input, dim, dtype, axis):
    check_tensor(input, "input", name)
    dim = dim_alias(dim, axis)
    if dim is None:
        dim = _implicit_softmax_dim(name, input.ndim)
    if dtype is not None:
        input = input.type(dtype)
    axis = normalize_dim(dim, input.array.ndim)  # torch checks the dim before the dtype
    check_floating(input, f"{name}_lastdim_kernel_impl")
    return function.apply(input, axis)


def softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """exp(x) / Σ_dim exp(x)."""
    return _softmax_family(Softmax, "softmax", input, dim, dtype, axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """x - log Σ_dim exp(x)."""
    return _softmax_family(LogSoftmax, "log_softmax", input, dim, dtype, axis)


def clone(input, *, memory_format=None):
    return Clone.apply(input)


# ----------------------------------------------------------------------------- comparisons

def _compare(ufunc, input, other):
    """input <op> other in torch's result type of the two (an int tensor against a float
    number compares in float32, as torch; numpy would use float64)."""
    a = input.array
    if (isinstance(other, float) and a.dtype.kind in "biu") or (
            isinstance(other, Tensor) and other.array.dtype != a.dtype):
        dtype = result_type(input, other)
        a = a.astype(dtype, copy=False)
        other = (other.array.astype(dtype, copy=False) if isinstance(other, Tensor)
                 else dtype.type(other))
    other = other.array if isinstance(other, Tensor) else other
    try:
        return wrap(np.asarray(ufunc(a, other)))
    except ValueError as error:
        raise broadcast_error(input.array, np.asarray(other)) from error


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


# ----------------------------------------------------------------------------- bitwise

def _integer_operands(name, input, other):
    """Both operands as arrays of torch's result type; floats refused as torch does."""
    if not isinstance(input, Tensor):
        input, other = other, input
    dtype = result_type(input, other)
    if dtype.kind not in "biu":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{type_name(dtype)}\'')
    other_array = other.array if isinstance(other, Tensor) else np.asarray(other)
    if other_array.dtype.kind == "f":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Float\'')
    return input.array.astype(dtype, copy=False), other_array.astype(dtype, copy=False)


def _bitwise(ufunc, name, input, other, reflected=False):
    if name in ("lshift", "rshift"):
        _check_not_bool(input, other, f"{name}_cpu")
    shapes = [np.shape(v.array if isinstance(v, Tensor) else v) for v in (input, other)]
    try:  # torch checks the shapes before the dtypes
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error(np.empty(shapes[0]), np.empty(shapes[1])) from None
    a, b = _integer_operands(name, input, other)
    if reflected:  # 3 << t: the number is the left operand
        a, b = b, a
    try:
        return Tensor(np.asarray(ufunc(a, b)))
    except ValueError as error:
        raise broadcast_error(a, b) from error


def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_left_shift(input, other):
    """input · 2^other for integers (torch's <<)."""
    return _bitwise(np.left_shift, "lshift", input, other, reflected=not isinstance(
        input, Tensor))


def bitwise_right_shift(input, other):
    """input // 2^other for integers (torch's >>)."""
    return _bitwise(np.right_shift, "rshift", input, other, reflected=not isinstance(
        input, Tensor))


def _bool_array(value):
    array = value.array if isinstance(value, Tensor) else np.asarray(value)
    return array != 0 if array.dtype != np.bool_ else array


def logical_not(input):
    return Tensor(np.logical_not(_bool_array(input)))


def _logical(ufunc, name, input, other):
    check_tensor(input, "input", name)
    check_tensor(other, "other", name, 2)
    common = result_type(input, other)  # torch tests both in their common dtype
    a, b = (_bool_array(t if t.array.dtype == common else t.type(common))
            for t in (input, other))
    try:
        return Tensor(np.asarray(ufunc(a, b)))
    except ValueError:
        raise broadcast_error(a, b) from None


def logical_and(input, other):
    return _logical(np.logical_and, "logical_and", input, other)


def logical_or(input, other):
    return _logical(np.logical_or, "logical_or", input, other)


def logical_xor(input, other):
    return _logical(np.logical_xor, "logical_xor", input, other)


def bitwise_not(input):
    """~input for integers and bools (``~t`` raises TypeError for floats, as torch's
    operator; this function NotImplementedError, as torch.bitwise_not)."""
    if input.array.dtype.kind not in "biu":
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for '
                                  f"'{type_name(input.array.dtype)}'")
    return Tensor(np.invert(input.array))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """|input - other| <= atol + rtol |other| everywhere (operands of one dtype, as torch)."""
    check_tensor(input, "input", "allclose")
    check_tensor(other, "other", "allclose", 2)
    try:
        np.broadcast_shapes(input.array.shape, other.array.shape)
    except ValueError:
        raise broadcast_error(input.array, other.array) from None
    if input.array.dtype != other.array.dtype:
        raise RuntimeError(f"{type_name(input.array.dtype)} did not match "
                           f"{type_name(other.array.dtype)}")
    return bool(np.allclose(input.array, other.array, rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    if isinstance(other, Tensor):
        try:
            np.broadcast_shapes(input.array.shape, other.array.shape)
        except ValueError:
            raise broadcast_error(input.array, other.array) from None
    if isinstance(other, Tensor) and other.array.dtype != input.array.dtype:
        raise RuntimeError(f"{type_name(input.array.dtype)} did not match "
                           f"{type_name(other.array.dtype)}")
    other = other.array if isinstance(other, Tensor) else other
    return Tensor(np.isclose(input.array, other, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """Same shape and the same values."""
    return input.array.shape == other.array.shape and bool(np.array_equal(input.array,
                                                                          other.array))
