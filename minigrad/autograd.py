"""Reverse-mode automatic differentiation.

Every differentiable op is a ``Function`` whose ``forward`` and ``backward`` work on numpy
arrays. ``Function.apply`` runs ``forward`` and, when grad mode is on and an input requires a
gradient, records a ``Node`` on the output: the graph links nodes to the nodes (or leaf
tensors) that made their inputs, never to intermediate tensors, so activations live only as long
as the arrays a node saved for its backward.

``backward`` walks the graph from the output in reverse topological order (an iterative
depth-first search, deterministic: parents are visited in argument order) and applies the chain
rule: a node's incoming gradient is the sum over its consumers, and its ``backward`` maps it to
one gradient per input. The engine, not each op, undoes broadcasting: a gradient is summed over
the dimensions its input was broadcast along. Leaf gradients accumulate into ``.grad``.
Unless ``retain_graph=True``, each node frees what it saved once it has run; a later backward
through such a node raises.
"""
import functools

import numpy as np

from minigrad.tensor import Tensor, VersionCounter

__all__ = ["Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "backward", "grad", "gradcheck"]


# ----------------------------------------------------------------------------- grad mode

class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager (and function, and decorator) that sets grad mode, restoring it on
    exit."""

    def __init__(self, mode: bool):
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        _GradMode.enabled = self.prev  # as a decorator: undo the switch __init__ made
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # used bare, as @no_grad (torch allows both forms)

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Operations inside record no graph (as ``torch.no_grad``); also a decorator."""
    mode = False


class enable_grad(_GradModeContext):
    """Turn grad mode back on inside a ``no_grad`` block; also a decorator."""
    mode = True


# ----------------------------------------------------------------------------- graph nodes

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """One recorded application of a Function: the ``ctx`` its forward and backward share.

    parents[i] is the Node that made input i, the leaf Tensor itself, or None when input i
    needs no gradient; shapes[i] and dtypes[i] describe input i, for fitting its gradient.
    """

    __slots__ = ("parents", "shapes", "dtypes", "needs_input_grad", "saved", "versions",
                 "released", "__dict__")
    function = None  # the Function subclass, set on each generated Node class

    def __init__(self):
        self.saved = None
        self.released = False

    def save_for_backward(self, *arrays):
        """Keep the arrays backward needs (freed after backward unless retain_graph)."""
        self.saved = arrays

    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(_FREED_MESSAGE)
        return self.saved

    def name(self) -> str:
        return type(self).__name__

    def release(self):
        """Free what forward saved (and the op's other state); a node that saved nothing
        stays usable, as in torch."""
        if self.saved:
            self.saved = None
            self.versions = None
            self.parents = None
            self.released = True
            self.__dict__.clear()

    def check_versions(self):
        for counter, version in self.versions:
            if counter.value != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: it is at version {counter.value}; expected "
                    f"version {version} instead (saved by {self.name()})."
                )


class Function:
    """Base class of differentiable ops; see DESIGN.md for the pattern.

    Subclasses define ``forward(ctx, *args) -> ndarray`` and ``backward(ctx, grad) -> one
    gradient (ndarray or None) per forward argument``. Tensor arguments arrive in forward as
    their arrays; other arguments pass through unchanged. ``is_view = True`` marks ops whose
    output may share memory with their first input, so both share a version counter.
    The node class is named ``node_name``, by default the class name + "Backward0" (torch's
    grad_fn names); where torch names one op's nodes differently by call, a subclass per name
    is chosen at the call site (``Sum`` / ``SumDim``), which costs nothing per call.
    """

    is_view = False
    inplace_saves_output = False  # see record_inplace
    node_name = None  # the grad_fn's name when it is not f"{class name}Backward0"
    _node_class = Node

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("node_name") or f"{cls.__name__}Backward0"
        cls._node_class = type(name, (Node,), {"__slots__": (), "function": cls})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = cls._node_class()
        arrays = []
        requires_grad = False
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg.data)
                requires_grad = requires_grad or arg.requires_grad
            else:
                arrays.append(arg)
        requires_grad = requires_grad and _GradMode.enabled
        out = cls.forward(ctx, *arrays)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if cls.is_view:
            counter = args[0]._version
            counter.shared = True  # in-place ops on either tensor are no longer recorded
        else:
            counter = VersionCounter()
        result = Tensor(out, requires_grad=requires_grad, _version=counter)
        if not requires_grad:
            return result
        needs, parents, shapes, dtypes = [], [], [], []
        for arg in args:
            if isinstance(arg, Tensor) and arg.requires_grad:
                needs.append(True)
                parents.append(arg.grad_fn if arg.grad_fn is not None else arg)
                shapes.append(arg.data.shape)
                dtypes.append(arg.data.dtype)
            else:
                needs.append(False)
                parents.append(None)
                shapes.append(None)
                dtypes.append(None)
        ctx.needs_input_grad = tuple(needs)
        ctx.parents = parents
        ctx.shapes = shapes
        ctx.dtypes = dtypes
        ctx.versions = _saved_versions(ctx.saved, args, result) if ctx.saved else ()
        result.grad_fn = ctx
        return result


