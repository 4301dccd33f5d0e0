"""RAdam, as torch.optim.RAdam."""
from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import (
    Optimizer, _check_cpu_only_options, _check_options, _setdefault_options,
)
from minigrad.reference import optim as _reference
from minigrad.threads import get_num_threads

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    r"""Implements the RAdam algorithm (Adam with a rectified adaptive learning rate).

    ::

        input: lr γ, betas (β1, β2), eps ε, params θ_0, objective f, weight decay λ,
               decoupled_weight_decay, maximize
        initialize: m_0 = 0, v_0 = 0, ρ_∞ = 2 / (1 - β2) - 1
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:
                if decoupled_weight_decay:  θ_{t-1} = θ_{t-1} (1 - γ λ)
                else:                       g_t = g_t + λ θ_{t-1}
            m_t = β1 m_{t-1} + (1 - β1) g_t           (torch.lerp)
            v_t = β2 v_{t-1} + (1 - β2) g_t²
            m̂_t = m_t / (1 - β1^t)
            ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t)
            if ρ_t > 5:
                r_t = sqrt((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t))
                l_t = sqrt(1 - β2^t) / (sqrt(v_t) + ε)
                θ_t = θ_{t-1} - γ m̂_t l_t r_t
            else:
                θ_t = θ_{t-1} - γ m̂_t

    State per parameter: 'step' (a float32 0-d Tensor, as torch keeps it), 'exp_avg' (m),
    'exp_avg_sq' (v).

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: λ (default 0).
        decoupled_weight_decay: shrink the parameters directly, as AdamW (default False).
        foreach: accepted for torch's signature: minigrad always runs one fused update.
        maximize: maximize the objective instead of minimizing it.
        capturable, differentiable: torch's CUDA-graph and autograd-through-the-step modes,
            which minigrad does not have (True raises).
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False, fused=None):
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        _check_cpu_only_options(capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _setdefault_options(self.param_groups, foreach=None, maximize=False, differentiable=False,
                            capturable=False, decoupled_weight_decay=False, fused=None)

    def _state_keys(self, group):
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, group, arrays, grads):
        beta1, beta2 = group["betas"]
        state = arrays.state
        radam(arrays.datas, grads, state["exp_avg"], state["exp_avg_sq"], state["step"],
              beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
              eps=group["eps"], decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"], fused=group["fused"])


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, beta1, beta2, lr, weight_decay,
          eps, decoupled_weight_decay, maximize, fused=None):
    """One RAdam step over lists of numpy arrays, in place (see RAdam for the math).

    state_steps are 0-d arrays, incremented. fused=False runs the NumPy reference, otherwise
    the fused Cython kernel (the same bits).
    """
    if fused is False:
        _reference.radam_step(params, grads, exp_avgs, exp_avg_sqs, state_steps, beta1, beta2,
                              lr, weight_decay, eps, decoupled_weight_decay, maximize)
    else:
        _kernels.radam_step(params, grads, exp_avgs, exp_avg_sqs, state_steps, beta1, beta2, lr,
                            weight_decay, eps, decoupled_weight_decay, maximize,
                            get_num_threads())
