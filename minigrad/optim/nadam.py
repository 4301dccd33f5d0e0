"""NAdam, as torch.optim.NAdam."""
import numpy as np

from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import (
    Optimizer, _check_cpu_only_options, _check_options, _setdefault_options,
)
from minigrad.reference import optim as _reference
from minigrad.tensor import Tensor
from minigrad.threads import get_num_threads

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    r"""Implements the NAdam algorithm (Adam with Nesterov momentum).

    ::

        input: lr γ, betas (β1, β2), eps ε, params θ_0, objective f, weight decay λ,
               momentum decay ψ, decoupled_weight_decay, maximize
        initialize: m_0 = 0, v_0 = 0, Π_0 = 1 (the product of the μ's)
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:
                if decoupled_weight_decay:  θ_{t-1} = θ_{t-1} (1 - γ λ)
                else:                       g_t = g_t + λ θ_{t-1}
            μ_t = β1 (1 - ½ 0.96^(t ψ)),  μ_{t+1} = β1 (1 - ½ 0.96^((t+1) ψ))
            Π_t = Π_{t-1} μ_t
            m_t = β1 m_{t-1} + (1 - β1) g_t           (torch.lerp)
            v_t = β2 v_{t-1} + (1 - β2) g_t²
            d_t = sqrt(v_t / (1 - β2^t)) + ε
            θ_t = θ_{t-1} - γ (1 - μ_t) / (1 - Π_t) · g_t / d_t
                          - γ μ_{t+1} / (1 - Π_t μ_{t+1}) · m_t / d_t

    State per parameter: 'step' and 'mu_product' (Π_t; float32 0-d Tensors, as torch keeps
    them: Π_t is multiplied in float32), 'exp_avg' (m), 'exp_avg_sq' (v).

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: shrink the parameters directly, as AdamW (default False).
        foreach: accepted for torch's signature: minigrad always runs one fused update.
        maximize: maximize the objective instead of minimizing it.
        capturable, differentiable: torch's CUDA-graph and autograd-through-the-step modes,
            which minigrad does not have (True raises).
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False, fused=None):
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_cpu_only_options(capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _setdefault_options(self.param_groups, maximize=False, foreach=None, capturable=False,
                            differentiable=False, decoupled_weight_decay=False, fused=None)

    def _state_keys(self, group):
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def _init_state(self, group, param, state):
        state["step"] = Tensor(np.zeros((), dtype=np.float32))
        state["mu_product"] = Tensor(np.ones((), dtype=np.float32))
        state["exp_avg"] = Tensor(np.zeros_like(param.array))
        state["exp_avg_sq"] = Tensor(np.zeros_like(param.array))

    def _update(self, group, arrays, grads):
        beta1, beta2 = group["betas"]
        state = arrays.state
        nadam(arrays.datas, grads, state["exp_avg"], state["exp_avg_sq"], state["mu_product"],
              state["step"], beta1=beta1, beta2=beta2, lr=group["lr"],
              weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
              eps=group["eps"], decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"], fused=group["fused"])


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *, beta1, beta2, lr,
          weight_decay, momentum_decay, eps, decoupled_weight_decay, maximize, fused=None):
    """One NAdam step over lists of numpy arrays, in place (see NAdam for the math).

    state_steps and mu_products are 0-d arrays, updated. fused=False runs the NumPy reference,
    otherwise the fused Cython kernel (the same bits).
    """
    if fused is False:
        _reference.nadam_step(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
                              beta1, beta2, lr, weight_decay, momentum_decay, eps,
                              decoupled_weight_decay, maximize)
    else:
        _kernels.nadam_step(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
                            beta1, beta2, lr, weight_decay, momentum_decay, eps,
                            decoupled_weight_decay, maximize, get_num_threads())