def _saved_versions(saved, args, result):
    """(counter, version) of every tensor whose own array forward saved, to catch later
    in-place changes to it."""
    versions = []
    for array in saved:
        if array is None:
            continue
        if array is result.data:
            versions.append((result._version, result._version.value))
            continue
        for arg in args:
            if isinstance(arg, Tensor) and arg.data is array:
                versions.append((arg._version, arg._version.value))
                break
    return versions


# ----------------------------------------------------------------------------- in-place ops

_VIEW_MESSAGE = (
    "minigrad does not record in-place operations on a view of another tensor, nor on a "
    "tensor that has views (torch rebases the views' history; minigrad does not): call "
    "clone() before the in-place op, or use the out-of-place op"
)


def inplace_is_recorded(tensor: Tensor, operands=()) -> bool:
    """Whether an in-place op on ``tensor`` must be recorded in the graph: grad mode is on and
    the tensor or an operand requires grad. A leaf that requires grad refuses (as torch)."""
    if not _GradMode.enabled:
        return False
    if tensor.requires_grad:
        if tensor.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return True
    for operand in operands:
        if isinstance(operand, Tensor) and operand.requires_grad:
            return True
    return False


def record_inplace(tensor: Tensor, function, *args) -> Tensor:
    """``tensor.op_(args)`` recorded as torch records it: ``function`` is applied out of place
    to the tensor's current value, the result is written back into the tensor's array, and the
    tensor's history is rebased onto the new node (whose first input is the tensor's previous
    node). The version bump trips older nodes that saved the tensor, as any in-place write.

    What the new node saved of the tensor's old value is copied before the write. What it
    saved of its output is private too, unless the Function says torch saves the in-place
    result (``inplace_saves_output``, relu_): then it is the tensor itself, at the new
    version, and a later in-place change to the tensor makes backward raise, as in torch."""
    if tensor._version.has_views():
        raise RuntimeError(_VIEW_MESSAGE)
    before = Tensor(tensor.data, requires_grad=tensor.requires_grad)
    before.grad_fn = tensor.grad_fn
    result = function.apply(before, *args)
    if result.data.shape != tensor.data.shape:
        raise RuntimeError(f"output with shape {list(tensor.data.shape)} doesn't match the "
                           f"broadcast shape {list(result.data.shape)}")
    node = result.grad_fn
    saves_output = False
    if node.saved:
        saved = []
        for array in node.saved:
            if array is result.data and function.inplace_saves_output:
                array, saves_output = tensor.data, True
            elif isinstance(array, np.ndarray) and np.may_share_memory(array, tensor.data):
                array = array.copy()
            saved.append(array)
        node.saved = tuple(saved)
        node.versions = [(counter, version) for counter, version in node.versions
                         if counter is not tensor._version and counter is not result._version]
    try:
        np.copyto(tensor.data, result.data, casting="same_kind")
    except (TypeError, ValueError) as error:
        raise RuntimeError(f"in-place {function.__name__.lower()} on a tensor of shape "
                           f"{tensor.data.shape} and dtype {tensor.data.dtype}: {error}") from None
    tensor._version.value += 1
    if saves_output:
        node.versions.append((tensor._version, tensor._version.value))
    tensor.grad_fn = node
    tensor.requires_grad = True
    return tensor


# ----------------------------------------------------------------------------- the walk

def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes its output."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        if node.parents is None:  # released: the walk raises when it reaches it
            continue
        for parent in reversed(node.parents):
            if isinstance(parent, Node) and parent not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: sum ``grad`` over the dimensions that broadcast ``shape`` to it."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(f"gradient of shape {grad.shape} does not fit an input of shape "
                           f"{shape}")
    return grad


