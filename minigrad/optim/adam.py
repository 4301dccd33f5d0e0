"""Adam, as torch.optim.Adam (AdamW is the same update with decoupled weight decay)."""
from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import Optimizer
from minigrad.reference import optim as _reference
from minigrad.threads import get_num_threads

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    r"""Implements the Adam algorithm.

    ::

        input: lr γ, betas (β1, β2), params θ_0, objective f, weight decay λ, amsgrad,
               maximize, eps ε, decoupled_weight_decay
        initialize: m_0 = 0, v_0 = 0, v_0^max = 0
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:
                if decoupled_weight_decay:  θ_{t-1} = θ_{t-1} (1 - γ λ)
                else:                       g_t = g_t + λ θ_{t-1}
            m_t = β1 m_{t-1} + (1 - β1) g_t          (torch.lerp)
            v_t = β2 v_{t-1} + (1 - β2) g_t²
            if amsgrad:  v_t^max = max(v_{t-1}^max, v_t),  v̂ = v_t^max
            else:        v̂ = v_t
            θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / (sqrt(v̂) / sqrt(1 - β2^t) + ε)

    State per parameter: 'step' (a float32 0-d Tensor, as torch keeps it), 'exp_avg',
    'exp_avg_sq', and 'max_exp_avg_sq' with amsgrad.

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: (β1, β2), running-average coefficients (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: λ (default 0).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
        fused: None or True for the fused Cython update, False for the NumPy reference.
        decoupled_weight_decay: AdamW's weight decay (default False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)

    def _state_keys(self, group):
        keys = ("step", "exp_avg", "exp_avg_sq")
        return keys + ("max_exp_avg_sq",) if group["amsgrad"] else keys

    def _update(self, group, arrays, grads):
        beta1, beta2 = group["betas"]
        state = arrays.state
        adam(arrays.datas, grads, state["exp_avg"], state["exp_avg_sq"],
             state.get("max_exp_avg_sq", []), state["step"], amsgrad=group["amsgrad"],
             beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
             eps=group["eps"], maximize=group["maximize"],
             decoupled_weight_decay=group["decoupled_weight_decay"], fused=group["fused"])


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad,
         beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay=False,
         fused=None):
    """One Adam step over lists of numpy arrays, in place (see Adam for the math).

    state_steps are 0-d arrays, incremented. fused=False runs the NumPy reference, otherwise
    the fused Cython kernel.
    """
    if fused is False:
        _reference.adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                             state_steps, amsgrad, beta1, beta2, lr, weight_decay, eps,
                             maximize, decoupled_weight_decay)
    else:
        _kernels.adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                           amsgrad, beta1, beta2, lr, weight_decay, eps, maximize,
                           decoupled_weight_decay, get_num_threads())
