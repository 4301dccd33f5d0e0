"""The graph's nodes, as ``torch.autograd.graph``: ``Node`` (one recorded op, also the ``ctx``
its forward and backward share), ``AccumulateGrad`` (where a leaf's gradient goes, as seen
through ``next_functions``) and the hooks a node carries.

A node links to what made each of its inputs (``parents``): the Node that made it, a
``(Node, output_nr)`` pair when that node has several outputs, the leaf Tensor itself, or None
when input i needs no gradient. It never links to intermediate tensors, so activations live
only as long as the arrays a node saved for its backward.

What forward saved is kept as arrays. ``saved_tensors`` gives them back as arrays for a plain
backward; during a ``create_graph=True`` backward (``unpack_mode == "graph"``) it gives Tensors
instead: a saved input is the input tensor again (with its history), a saved output is a
tensor whose ``grad_fn`` is this node, so the gradient formula written with those values is
itself recorded and can be differentiated again (torch's SavedVariable does the same).
"""
import weakref
from collections import OrderedDict

from minigrad.utils.hooks import RemovableHandle

__all__ = ["Node", "AccumulateGrad", "FREED_MESSAGE"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class NodeHooks:
    """The hooks of one node: pre-hooks (``register_prehook``), post-hooks
    (``register_hook``), and per output the hooks of the tensor it made (``Tensor.register_hook``
    on a non-leaf) and the tensor that retains its gradient (``retain_grad``)."""

    __slots__ = ("pre", "post", "tensor_pre", "retain")

    def __init__(self):
        self.pre = OrderedDict()
        self.post = OrderedDict()
        self.tensor_pre = {}   # output_nr -> OrderedDict of hooks
        self.retain = {}       # output_nr -> weakref to the tensor


class Node:
    """One recorded application of a Function: the ``ctx`` its forward and backward share.

    shapes[i] and dtypes[i] describe input i when it is a Tensor (for fitting its gradient;
    shapes[i] is None for other arguments); needs_input_grad[i] says whether input i wants a
    gradient. ``sources`` maps each saved array to its origin (input index, -1 - output index,
    or None) for unpacking it as a Tensor.
    """

    __slots__ = ("parents", "shapes", "dtypes", "needs_input_grad", "saved", "sources",
                 "versions", "released", "hooks", "__dict__")
    function = None      # the Function subclass, set on each generated Node class
    plain = True         # one output and a backward on arrays: the engine's fast path
    num_outputs = 1
    unpack_mode = None   # None: saved values as arrays; "detached" or "graph": as Tensors
    materialize_grads = False

    def __init__(self):
        self.saved = None
        self.released = False
        self.hooks = None

    # ------------------------------------------------------------------ forward's side
    def save_for_backward(self, *values):
        """Keep what backward needs (freed after backward unless retain_graph)."""
        self.saved = values

    def mark_non_differentiable(self, *outputs):
        """The outputs (arrays for minigrad's ops, Tensors for a custom Function) that get no
        gradient: their tensors do not require grad, and backward receives None for them."""
        self.__dict__["non_differentiable"] = {id(o) for o in outputs}

    def set_materialize_grads(self, value: bool):
        """Whether backward receives zeros (True, the default of a custom Function) or None
        for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    # ------------------------------------------------------------------ backward's side
    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(FREED_MESSAGE)
        if self.unpack_mode is None:
            return self.saved
        return tuple(self._unpack(value, source) for value, source in
                     zip(self.saved, self.sources or (None,) * len(self.saved)))

    def _unpack(self, value, source):
        from minigrad.tensor import Tensor
        if source is None or value is None:
            if self.unpack_mode == "detached" and isinstance(value, Tensor):
                return value.detach()
            return value
        array = value.array if isinstance(value, Tensor) else value
        if self.unpack_mode == "detached":
            return Tensor(array)
        if source >= 0:
            return tensor_of(self.parents[source], array)
        nr = -1 - source
        return tensor_of(self if self.num_outputs == 1 else (self, nr), array)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        """((node, output_nr), ...) per Tensor input: the node that made it, the
        ``AccumulateGrad`` of a leaf, or (None, 0) when it needs no gradient (nothing once
        backward has freed the node, see ``release``)."""
        if self.released:
            return ()
        transposed = self.function.graph_transposed
        return tuple(self._transposed_view(i) if i in transposed else function_of(self.parents[i])
                     for i in self.tensor_positions())

    def _transposed_view(self, position: int) -> tuple:
        """(TBackward0, 0) in front of argument ``position``: torch's fused linear takes
        weight.t(), which is a node of its own there (one object per node and argument)."""
        views = self.__dict__.setdefault("_transposed_views", {})
        if position not in views:
            views[position] = TransposeView(function_of(self.parents[position]))
        return views[position], 0

    def tensor_positions(self) -> list:
        """The argument positions torch lists as this node's inputs (next_functions, hooks'
        grad_inputs): the Tensor arguments, or the Function's ``graph_arguments`` where torch
        wraps a number operand as a tensor (x * 2 has two inputs)."""
        positions = self.function.graph_arguments
        if positions is None:
            return [i for i, shape in enumerate(self.shapes) if shape is not None]
        return list(positions)

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def _hooks(self) -> NodeHooks:
        if self.hooks is None:
            self.hooks = NodeHooks()
        return self.hooks

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) -> new grad_inputs or None, after this node ran."""
        hooks = self._hooks().post
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """fn(grad_outputs) -> new grad_outputs or None, before this node runs."""
        hooks = self._hooks().pre
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def release(self):
        """Free what forward saved (and the op's other state); a node that saved nothing
        stays usable, as in torch."""
        if self.saved:
            self.saved = None
            self.versions = None
            self.sources = None
            # Unlike torch, the links to the inputs' nodes go too: a chain of losses kept
            # across steps (running_loss = loss + running_loss) then keeps one small node a
            # step, not every step's graph. next_functions of a freed node is empty.
            self.parents = ()
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


