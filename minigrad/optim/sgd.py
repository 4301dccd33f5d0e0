"""Stochastic gradient descent, optionally with momentum, as torch.optim.SGD."""
import numpy as np

from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import Optimizer
from minigrad.reference import optim as _reference
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum).

    ::

        input: lr γ, params θ_0, objective f, weight decay λ, momentum μ, dampening τ,
               nesterov, maximize
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:  g_t = g_t + λ θ_{t-1}
            if μ ≠ 0:
                b_t = g_t                          if t = 1
                b_t = μ b_{t-1} + (1 - τ) g_t      otherwise
                g_t = g_t + μ b_t if nesterov else b_t
            θ_t = θ_{t-1} - γ g_t

    The momentum buffer starts as the first gradient (so dampening applies from step 2), as in
    torch. State per parameter: 'momentum_buffer' (only when momentum ≠ 0).

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ for momentum (default 0).
        weight_decay: L2 penalty λ (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def _state_keys(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _init_state(self, group, param, state):
        # Filled by the first step (b_1 = g_1): see first_step in sgd().
        state["momentum_buffer"] = Tensor(np.empty_like(param.array))

    def _update(self, group, arrays, grads):
        sgd(arrays.datas, grads, arrays.state.get("momentum_buffer", []), arrays.fresh,
            lr=group["lr"], weight_decay=group["weight_decay"], momentum=group["momentum"],
            dampening=group["dampening"], nesterov=group["nesterov"],
            maximize=group["maximize"], fused=group["fused"])


def sgd(params, grads, momentum_buffers, first_step, *, lr, weight_decay, momentum, dampening,
        nesterov, maximize, fused=None):
    """One SGD step over lists of numpy arrays, in place (see SGD for the math).

    first_step[i] is True when momentum_buffers[i] is new and takes the gradient as it is.
    fused=False runs the NumPy reference, otherwise the fused Cython kernel.
    """
    if fused is False:
        _reference.sgd_step(params, grads, momentum_buffers, first_step, lr, weight_decay,
                            momentum, dampening, nesterov, maximize)
    else:
        _kernels.sgd_step(params, grads, momentum_buffers, first_step, lr, weight_decay,
                          momentum, dampening, nesterov, maximize, get_num_threads())
