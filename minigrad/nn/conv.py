"""Conv2d: 2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) inputs."""
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

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(value, name):
    return pair(value, name, "Conv2d")


def _empty_hwio(out_channels, in_channels, kernel_size, dtype):
    """A new (F, C, KH, KW) weight array stored as (KH, KW, C, F), from a 64-byte boundary:
    the direct kernels read it as it is, with no repacking per call (minigrad.ops.conv)."""
    kh, kw = kernel_size
    shape = [out_channels, in_channels, kh, kw]
    if min(shape) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{shape}")
    if kh * kw * max(in_channels, 1) * max(out_channels, 1) >= 2 ** 60:  # its strides too
        raise RuntimeError("Stride calculation overflowed")
    flat = aligned_empty(out_channels * in_channels * kh * kw, dtype)
    return flat.reshape(kh, kw, in_channels, out_channels).transpose(3, 2, 0, 1)


class Conv2d(Module):
    """y[n, f] = b[f] + Σ_c Σ_kh,kw W[f, c, kh, kw] x[n, g·C/G + c, s·oh + d·kh - p, ...]
    over the channels c of the group g of filter f (see minigrad.ops.conv).

    Weight (out_channels, in_channels / groups, kh, kw), initialised as torch:
    kaiming_uniform(a=√5) and bias U(-1/√fan_in, 1/√fan_in), fan_in = in/groups·kh·kw. Its
    array is stored (kh, kw, in_channels / groups, out_channels) in memory (strides present it
    in torch's shape), the layout the convolution kernels read directly.
    Only padding_mode='zeros' is implemented.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
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
        if isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 1:
            # torch builds a 3-D weight from it, which its forward refuses
            raise RuntimeError(f"expected kernel_size to be a single integer value or a list "
                               f"of 2 values to match the convolution dimensions, but got "
                               f"kernel_size={list(kernel_size)}")
        kernel_size = _pair(kernel_size, "kernel_size")
        stride = _pair(stride, "stride")
        dilation = _pair(dilation, "dilation")
        # Zero or negative sizes are refused by F.conv2d at the first forward, as torch.
        if not isinstance(padding, str):
            padding = _pair(padding, "padding")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode='{padding_mode}' is not "
                                      "implemented; only 'zeros' is")
        dtype = _float_dtype(dtype)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = False
        self.output_padding = (0, 0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.weight = Parameter(_empty_hwio(out_channels, in_channels // groups, kernel_size,
                                            dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
