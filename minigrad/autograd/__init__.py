"""Reverse-mode automatic differentiation, as ``torch.autograd``.

grad_mode.py   no_grad, enable_grad, set_grad_enabled, inference_mode
graph.py       Node (a recorded op and its ctx), AccumulateGrad, node hooks
function.py    ArrayFunction (minigrad's ops, on arrays) and Function (users' ops, on Tensors)
engine.py      the backward walk: backward(), grad()
inplace.py     in-place ops recorded in the graph
gradcheck.py   gradcheck, gradgradcheck
functional.py  jacobian, hessian, vjp, jvp, hvp, vhp
"""
from minigrad.autograd import functional, graph  # noqa: F401
from minigrad.autograd.engine import backward, grad  # noqa: F401
from minigrad.autograd.function import ArrayFunction, Function, once_differentiable  # noqa: F401
from minigrad.autograd.grad_mode import (  # noqa: F401
    _GradMode, enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from minigrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from minigrad.autograd.inplace import inplace_is_recorded, record_inplace  # noqa: F401

__all__ = ["ArrayFunction", "Function", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "gradcheck", "gradgradcheck", "GradcheckError", "functional", "graph",
           "once_differentiable"]

