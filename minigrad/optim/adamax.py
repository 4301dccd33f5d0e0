"""Adamax, as torch.optim.Adamax."""
from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import (
    Optimizer, _check_cpu_only_options, _check_options, _setdefault_options,
)
from minigrad.reference import optim as _reference
from minigrad.threads import get_num_threads

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    r"""Implements the Adamax algorithm (Adam with the infinity norm).

    ::

        input: lr γ, betas (β1, β2), eps ε, params θ_0, objective f, weight decay λ, maximize
        initialize: m_0 = 0 (first moment), u_0 = 0 (infinity norm)
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:  g_t = g_t + λ θ_{t-1}
            m_t = β1 m_{t-1} + (1 - β1) g_t           (torch.lerp)
            u_t = max(β2 u_{t-1}, |g_t| + ε)
            θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / u_t

    State per parameter: 'step' (a float32 0-d Tensor, as torch keeps it), 'exp_avg' (m),
    'exp_inf' (u).

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε added to |g_t| (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        foreach: accepted for torch's signature: minigrad always runs one fused update.
        maximize: maximize the objective instead of minimizing it.
        capturable, differentiable: torch's CUDA-graph and autograd-through-the-step modes,
            which minigrad does not have (True raises).
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False,
                 fused=None):
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        _check_cpu_only_options(capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable,
                        fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _setdefault_options(self.param_groups, foreach=None, maximize=False, differentiable=False,
                            capturable=False, fused=None)

    def _state_keys(self, group):
        return ("step", "exp_avg", "exp_inf")

    def _update(self, group, arrays, grads):
        beta1, beta2 = group["betas"]
        state = arrays.state
        adamax(arrays.datas, grads, state["exp_avg"], state["exp_inf"], state["step"],
               beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
               eps=group["eps"], maximize=group["maximize"], fused=group["fused"])


def adamax(params, grads, exp_avgs, exp_infs, state_steps, *, beta1, beta2, lr, weight_decay, eps,
           maximize, fused=None):
    """One Adamax step over lists of numpy arrays, in place (see Adamax for the math).

    state_steps are 0-d arrays, incremented. fused=False runs the NumPy reference, otherwise
    the fused Cython kernel (the same bits).
    """
    if fused is False:
        _reference.adamax_step(params, grads, exp_avgs, exp_infs, state_steps, beta1, beta2, lr,
                               weight_decay, eps, maximize)
    else:
        _kernels.adamax_step(params, grads, exp_avgs, exp_infs, state_steps, beta1, beta2, lr,
                             weight_decay, eps, maximize, get_num_threads())
