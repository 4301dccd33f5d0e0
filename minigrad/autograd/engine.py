"""The backward walk: ``backward`` (into ``.grad``) and ``grad`` (returned), as torch's engine.

The walk visits the graph from its roots in reverse topological order (an iterative
depth-first search, deterministic: parents are visited in argument order), nodes and leaves
alike, and applies the chain rule: the gradient of a node's output is the sum over its
consumers, and its ``backward`` maps it to one gradient per input. The engine, not each op,
undoes broadcasting (a gradient is summed over the dimensions its input was broadcast along)
and casts a gradient to its input's dtype. A leaf's gradient goes to ``.grad`` once complete.
Unless ``retain_graph``, each node frees what it saved once it has run.

Gradients are numpy arrays, except with ``create_graph=True``: then they are Tensors, every
node's backward is recorded (see ``ArrayFunction.call_backward``) and the result can be
differentiated again. Hooks (``Tensor.register_hook``, ``retain_grad``, a node's pre- and
post-hooks) see Tensors and may replace the gradient they are given.

When only some inputs are wanted (``grad``, ``backward(inputs=...)``), only the nodes on a path
from the roots to them run, as in torch.
"""
import numpy as np

from minigrad._kernels.buffers import made_here
from minigrad.autograd.graph import FREED_MESSAGE, Node
from minigrad.tensor import Tensor, wrap

__all__ = ["backward", "grad", "ref_of"]


def ref_of(tensor: Tensor):
    """What a node's parents entry would be for this tensor: its node, (node, output_nr) for
    one of several outputs, or the tensor itself for a leaf."""
    grad_fn = tensor.grad_fn
    if grad_fn is None:
        return tensor
    if tensor._output_nr is None:
        return grad_fn
    return grad_fn, tensor._output_nr


def _topological_order(roots, targets=None):
    """(order, waiting, needed) for a walk from ``roots``.

    order: the nodes reachable from the roots, each after every node that consumes it (the
    reverse post-order of a depth-first search: deterministic, later arguments' branches
    first, as torch runs later-created nodes first). waiting (only when a leaf has hooks):
    per leaf, how many edges lead to it, so that the walk hands the leaf its gradient as soon
    as the last one has been followed, as torch runs AccumulateGrad as soon as it is ready;
    None otherwise (the order in which hook-less leaves get their gradient cannot be seen).
    needed (when ``targets``, a set of nodes and leaves, is given): the items that lead to a
    target, targets included; only they have to run. A node's place in the post-order comes
    after everything it reaches, so whether it leads to a target is known then."""
    order, visited = [], set()
    hooked_leaf = False
    leaf_hooks = LeafHooks.registered
    needed = None if targets is None else set(targets)
    # A node is pushed twice: first to expand it, then (behind the marker) to place it.
    stack = []
    for root in reversed(roots):
        if type(root) is tuple:
            root = root[0]
        if isinstance(root, Node):
            stack.append(root)
    append, pop = stack.append, stack.pop
    while stack:
        item = pop()
        if item is _PLACE:
            item = pop()
            order.append(item)
            if needed is not None and item not in needed:
                if item.released:
                    needed.add(item)  # running a freed node raises, as it should
                else:
                    for parent in item.parents:
                        if parent is not None and (
                                parent[0] if type(parent) is tuple else parent) in needed:
                            needed.add(item)
                            break
            continue
        if item in visited:
            continue
        visited.add(item)
        append(item)
        append(_PLACE)
        for parent in reversed(item.parents):
            if parent is None:
                continue
            if isinstance(parent, Node):
                if parent not in visited:
                    append(parent)
            elif type(parent) is tuple:
                if parent[0] not in visited:
                    append(parent[0])
            elif leaf_hooks and parent.__dict__:
                hooked_leaf = True  # a leaf that may have hooks
    order.reverse()
    return order, (_leaf_edges(order) if hooked_leaf else None), needed


def _leaf_edges(order) -> dict:
    """How many edges of the nodes in ``order`` lead to each leaf."""
    waiting = {}
    for node in order:
        for parent in node.parents:
            if parent is not None and type(parent) is not tuple and not isinstance(
                    parent, Node):
                waiting[parent] = waiting.get(parent, 0) + 1
    return waiting


_PLACE = object()  # the marker of _topological_order's stack


class LeafHooks:
    """Set once a hook has been registered on a leaf (Tensor.register_hook,
    register_post_accumulate_grad_hook): until then no walk looks for them."""

    registered = False


