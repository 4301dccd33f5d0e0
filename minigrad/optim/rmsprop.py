"""RMSprop, as torch.optim.RMSprop."""
from minigrad._kernels import optim as _kernels
from minigrad.optim.optimizer import Optimizer
from minigrad.reference import optim as _reference
from minigrad.threads import get_num_threads

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    r"""Implements the RMSprop algorithm.

    ::

        input: lr γ, alpha α, eps ε, params θ_0, objective f, weight decay λ, momentum μ,
               centered, maximize
        initialize: v_0 = 0 (square average), b_0 = 0 (buffer), g^ave_0 = 0
        for t = 1, 2, ...:
            g_t = -∇f_t(θ_{t-1}) if maximize else ∇f_t(θ_{t-1})
            if λ ≠ 0:  g_t = g_t + λ θ_{t-1}
            v_t = α v_{t-1} + (1 - α) g_t²
            ṽ_t = v_t
            if centered:
                g^ave_t = α g^ave_{t-1} + (1 - α) g_t       (torch.lerp)
                ṽ_t = v_t - (g^ave_t)²
            if μ > 0:
                b_t = μ b_{t-1} + g_t / (sqrt(ṽ_t) + ε)
                θ_t = θ_{t-1} - γ b_t
            else:
                θ_t = θ_{t-1} - γ g_t / (sqrt(ṽ_t) + ε)

    State per parameter: 'step' (float32 0-d Tensor), 'square_avg', 'momentum_buffer'
    (momentum > 0), 'grad_avg' (centered).

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α (default 0.99).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        momentum: momentum factor μ (default 0).
        centered: normalize by an estimate of the gradient's variance.
        maximize: maximize the objective instead of minimizing it.
        fused: None or True for the fused Cython update, False for the NumPy reference.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _state_keys(self, group):
        keys = ("step", "square_avg")
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _update(self, group, arrays, grads):
        state = arrays.state
        rmsprop(arrays.datas, grads, state["square_avg"], state.get("grad_avg", []),
                state.get("momentum_buffer", []), state["step"], lr=group["lr"],
                alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                momentum=group["momentum"], centered=group["centered"],
                maximize=group["maximize"], fused=group["fused"])


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, state_steps, *, lr, alpha,
            eps, weight_decay, momentum, centered, maximize, fused=None):
    """One RMSprop step over lists of numpy arrays, in place (see RMSprop for the math).

    fused=False runs the NumPy reference, otherwise the fused Cython kernel.
    """
    if fused is False:
        _reference.rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers,
                                state_steps, lr, alpha, eps, weight_decay, momentum, centered,
                                maximize)
    else:
        _kernels.rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers,
                              state_steps, lr, alpha, eps, weight_decay, momentum, centered,
                              maximize, get_num_threads())
