"""parameters_to_vector and vector_to_parameters, as torch.nn.utils."""
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _type_name(value) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor of every parameter's values, flattened in order (differentiable: its
    gradient flows back to each parameter)."""
    return _shape.cat([_shape.reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Give each parameter, in order, the next numel() values of the 1-D ``vec``: its
    ``data`` becomes that slice of vec, reshaped (a view, as in torch: later changes to vec
    show in the parameters)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_type_name(vec)}")
    pointer = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
