"""Optimizer: parameter groups, lazily created per-parameter state, state_dict, zero_grad.

As ``torch.optim.Optimizer``. Each algorithm subclass names its state buffers
(``_state_keys``), creates them (``_init_state``) and runs one fused update per group
(``_update``). The base gathers, per group, the numpy arrays of the parameters that have a
gradient, their gradients and their state buffers; those lists are cached while the same
parameters have gradients, their arrays are unchanged and every state entry is still the same
tensor holding the same array (so replacing ``optimizer.state[p]["momentum_buffer"]``, legal in
torch, takes effect at the next step), so a step costs a few hundred nanoseconds of Python per
parameter plus one kernel call per group.
"""
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option that every parameter group must set."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _check_options(lr=None, eps=None, betas=None, weight_decay=None) -> None:
    """torch's ValueError for the options its optimizers share, in torch's order and words
    (None: not an option of the caller)."""
    if lr is not None and not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for index, beta in enumerate(betas[:2]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _setdefault_options(param_groups, **defaults) -> None:
    """Give every group the options a loaded state may lack (torch's groups have no 'fused')."""
    for group in param_groups:
        for key, value in defaults.items():
            group.setdefault(key, value)


def _check_cpu_only_options(capturable: bool, differentiable: bool) -> None:
    """torch's capturable (CUDA graphs) and differentiable (autograd through the update)
    modes: accepted as False, torch's default, so torch's signatures carry over; True is
    refused before the first step, where torch's CPU build would fail or record the update."""
    if capturable:
        raise AssertionError("capturable=True is for CUDA graph capture: minigrad runs on the "
                             "CPU, where torch refuses it too")
    if differentiable:
        raise NotImplementedError("differentiable=True (autograd through the optimizer step) is "
                                  "not supported: minigrad's optimizers update the parameters in "
                                  "place with fused kernels")


class _GroupArrays:
    """The arrays of one fused step: parameters with a gradient, their data, their state."""

    __slots__ = ("params", "arrays", "axes", "datas", "copies", "state", "entries", "fresh",
                 "keys", "generation", "source", "source_size")

    def __init__(self, params, axes, state, entries, fresh, keys, generation, source):
        self.params = params          # the Tensors that have a gradient
        self.arrays = [p.array for p in params]   # their .array arrays, as they were gathered
        self.axes = axes              # per parameter: the axes in memory order (None: C order)
        # the arrays in memory order (C-contiguous views, updated in place); a parameter that
        # is not dense (a strided view, as torch allows) is updated in a dense copy laid out
        # as its state (numpy's *_like), copied in before the kernel and back after it
        self.datas, self.copies = [], []
        for a, ax in zip(self.arrays, axes):
            data = in_memory_order(a, ax)
            if not data.flags.c_contiguous:
                work = np.empty_like(a)
                self.copies.append((a, work))
                data = in_memory_order(work, ax)
            self.datas.append(data)
        self.state = state            # {state key: [array per parameter]}
        self.entries = entries        # per parameter: [(state dict, key, tensor, array)]
        self.fresh = fresh            # per parameter: True when its state was created this step
        self.keys = keys
        self.generation = generation
        self.source = source          # the optimizer.state dict the arrays were taken from
        self.source_size = len(source)


def memory_axes(array: np.ndarray):
    """The axes of a dense array in the order its memory holds them (None for C order): a
    Conv2d weight is stored (KH, KW, C, F) and presented as (F, C, KH, KW). None also when
    the array is not dense in any order (the caller then finds it not C-contiguous)."""
    if array.flags.c_contiguous:
        return None
    axes = tuple(sorted(range(array.ndim), key=lambda i: -array.strides[i]))
    return axes if array.transpose(axes).flags.c_contiguous else None


def in_memory_order(array: np.ndarray, axes) -> np.ndarray:
    """array with its axes in memory order: a C-contiguous view of a dense array, so that the
    fused kernels walk parameter, gradient and state element by element alike. Arrays of
    another rank (a 0-d 'step') are returned as they are."""
    return array if axes is None or array.ndim != len(axes) else array.transpose(axes)


def _grad_array(param: Tensor, data: np.ndarray, axes) -> np.ndarray:
    """param.grad in the memory order of the parameter's array ``data`` (a C-contiguous array
    of its dtype: a view where the layouts agree, else a copy)."""
    grad = param.grad.array
    if grad.shape != data.shape:
        raise RuntimeError(f"the gradient of a parameter of shape {data.shape} has shape "
                           f"{grad.shape}")
    grad = in_memory_order(grad, axes)
    if grad.dtype != data.dtype or not grad.flags.c_contiguous:
        grad = np.ascontiguousarray(grad, dtype=data.dtype)
    return grad


def _param_axes(param: Tensor):
    """The memory order the fused kernels walk a parameter in: its own if it is dense, else
    that of its state buffers (made by numpy's *_like), in whose layout it is updated."""
    data = param.array
    if data.dtype not in (np.float32, np.float64):
        raise TypeError(f"optimizers update float32 or float64 parameters, got {data.dtype}")
    if data.size and any(stride == 0 and n > 1 for stride, n in zip(data.strides, data.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if not data.flags.writeable:
        raise ValueError(f"optimizers update parameters in place: a parameter of shape "
                         f"{data.shape} is a read-only array")
    axes = memory_axes(data)
    if in_memory_order(data, axes).flags.c_contiguous:
        return axes
    return memory_axes(np.empty_like(data))


def _copy_state_value(value, param: Tensor, key):
    """A deep copy of a saved state value; floating arrays take the parameter's dtype
    (except 'step', which keeps its own, as torch does)."""
    if isinstance(value, Tensor) or hasattr(value, "__array__"):   # also numpy and torch
        # np.array(order="C") copies and keeps a 0-d 'step' 0-d (ascontiguousarray would not).
        array = np.array(value.array if isinstance(value, Tensor) else value, order="C")
        if key != "step" and array.dtype.kind == "f":
            array = array.astype(param.array.dtype, copy=False)
            if array.shape == param.array.shape:     # in the parameter's memory order
                in_layout = np.empty_like(param.array)
                in_layout[...] = array
                array = in_layout
        return Tensor(array)
    if isinstance(value, dict):
        return {k: _copy_state_value(v, param, k) for k, v in value.items()}
    if key == "step" and isinstance(value, (int, float)):
        return Tensor(np.array(float(value), dtype=np.float32))
    return deepcopy(value)


def _state_unchanged(state, param, entries) -> bool:
    """Whether the state of ``param`` still holds the tensors (and arrays) a cached step
    uses: a user may replace an entry, or the whole dict, between steps."""
    if not entries:
        return True
    current = state.get(param)
    for entry_dict, key, tensor, array in entries:
        if (current is not entry_dict or current.get(key) is not tensor
                or tensor.array is not array):
            return False
    return True


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of dicts defining parameter groups (each with a
            'params' entry and any per-group options), or of (name, Tensor) pairs.
        defaults: the default value of every option of the algorithm.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._arrays = {}        # id(group) -> _GroupArrays
        self._generation = 0     # bumped whenever state or groups change wholesale
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ algorithm hooks
    def _state_keys(self, group) -> tuple:
        """The names of the state arrays the update reads and writes, in kernel order."""
        raise NotImplementedError

    def _init_state(self, group, param: Tensor, state: dict) -> None:
        """Fill the empty state dict of a parameter, in ``_state_keys`` order: 'step' a float32
        0-d zero (as torch keeps it), every other key zeros of the parameter's shape and
        dtype. Optimizers whose state starts otherwise override this."""
        for key in self._state_keys(group):
            state[key] = Tensor(np.zeros((), dtype=np.float32) if key == "step"
                                else np.zeros_like(param.array))

    def _update(self, group, arrays: _GroupArrays, grads: list) -> None:
        """One fused update of the group's parameters that have a gradient."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._arrays = {}
        self._generation = getattr(self, "_generation", 0) + 1

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (the others take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(param).__name__)
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(set(map(id, tensors))) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(map(id, group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if not seen.isdisjoint(map(id, tensors)):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)
        self._generation += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's gradient to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.grad_fn = None
                        p.grad.requires_grad = False
                        p.grad.array.fill(0)
                        p.grad._version.value += 1

    def step(self, closure=None):
        """One optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            arrays, grads = self._gather(group)
            if not arrays.params:
                continue
            for param_array, work in arrays.copies:
                work[...] = param_array
            self._update(group, arrays, grads)
            for param_array, work in arrays.copies:
                param_array[...] = work
            if True in arrays.fresh:
                arrays.fresh = [False] * len(arrays.params)
            for p in arrays.params:
                p._version.value += 1
        return loss

    def state_dict(self) -> dict:
        """{'state': {index: {name: value}}, 'param_groups': [{options, 'params': [index]}]}.

        Parameters are numbered in group order, as torch numbers them. The state values are the
        optimizer's own Tensors (not copies), as in torch.
        """
        index_of = {}
        start = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state from ``state_dict()`` (copied, so the source stays independent)."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _copy_state_value(v, param, None)
            else:
                state[k] = deepcopy(v)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})

    # ------------------------------------------------------------------ the arrays of a step
    def _gather(self, group):
        """(arrays, grads) for one fused step over the group's parameters with a gradient."""
        params = group["params"]
        keys = self._state_keys(group)
        arrays = self._arrays.get(id(group))
        if (arrays is not None and arrays.generation == self._generation
                and arrays.keys == keys and arrays.source is self.state
                and arrays.source_size == len(self.state) and len(arrays.datas) == len(params)):
            grads = []
            for p, data, axes, entries in zip(params, arrays.arrays, arrays.axes,
                                              arrays.entries):
                grad = p.grad
                if grad is None or p.array is not data or not _state_unchanged(
                        self.state, p, entries):
                    break
                grad = grad.array
                if grad.shape != data.shape:
                    grad = _grad_array(p, data, axes)       # raises
                grad = in_memory_order(grad, axes)
                if grad.dtype is not data.dtype or not grad.flags.c_contiguous:
                    grad = _grad_array(p, data, axes)
                grads.append(grad)
            else:
                return arrays, grads
        live = [p for p in params if p.grad is not None]
        fresh = []
        for p in live:
            fresh.append(not self.state.get(p))
            if fresh[-1] and keys:
                self._init_state(group, p, self.state[p])
        axes = [_param_axes(p) for p in live]
        grads = [_grad_array(p, p.array, ax) for p, ax in zip(live, axes)]
        state = {key: [in_memory_order(self.state[p][key].array, ax) for p, ax in zip(live, axes)]
                 for key in keys}
        entries = [[(self.state[p], key, self.state[p][key], self.state[p][key].array)
                    for key in keys] for p in live]
        arrays = _GroupArrays(live, axes, state, entries, fresh, keys, self._generation,
                              self.state)
        if len(live) == len(params):
            self._arrays[id(group)] = arrays
        return arrays, grads
