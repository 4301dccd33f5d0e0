"""Derivatives of whole functions, as ``torch.autograd.functional``: vjp, jvp, jacobian,
hessian, hvp, vhp. All are reverse mode, built on ``grad``:

    vjp(f, x, v)  = vᵀ J_f(x)                 one backward
    jvp(f, x, v)  = J_f(x) v                  the double-vjp trick, as torch: with u a dummy
                                              requiring grad, g(u) = uᵀ J is linear in u and
                                              J v = d(g(u)·v)/du (needs double backward)
    jacobian      one vjp per output element (row by row)
    hessian       jacobian of the gradient, built with create_graph
    hvp(f, x, v)  = H v,  vhp = vᵀ H           (H is symmetric: the same numbers)

``inputs`` is a Tensor or a tuple of Tensors, and the results mirror that structure (and the
structure of f's output), as torch's. Results are detached unless ``create_graph``.
"""
import numpy as np

from minigrad.autograd.engine import grad
from minigrad.autograd.grad_mode import enable_grad
from minigrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(value, name, fn_name):
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(values):
        if not isinstance(item, Tensor):
            if is_tuple:
                raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a "
                                f"tuple of Tensors but the value at index {i} has type "
                                f"{type(item).__name__}.")
            raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {name} has type "
                            f"{type(item).__name__}.")
    return is_tuple, values


def _grad_preprocess(inputs, create_graph):
    """Inputs as fresh tensors that require grad: views of the originals in the graph when
    create_graph (so results can be differentiated further), detached leaves otherwise."""
    if create_graph:
        return tuple(t if t.requires_grad else t.detach().requires_grad_(True) for t in inputs)
    return tuple(t.detach().requires_grad_(True) for t in inputs)


def _postprocess(values, create_graph):
    if create_graph:
        return values
    return tuple(None if v is None else v.detach() for v in values)


def _validate_v(v, other, name, fn_name):
    if len(v) != len(other):
        raise RuntimeError(f"{name} is a tuple of invalid length: should be {len(other)} but "
                           f"got {len(v)}.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            raise RuntimeError(f"Entry {i} in {name} has invalid size: should be "
                               f"{tuple(b.shape)} but got {tuple(a.shape)}.")


def _vector(v, like, name, fn_name, what):
    """v as a tuple matching ``like`` (one v per tensor); None only for a single element."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} a single "
                               "Tensor with a single element.")
        return (Tensor(np.ones_like(like[0].array)),)
    _, v = _as_tuple(v, name, fn_name)
    _validate_v(v, like, name, fn_name)
    return v


def _grads(outputs, inputs, grad_outputs, create_graph):
    """grad() that returns zeros for inputs the outputs do not depend on (as torch's
    functional API with strict=False)."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not live:
        return tuple(Tensor(np.zeros_like(t.array)) for t in inputs)
    found = grad([o for o, _ in live], inputs, [g for _, g in live], create_graph=create_graph,
                 retain_graph=True, allow_unused=True)
    return tuple(Tensor(np.zeros_like(t.array)) if g is None else g
                 for g, t in zip(found, inputs))


def _mirror(is_tuple, values):
    return values if is_tuple else values[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ J): v shaped as func's output (optional for a single element)."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "vjp")
        v = _vector(v, outputs, "v", "vjp", "user-provided function returns")
        result = _grads(outputs, inputs, v, create_graph)
    return (_mirror(outputs_tuple, _postprocess(outputs, create_graph)),
            _mirror(inputs_tuple, _postprocess(result, create_graph)))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): v shaped as the inputs (optional for a single element)."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph)
        v = _vector(v, inputs, "v", "jvp", "input to the user-provided function is")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jvp")
        dummies = tuple(Tensor(np.zeros_like(o.array), requires_grad=True) for o in outputs)
        pulled = _grads(outputs, inputs, dummies, create_graph=True)
        result = _grads(pulled, dummies, v, create_graph)
    return (_mirror(outputs_tuple, _postprocess(outputs, create_graph)),
            _mirror(outputs_tuple, _postprocess(result, create_graph)))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func / d inputs: for one input and one output a Tensor of shape output.shape +
    input.shape; tuples (of tuples) otherwise, indexed [output][input]."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         "Hint: If your function has more outputs than inputs, "
                         '"forward-mode" tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jacobian")
        rows = []
        for out in outputs:
            blocks = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                seed = np.zeros(flat.shape, dtype=out.array.dtype)
                seed[j] = 1
                found = _grads((flat,), inputs, (Tensor(seed),), create_graph)
                for k, g in enumerate(found):
                    blocks[k].append(g)
            per_input = []
            for k, t in enumerate(inputs):
                shape = tuple(out.shape) + tuple(t.shape)
                if blocks[k]:
                    from minigrad.ops.shape import stack
                    block = stack(blocks[k]).reshape(shape)
                else:
                    block = Tensor(np.zeros(shape, dtype=t.array.dtype))
                per_input.append(block)
            rows.append(_postprocess(tuple(per_input), create_graph))
    if outputs_tuple and inputs_tuple:
        return tuple(rows)
    if outputs_tuple:
        return tuple(row[0] for row in rows)
    return rows[0] if inputs_tuple else rows[0][0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a function returning a single element: for one input a Tensor
    of shape input.shape * 2; for a tuple of inputs, a tuple of tuples [i][j]."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*values):
        out = func(*values)
        if isinstance(out, (tuple, list)):
            if len(out) != 1:
                raise RuntimeError("The function given to hessian should return a single "
                                   "Tensor")
            out = out[0]
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        out = out.reshape(())
        found = _grads((out,), values, (Tensor(np.ones((), dtype=out.array.dtype)),),
                       create_graph=True)
        return found if inputs_tuple else found[0]

    return jacobian(gradient, inputs if inputs_tuple else inputs[0], create_graph=create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a function returning a single element."""
    return _hessian_product(func, inputs, v, create_graph, "hvp")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ H); the same numbers as hvp (H is symmetric)."""
    return _hessian_product(func, inputs, v, create_graph, "vhp")


def _hessian_product(func, inputs, v, create_graph, name):
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _grad_preprocess(inputs, create_graph)
        v = _vector(v, inputs, "v", name, "input to the user-provided function is")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", name)
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor "
                               "with a single element")
        out = outputs[0]
        first = _grads((out,), inputs, (Tensor(np.ones_like(out.array)),), create_graph=True)
        result = _grads(first, inputs, v, create_graph)
    return (_mirror(outputs_tuple, _postprocess(outputs, create_graph)),
            _mirror(inputs_tuple, _postprocess(result, create_graph)))
