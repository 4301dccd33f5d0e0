"""The in-place forms of the ops (``t.add_(x)``, ``t += x``, ``fill_``, ``copy_``, ...).

Each either writes into the tensor's array directly (grad mode off, or nothing involved
requires grad: optimizers, init, ``w -= lr * w.grad`` under no_grad) and bumps its version,
or, when torch would record it, runs the out-of-place op and rebases the tensor's history onto
it (``autograd.record_inplace``). The result keeps the tensor's dtype (torch refuses an
in-place result that would need a wider one, e.g. a float into an int tensor).
"""
import numpy as np

from minigrad.autograd.inplace import inplace_is_recorded, record_inplace
from minigrad.ops import elementwise as _ew
from minigrad.ops.arguments import check_fits, type_name
from minigrad.ops.promotion import can_cast, result_type, result_type_of
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

__all__ = ["add_", "sub_", "mul_", "div_", "pow_", "clamp_", "relu_", "zero_", "fill_",
           "copy_", "uniform_", "normal_", "floor_divide_", "bitwise_and_", "bitwise_or_",
           "bitwise_xor_", "bitwise_left_shift_", "bitwise_right_shift_", "remainder_",
           "apply_"]


def _array_of(value):
    return value.array if isinstance(value, Tensor) else value


def _check_result_type(tensor: Tensor, other, name: str, dtype=None) -> None:
    """torch refuses an in-place op whose result type cannot be stored in the tensor."""
    dtype = result_type(tensor, other) if dtype is None else dtype
    if not can_cast(dtype, tensor.array.dtype):
        raise RuntimeError(f"result type {type_name(dtype)} can't be cast to the desired "
                           f"output type {type_name(tensor.array.dtype)}")


def _write(tensor: Tensor, ufunc, *operands) -> Tensor:
    try:
        ufunc(tensor.array, *operands, out=tensor.array, casting="unsafe")
    except (TypeError, ValueError) as error:
        raise RuntimeError(f"in-place {ufunc.__name__} on a tensor of shape "
                           f"{tensor.array.shape} and dtype {tensor.array.dtype}: "
                           f"{error}") from None
    tensor._version.value += 1
    return tensor


def _add_or_sub(tensor: Tensor, other, alpha, function, ufunc, name) -> Tensor:
    _check_result_type(tensor, other, name)
    if inplace_is_recorded(tensor, (other,)):
        return record_inplace(tensor, function, other if alpha == 1 else other * alpha)
    other = _array_of(other)
    return _write(tensor, ufunc, other if alpha == 1 else np.multiply(other, alpha))


def add_(tensor: Tensor, other, *, alpha=1) -> Tensor:
    return _add_or_sub(tensor, other, alpha, _ew.Add, np.add, "add_")


def sub_(tensor: Tensor, other, *, alpha=1) -> Tensor:
    _ew._check_not_bool_subtraction(tensor, other)
    return _add_or_sub(tensor, other, alpha, _ew.Sub, np.subtract, "sub_")


def mul_(tensor: Tensor, other) -> Tensor:
    _check_result_type(tensor, other, "mul_")
    if inplace_is_recorded(tensor, (other,)):
        return record_inplace(tensor, _ew.Mul, other)
    return _write(tensor, np.multiply, _array_of(other))


def div_(tensor: Tensor, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is not None:
        return copy_(tensor, _ew.div(tensor, other, rounding_mode=rounding_mode))
    if tensor.array.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(tensor.array.dtype)}")
    if inplace_is_recorded(tensor, (other,)):
        return record_inplace(tensor, _ew.Div, other)
    return _write(tensor, np.true_divide, _array_of(other))


def floor_divide_(tensor: Tensor, other) -> Tensor:
    return div_(tensor, other, rounding_mode="floor")


def pow_(tensor: Tensor, exponent) -> Tensor:
    _check_result_type(tensor, exponent, "pow_")
    if inplace_is_recorded(tensor, (exponent,)):
        function = _ew.PowTensorExponent if isinstance(exponent, Tensor) else _ew.Pow
        return record_inplace(tensor, function, exponent)
    return _write(tensor, np.power, _array_of(exponent))


