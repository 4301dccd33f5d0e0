"""Grad mode: whether ops record a graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``), as torch.autograd.grad_mode.

Each is a context manager and a decorator; ``no_grad`` also works bare (``@no_grad``).
``inference_mode`` is ``no_grad`` for minigrad (no view tracking or version counters are
switched off: they cost nothing here) with its own flag, ``is_inference_mode_enabled()``.
"""
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _GradMode:
    enabled = True
    inference = False


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    return _GradMode.inference


class set_grad_enabled:
    """Context manager (and function, and decorator) that sets grad mode, restoring it on
    exit."""

    def __init__(self, mode: bool):
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        _GradMode.enabled = self.prev  # as a decorator: undo the switch __init__ made
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        if orig_func is None or not callable(orig_func):
            return super().__new__(cls)
        return cls()(orig_func)  # used bare, as @no_grad (torch allows both forms)

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Operations inside record no graph (as ``torch.no_grad``); also a decorator."""
    mode = False


class enable_grad(_GradModeContext):
    """Turn grad mode back on inside a ``no_grad`` block; also a decorator."""
    mode = True


class inference_mode(_GradModeContext):
    """``torch.inference_mode(mode=True)``: no graph is recorded inside (as ``no_grad``);
    ``inference_mode(False)`` changes nothing. Also a decorator, bare or called."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)  # @inference_mode without parentheses
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.inference = bool(mode)

    def __enter__(self):
        self.prev = _GradMode.enabled
        self.prev_inference = _GradMode.inference
        if self.inference:
            _GradMode.enabled = False
            _GradMode.inference = True
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev
        _GradMode.inference = self.prev_inference

    def clone(self):
        return type(self)(self.inference)
