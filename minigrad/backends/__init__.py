"""What minigrad's kernels run on this machine, and switches to see and force it.

Every kernel family is compiled for several instruction sets ('base': the platform's baseline;
'avx2': AVX2 + FMA; 'avx512': AVX-512 F/VL/BW/DQ + FMA) and picks one at run time::

    >>> import minigrad
    >>> minigrad.backends.cpu_info()["kernels"]
    {'gemm': 'avx512', 'conv': 'avx512', 'pool': 'avx512', 'optim': 'avx512', 'norm': 'avx512'}
    >>> minigrad.backends.set_isa("avx2")            # every family, for a comparison
    >>> minigrad.backends.set_isa(None)              # back to the default

The convolutions decide more per shape: the algorithm (direct channels-last, or im2col + GEMM
for grouped ones), and, for the direct kernels, the ISA and register tile, by timing the
candidates at a shape's first call. ``conv_plans()`` lists those decisions; ``set_verbose``
(or ``MINIGRAD_VERBOSE=1`` in the environment) prints each as it is taken.

``cudnn`` and ``mps`` answer torch.backends' questions for scripts that ask them (minigrad has
neither backend: their flags are stored and change nothing).
"""
import os
import platform

from minigrad._kernels import build_info, conv, cpu, gemm, norm, optim, pool
from minigrad.backends import cudnn, mps  # noqa: F401
from minigrad.threads import get_num_threads

__all__ = ["FAMILIES", "cpu_info", "get_isa", "set_isa", "supported_isas", "conv_plans",
           "set_conv_algorithm", "set_conv_tile", "set_verbose", "cudnn", "mps"]

# kernel family -> its compiled module (each has get_isa / set_isa)
FAMILIES = {"gemm": gemm, "conv": conv, "pool": pool, "optim": optim, "norm": norm}


def supported_isas() -> list:
    """The instruction sets this CPU runs, widest first."""
    return cpu.supported_isas()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_info() -> dict:
    """The CPU (model, instruction sets, cores), the threads minigrad uses, whether the kernels
    were built with OpenMP, and the instruction set each kernel family runs."""
    return {
        "model": _cpu_model(),
        "machine": platform.machine(),
        "isas": supported_isas(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "threads": get_num_threads(),
        "openmp": build_info.openmp_enabled(),
        "kernels": {name: module.get_isa() for name, module in FAMILIES.items()},
    }


def get_isa(family: str) -> str:
    """The instruction set the kernel family ('gemm', 'conv', 'pool', 'optim', 'norm') runs."""
    return _family(family).get_isa()


def set_isa(name, family=None) -> None:
    """Run one instruction set ('base', 'avx2', 'avx512'; None: the default) in every kernel
    family, or in one. ValueError for an unknown name, RuntimeError for one the CPU lacks."""
    cpu.isa_code(name)     # validates before anything changes
    modules = FAMILIES.values() if family is None else [_family(family)]
    for module in modules:
        module.set_isa(name)


def conv_plans() -> list:
    """How each convolution pass ran, per shape, dtype and thread count: a dict with 'pass',
    'shape', 'algorithm', 'layout', 'isa', 'tile', 'split' (how the threads of a direct weight
    gradient share its work: 'tiles' or 'pixels'; None for other passes) and the seconds each
    measured candidate took."""
    return conv.plans()


def set_conv_algorithm(name: str) -> None:
    """'direct' (channels-last kernels wherever they apply), 'gemm' (im2col + GEMM on NCHW
    copies everywhere), or 'auto' (the default)."""
    conv.set_algorithm(name)


def set_conv_tile(tile) -> None:
    """Force the direct convolutions' register tile (vectors of output channels, width), or
    None to choose by measurement."""
    conv.set_tile(tile)


def set_verbose(enabled: bool) -> None:
    """Print every convolution decision to stderr when it is taken."""
    conv.set_verbose(enabled)


def _family(name: str):
    if name not in FAMILIES:
        raise ValueError(f"unknown kernel family {name!r}; expected one of {sorted(FAMILIES)}")
    return FAMILIES[name]
