"""AdamW: Adam with decoupled weight decay, as torch.optim.AdamW."""
from minigrad.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Implements AdamW: Adam whose weight decay shrinks the parameters directly.

    ::

        for t = 1, 2, ...:
            g_t = ∇f_t(θ_{t-1})  (negated when maximize)
            θ_{t-1} = θ_{t-1} (1 - γ λ)
            m_t, v_t, v̂, θ_t as in Adam (the decay never enters m_t or v_t)

    Same arguments and state as Adam, with weight_decay defaulting to 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
