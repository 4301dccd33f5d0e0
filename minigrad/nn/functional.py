"""minigrad.nn.functional: the functional forms of the layers, as torch.nn.functional.

Convolution, pooling and losses are re-exported from minigrad.ops; the activations, linear,
dropout and batch_norm are defined here on the ops of minigrad.ops.elementwise and
minigrad.ops.nn. Arguments are validated before any op runs, with torch's exception types.
"""
import numbers
import warnings

import numpy as np

from minigrad.ops import elementwise as _ew
from minigrad.ops import nn as _nn
from minigrad.ops import shape as _shape
from minigrad.ops.conv import conv2d  # noqa: F401
from minigrad.ops.loss import (  # noqa: F401
    binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, nll_loss,
)
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from minigrad.random import numpy_generator
from minigrad.tensor import Tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "cross_entropy",
           "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits", "linear",
           "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax",
           "dropout", "batch_norm", "flatten", "unflatten"]

_TORCH_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double",
                np.dtype(np.int64): "Long", np.dtype(np.int32): "Int", np.dtype(np.bool_): "Bool"}


def _name(dtype) -> str:
    return _TORCH_NAMES.get(np.dtype(dtype), str(dtype))


def _check_tensor(value, name, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")


def _check_float(input, op):
    if input.data.dtype.kind != "f":
        raise RuntimeError(f'"{op}" not implemented for \'{_name(input.data.dtype)}\'')


# ----------------------------------------------------------------------------- linear

def linear(input, weight, bias=None):
    """y = input Weightᵀ + bias for input (..., in_features), weight (out, in), bias (out,)."""
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        _linear_error(input, weight)
    if x.dtype != w.dtype or x.dtype.kind != "f":
        _linear_error(input, weight)
    if bias is not None and (bias.data.shape != (w.shape[0],) or bias.data.dtype != x.dtype):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} and dtype "
                           f"{bias.dtype} does not fit weight {tuple(weight.shape)} of dtype "
                           f"{weight.dtype}")
    return _nn.linear_function(x.ndim, bias is not None).apply(input, weight, bias)


def _linear_error(input, weight):
    _check_tensor(input, "input", "linear")
    _check_tensor(weight, "weight", "linear")
    x, w = input.data, weight.data
    if x.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D "
                           f"and {w.ndim}D")
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D, got shape {tuple(w.shape)}")
    if x.shape[-1] != w.shape[1]:
        rows = int(np.prod(x.shape[:-1], dtype=np.int64))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} "
                           f"and {w.shape[1]}x{w.shape[0]})")
    if x.dtype.kind != "f":
        raise RuntimeError(f"\"addmm_impl_cpu_\" not implemented for '{_name(x.dtype)}'")
    raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_name(x.dtype)} and "
                       f"{_name(w.dtype)}")


# ----------------------------------------------------------------------------- activations

def relu(input, inplace: bool = False):
    """max(x, 0); with ``inplace``, written into ``input`` (``input.relu_()``)."""
    _check_tensor(input, "input", "relu")
    return input.relu_() if inplace else _ew.Relu.apply(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope·x."""
    _check_tensor(input, "input", "leaky_relu")
    _check_float(input, "leaky_relu")
    return _nn.LeakyRelu.apply(input, float(negative_slope))


def gelu(input, approximate: str = "none"):
    """x Φ(x), or its tanh approximation when approximate='tanh'."""
    _check_tensor(input, "input", "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    return _nn.Gelu.apply(input, approximate)


def sigmoid(input):
    _check_tensor(input, "input", "sigmoid")
    return _ew.Sigmoid.apply(input)


def tanh(input):
    _check_tensor(input, "input", "tanh")
    return _ew.Tanh.apply(input)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_family(function, name: str, input, dim, dtype):
    """Validate, pick torch's implicit dim (with its warning) and apply Softmax/LogSoftmax."""
    _check_tensor(input, "input", name)
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    if dtype is not None:
        input = input.type(dtype)
    _check_float(input, f"{name}_lastdim_kernel_impl")
    return function.apply(input, _shape.normalize_dim(dim, max(input.ndim, 1)))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / Σ_dim exp(x)."""
    return _softmax_family(_ew.Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log Σ_dim exp(x)."""
    return _softmax_family(_ew.LogSoftmax, "log_softmax", input, dim, dtype)


# ----------------------------------------------------------------------------- dropout

def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p), when training."""
    if not isinstance(p, numbers.Real) or p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(input, "input", "dropout")
    if not training or p == 0.0:
        return input
    _check_float(input, "dropout")
    dtype = input.data.dtype
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=dtype)
    else:
        keep = numpy_generator(generator).random(input.shape, dtype=dtype) >= p
        mask = keep * dtype.type(1.0 / (1.0 - p))
    return _nn.DropoutMask.apply(input, mask)


# ----------------------------------------------------------------------------- batch norm

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every axis but the channel axis 1 (see minigrad.ops.nn.BatchNorm).

    In training the batch statistics are used and, when given, the running ones updated with
    factor ``momentum``; otherwise the running statistics are used."""
    _check_tensor(input, "input", "batch_norm")
    _check_float(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.ndim}D input)")
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not "
                               f"{int(np.prod(value.shape))}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode")
    if training and input.data.size // channels <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(input.shape)}")
    out = _nn.BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                              float(momentum), float(eps))
    if training and running_mean is not None:
        running_mean._version.value += 1
        running_var._version.value += 1
    return out


# ----------------------------------------------------------------------------- shape

def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return _shape.flatten(input, start_dim, end_dim)


def unflatten(input, dim: int, sizes):
    return _shape.unflatten(input, dim, sizes)
