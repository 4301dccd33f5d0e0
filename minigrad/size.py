"""Size: the type of ``Tensor.shape`` and ``Tensor.size()``, a tuple of ints (torch.Size)."""
import math
import numbers

__all__ = ["Size"]


class Size(tuple):
    """A tuple of dimension sizes; prints as ``minigrad.Size([2, 3])``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, numbers.Integral):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item "
                                f"{sizes.index(size)} is '{type(size).__name__}')")
        return super().__new__(cls, (int(size) for size in sizes))

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def __getitem__(self, index):
        result = super().__getitem__(index)
        return Size(result) if isinstance(index, slice) else result

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, count):
        return Size(tuple(self) * count)

    __rmul__ = __mul__

    def __reduce__(self):
        return Size, (tuple(self),)