def _fit_gradient(grad, shape, dtype) -> np.ndarray:
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        grad = _sum_to_shape(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _is_dense(array: np.ndarray) -> bool:
    """Whether the array fills its memory without gaps, in some order of its axes."""
    if array.flags.c_contiguous:
        return True
    order = sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))
    return array.transpose(order).flags.c_contiguous


def _accumulate_into_leaf(leaf: Tensor, grad: np.ndarray, owned: set) -> None:
    """leaf.grad += grad (also a non-leaf listed in backward's inputs). The first gradient is
    stored without a copy only when nothing else can see its array (a fresh, writable, dense
    array not handed out before). A dense array keeps its memory order (a Conv2d weight's
    gradient is stored as the weight is, channels innermost), as torch's gradients follow their
    parameter's memory format."""
    if leaf.grad is None:
        if not (grad.flags.owndata and grad.flags.writeable and _is_dense(grad)
                and id(grad) not in owned):
            grad = np.array(grad, order="K", copy=True)
        owned.add(id(grad))
        leaf.grad = Tensor(grad)
    else:
        np.add(leaf.grad.data, grad, out=leaf.grad.data, casting="unsafe")


def _run_backward(root, root_grad, retain_graph, leaf_sink, node_sink=None):
    """Propagate ``root_grad`` from ``root`` (a Node) to the leaves.

    leaf_sink(tensor, grad) receives each leaf's gradient contribution; node_sink, when given,
    maps Nodes whose total gradient a caller wants (autograd.grad on non-leaf inputs) to a list
    to append it to.
    """
    grads = {root: root_grad}
    for node in _topological_order(root):
        grad = grads.pop(node, None)
        if grad is None:
            continue
        if node.released:
            raise RuntimeError(_FREED_MESSAGE)
        if node_sink is not None and node in node_sink:
            node_sink[node].append(grad)
        if node.versions:
            node.check_versions()
        input_grads = node.function.backward(node, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) < len(node.parents):
            raise RuntimeError(f"{node.function.__name__}.backward returned "
                               f"{len(input_grads)} gradients for {len(node.parents)} inputs")
        for parent, shape, dtype, input_grad in zip(node.parents, node.shapes, node.dtypes,
                                                    input_grads):
            if parent is None or input_grad is None:
                continue
            if (type(input_grad) is not np.ndarray or input_grad.shape != shape
                    or input_grad.dtype != dtype):  # the common case skips the call
                input_grad = _fit_gradient(input_grad, shape, dtype)
            if isinstance(parent, Node):
                previous = grads.get(parent)
                grads[parent] = input_grad if previous is None else previous + input_grad
            else:
                leaf_sink(parent, input_grad)
        if not retain_graph:
            node.release()


def _root_gradient(tensor: Tensor, gradient) -> np.ndarray:
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return np.ones(tensor.data.shape, dtype=tensor.data.dtype)
    array = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if array.shape != tensor.data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {array.shape} and "
                           f"output has a shape of {tensor.data.shape}.")
    # A copy: the caller's array must not become (part of) a leaf's .grad.
    return np.array(array, dtype=tensor.data.dtype)


def _check_differentiable(tensor: Tensor, index: int = 0):
    if not tensor.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not "
                           "have a grad_fn")


