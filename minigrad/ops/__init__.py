"""Differentiable ops, one module per family; each op is a ``minigrad.autograd.Function``."""
