"""The device line: ``minigrad.device``, the default device, and the checks that let CPU code
written for torch run (``device="cpu"``, ``.to(device)`` with a device chosen at run time)
while anything asking for an accelerator fails with a message naming minigrad as CPU-only.

The exception types are those torch's CPU build raises: AssertionError for CUDA and XPU,
RuntimeError for MPS, meta and other backends.
"""
import builtins
import numbers

__all__ = ["device", "set_default_device", "get_default_device", "check_device",
           "accelerator_error", "CPU"]

_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")
_ASSERTING = {"cuda": "CUDA", "xpu": "XPU"}


class device:
    """``torch.device``: a device type and an optional index (``device("cpu")``,
    ``device("cuda:1")``, ``device("cuda", 1)``). Constructing one for an accelerator is
    allowed, as in torch; putting a tensor there is not."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  torch's argument names
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, numbers.Integral) and not isinstance(type, bool):
            raise AssertionError("minigrad is CPU-only: a device given by its index alone "
                                 f"({type}) means an accelerator (Torch not compiled with "
                                 "CUDA enabled)")
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({builtins.type(type).__name__}), expected a string")
        text, _, number = type.partition(":")
        if text not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start "
                               f"of device string: {type}")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        self.type = text
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (str(self),)

    def __enter__(self):
        check_device(self)
        return self

    def __exit__(self, *exc):
        return None


CPU = device("cpu")
_default = [CPU]


def check_device(value, what: str = "tensors") -> device:
    """The device ``value`` names (None: the default device), if it is the CPU; otherwise
    the error torch's CPU build raises, naming minigrad as CPU-only."""
    if value is None:
        value = _default[0]
    elif not isinstance(value, device):
        value = device(value)
    if value.type == "cpu":
        return CPU
    raise accelerator_error(value, f"{what} cannot be placed on device '{value}'; use 'cpu' "
                                   "(or leave the device out)")


def accelerator_error(value, detail: str) -> Exception:
    """The exception torch's CPU build raises for ``value``'s device type, naming minigrad
    as CPU-only."""
    kind = device(value).type
    message = f"minigrad is CPU-only: {detail}"
    if kind in _ASSERTING:
        return AssertionError(f"{message} (Torch not compiled with {_ASSERTING[kind]} enabled)")
    return RuntimeError(message)


def set_default_device(value) -> None:
    """``torch.set_default_device``: the device of tensors created without one. Setting an
    accelerator is allowed (as torch), creating a tensor there then fails."""
    _default[0] = CPU if value is None else device(value)


def get_default_device() -> device:
    return _default[0]