def clamp_(tensor: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _check_result_type(tensor, None, "clamp_", result_type_of(tensor, min, max))
    if inplace_is_recorded(tensor, (min, max)):
        bounds_are_tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
        function = _ew.ClampTensorBounds if bounds_are_tensors else _ew.Clamp
        return record_inplace(tensor, function, min, max)
    return _write(tensor, np.clip, _array_of(min), _array_of(max))


def relu_(tensor: Tensor) -> Tensor:
    if inplace_is_recorded(tensor):
        return record_inplace(tensor, _ew.Relu)
    return _write(tensor, np.maximum, 0)


def zero_(tensor: Tensor) -> Tensor:
    if inplace_is_recorded(tensor):
        return record_inplace(tensor, _ew.Zero, 0)
    return fill_(tensor, 0)


def fill_(tensor: Tensor, value) -> Tensor:
    if inplace_is_recorded(tensor, (value,)):
        function = _ew.FillTensor if isinstance(value, Tensor) else _ew.Fill
        return record_inplace(tensor, function, value)
    value = check_fits(value, tensor.array.dtype)
    tensor.array.fill(_array_of(value))
    tensor._version.value += 1
    return tensor


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _copy_shape_error(source, shape) -> RuntimeError:
    return RuntimeError(f"copy_: the size of src {np.shape(source)} does not broadcast to the "
                        f"destination's {shape}")


def copy_(tensor: Tensor, src) -> Tensor:
    source = _array_of(src)
    if not _broadcasts_to(np.shape(source), tensor.array.shape):  # numpy drops leading 1s
        raise _copy_shape_error(source, tensor.array.shape)
    if inplace_is_recorded(tensor, (src,)):
        return record_inplace(tensor, _ew.Copy, src)
    try:
        np.copyto(tensor.array, source, casting="unsafe")
    except ValueError:
        raise _copy_shape_error(source, tensor.array.shape) from None
    tensor._version.value += 1
    return tensor


def uniform_(tensor: Tensor, a=0.0, b=1.0, *, generator=None) -> Tensor:
    return copy_(tensor, numpy_generator(generator).uniform(a, b, tensor.array.shape))


def normal_(tensor: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    return copy_(tensor, numpy_generator(generator).normal(mean, std, tensor.array.shape))


def _bitwise_(name, ufunc, tensor, other) -> Tensor:
    result = getattr(_ew, name)(tensor, other)
    _check_result_type(tensor, other, name, result.array.dtype)
    return _write_result(tensor, result)


def _write_result(tensor: Tensor, result: Tensor) -> Tensor:
    """Store an op's result in the tensor, wrapped to its dtype."""
    if result.array.shape != tensor.array.shape:
        raise RuntimeError(f"output with shape {list(tensor.array.shape)} doesn't match the "
                           f"broadcast shape {list(result.array.shape)}")
    np.copyto(tensor.array, result.array, casting="unsafe")
    tensor._version.value += 1
    return tensor


def remainder_(tensor: Tensor, other) -> Tensor:
    _check_result_type(tensor, other, "remainder_")
    if inplace_is_recorded(tensor, (other,)):
        return record_inplace(tensor, _ew.Remainder, other)
    if tensor.array.dtype.kind in "iu":  # torch's integer rules (a zero divisor raises)
        return _write_result(tensor, _ew.remainder(tensor, other))
    return _write(tensor, np.mod, _array_of(other))


def bitwise_left_shift_(tensor: Tensor, other) -> Tensor:
    return _bitwise_("bitwise_left_shift", np.left_shift, tensor, other)


def bitwise_right_shift_(tensor: Tensor, other) -> Tensor:
    return _bitwise_("bitwise_right_shift", np.right_shift, tensor, other)


def bitwise_and_(tensor: Tensor, other) -> Tensor:
    return _bitwise_("bitwise_and", np.bitwise_and, tensor, other)


def bitwise_or_(tensor: Tensor, other) -> Tensor:
    return _bitwise_("bitwise_or", np.bitwise_or, tensor, other)


def bitwise_xor_(tensor: Tensor, other) -> Tensor:
    return _bitwise_("bitwise_xor", np.bitwise_xor, tensor, other)


def apply_(tensor: Tensor, function, *args) -> Tensor:
    """``function`` applied to ``tensor`` in place (the ``inplace=True`` of a functional op):
    recorded as torch records it, or written straight into the array."""
    if inplace_is_recorded(tensor, args):
        return record_inplace(tensor, function, *args)
    result = function.apply(Tensor(tensor.array), *args)
    tensor.array[...] = result.array
    tensor._version.value += 1
    return tensor
