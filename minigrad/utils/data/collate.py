"""Turning a list of samples into one batch, as ``torch.utils.data.default_collate``.

``default_collate`` works by the type of the first sample, recursively:

- Tensors are stacked along a new first dimension; numpy arrays become tensors and are stacked;
  numpy scalars become a 1-d tensor of their dtype;
- Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor;
- strings and bytes stay a list;
- a dict gives a dict of collated values per key, a namedtuple a namedtuple of collated fields,
  any other sequence a list of collated positions (a tuple gives a list, as torch).
"""
import collections.abc
import numbers

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
          "lists; found {}")


def _is_text_array(array: np.ndarray) -> bool:
    return array.dtype.kind in "SaUO"


def _stack(arrays: list) -> Tensor:
    first = arrays[0].shape
    for i, array in enumerate(arrays):
        if array.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(array.shape)} at entry {i}")
    return Tensor(np.stack(arrays))


def default_collate(batch):
    """Collate a list of samples into a batch (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t.array for t in batch])
    if isinstance(elem, np.ndarray):
        if _is_text_array(elem):
            raise TypeError(_ERROR.format(elem.dtype))
        return _stack([np.asarray(a) for a in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_text_array(np.asarray(elem)):
            raise TypeError(_ERROR.format(elem.dtype))
        return Tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [default_collate(list(position)) for position in zip(*batch)]
        if isinstance(elem, tuple):
            return collated
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """Convert numpy arrays (and numpy scalars) inside ``data`` to tensors; used when the
    loader does not batch (``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_text_array(data) else Tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data
