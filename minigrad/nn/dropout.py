"""Dropout: zero elements with probability p in training, scale the rest by 1/(1-p)."""
import numbers

from minigrad.nn import functional as F
from minigrad.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training, y = x ⊙ mask / (1-p) with mask ~ Bernoulli(1-p) from minigrad's
    generator; in evaluation, y = x."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, numbers.Real) or p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
