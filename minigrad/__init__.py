"""minigrad: a small deep-learning engine for the CPU, with a PyTorch-shaped API.

The Python layer keeps the autograd graph; Cython kernels (``minigrad._kernels``) do the heavy
math: GEMM, convolution, pooling, the fused loss and the fused optimizer updates.
"""
import os as _os

from minigrad._source_tree import use_installed_package_if_unbuilt as _installed_instead

# From a source checkout whose kernels are not compiled, the installed minigrad takes this
# module's place in sys.modules (see _source_tree.py); the lines below then bind that
# package's objects here, which is harmless: this module is discarded.
_installed_instead(_os.path.dirname(__file__))

from minigrad._memory import keep_freed_memory as _keep_freed_memory  # noqa: E402

_keep_freed_memory()

from minigrad.tensor import Tensor  # noqa: F401  (tensor first: the ops import it)
from minigrad.creation import (  # noqa: F401
    arange, as_tensor, asarray, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm,
    tensor, zeros, zeros_like,
)
from minigrad import autograd  # noqa: F401
from minigrad.autograd import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from minigrad.autograd import inference_mode, is_inference_mode_enabled  # noqa: F401
from minigrad import accelerator, backends, cuda  # noqa: F401
from minigrad.devices import device, get_default_device, set_default_device  # noqa: F401
from minigrad.size import Size  # noqa: F401
from minigrad.dtypes import (  # noqa: F401
    bool_ as bool, double, float, float16, float32, float64, half, int, int8, int16, int32,
    int64, long, uint8,
)
from minigrad.functions import *  # noqa: F401,F403
from minigrad.random import Generator, initial_seed, manual_seed, seed  # noqa: F401
from minigrad.threads import get_num_threads, set_num_threads  # noqa: F401

__version__ = "0.1.0"

# The PyTorch-shaped namespaces: minigrad.nn, minigrad.optim, minigrad.utils.data, minigrad.vision.
from minigrad import backends, distributed, nn, optim, utils, vision  # noqa: E402,F401
from minigrad.serialization import load, save  # noqa: E402,F401
