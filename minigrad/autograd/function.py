"""Function: how an op records itself in the graph.

Two flavours share one engine:

* ``ArrayFunction`` is minigrad's own op pattern (DESIGN.md): ``forward`` and ``backward`` see
  numpy arrays, so a plain training step runs no Tensor machinery inside an op. For
  ``create_graph=True`` the same ``backward`` runs again with Tensors (``grad`` and what
  ``saved_tensors`` returns), so it is written with operators and ``minigrad.ops.grad_math``
  helpers that work on both; ops that fuse several steps (the losses, batch norm) differentiate
  their ``decomposition`` instead.
* ``Function`` is ``torch.autograd.Function``: forward and backward see Tensors (forward runs
  under no_grad), for users' own ops.

Either may return several outputs (a tuple); ``ctx.mark_non_differentiable`` names those
without a gradient (indices), whose tensors do not require grad.
"""
import numpy as np

from minigrad.autograd.grad_mode import _GradMode, no_grad, set_grad_enabled
from minigrad.autograd.graph import Node
from minigrad.tensor import Tensor, VersionCounter, wrap

__all__ = ["ArrayFunction", "Function", "FunctionCtx", "once_differentiable"]


class CustomNode(Node):
    """The node of a user's ``Function``: Tensors in backward, zeros for missing gradients."""

    __slots__ = ()
    plain = False
    unpack_mode = "detached"
    materialize_grads = True


FunctionCtx = Node  # the type of ``ctx``, as torch.autograd.function.FunctionCtx


class ArrayFunction:
    """Base class of minigrad's ops; see DESIGN.md for the pattern.

    Subclasses define ``forward(ctx, *args) -> ndarray (or a tuple of them)`` and
    ``backward(ctx, *grads) -> one gradient (or None) per forward argument``. Tensor arguments
    arrive in forward as their arrays; other arguments pass through unchanged. ``is_view =
    True`` marks ops whose output may share memory with their first input, so both share a
    version counter. The node class is named ``node_name``, by default the class name +
    "Backward0" (torch's grad_fn names); where torch names one op's nodes differently by call,
    a subclass per name is chosen at the call site (``Sum`` / ``SumDim``), which costs nothing
    per call.
    """

    is_view = False
    inplace_saves_output = False  # see autograd.inplace.record_inplace
    node_name = None  # the grad_fn's name when it is not f"{class name}Backward0"
    graph_arguments = None  # see Node.tensor_positions
    graph_transposed = ()  # arguments torch's op takes transposed (see Node.next_functions)
    _node_base = Node
    _node_class = Node

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("node_name") or cls._default_node_name()
        cls._node_class = type(name, (cls._node_base,), {"__slots__": (), "function": cls})

    @classmethod
    def _default_node_name(cls) -> str:
        return f"{cls.__name__}Backward0"

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = cls._node_class()
        arrays = []
        requires_grad = False
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg.array)
                requires_grad = requires_grad or arg.requires_grad
            else:
                arrays.append(arg)
        requires_grad = requires_grad and _GradMode.enabled
        out = cls.forward(ctx, *arrays)
        if type(out) is tuple:
            return _wrap_outputs(cls, ctx, args, out, requires_grad)
        if type(out) is not np.ndarray:
            out = _as_array(ctx, out)
        if cls.is_view:
            counter = args[0]._version
            counter.shared = True  # in-place ops on either tensor are no longer recorded
        else:
            counter = VersionCounter()
        result = wrap(out, requires_grad, counter)
        if not requires_grad:
            return result
        # connect() and track_saved(), inlined and specialised: the per-op cost of a step
        needs, parents, shapes, dtypes = [], [], [], []
        for arg, array in zip(args, arrays):
            if array is not arg:  # a Tensor (its array went to forward)
                shapes.append(array.shape)
                if arg.requires_grad:
                    needs.append(True)
                    grad_fn = arg.grad_fn
                    if grad_fn is None:
                        parents.append(arg)
                    elif arg._output_nr is None:
                        parents.append(grad_fn)
                    else:
                        parents.append((grad_fn, arg._output_nr))
                    dtypes.append(array.dtype)
                    continue
            else:
                shapes.append(None)
            needs.append(False)
            parents.append(None)
            dtypes.append(None)
        ctx.needs_input_grad = tuple(needs)
        ctx.parents = parents
        ctx.shapes = shapes
        ctx.dtypes = dtypes
        if ctx.saved:
            versions, sources = [], []
            for value in ctx.saved:
                source = None
                if type(value) is np.ndarray:
                    if value is out:
                        versions.append((counter, counter.value))
                        source = -1
                    else:
                        for i, array in enumerate(arrays):
                            if array is value:
                                arg = args[i]
                                if arg is not array:  # a Tensor's array
                                    arg_counter = arg._version
                                    versions.append((arg_counter, arg_counter.value))
                                    source = i
                                break
                sources.append(source)
            ctx.versions = versions
            ctx.sources = sources
        else:
            ctx.versions = ()
            ctx.sources = None
        result.grad_fn = ctx
        return result

    @classmethod
    def call_backward(cls, ctx, grads: tuple, create_graph: bool):
        """Run backward for the engine outside its fast path: several outputs, or a graph of
        the gradient (create_graph), where grads and saved values are Tensors and the result
        must be Tensors connected to them."""
        if not create_graph:
            return cls.backward(ctx, *grads)
        grads = tuple(g if g is None or isinstance(g, Tensor) else Tensor(g) for g in grads)
        ctx.unpack_mode = "graph"
        try:
            with set_grad_enabled(True):
                decomposition = getattr(cls, "decomposition", None)
                if decomposition is not None:
                    result = differentiate_decomposition(cls, ctx, grads)
                else:
                    result = cls.backward(ctx, *grads)
        finally:
            ctx.__dict__.pop("unpack_mode", None)
        result = result if isinstance(result, tuple) else (result,)
        for needed, value in zip(ctx.needs_input_grad, result):
            if needed and value is not None and not isinstance(value, Tensor):
                raise RuntimeError(f"{cls.__name__}.backward returned an array under "
                                   "create_graph=True: its gradient formula is not "
                                   "differentiable (write it with minigrad.ops.grad_math)")
        return result


