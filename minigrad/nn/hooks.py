"""Module hooks, as torch's: forward pre-hooks, forward hooks, full backward pre-hooks and
full backward hooks, per module and global (``register_module_*``), called in torch's order
with torch's arguments; each registration returns a removable handle.

A call with hooks (``call_with_hooks``) runs: forward pre-hooks (global first) -> the
inputs through an identity node whose post-hook will call the backward hooks -> forward ->
forward hooks -> the outputs through an identity node whose post-hook calls the backward
pre-hooks. In backward, the gradients reach the outputs' node first: the pre-hooks get
``(module, grad_output)`` and may replace it; then, once the gradients reach the inputs' node,
the backward hooks get ``(module, grad_input, grad_output)`` and may replace grad_input
(torch.utils.hooks.BackwardHook works the same way).
"""
import warnings
from collections import OrderedDict

from minigrad.autograd.function import Function
from minigrad.autograd.grad_mode import is_grad_enabled
from minigrad.tensor import Tensor
from minigrad.utils.hooks import RemovableHandle

__all__ = ["register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook",
           "call_with_hooks", "any_global_hooks"]

_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


def any_global_hooks() -> bool:
    return bool(_global_forward_pre_hooks or _global_forward_hooks
                or _global_backward_pre_hooks or _global_backward_hooks)


class _Registered:
    """Set once a global hook has been registered: Module.__call__ then takes the hooked
    path (which finds nothing to call once they are removed). Until then a call pays for one
    attribute read."""

    any = False


def _register(registry, hook, extra=None):
    _Registered.any = True
    handle = RemovableHandle(registry, extra_dict=extra)
    registry[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook):
    """hook(module, args) -> new args or None, before every module's forward."""
    return _register(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call=False):
    """hook(module, args, output) -> new output or None, after every module's forward."""
    handle = _register(_global_forward_hooks, hook, _global_forward_hooks_always_called)
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) -> new grad_output or None, for every module."""
    return _register(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) -> new grad_input or None, for every module."""
    return _register(_global_backward_hooks, hook)


class BackwardHookFunction(Function):
    """The identity on tensors, a node of its own to hang a module's backward hooks on."""

    @staticmethod
    def forward(ctx, *tensors):
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


class BackwardHook:
    """The backward hooks of one call of a module (torch.utils.hooks.BackwardHook)."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_positions = self.output_positions = None

    @staticmethod
    def _pack(positions, values, size):
        packed = [None] * size
        for position, value in zip(positions, values):
            packed[position] = value
        return tuple(packed)

    def _wrap(self, values):
        """(values with their tensors passed through an identity node, that node, positions)
        or (values, None, None) when no tensor needs a gradient."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in positions]
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return values, None, None
        wrapped = BackwardHookFunction.apply(*tensors)
        node = next(t.grad_fn for t in wrapped if t.grad_fn is not None)
        values = list(values)
        for position, tensor in zip(positions, wrapped):
            values[position] = tensor
        return tuple(values), node, positions

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        args, node, positions = self._wrap(args)
        self.input_positions = positions
        if node is not None:
            node.register_hook(self._input_hook)
        return args

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        values = result if is_tuple else (result,)
        self.n_outputs = len(values)
        values, node, positions = self._wrap(values)
        self.output_positions = positions
        if node is not None:
            node.register_hook(self._output_hook)
        return values if is_tuple else values[0]

    def _input_hook(self, grad_inputs, _):
        if self.grad_outputs is None:
            return None  # a gradient that reached the inputs without passing the outputs
        result = self._pack(self.input_positions, grad_inputs, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(result):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(result)}")
            result = tuple(out)
        self.grad_outputs = None
        return tuple(result[i] for i in self.input_positions)

    def _output_hook(self, grad_inputs, _):
        self.grad_outputs = self._pack(self.output_positions, grad_inputs, self.n_outputs)
        for hook in self.pre_hooks:
            out = hook(self.module, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(out)}, but expected "
                                   f"{len(self.grad_outputs)}")
            self.grad_outputs = tuple(out)
        grad_outputs = self.grad_outputs
        if self.input_positions is None:
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                out = hook(self.module, grad_inputs, self.grad_outputs)
                if out is not None and not all(g is None for g in out):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_positions)


def call_with_hooks(module, args, kwargs):
    """module(*args, **kwargs) with its hooks and the global ones, in torch's order."""
    pre_hooks = [*_global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
    hooks = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
    for hook_id, hook in (*_global_forward_pre_hooks.items(),
                          *module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward_hook = None
    if hooks or pre_hooks:
        backward_hook = BackwardHook(module, hooks, pre_hooks)
        args = backward_hook.setup_input_hook(args)
    called = set()
    try:
        result = module.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            called.add(hook_id)
            if hook_id in module._forward_hooks_with_kwargs:
                out = hook(module, args, kwargs, result)
            else:
                out = hook(module, args, result)
            if out is not None:
                result = out
    except Exception:
        _always_called(module, args, kwargs, called)
        raise
    if backward_hook is not None:
        if not isinstance(result, (Tensor, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(result)}", stacklevel=3)
        else:
            result = backward_hook.setup_output_hook(result)
    return result


def _always_called(module, args, kwargs, called):
    """Forward hooks registered with always_call run even when forward raised."""
    for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
        always = (hook_id in module._forward_hooks_always_called
                  or hook_id in _global_forward_hooks_always_called)
        if not always or hook_id in called:
            continue
        try:
            if hook_id in module._forward_hooks_with_kwargs:
                hook(module, args, kwargs, None)
            else:
                hook(module, args, None)
        except Exception as error:  # noqa: BLE001  torch silences it the same way
            warnings.warn(f"module forward hook with ``always_call=True`` raised an exception "
                          f"that was silenced as another error was raised in forward: {error}",
                          stacklevel=3)