def _plan(roots, targets, retain_graph):
    """_topological_order's answer, kept on a single root node when the graph is retained:
    a graph walked again (gradcheck, jacobian rows, a benchmark's repeated backward) is not
    searched again. Its structure cannot change (a node's inputs are fixed when it is made;
    a node freed since makes the walk raise when it reaches it, as a new search would). The
    root itself is left out of what is kept, so the cache makes no reference cycle."""
    root = roots[0] if len(roots) == 1 else None
    if root is None or type(root) is tuple:
        return _topological_order(roots, targets)
    cached = root.__dict__.get("_plan")
    if cached is not None and cached[0] == targets:
        _, rest, waiting, needed, root_needed = cached
        if needed is not None and root_needed:
            needed = needed | {root}
        return [root] + rest, (None if waiting is None else dict(waiting)), needed
    order, waiting, needed = _topological_order(roots, targets)
    if retain_graph and order and order[0] is root:
        root_needed = needed is not None and root in needed
        kept = None if needed is None else needed - {root}
        key = None if targets is None else frozenset(targets)
        root.__dict__["_plan"] = (key, order[1:], None if waiting is None else dict(waiting),
                                  kept, root_needed)
    return order, waiting, needed


# ----------------------------------------------------------------------------- fitting

def _sum_to_shape(grad, shape: tuple):
    """Undo broadcasting: sum ``grad`` over the dimensions that broadcast ``shape`` to it."""
    if grad.shape == shape:
        return grad
    extra = len(grad.shape) - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if tuple(grad.shape) != shape:
        raise RuntimeError(f"gradient of shape {tuple(grad.shape)} does not fit an input of "
                           f"shape {shape}")
    return grad


