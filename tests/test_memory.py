"""A training step reuses the previous step's memory: no page faults once warmed up.

minigrad raises glibc's mmap and trim thresholds at import (minigrad/_memory.py) unless the
user set the allocator's environment variables or MINIGRAD_NO_MALLOPT=1.
"""
import resource
import sys

import pytest

import minigrad
from minigrad import _memory, nn

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc's allocator settings exist on Linux only")


def test_user_allocator_settings_are_respected(monkeypatch):
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MINIGRAD_NO_MALLOPT"):
        monkeypatch.setenv(name, "1")
        assert _memory.keep_freed_memory() is False
        monkeypatch.delenv(name)


def test_training_steps_do_not_fault_in_fresh_pages(monkeypatch):
    for name in _memory._USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert _memory.keep_freed_memory() is True
    model = nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32 * 16 * 16, 10))
    optimizer = minigrad.optim.SGD(model.parameters(), lr=1e-3)
    x, y = minigrad.rand(32, 3, 32, 32), minigrad.randint(0, 10, (32,))

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    # The step allocates ~4 MiB arrays (conv output and its gradient: 1,000 pages each);
    # fresh mmaps would fault them in every step.
    assert faults < 100, faults