def backward(tensor: Tensor, gradient=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (``Tensor.backward``).

    With ``inputs``, only the tensors listed get a gradient, leaves and non-leaves alike (a
    non-leaf's is its node's total incoming gradient), as torch."""
    if create_graph:
        raise NotImplementedError("minigrad does not build graphs of gradients "
                                  "(create_graph=True, higher-order derivatives)")
    _check_differentiable(tensor)
    root_grad = _root_gradient(tensor, gradient)
    allowed = node_totals = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in inputs:
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        allowed = {id(t) for t in inputs if t.grad_fn is None}
        node_totals = {t.grad_fn: [] for t in inputs if t.grad_fn is not None}
    # Each leaf's contributions are summed out of place during the walk and reach .grad only
    # at the end: an array stored into .grad may also be pending as a node's gradient.
    leaf_grads: dict = {}

    def leaf_sink(leaf, grad):
        if allowed is None or id(leaf) in allowed:
            previous = leaf_grads.get(id(leaf))
            leaf_grads[id(leaf)] = (leaf, grad if previous is None else previous[1] + grad)

    if tensor.grad_fn is None:
        leaf_sink(tensor, root_grad)
    else:
        _run_backward(tensor.grad_fn, root_grad, bool(retain_graph), leaf_sink,
                      node_totals or None)
    owned: set = set()
    for leaf, grad in leaf_grads.values():
        _accumulate_into_leaf(leaf, grad, owned)
    if node_totals:
        for t in dict.fromkeys(t for t in inputs if t.grad_fn is not None):
            parts = node_totals[t.grad_fn]
            if parts:
                _accumulate_into_leaf(t, functools.reduce(np.add, parts), owned)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated
    into ``.grad`` (as ``torch.autograd.grad``)."""
    if create_graph:
        raise NotImplementedError("minigrad does not build graphs of gradients "
                                  "(create_graph=True, higher-order derivatives)")
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} entries for "
                           f"{len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not "
                               "require grad")
    leaf_totals = {id(t): [] for t in inputs if t.grad_fn is None}
    node_totals = {t.grad_fn: [] for t in inputs if t.grad_fn is not None}

    def leaf_sink(leaf, g):
        if id(leaf) in leaf_totals:
            leaf_totals[id(leaf)].append(g)

    for index, (out, g_out) in enumerate(zip(outputs, grad_outputs)):
        _check_differentiable(out, index)
        root_grad = _root_gradient(out, g_out)
        if out.grad_fn is None:
            leaf_sink(out, root_grad)
            continue
        keep = retain_graph if retain_graph is not None else False
        _run_backward(out.grad_fn, root_grad, keep or index < len(outputs) - 1, leaf_sink,
                      node_totals)

    results = []
    for i, t in enumerate(inputs):
        parts = leaf_totals[id(t)] if t.grad_fn is None else node_totals[t.grad_fn]
        if not parts:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (index {i}) appears "
                                   "to not have been used in the graph. Set allow_unused=True "
                                   "if this is the desired behavior.")
            results.append(None)
            continue
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        results.append(Tensor(total))
    return tuple(results)


# ----------------------------------------------------------------------------- gradcheck

def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Compare the analytical Jacobian of ``fn`` with central finite differences.

    For every input x_i that requires a gradient and every output y, the numerical Jacobian
    J[j, k] = (y_j(x + eps e_k) - y_j(x - eps e_k)) / (2 eps) must match the one backward
    gives, row by row (gradient of y_j), within ``atol + rtol * |numerical|``. Inputs should
    be float64: float32 differences are too coarse for this test.
    """
    inputs = _as_tuple(inputs)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for t in wrt:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs, got {t.dtype}")

    def evaluate():
        with no_grad():
            out = fn(*inputs)
        return [o.data.astype(np.float64).ravel().copy() for o in _as_tuple(out)]

    outputs = _as_tuple(fn(*inputs))
    for out_index, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        size = out.data.size
        analytical = [np.zeros((size, t.data.size)) for t in wrt]
        for j in range(size):
            seed = np.zeros(size, dtype=out.data.dtype)
            seed[j] = 1.0
            gs = grad(out, wrt, Tensor(seed.reshape(out.data.shape)), retain_graph=True,
                      allow_unused=True)
            for k, g in enumerate(gs):
                if g is not None:
                    analytical[k][j] = g.data.ravel()
        for k, t in enumerate(wrt):
            numerical = np.zeros((size, t.data.size))
            # Perturb the input in place, element by element in C order (as ravel); indexing
            # also works where reshape(-1) would copy a non-contiguous array.
            for i, position in enumerate(np.ndindex(t.data.shape)):
                original = t.data[position]
                t.data[position] = original + eps
                plus = evaluate()[out_index]
                t.data[position] = original - eps
                minus = evaluate()[out_index]
                t.data[position] = original
                numerical[:, i] = (plus - minus) / (2 * eps)
            if not np.allclose(analytical[k], numerical, atol=atol, rtol=rtol):
                if raise_exception:
                    err = np.abs(analytical[k] - numerical).max()
                    raise GradcheckError(
                        f"Jacobian mismatch for output {out_index} with respect to input {k} "
                        f"(largest absolute difference {err:.3g}):\nnumerical:{numerical}\n"
                        f"analytical:{analytical[k]}")
                return False
    return True


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians differ."""