def _fit_gradient(grad, shape, dtype):
    if isinstance(grad, Tensor):
        if tuple(grad.shape) != shape:
            grad = _sum_to_shape(grad, shape)
        return grad if grad.dtype == dtype else grad.type(dtype)
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        grad = _sum_to_shape(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


# ----------------------------------------------------------------------------- hooks

def _as_tensor(grad):
    return grad if grad is None or isinstance(grad, Tensor) else Tensor(grad)


def _as_gradient(value, graph: bool, where: str):
    """A hook's result as the engine's gradient type (a Tensor in graph mode, else an array)."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        raise TypeError(f"{where} hook returned {type(value).__name__}: expected a Tensor or "
                        "None")
    return value if graph else value.array


def _retain(tensor: Tensor, grad, graph: bool) -> None:
    """tensor.grad = grad (a copy), or += grad: retain_grad's and backward(inputs=)'s rule."""
    if tensor.grad is None:
        tensor.grad = grad.clone() if graph else Tensor(np.array(grad, copy=True))
    elif graph:
        tensor.grad = tensor.grad + grad
    else:
        np.add(tensor.grad.array, grad, out=tensor.grad.array, casting="unsafe")


def _run_tensor_hooks(hooks, grad, graph, where):
    for hook in list(hooks.values()):
        result = hook(_as_tensor(grad))
        if result is not None:
            grad = _as_gradient(result, graph, where)
    return grad


def _pre_hooks(node: Node, grads: list, graph: bool) -> list:
    """Tensor hooks of the node's outputs, then retain_grad, then the node's pre-hooks (torch's
    order); each may replace gradients."""
    hooks = node.hooks
    for nr, tensor_hooks in hooks.tensor_pre.items():
        if grads[nr] is not None and tensor_hooks:
            grads[nr] = _run_tensor_hooks(tensor_hooks, grads[nr], graph, "tensor")
    for nr, ref in hooks.retain.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            _retain(tensor, grads[nr], graph)
    for hook in list(hooks.pre.values()):
        result = hook(tuple(_as_tensor(g) for g in grads))
        if result is not None:
            if len(result) != len(grads):
                raise RuntimeError(f"hooks of {node.name()} returned {len(result)} gradients, "
                                   f"expected {len(grads)}")
            grads = [_as_gradient(g, graph, "pre") for g in result]
    return grads


def _post_hooks(node: Node, input_grads: tuple, grads: list, graph: bool) -> tuple:
    """A node's post-hooks: hook(grad_inputs, grad_outputs), one grad_input per Tensor
    argument; a result replaces grad_inputs."""
    positions = node.tensor_positions()
    transposed = node.function.graph_transposed  # torch's op sees weight.t(): so do its hooks
    grad_outputs = tuple(_as_tensor(g) for g in grads)
    for hook in list(node.hooks.post.values()):
        grad_inputs = tuple(_as_tensor(input_grads[i]) if i < len(input_grads) else None
                            for i in positions)
        if transposed:
            grad_inputs = tuple(g.t() if i in transposed and g is not None else g
                                for i, g in zip(positions, grad_inputs))
        result = hook(grad_inputs, grad_outputs)
        if result is None:
            continue
        if len(result) != len(positions):
            raise RuntimeError(f"hook of {node.name()} returned {len(result)} grad_inputs, "
                               f"expected {len(positions)}")
        updated = list(input_grads) + [None] * (len(node.parents) - len(input_grads))
        for i, value in zip(positions, result):
            if i in transposed and value is not None:
                value = value.t()
            updated[i] = _as_gradient(value, graph, "post")
        input_grads = tuple(updated)
    return input_grads


# ----------------------------------------------------------------------------- the walk

def _add(grads: dict, ref, grad) -> None:
    """Sum ``grad`` into the pending gradient of ``ref`` (a Node, (Node, nr) or leaf)."""
    if type(ref) is tuple:
        node, nr = ref
        buffer = grads.get(node)
        if buffer is None:
            buffer = grads[node] = [None] * node.num_outputs
        buffer[nr] = grad if buffer[nr] is None else buffer[nr] + grad
    else:
        previous = grads.get(ref)
        grads[ref] = grad if previous is None else previous + grad


def _execute(roots, root_grads, retain_graph, create_graph, targets=None, capture=None,
             accumulate=True):
    """Propagate ``root_grads`` from ``roots`` (refs) to the leaves.

    targets: None runs every node and reaches every leaf; otherwise (a set of nodes and
    leaves) only the items on a path to a target run. capture maps refs to lists that receive
    the total gradient arriving there. accumulate: leaves reached (or targets, when given)
    get it in ``.grad``.
    """
    order, waiting, needed = _plan(roots, targets, retain_graph)
    if len(roots) == 1 and type(roots[0]) is not tuple:
        grads = {roots[0]: root_grads[0]}
    else:
        grads = {}
        for ref, grad in zip(roots, root_grads):
            _add(grads, ref, grad)
    owned = set()
    finished = []  # leaves without hooks: stored once the walk is done, as cheaply as can be
    pop = grads.pop
    for ref in roots:
        if not isinstance(ref, (Node, tuple)) and (waiting is None or ref not in waiting):
            # a leaf nothing else leads to: backward() of the leaf itself
            _leaf(ref, pop(ref), create_graph, capture, accumulate, targets, owned)
    simple = needed is None and capture is None and not create_graph
    for node in order:
        grad = pop(node, None)
        if grad is None:
            continue
        if node.released:
            raise RuntimeError(FREED_MESSAGE)
        if node.hooks is None and node.plain and not create_graph:  # the common case
            if capture is not None and node in capture:
                capture[node].append(grad)
            if needed is not None and node not in needed:
                continue
            if node.versions:
                node.check_versions()
            input_grads = node.function.backward(node, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
        else:
            input_grads = _run_node(node, grad, create_graph, capture, needed)
            if input_grads is None:
                continue
        if len(input_grads) < len(node.parents):
            raise RuntimeError(f"{node.function.__name__}.backward returned "
                               f"{len(input_grads)} gradients for {len(node.parents)} inputs")
        for parent, shape, dtype, input_grad in zip(node.parents, node.shapes, node.dtypes,
                                                    input_grads):
            if parent is None:
                continue
            multi_parent = type(parent) is tuple
            if input_grad is not None and (needed is None or (
                    parent[0] if multi_parent else parent) in needed):
                if create_graph:
                    if not isinstance(input_grad, Tensor):
                        input_grad = Tensor(np.asarray(input_grad))  # a constant gradient
                    input_grad = _fit_gradient(input_grad, shape, dtype)
                elif (type(input_grad) is not np.ndarray or input_grad.shape != shape
                        or input_grad.dtype != dtype):  # the common case skips the call
                    input_grad = _fit_gradient(input_grad, shape, dtype)
                if multi_parent:
                    _add(grads, parent, input_grad)
                else:  # _add inlined: the common case
                    previous = grads.get(parent)
                    grads[parent] = input_grad if previous is None else previous + input_grad
            if waiting is not None and not multi_parent and not isinstance(parent, Node):
                remaining = waiting[parent] - 1
                if remaining:
                    waiting[parent] = remaining
                    continue
                del waiting[parent]
                leaf_grad = pop(parent, None)
                if leaf_grad is None:
                    continue
                if parent.__dict__:  # it may have hooks
                    _leaf(parent, leaf_grad, create_graph, capture, accumulate, targets, owned)
                elif simple:  # the usual leaf of a training step
                    if accumulate:
                        finished.append((parent, leaf_grad))
                else:  # _leaf without hooks, inlined
                    if capture is not None and parent in capture:
                        capture[parent].append(leaf_grad)
                    if accumulate and (targets is None or parent in targets):
                        _accumulate_into_leaf(parent, leaf_grad, owned, create_graph)
        if not retain_graph:
            node.release()
    if waiting is None:  # no leaf has hooks: every leaf's gradient is complete now
        for leaf, leaf_grad in grads.items():
            if not isinstance(leaf, Node) and type(leaf) is not tuple:
                if simple and accumulate:
                    _accumulate_into_leaf(leaf, leaf_grad, owned, False)
                else:
                    _leaf(leaf, leaf_grad, create_graph, capture, accumulate, targets, owned)
        return
    for leaf in waiting:  # leaves some of whose consumers never ran
        leaf_grad = pop(leaf, None)
        if leaf_grad is not None:
            _leaf(leaf, leaf_grad, create_graph, capture, accumulate, targets, owned)
    for leaf, leaf_grad in finished:
        _accumulate_into_leaf(leaf, leaf_grad, owned, False)


def _run_node(node: Node, grad, graph: bool, capture, needed):
    """Everything but the fast path: hooks, captured gradients, pruning, several outputs,
    create_graph. Returns the node's input gradients, or None when it need not run."""
    multi = type(grad) is list
    if node.hooks is not None:
        grad = _pre_hooks(node, grad if multi else [grad], graph)
        if not multi:
            grad = grad[0]
    if capture is not None:
        if multi:
            for nr, g in enumerate(grad):
                if g is not None and (node, nr) in capture:
                    capture[(node, nr)].append(g)
        elif node in capture:
            capture[node].append(grad)
    if needed is not None and node not in needed:
        return None
    if node.versions:
        node.check_versions()
    if node.plain and not graph:
        input_grads = node.function.backward(node, grad)
    else:
        input_grads = node.function.call_backward(node, tuple(grad) if multi else (grad,),
                                                  graph)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if node.hooks is not None and node.hooks.post:
        input_grads = _post_hooks(node, input_grads, grad if multi else [grad], graph)
    return input_grads


def _leaf(leaf: Tensor, grad, graph: bool, capture, accumulate: bool, targets,
          owned: set) -> None:
    """A leaf's total gradient: its hooks, then .grad, then its post-accumulate hooks."""
    accumulate = accumulate and (targets is None or leaf in targets)
    hooks = leaf.__dict__.get("_backward_hooks")
    if hooks:
        grad = _run_tensor_hooks(hooks, grad, graph, "tensor")
        if grad is None:
            return
    if capture is not None and leaf in capture:
        capture[leaf].append(grad)
    if not accumulate:
        return
    _accumulate_into_leaf(leaf, grad, owned, graph)
    _post_accumulate(leaf)


def _post_accumulate(leaf: Tensor) -> None:
    post = leaf.__dict__.get("_post_accumulate_hooks")
    if post:
        for hook in list(post.values()):
            hook(leaf)


def _is_dense(array: np.ndarray) -> bool:
    """Whether the array fills its memory without gaps, in some order of its axes."""
    if array.flags.c_contiguous:
        return True
    order = sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))
    return array.transpose(order).flags.c_contiguous


