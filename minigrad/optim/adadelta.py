"""Adadelta, as torch.optim.Adadelta."""
from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import (
    Optimizer, _check_cpu_only_options, _check_options, _setdefault_options,
)
from minigrad.reference import optim as _reference
from minigrad.threads import get_num_threads

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    r"""Implements the Adadelta algorithm.

    ::

        input: lr γ, rho ρ, eps ε, params θ_0, objective f, weight decay λ, maximize
        initialize: v_0 = 0 (square average), u_0 = 0 (accumulated updates)
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:  g_t = g_t + λ θ_{t-1}
            v_t = ρ v_{t-1} + (1 - ρ) g_t²
            Δ_t = sqrt(u_{t-1} + ε) / sqrt(v_t + ε) · g_t
            u_t = ρ u_{t-1} + (1 - ρ) Δ_t²
            θ_t = θ_{t-1} - γ Δ_t

    State per parameter: 'step' (a float32 0-d Tensor, as torch keeps it), 'square_avg' (v),
    'acc_delta' (u).

    Args:
        params: Tensors or parameter-group dicts.
        lr: γ, the factor of the update (default 1.0).
        rho: ρ, the running averages' coefficient (default 0.9).
        eps: ε inside both square roots (default 1e-6).
        weight_decay: L2 penalty λ (default 0).
        foreach: accepted for torch's signature: minigrad always runs one fused update.
        maximize: maximize the objective instead of minimizing it.
        capturable, differentiable: torch's CUDA-graph and autograd-through-the-step modes,
            which minigrad does not have (True raises).
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False, fused=None):
        _check_options(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_options(eps=eps, weight_decay=weight_decay)
        _check_cpu_only_options(capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _setdefault_options(self.param_groups, foreach=None, maximize=False, differentiable=False,
                            capturable=False, fused=None)

    def _state_keys(self, group):
        return ("step", "square_avg", "acc_delta")

    def _update(self, group, arrays, grads):
        state = arrays.state
        adadelta(arrays.datas, grads, state["square_avg"], state["acc_delta"], state["step"],
                 lr=group["lr"], rho=group["rho"], eps=group["eps"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"],
                 fused=group["fused"])


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho, eps, weight_decay,
             maximize, fused=None):
    """One Adadelta step over lists of numpy arrays, in place (see Adadelta for the math).

    state_steps are 0-d arrays, incremented. fused=False runs the NumPy reference, otherwise
    the fused Cython kernel (the same bits).
    """
    if fused is False:
        _reference.adadelta_step(params, grads, square_avgs, acc_deltas, state_steps, lr, rho,
                                 eps, weight_decay, maximize)
    else:
        _kernels.adadelta_step(params, grads, square_avgs, acc_deltas, state_steps, lr, rho, eps,
                               weight_decay, maximize, get_num_threads())
