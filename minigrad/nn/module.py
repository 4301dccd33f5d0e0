"""Module: the base class of layers and models, as ``torch.nn.Module``.

A Module owns three ordered registries, filled by attribute assignment:
``_parameters`` (Parameters, or None), ``_buffers`` (Tensors that are state but not trained,
such as BatchNorm's running statistics) and ``_modules`` (child Modules). Each registered
value is also kept in the instance ``__dict__``, so ``self.weight`` or ``self.model1`` is a
plain attribute read on the hot path rather than a ``__getattr__`` fallback.
``state_dict`` names entries by the dotted path from the root (``model1.0.weight``), exactly
as torch does, so a torch model's weights load into the same minigrad model.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from minigrad import creation as _creation
from minigrad import devices as _devices
from minigrad.autograd import no_grad
from minigrad.nn import hooks as _hooks
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor
from minigrad.utils.hooks import RemovableHandle

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys missing from and unexpected in the dict."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _typename(value) -> str:
    return type(value).__module__ + "." + type(value).__qualname__


def _as_array(value, key):
    if isinstance(value, Tensor):
        return value.array
    try:
        return np.asarray(value)
    except Exception as error:  # e.g. a torch tensor that requires grad
        raise TypeError(f"state_dict entry {key!r} of type {type(value).__name__} cannot be "
                        f"turned into an array: {error}") from None


_GLOBAL_HOOKS = _hooks._Registered

# The hook registries of a module, and the dicts of per-hook flags each one's handles clear.
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_backward_pre_hooks", "_backward_hooks")
_FLAG_DICTS = {"_forward_pre_hooks": ("_forward_pre_hooks_with_kwargs",),
               "_forward_hooks": ("_forward_hooks_with_kwargs", "_forward_hooks_always_called")}


class Module:
    """Base class of every layer and model; subclasses define ``forward``."""

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", OrderedDict())
        for name in _HOOK_DICTS:
            setattr_(self, name, OrderedDict())
        setattr_(self, "_has_hooks", False)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        if self._has_hooks or _GLOBAL_HOOKS.any:
            return _hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ hooks
    def _add_hook(self, registry_name, hook, prepend=False, flags=()):
        registry = self.__dict__[registry_name]
        extras = [self.__dict__[name] for name in _FLAG_DICTS.get(registry_name, ())]
        handle = RemovableHandle(registry, extra_dict=extras)
        registry[handle.id] = hook
        if prepend:
            registry.move_to_end(handle.id, last=False)
        for name in flags:
            self.__dict__[name][handle.id] = True
        object.__setattr__(self, "_has_hooks", True)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args (with_kwargs: hook(module, args, kwargs)
        -> None or (args, kwargs)), before forward."""
        flags = ("_forward_pre_hooks_with_kwargs",) if with_kwargs else ()
        return self._add_hook("_forward_pre_hooks", hook, prepend, flags)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """hook(module, args, output) -> None or a new output (with_kwargs: hook(module, args,
        kwargs, output)), after forward; always_call runs it even when forward raised."""
        flags = (("_forward_hooks_with_kwargs",) if with_kwargs else ()) + (
            ("_forward_hooks_always_called",) if always_call else ())
        return self._add_hook("_forward_hooks", hook, prepend, flags)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> None or a new grad_output, when the gradients with
        respect to the module's outputs are computed."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or a new grad_input, when the
        gradients with respect to the module's inputs are computed."""
        return self._add_hook("_backward_hooks", hook, prepend)

    # ------------------------------------------------------------------ registration
    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')

    def _forget(self, name, keep=None):
        """Remove ``name`` from every registry but ``keep`` (where a value that replaces
        another keeps its position)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def register_parameter(self, name: str, param) -> None:
        """Register ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name(name, "parameter")
        if name not in self._parameters and name in self.__dict__:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(minigrad.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             "parameters must be created explicitly.")
        self._forget(name, self._parameters)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register a Tensor (or None) that is module state but not a parameter; persistent
        buffers are part of ``state_dict``."""
        self._check_name(name, "buffer")
        if name not in self._buffers and name in self.__dict__:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(minigrad Tensor or None required)")
        self._forget(name, self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module) -> None:
        """Register a child module (or None) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_name(name, "module")
        if name not in self._modules and name in self.__dict__:
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, self._modules)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self.__dict__.pop(name, None)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(minigrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self.__dict__.pop(name, None)
            self.add_module(name, value)
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(minigrad.nn.Module or None expected)")
            self.add_module(name, value)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(minigrad Tensor or None expected)")
            self._buffers[name] = value
            self.__dict__[name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: registered values live in __dict__ too.
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_has_hooks", any(self.__dict__[name] for name in _HOOK_DICTS))

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, Parameter) pairs; a shared parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> "Module":
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return module._parameters[name]

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (True) or evaluation mode (False) here and in every child."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (set_to_none) or fill it with zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array.fill(0)

    def apply(self, fn) -> "Module":
        """Call ``fn`` on every child (recursively), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def _cast_floating(self, dtype) -> "Module":
        """Cast every floating parameter, gradient and buffer to ``dtype``, in place."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for tensor in registry.values():
                    if tensor is None or tensor.array.dtype.kind != "f":
                        continue
                    if tensor.array.dtype != dtype:
                        tensor.array = tensor.array.astype(dtype)
                        tensor._version.value += 1
                    if tensor.grad is not None and tensor.grad.array.dtype != dtype:
                        tensor.grad.array = tensor.grad.array.astype(dtype)
        return self

    def float(self) -> "Module":
        return self._cast_floating(np.float32)

    def double(self) -> "Module":
        return self._cast_floating(np.float64)

    def to(self, *args, **kwargs) -> "Module":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``: casts floating
        state in place; devices other than the CPU are refused (minigrad is CPU-only)."""
        dtype, device, _ = _creation.parse_to(args, kwargs)
        _devices.check_device(device if device is not None else "cpu", "modules")
        return self if dtype is None else self._cast_floating(dtype)

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        _devices.check_device("cuda" if device is None else device if isinstance(
            device, (str, _devices.device)) else f"cuda:{device}", "modules")
        return self

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict from dotted names to parameters and persistent buffers (detached
        Tensors sharing memory with the module's, unless keep_vars)."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _local_state(self):
        state = {name: p for name, p in self._parameters.items() if p is not None}
        state.update((name, b) for name, b in self._buffers.items()
                     if b is not None and name not in self._non_persistent_buffers_set)
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values (numpy arrays, minigrad Tensors, anything ``np.asarray`` takes) into
        the parameters and buffers of the same names. Returns (missing_keys,
        unexpected_keys); with ``strict`` either being non-empty raises RuntimeError, as does
        a shape mismatch always."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        keys = list(state_dict.keys())
        with no_grad():
            for prefix, module in self.named_modules(remove_duplicate=False):
                dotted = prefix + "." if prefix else ""
                local = module._local_state()
                for name, tensor in local.items():
                    key = dotted + name
                    if key not in state_dict:
                        missing.append(key)
                        continue
                    value = _as_array(state_dict[key], key)
                    if value.shape != tensor.array.shape:
                        errors.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{_size(value.shape)} from checkpoint, the shape in "
                                      f"current model is {_size(tensor.array.shape)}.")
                        continue
                    if assign:
                        tensor.array = np.array(value, dtype=tensor.array.dtype, order="C")
                        tensor._version.value += 1
                    else:
                        tensor.copy_(value)
                # As torch: a key under this prefix is unexpected here unless it names local
                # state or continues into a child module (which then judges it).
                for key in keys:
                    if not key.startswith(dotted):
                        continue
                    rest = key[len(dotted):]
                    if rest not in local and rest.split(".", 1)[0] not in module._modules:
                        unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _size(shape) -> str:
    return f"torch.Size({list(shape)})"
