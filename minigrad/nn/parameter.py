"""Parameter: a Tensor that a Module registers as one of its trainable weights."""
import numpy as np

from minigrad.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient by default (as ``torch.nn.Parameter``).

    Assigning a Parameter to a Module attribute registers it, so it appears in
    ``parameters()`` and ``state_dict()``. The array is shared with ``data``, not copied.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.array
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise TypeError(f"Parameter expects a Tensor or a numpy array, got "
                            f"{type(data).__name__}")
        version = data._version if isinstance(data, Tensor) else None
        super().__init__(array, requires_grad=False, _version=version)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return Parameter, (self.array, self.requires_grad)
