"""Pooling and cross-entropy speed: the seed model's three MaxPool2d(2) and its loss,
minigrad next to torch in each group.

    python -m pytest benchmarks/test_bench_pool_loss.py --benchmark-only \
        --benchmark-group-by=group

Groups are named "<op> <shape> batch <n> <pass>": forward alone, or forward + backward (to
the input). Both frameworks run float32 with the same number of threads.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import minigrad
from minigrad.ops.loss import cross_entropy
from minigrad.ops.pool import max_pool2d

# The seed model's pools, per-item input shapes: MaxPool2d(2) after each convolution.
SEED_POOLS = {"pool1 32x32x32": (32, 32, 32), "pool2 32x16x16": (32, 16, 16),
              "pool3 64x8x8": (64, 8, 8)}
CLASSES = 10
BATCHES = [1, 64]


def pool_inputs(item_shape, batch):
    rng = np.random.default_rng(0)
    c, h, w = item_shape
    x = rng.standard_normal((batch, c, h, w)).astype(np.float32)
    grad = rng.standard_normal((batch, c, h // 2, w // 2)).astype(np.float32)
    return x, grad


def loss_inputs(batch):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((batch, CLASSES)).astype(np.float32)
    return logits, rng.integers(0, CLASSES, batch).astype(np.int64)


def step(framework, op, inputs, backward, grad=None):
    """One forward (and backward) of ``op`` on fresh leaf tensors made once."""
    x, *rest = inputs
    if framework == "minigrad":
        tx = minigrad.Tensor(x, requires_grad=backward)
        rest = [minigrad.Tensor(r) for r in rest]
        g = minigrad.Tensor(grad) if grad is not None else None
    else:
        tx = torch.from_numpy(x).requires_grad_(backward)
        rest = [torch.from_numpy(r) for r in rest]
        g = torch.from_numpy(grad) if grad is not None else None

    def run():
        y = op(tx, *rest)
        if backward:
            tx.grad = None
            y.backward(g)
    return run


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", list(SEED_POOLS))
def test_max_pool2d(benchmark, name, batch, backward, framework):
    torch.set_num_threads(minigrad.get_num_threads())
    x, grad = pool_inputs(SEED_POOLS[name], batch)
    op = (lambda t: max_pool2d(t, 2)) if framework == "minigrad" else (lambda t: F.max_pool2d(t, 2))
    benchmark.group = f"{name} batch {batch} {'forward+backward' if backward else 'forward'}"
    benchmark(step(framework, op, [x], backward, grad))


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("batch", BATCHES)
def test_cross_entropy(benchmark, batch, backward, framework):
    torch.set_num_threads(minigrad.get_num_threads())
    op = cross_entropy if framework == "minigrad" else F.cross_entropy
    benchmark.group = (f"cross_entropy {batch}x{CLASSES} batch {batch} "
                       f"{'forward+backward' if backward else 'forward'}")
    benchmark(step(framework, op, list(loss_inputs(batch)), backward))
