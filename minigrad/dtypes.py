"""The dtypes minigrad knows, as numpy dtypes, and torch's promotion rules on top of numpy's.

``minigrad.float32 == numpy.dtype("float32")``, so a Tensor's ``dtype`` (its array's dtype)
compares equal to these names and to numpy's scalar types alike.
"""
import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int16 = np.dtype("int16")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

float = float32  # noqa: A001  torch.float is float32
double = float64
long = int64
int = int32  # noqa: A001
half = float16

default_float = float32
FLOATING = (float16, float32, float64)

_NAMES = {
    float32: "float32",
    float64: "float64",
    float16: "float16",
    int64: "int64",
    int32: "int32",
    int16: "int16",
    int8: "int8",
    uint8: "uint8",
    bool_: "bool",
}


def dtype_name(dtype) -> str:
    """'minigrad.float32' style name, as torch prints 'torch.float32'."""
    return "minigrad." + _NAMES.get(np.dtype(dtype), str(dtype))


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def to_dtype(dtype):
    """Accept a numpy dtype, a numpy scalar type, a string or a Python type."""
    if dtype is None:
        return None
    return np.dtype(dtype)


def infer_dtype(array: np.ndarray):
    """The dtype torch.tensor gives data that numpy read as ``array``.

    Python floats become float32 (numpy reads them as float64); Python ints int64; bools bool.
    A numpy array keeps its dtype: that case is handled by the caller.
    """
    kind = array.dtype.kind
    if kind == "f":
        return default_float
    if kind in "iu":
        return int64
    if kind == "b":
        return bool_
    raise TypeError(f"can't convert data of dtype {array.dtype} to a minigrad tensor")


def same_category(a, b) -> bool:
    """True when both dtypes are bool, both integers or both floating (torch's categories)."""
    category = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    return category[np.dtype(a).kind] == category[np.dtype(b).kind]


def promote(a, b):
    """Result dtype of a binary op between two tensors, with torch's rule that a float tensor
    wins over an integer one whatever their widths (numpy would widen int64 + float32 to
    float64)."""
    if a == b:
        return a
    a_float, b_float = a.kind == "f", b.kind == "f"
    if a_float and not b_float:
        return a
    if b_float and not a_float:
        return b
    return np.promote_types(a, b)


_LEGACY_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor",
                 int64: "LongTensor", int32: "IntTensor", int16: "ShortTensor",
                 int8: "CharTensor", uint8: "ByteTensor", bool_: "BoolTensor"}


def legacy_type_name(dtype) -> str:
    """What ``Tensor.type()`` returns: 'minigrad.FloatTensor' for torch's 'torch.FloatTensor'."""
    return "minigrad." + _LEGACY_NAMES.get(np.dtype(dtype), str(dtype))
