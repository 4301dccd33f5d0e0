"""LayerNorm and GroupNorm (minigrad.ops.normalization; the fused kernels of kernels/norm.pyx).

Both initialise as torch: weight ones, bias zeros.
"""
import numbers

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.linear import _float_dtype
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = ["LayerNorm", "GroupNorm"]


class _AffineNorm(Module):
    """A normalisation with an optional per-element weight (ones) and bias (zeros)."""

    def _affine(self, shape, affine: bool, bias: bool, dtype) -> None:
        """Register the weight and bias of ``shape``, or None for each the options leave
        out."""
        if affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the last
    len(normalized_shape) dimensions (biased variance); weight and bias shaped
    normalized_shape when elementwise_affine (bias only with bias=True)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias, _float_dtype(dtype))

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(_AffineNorm):
    """The num_channels channels of an (N, C, *) input in num_groups groups, each normalised
    over its channels and positions: y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias,
    weight and bias per channel when affine."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._affine((num_channels,), affine, bias, _float_dtype(dtype))

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
