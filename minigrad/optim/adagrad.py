"""Adagrad, as torch.optim.Adagrad."""
import numpy as np

from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import Optimizer
from minigrad.reference import optim as _reference
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    r"""Implements the Adagrad algorithm.

    ::

        input: lr γ, params θ_0, objective f, weight decay λ, initial accumulator value τ,
               lr decay η, eps ε, maximize
        initialize: sum_0 = τ
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            γ̃ = γ / (1 + (t - 1) η)
            if λ ≠ 0:  g_t = g_t + λ θ_{t-1}
            sum_t = sum_{t-1} + g_t²
            θ_t = θ_{t-1} - γ̃ g_t / (sqrt(sum_t) + ε)

    State per parameter, created with the optimizer as torch does: 'step' (float32 0-d
    Tensor) and 'sum'.

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lr_decay: η (default 0).
        weight_decay: L2 penalty λ (default 0).
        initial_accumulator_value: τ (default 0).
        eps: ε added to the denominator (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _state_keys(self, group):
        return ("step", "sum")

    def _init_state(self, group, param, state):
        # torch fills parameters added later with the optimizer's default, not the group's.
        state["step"] = Tensor(np.zeros((), dtype=np.float32))
        state["sum"] = Tensor(np.full_like(param.array, self.defaults["initial_accumulator_value"]))

    def _update(self, group, arrays, grads):
        state = arrays.state
        adagrad(arrays.datas, grads, state["sum"], state["step"], lr=group["lr"],
                weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                eps=group["eps"], maximize=group["maximize"], fused=group["fused"])


def adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps,
            maximize, fused=None):
    """One Adagrad step over lists of numpy arrays, in place (see Adagrad for the math).

    fused=False runs the NumPy reference, otherwise the fused Cython kernel.
    """
    if fused is False:
        _reference.adagrad_step(params, grads, state_sums, state_steps, lr, weight_decay,
                                lr_decay, eps, maximize)
    else:
        _kernels.adagrad_step(params, grads, state_sums, state_steps, lr, weight_decay,
                              lr_decay, eps, maximize, get_num_threads())