class AccumulateGrad:
    """The node that stores a leaf's gradient into ``.grad`` (what ``next_functions`` shows
    for a leaf); ``variable`` is the leaf."""

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    @property
    def next_functions(self) -> tuple:
        return ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def register_hook(self, fn):
        raise RuntimeError("register_hook on AccumulateGrad: use Tensor.register_hook or "
                           "register_post_accumulate_grad_hook on the leaf instead")

    register_prehook = register_hook


class TransposeView:
    """What ``next_functions`` shows for a weight a fused linear uses transposed (torch's
    TBackward0 of ``weight.t()``): it leads to the weight's own entry. Display only: the
    gradient flows through the linear's node, whose hooks see it transposed, as torch's
    addmm's do."""

    def __init__(self, parent_function: tuple):
        self._next = (parent_function,)

    @property
    def next_functions(self) -> tuple:
        return self._next

    def name(self) -> str:
        return "TBackward0"

    def __repr__(self) -> str:
        return f"<TBackward0 object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})


def function_of(parent) -> tuple:
    """(node, output_nr) for a parent entry of a node."""
    if parent is None:
        return None, 0
    if type(parent) is tuple:
        return parent
    if isinstance(parent, Node):
        return parent, 0
    accumulator = parent.__dict__.get("_accumulator")
    if accumulator is None:
        accumulator = parent.__dict__["_accumulator"] = AccumulateGrad(parent)
    return accumulator, 0


def tensor_of(parent, array):
    """A tensor holding ``array`` whose history is ``parent`` (a parent entry of a node)."""
    from minigrad.tensor import Tensor
    if parent is None:
        return Tensor(array)
    if type(parent) is tuple:
        result = Tensor(array, requires_grad=True)
        result.grad_fn, result._output_nr = parent
        return result
    if isinstance(parent, Node):
        result = Tensor(array, requires_grad=True)
        result.grad_fn = parent
        return result
    return parent  # a leaf: the tensor itself
