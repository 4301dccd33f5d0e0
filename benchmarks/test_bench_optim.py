"""Optimizer step() speed: each algorithm over the seed model's parameters and over one
10M-element parameter, minigrad's fused Cython update next to torch's fastest CPU variant.

    python -m pytest benchmarks/test_bench_optim.py --benchmark-only --benchmark-group-by=group

torch runs fused=True where it has a fused CPU kernel (SGD, Adam, AdamW, Adagrad) and
foreach=True otherwise (RMSprop, Adadelta, Adamax, NAdam, RAdam), with the same thread
count. Both frameworks run float32.
extra_info holds the bytes one step reads and writes (each parameter, gradient and state
element read once, parameter and state written once, 4 bytes an element: a lower bound on the
traffic) and the GB/s that gives at the median time.
"""
import numpy as np
import pytest
import torch

import minigrad
from minigrad import optim
from minigrad.tensor import Tensor

# The seed model's parameters: three 5x5 convolutions, two linear layers, weights and biases.
SEED_SHAPES = [(32, 3, 5, 5), (32,), (32, 32, 5, 5), (32,), (64, 32, 5, 5), (64,), (64, 1024),
               (64,), (10, 64), (10,)]
BIG_SHAPES = [(10_000_000,)]
PARAMETER_SETS = {"seed model": SEED_SHAPES, "10M": BIG_SHAPES}

# name -> (class name, options, torch's fastest variant, arrays read + written per element)
ALGORITHMS = {
    "sgd": ("SGD", dict(lr=0.01), dict(fused=True), 3),           # p, g -> p
    "momentum": ("SGD", dict(lr=0.01, momentum=0.9), dict(fused=True), 5),   # p, g, b -> p, b
    "adam": ("Adam", dict(lr=1e-3), dict(fused=True), 7),         # p, g, m, v -> p, m, v
    "adamw": ("AdamW", dict(lr=1e-3), dict(fused=True), 7),
    "rmsprop": ("RMSprop", dict(lr=1e-3), dict(foreach=True), 5),  # p, g, v -> p, v
    "adagrad": ("Adagrad", dict(lr=1e-3), dict(fused=True), 5),    # p, g, s -> p, s
    "adadelta": ("Adadelta", dict(lr=1.0), dict(foreach=True), 7),  # p, g, v, u -> p, v, u
    "adamax": ("Adamax", dict(lr=2e-3), dict(foreach=True), 7),     # p, g, m, u -> p, m, u
    "nadam": ("NAdam", dict(lr=2e-3), dict(foreach=True), 7),       # p, g, m, v -> p, m, v
    "radam": ("RAdam", dict(lr=1e-3), dict(foreach=True), 7),
}


def build(framework, algorithm, shapes):
    """An optimizer over float32 parameters with gradients, stepped once (state exists)."""
    class_name, options, torch_options, _ = ALGORITHMS[algorithm]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) * 1e-3 for s in shapes]
    if framework == "minigrad":
        params = [Tensor(a, requires_grad=True) for a in arrays]
        for p, g in zip(params, grads):
            p.grad = Tensor(g)
        optimizer = getattr(optim, class_name)(params, **options)
    else:
        params = [torch.from_numpy(a).requires_grad_() for a in arrays]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g)
        optimizer = getattr(torch.optim, class_name)(params, **options, **torch_options)
    optimizer.step()
    return optimizer.step


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
@pytest.mark.parametrize("parameters", list(PARAMETER_SETS))
def test_optimizer_step(benchmark, parameters, algorithm, framework):
    threads = minigrad.get_num_threads()
    torch.set_num_threads(threads)
    shapes = PARAMETER_SETS[parameters]
    step = build(framework, algorithm, shapes)
    elements = sum(int(np.prod(s)) for s in shapes)
    nbytes = 4 * elements * ALGORITHMS[algorithm][3]
    benchmark.group = f"optim {algorithm} {parameters} ({elements} params)"
    rounds = 200 if elements < 1_000_000 else 5
    benchmark.pedantic(step, rounds=rounds, iterations=1, warmup_rounds=2)
    benchmark.extra_info.update(bytes=nbytes, threads=threads, elements=elements)
    if benchmark.stats is not None:  # None under --benchmark-disable (CI runs each case once)
        benchmark.extra_info["gb_per_s"] = round(nbytes / benchmark.stats.stats.median / 1e9, 2)
