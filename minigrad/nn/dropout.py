"""Dropout: zero elements (Dropout) or whole channels (Dropout1d/2d/3d) with probability p in
training, scale the rest by 1/(1-p)."""
import numbers

from minigrad.nn import functional as F
from minigrad.nn.module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, numbers.Real) or p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, y = x ⊙ mask / (1-p) with mask ~ Bernoulli(1-p) from minigrad's
    generator; in evaluation, y = x."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Whole channels of (N, C, L) or (C, L) inputs zeroed with probability p in training
    (one draw per sample and channel), the rest scaled by 1/(1-p)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Whole channels of (N, C, H, W) inputs zeroed with probability p in training, the rest
    scaled by 1/(1-p) (a 3-D input is read as (N, C, L), as torch 2.13 does)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Whole channels of (N, C, D, H, W) or (C, D, H, W) inputs zeroed with probability p in
    training, the rest scaled by 1/(1-p)."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)
