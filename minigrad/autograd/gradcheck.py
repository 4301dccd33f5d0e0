"""gradcheck and gradgradcheck: analytical derivatives against finite differences, as
``torch.autograd.gradcheck``.

For every input x_i that requires a gradient and every floating output y, the numerical
Jacobian J[j, k] = (y_j(x + eps e_k) - y_j(x - eps e_k)) / (2 eps) must match the one backward
gives, row by row (the gradient of y_j), within ``atol + rtol * |numerical|``. An output that
does not require grad, or an input that backward gives no gradient, counts as a Jacobian of
zeros, so it passes only if the function truly does not depend on that input (stricter than
torch, which checks detached outputs only when no output requires grad). Inputs should be
float64: float32 differences are too coarse for this test.

gradgradcheck applies gradcheck to the function (inputs, v) -> the gradients of Σ y·v with
respect to the inputs, computed with ``create_graph=True``: its analytical Jacobian comes
from a backward through that recorded backward (the second derivatives).
"""
import numpy as np

from minigrad.autograd.engine import grad
from minigrad.autograd.grad_mode import enable_grad, no_grad
from minigrad.tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians differ."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              **ignored) -> bool:
    """Compare the analytical Jacobian of ``func`` with central finite differences."""
    inputs = _as_tuple(inputs)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for t in wrt:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs, got {t.dtype}")

    def evaluate():
        with no_grad():
            return [o.array.astype(np.float64).ravel().copy() for o in _as_tuple(func(*inputs))]

    outputs = _as_tuple(func(*inputs))
    for out_index, out in enumerate(outputs):
        if out.array.dtype.kind not in "fc":
            continue  # integer and bool outputs (indices) have no derivative
        size = out.array.size
        analytical = [np.zeros((size, t.array.size)) for t in wrt]
        received = [False] * len(wrt)
        # An output that does not require grad (a detached result) has analytical Jacobians
        # of zeros, as has an input that gets no gradient: the numerical ones must be zero
        # too, or the function hides a derivative from backward.
        for j in range(size if out.requires_grad else 0):
            seed = np.zeros(size, dtype=out.array.dtype)
            seed[j] = 1.0
            gs = grad(out, wrt, Tensor(seed.reshape(out.array.shape)), retain_graph=True,
                      allow_unused=True)
            for k, g in enumerate(gs):
                if g is not None:
                    analytical[k][j] = g.array.ravel()
                    received[k] = True
        for k, t in enumerate(wrt):
            numerical = np.zeros((size, t.array.size))
            # Perturb the input in place, element by element in C order (as ravel); indexing
            # also works where reshape(-1) would copy a non-contiguous array.
            for i, position in enumerate(np.ndindex(t.array.shape)):
                original = t.array[position]
                t.array[position] = original + eps
                plus = evaluate()[out_index]
                t.array[position] = original - eps
                minus = evaluate()[out_index]
                t.array[position] = original
                numerical[:, i] = (plus - minus) / (2 * eps)
            if not np.allclose(analytical[k], numerical, atol=atol, rtol=rtol):
                if raise_exception:
                    err = np.abs(analytical[k] - numerical).max()
                    if not out.requires_grad:
                        reason = (f"output {out_index} does not require grad, but its "
                                  f"numerical gradient with respect to input {k} is not zero")
                    elif not received[k]:
                        reason = (f"input {k} gets no gradient from output {out_index}, but "
                                  f"its numerical gradient is not zero")
                    else:
                        reason = (f"Jacobian mismatch for output {out_index} with respect to "
                                  f"input {k}")
                    raise GradcheckError(
                        f"{reason} (largest absolute difference {err:.3g}):\nnumerical:"
                        f"{numerical}\nanalytical:{analytical[k]}")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0, **ignored) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> d(Σ func(inputs)·v)/d inputs.

    ``grad_outputs`` (the v, one per output that requires grad) default to fixed random
    float64 tensors; they are differentiated too, as in torch."""
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        outputs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), requires_grad=True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*values):
        ins, vs = values[:count], values[count:]
        with enable_grad():
            outs = [o for o in _as_tuple(func(*ins)) if o.requires_grad]
            wrt = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
            found = grad(outs, wrt, vs, create_graph=True, allow_unused=True)
        # a first derivative that was not recorded (requires_grad False) stays: gradcheck
        # then demands that its numerical derivatives be zero
        return tuple(g for g in found if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
