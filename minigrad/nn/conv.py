"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (see minigrad.ops.conv).

A padding_mode other than 'zeros' pads the input with F.pad first (reflect, replicate,
circular) and convolves without padding, as torch does.
"""
import math
import numbers

import numpy as np

from minigrad._kernels.buffers import aligned_empty
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.linear import _float_dtype
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops.arguments import pair
from minigrad.ops.conv import single

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_weight_shape(shape):
    """torch's refusals of a weight it cannot make (before numpy's errors)."""
    if min(shape) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{shape}")
    if math.prod(max(n, 1) for n in shape) >= 2 ** 60:  # its strides too
        raise RuntimeError("Stride calculation overflowed")


def _empty_hwio(out_channels, in_channels, kernel_size, dtype):
    """A new (F, C, *kernel) weight array stored as (*kernel, C, F), from a 64-byte boundary:
    the direct kernels read it as it is, with no repacking per call (minigrad.ops.conv)."""
    _check_weight_shape([out_channels, in_channels, *kernel_size])
    flat = aligned_empty(out_channels * in_channels * math.prod(kernel_size), dtype)
    order = tuple(range(len(kernel_size) + 2))
    stored = flat.reshape(*kernel_size, in_channels, out_channels)
    return stored.transpose(order[-1], order[-2], *order[:-2])


class _ConvNd(Module):
    """What the convolution layers share: argument checks, parameters, initialisation
    (torch's: kaiming_uniform(a=√5) for the weight, U(-1/√fan_in, 1/√fan_in) for the bias,
    fan_in = weight.shape[1]·kernel area) and the repr."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, dtype, output_padding=0):
        super().__init__()
        name = type(self).__name__
        if padding_mode not in _PADDING_MODES:  # torch's first check
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        if not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):  # before the sizes are parsed, as torch
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            strides = stride if isinstance(stride, (tuple, list)) else (stride,)
            if padding == "same" and any(s != 1 for s in strides):
                raise ValueError("padding='same' is not supported for strided convolutions")
            if self._transposed:
                raise ValueError(f"padding={padding!r} is not supported for {name}")
        if (self._dims == 2 and isinstance(kernel_size, (tuple, list))
                and len(kernel_size) == 1):
            # torch builds a 3-D weight from it, which its forward refuses
            raise RuntimeError(f"expected kernel_size to be a single integer value or a list "
                               f"of 2 values to match the convolution dimensions, but got "
                               f"kernel_size={list(kernel_size)}")
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.dilation = self._tuple(dilation, "dilation")
        # Zero or negative sizes are refused by the functional form at the first forward.
        if not isinstance(padding, str):
            padding = self._tuple(padding, "padding")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.padding = padding
        self.transposed = self._transposed
        self.output_padding = self._tuple(output_padding, "output_padding")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._reversed_padding(padding)
        dtype = _float_dtype(dtype)
        if self._transposed:  # torch's (in, out/groups, *kernel), the layout torch keeps
            shape = (in_channels, out_channels // groups) + self.kernel_size
            _check_weight_shape(list(shape))
            self.weight = Parameter(np.empty(shape, dtype=dtype))
        else:
            self.weight = Parameter(_empty_hwio(out_channels, in_channels // groups,
                                                self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _tuple(self, value, name):
        if self._dims == 1:
            return (single(value, name, type(self).__name__),)
        return pair(value, name, type(self).__name__)

    def _reversed_padding(self, padding) -> list:
        """F.pad's argument for padding_mode: (left, right, top, bottom), last dim first."""
        if padding == "valid":
            return [0, 0] * self._dims
        if padding == "same":
            sides = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                sides += [total // 2, total - total // 2]
            return sides
        return [p for p in reversed(padding) for _ in range(2)]

    def _convolve(self, input, conv):
        """``conv`` (F.conv1d or F.conv2d) of the input, padded first by F.pad for a
        padding_mode other than 'zeros'."""
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """y[n, f, l] = b[f] + Σ_c Σ_k W[f, c, k] x[n, g·C/G + c, s·l + d·k - p] over the channels
    c of the group g of filter f: Conv2d on rows of height 1 (minigrad.ops.conv).

    Input (N, C, L) or (C, L); weight (out_channels, in_channels / groups, k), stored
    (k, in_channels / groups, out_channels) in memory as Conv2d's."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, input):
        return self._convolve(input, F.conv1d)


class Conv2d(_ConvNd):
    """y[n, f] = b[f] + Σ_c Σ_kh,kw W[f, c, kh, kw] x[n, g·C/G + c, s·oh + d·kh - p, ...]
    over the channels c of the group g of filter f (see minigrad.ops.conv).

    Weight (out_channels, in_channels / groups, kh, kw), initialised as torch:
    kaiming_uniform(a=√5) and bias U(-1/√fan_in, 1/√fan_in), fan_in = in/groups·kh·kw. Its
    array is stored (kh, kw, in_channels / groups, out_channels) in memory (strides present it
    in torch's shape), the layout the convolution kernels read directly. padding_mode
    'reflect', 'replicate' or 'circular' pads with F.pad, then convolves without padding.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, input):
        return self._convolve(input, F.conv2d)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def _output_padding(self, input, output_size) -> tuple:
        """torch's choice of output_padding for a requested output_size."""
        if output_size is None:
            return self.output_padding
        dims = self._dims
        non_spatial = 2 if input.ndim == dims + 2 else 1
        output_size = [int(s) for s in output_size]
        if len(output_size) == non_spatial + dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != dims:
            raise ValueError(f"ConvTranspose{dims}D: for {input.ndim}D input, output_size must "
                             f"have {dims} or {non_spatial + dims} elements (got "
                             f"{len(output_size)})")
        spatial = input.shape[non_spatial:]
        min_sizes = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(dims)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {min_sizes} to {max_sizes} (for an input of "
                                 f"{input.shape[2:]})")
        return tuple(size - low for size, low in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        """The transposed convolution of input; ``output_size`` (the spatial sizes, or with
        the batch and channels) picks the output_padding that gives it."""
        conv = F.conv_transpose1d if self._dims == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d with the same arguments (F.conv_transpose1d): input (N, C_in, L)
    or (C_in, L), weight (in_channels, out_channels / groups, k); the output is
    (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1 long."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, output_padding)


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d with the same arguments (F.conv_transpose2d): input
    (N, C_in, H, W) or unbatched, weight (in_channels, out_channels / groups, kh, kw),
    initialised as torch's (fan_in = out_channels / groups · kh · kw); the output is
    (H - 1)·stride - 2·padding + dilation·(kh - 1) + output_padding + 1 high, wide alike.
    ``forward(input, output_size)`` picks the output_padding that gives output_size."""


    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, output_padding)