def _is_fresh(array: np.ndarray) -> bool:
    """A writable dense array whose memory nothing else holds: numpy's own (owndata), or the
    kernels' aligned buffers (minigrad._kernels.buffers.made_here)."""
    return ((array.flags.owndata or made_here(array)) and array.flags.writeable
            and _is_dense(array))


def _accumulate_into_leaf(leaf: Tensor, grad, owned: set, graph: bool) -> None:
    """leaf.grad += grad. The first gradient is stored without a copy only when nothing else
    can see its array (a fresh, writable, dense array not handed out before). A dense array
    keeps its memory order (a Conv2d weight's gradient is stored as the weight is, channels
    innermost), as torch's gradients follow their parameter's memory format. With
    create_graph the gradient keeps its history (a recorded copy, then out-of-place sums)."""
    if graph:
        leaf.grad = grad.clone() if leaf.grad is None else leaf.grad + grad
        return
    if leaf.grad is None:
        if not (_is_fresh(grad) and id(grad) not in owned):
            grad = np.array(grad, order="K", copy=True)
        owned.add(id(grad))
        leaf.grad = wrap(grad)
    else:
        np.add(leaf.grad.array, grad, out=leaf.grad.array, casting="unsafe")


# ----------------------------------------------------------------------------- entry points

def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_gradient(tensor: Tensor, gradient, graph: bool):
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        ones = np.ones(tensor.array.shape, dtype=tensor.array.dtype)
        return Tensor(ones) if graph else ones
    if isinstance(gradient, Tensor):
        array = gradient.array
    else:
        array = np.asarray(gradient)
    if array.shape != tensor.array.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {array.shape} and "
                           f"output has a shape of {tensor.array.shape}.")
    if graph:
        gradient = gradient if isinstance(gradient, Tensor) else Tensor(array)
        return gradient if gradient.dtype == tensor.dtype else gradient.type(tensor.dtype)
    if array.dtype != tensor.array.dtype:
        return array.astype(tensor.array.dtype)
    # The caller's array, read-only: no copy (torch makes none: an 8 MB gradient copied costs
    # a third of a convolution's weight gradient), and as it is not writable it is never
    # fresh (_is_fresh), so it, or a view of it, is copied before it becomes a leaf's .grad
    # or a returned gradient; a backward that wrote into it would raise, not corrupt it.
    view = array.view()
    view.flags.writeable = False
    return view