def differentiate_decomposition(cls, ctx, grads):
    """Gradients of ``cls.decomposition(ctx, *saved)`` (the op rebuilt from differentiable
    ops, from its saved inputs), recorded: the double backward of a fused op."""
    from minigrad.autograd.engine import grad as autograd_grad
    saved = list(ctx.saved_tensors)
    # Each differentiable input enters the decomposition through its own identity node, so
    # that the gradients found are the partial ones of this op (an input made from another
    # input is not differentiated through) while staying connected to the real inputs.
    inputs = []
    for i, source in enumerate(ctx.sources or ()):
        if source is not None and source >= 0 and ctx.needs_input_grad[source]:
            saved[i] = Alias.apply(saved[i])
            inputs.append((i, source))
    outputs = cls.decomposition(ctx, *saved)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None and o.requires_grad]
    result = [None] * len(ctx.parents)
    if not pairs or not inputs:
        return tuple(result)
    found = autograd_grad([o for o, _ in pairs], [saved[i] for i, _ in inputs],
                          [g for _, g in pairs], create_graph=True, allow_unused=True)
    for (_, source), value in zip(inputs, found):
        result[source] = value
    return tuple(result)


class Alias(ArrayFunction):
    """z = a, a node of its own (the same array, a new version counter)."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, grad):
        return grad


def connect(ctx, args) -> None:
    """Record on ``ctx`` where each argument came from (the parents the engine walks to)."""
    needs, parents, shapes, dtypes = [], [], [], []
    for arg in args:
        if isinstance(arg, Tensor):
            if arg.requires_grad:
                needs.append(True)
                grad_fn = arg.grad_fn
                if grad_fn is None:
                    parents.append(arg)
                elif arg._output_nr is None:
                    parents.append(grad_fn)
                else:
                    parents.append((grad_fn, arg._output_nr))
                shapes.append(arg.array.shape)
                dtypes.append(arg.array.dtype)
                continue
            shapes.append(arg.array.shape)  # a Tensor without grad: listed in next_functions
        else:
            shapes.append(None)
        needs.append(False)
        parents.append(None)
        dtypes.append(None)
    ctx.needs_input_grad = tuple(needs)
    ctx.parents = parents
    ctx.shapes = shapes
    ctx.dtypes = dtypes


def track_saved(ctx, args, outputs) -> None:
    """For each saved value: where it came from (``ctx.sources``: input index, -1 - output
    index, None) and the version of its tensor (``ctx.versions``), to catch later in-place
    changes. Saved Tensors of inputs and outputs are kept as their arrays."""
    versions, sources, saved = [], [], []
    for value in ctx.saved:
        source = None
        if value is not None:
            is_tensor = isinstance(value, Tensor)
            for nr, out in enumerate(outputs):
                if out is not None and (value is out if is_tensor else value is out.array):
                    versions.append((out._version, out._version.value))
                    source = -1 - nr
                    break
            else:
                for i, arg in enumerate(args):
                    if isinstance(arg, Tensor) and (
                            value is arg if is_tensor else value is arg.array):
                        versions.append((arg._version, arg._version.value))
                        source = i
                        break
            if is_tensor and source is not None:
                value = value.array
        sources.append(source)
        saved.append(value)
    ctx.saved = tuple(saved)
    ctx.versions = versions
    ctx.sources = sources


def _as_array(ctx, out) -> np.ndarray:
    """A forward's result that numpy gave as a scalar, as an array; if forward saved the
    scalar, the array takes its place (so it is known as the output)."""
    array = np.asarray(out)
    if ctx.saved:
        ctx.saved = tuple(array if value is out else value for value in ctx.saved)
    return array


def _wrap_outputs(cls, ctx, args, outs, requires_grad):
    """The tensors of a forward that returned several arrays (None entries stay None)."""
    non_differentiable = ctx.__dict__.pop("non_differentiable", ())
    view_counter = None
    if cls.is_view:
        view_counter = args[0]._version
        view_counter.shared = True
    results = []
    meta = []
    differentiable = False
    for nr, out in enumerate(outs):
        if out is None:
            results.append(None)
            meta.append(None)
            continue
        wanted = requires_grad and id(out) not in non_differentiable
        if type(out) is not np.ndarray:
            out = _as_array(ctx, out)
        wanted = wanted and out.dtype.kind in "fc"
        result = wrap(out, wanted, view_counter)
        if wanted:
            result.grad_fn = ctx
            result._output_nr = nr
            differentiable = True
        results.append(result)
        meta.append((out.shape, out.dtype))
    if differentiable:
        _record_outputs(ctx, args, results, meta)
    return tuple(results)


def _record_outputs(ctx, args, results, meta):
    connect(ctx, args)
    ctx.num_outputs = len(results)
    ctx.plain = False
    ctx.output_meta = meta
    if ctx.saved:
        track_saved(ctx, args, results)
    else:
        ctx.versions = ()
        ctx.sources = None


class Function(ArrayFunction):
    """``torch.autograd.Function``: subclass it with static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)`` working on Tensors, and call ``apply``.

    forward runs under no_grad; ``ctx.save_for_backward``, ``ctx.mark_non_differentiable``,
    ``ctx.set_materialize_grads`` and ``ctx.needs_input_grad`` behave as in torch. backward
    gets one gradient per output (zeros where an output got none, unless materialize_grads
    is off) and returns one per forward argument; with ``create_graph=True`` it is recorded,
    so a backward written with Tensor ops can be differentiated again.
    """

    _node_base = CustomNode

    @classmethod
    def _default_node_name(cls) -> str:
        return f"{cls.__name__}Backward"

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes positional arguments only")
        ctx = cls._node_class()
        grad_mode = _GradMode.enabled
        ctx.needs_input_grad = tuple(grad_mode and isinstance(a, Tensor) and a.requires_grad
                                     for a in args)
        requires_grad = any(ctx.needs_input_grad)
        with no_grad():
            outputs = cls.forward(ctx, *args)
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        non_differentiable = ctx.__dict__.pop("non_differentiable", ())
        results, meta = [], []
        differentiable = False
        for nr, out in enumerate(outs):
            if not isinstance(out, Tensor):
                results.append(out)
                meta.append(None)
                continue
            wanted = (requires_grad and id(out) not in non_differentiable
                      and out.array.dtype.kind in "fc")
            if any(out is a for a in args) or (out.grad_fn is not None and wanted):
                out = Tensor(out.array, _version=out._version)  # an input returned as it is
            out.requires_grad = wanted
            if wanted:
                out.grad_fn = ctx
                out._output_nr = nr if is_tuple else None
                differentiable = True
            results.append(out)
            meta.append((out.array.shape, out.array.dtype))
        if differentiable:
            _record_outputs(ctx, args, results, meta)
        return tuple(results) if is_tuple else results[0]

    @classmethod
    def call_backward(cls, ctx, grads: tuple, create_graph: bool):
        """Run the user's backward on Tensors; plain backward gets arrays back."""
        tensors = []
        for g, info in zip(grads, ctx.output_meta):
            if g is None:
                if ctx.materialize_grads and info is not None:
                    g = Tensor(np.zeros(info[0], dtype=info[1]))
            elif not isinstance(g, Tensor):
                g = Tensor(g)
            tensors.append(g)
        ctx.unpack_mode = "graph" if create_graph else "detached"
        try:
            with set_grad_enabled(create_graph):
                result = cls.backward(ctx, *tensors)
        finally:
            ctx.__dict__.pop("unpack_mode", None)
        result = result if isinstance(result, tuple) else (result,)
        expected = len(ctx.parents)
        if len(result) < expected or any(r is not None for r in result[expected:]):
            raise RuntimeError(f"function {ctx.name()} returned an incorrect number of "
                               f"gradients (expected {expected}, got {len(result)})")
        grads_out = []
        for value, needed in zip(result, ctx.needs_input_grad):
            if value is None or not needed:
                grads_out.append(None)
            elif isinstance(value, Tensor):
                grads_out.append(value if create_graph else value.array)
            else:
                raise TypeError(f"function {ctx.name()} returned a gradient of type "
                                f"{type(value).__name__}, expected a Tensor or None")
        return tuple(grads_out)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")


def once_differentiable(fn):
    """torch.autograd.function.once_differentiable: the backward runs without recording."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
