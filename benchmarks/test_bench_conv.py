"""conv2d speed: the seed model's three convolutions, minigrad next to torch in each group.

    python -m pytest benchmarks/test_bench_conv.py --benchmark-only --benchmark-group-by=group

Groups are named "conv<k> <shape> batch <n> <pass>": forward alone, or forward + backward (to
the input, weight and bias). Both frameworks run float32 with the same number of threads.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import minigrad
from minigrad.ops.conv import conv2d

# The seed model's convolutions: (in channels, out channels, image size), 5x5, padding 2.
SEED_CONVS = {"conv1 3->32 32x32": (3, 32, 32), "conv2 32->32 16x16": (32, 32, 16),
              "conv3 32->64 8x8": (32, 64, 8)}
BATCHES = [1, 64]


def make_inputs(c, f, size, batch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c, size, size)).astype(np.float32)
    w = (rng.standard_normal((f, c, 5, 5)) * 0.1).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    grad = rng.standard_normal((batch, f, size, size)).astype(np.float32)
    return x, w, b, grad


def minigrad_step(x, w, b, grad, backward):
    tx, tw, tb = (minigrad.Tensor(a, requires_grad=backward) for a in (x, w, b))
    g = minigrad.Tensor(grad)

    def step():
        y = conv2d(tx, tw, tb, padding=2)
        if backward:
            tw.grad = tb.grad = tx.grad = None
            y.backward(g)
    return step


def torch_step(x, w, b, grad, backward):
    tx, tw, tb = (torch.from_numpy(a).requires_grad_(backward) for a in (x, w, b))
    g = torch.from_numpy(grad)

    def step():
        y = F.conv2d(tx, tw, tb, padding=2)
        if backward:
            tw.grad = tb.grad = tx.grad = None
            y.backward(g)
    return step


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", list(SEED_CONVS))
def test_conv2d(benchmark, name, batch, backward, framework):
    torch.set_num_threads(minigrad.get_num_threads())
    inputs = make_inputs(*SEED_CONVS[name], batch)
    make = minigrad_step if framework == "minigrad" else torch_step
    benchmark.group = f"{name} batch {batch} {'forward+backward' if backward else 'forward'}"
    benchmark(make(*inputs, backward))