def _check_differentiable(tensor, index: int = 0):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"element {index} of tensors is a {type(tensor).__name__}, not a "
                        "Tensor")
    if not tensor.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not "
                           "have a grad_fn")


def _roots(tensors, gradients, graph):
    if isinstance(tensors, Tensor) and (gradients is None or isinstance(gradients, Tensor)):
        _check_differentiable(tensors)  # one tensor: the common case
        return [ref_of(tensors)], [_root_gradient(tensors, gradients, graph)]
    tensors = _as_tuple(tensors)
    if gradients is None:
        gradients = (None,) * len(tensors)
    else:
        gradients = _as_tuple(gradients)
    if len(gradients) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got "
                           f"{len(gradients)} gradients for {len(tensors)} tensors")
    refs, root_grads = [], []
    for index, (tensor, gradient) in enumerate(zip(tensors, gradients)):
        _check_differentiable(tensor, index)
        refs.append(ref_of(tensor))
        root_grads.append(_root_gradient(tensor, gradient, graph))
    return refs, root_grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves
    (``torch.autograd.backward``; ``Tensor.backward`` for one tensor).

    With ``inputs``, only the tensors listed get a gradient, leaves and non-leaves alike (a
    non-leaf's is the total gradient of its output), as torch."""
    if retain_graph is None:
        retain_graph = create_graph
    refs, root_grads = _roots(tensors, grad_tensors, create_graph)
    if inputs is None:
        _execute(refs, root_grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    targets = {t if t.grad_fn is None else t.grad_fn for t in inputs}
    capture = {ref_of(t): [] for t in inputs if t.grad_fn is not None}
    _execute(refs, root_grads, retain_graph, create_graph, targets, capture or None)
    owned = set()
    for t in dict.fromkeys(t for t in inputs if t.grad_fn is not None):
        parts = capture[ref_of(t)]
        if parts:
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            if create_graph:
                _retain(t, total, True)
            else:
                _accumulate_into_leaf(t, total, owned, False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated
    into ``.grad`` (``torch.autograd.grad``)."""
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    inputs = _as_tuple(inputs)
    input_refs, capture, targets = [], {}, set()
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not "
                               "require grad")
        ref = ref_of(t)
        input_refs.append(ref)
        capture[ref] = []
        targets.add(t if t.grad_fn is None else t.grad_fn)
    refs, root_grads = _roots(outputs, grad_outputs, create_graph)
    _execute(refs, root_grads, retain_graph, create_graph, targets, capture, accumulate=False)
    results = []
    owned: set = set()
    for i, (t, ref) in enumerate(zip(inputs, input_refs)):
        parts = capture[ref]
        if not parts:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (index {i}) appears "
                                   "to not have been used in the graph. Set allow_unused=True "
                                   "if this is the desired behavior.")
            results.append(Tensor(np.zeros_like(t.array)) if materialize_grads else None)
            continue
        if create_graph:
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            results.append(total)
            continue
        total = parts[0]
        # the engine's own fresh array is returned as it is (an 8 MB activation's gradient
        # copied cost as much as the pooling backward that made it); anything else is copied
        if not (_is_fresh(total) and id(total) not in owned) or len(parts) > 1:
            total = np.array(total, order="K", copy=True)
        owned.add(id(total))
        for part in parts[1:]:
            total += part
        results.append(wrap(total))
    return tuple(results)
