"""The seed model end to end: a whole training step and inference, minigrad next to torch.

    python -m pytest benchmarks/test_bench_model.py --benchmark-only --benchmark-group-by=group

A training step is zero_grad, forward, cross-entropy, backward and the optimizer step, at
batch 1, 8, 32, 64 and 256 with SGD, SGD with momentum 0.9 and Adam; inference is the forward
pass under no_grad at batch 1 and 64. The cases (same weights, same images in both
frameworks) come from benchmarks/cases.py, which `python -m benchmarks.compare` also times.
Each group holds the minigrad case and its torch twin; both run float32 with minigrad's
thread count.
"""
import pytest
import torch

import minigrad

from benchmarks import cases as case_library

MODEL_CASES = [case for case in case_library.all_cases() if case.group in ("train", "infer")]


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
@pytest.mark.parametrize("case", MODEL_CASES, ids=[case.name for case in MODEL_CASES])
def test_model(benchmark, case, framework):
    torch.set_num_threads(minigrad.get_num_threads())
    run = case.build(framework)
    if not benchmark.disabled:
        run()  # one-time costs (scratch buffers, optimizer state) stay out of the timing
    benchmark.group = f"{case.name} {case.shape}"
    benchmark.extra_info.update(flops=case.flops, threads=minigrad.get_num_threads())
    benchmark(run)
