"""Run a program of this folder with minigrad, as written, or with torch: its minigrad imports
turned back into torch's, nothing else changed.

    python tests/programs/run.py minigrad|torch tests/programs/<program>.py

Both runs start from the same seeds, and the torch run draws its random numbers (randn, rand,
randint, randperm, uniform_, normal_, the shuffling of a DataLoader and its base seed per
iterator: the weights' initialisation and the data order) from minigrad's generator, so the two runs compute the same
thing and their printed results can be compared (tests/test_programs.py).
"""
import random
import re
import sys

import numpy as np

IMPORTS = [
    (r"^import minigrad as torch$", "import torch"),
    (r"^import minigrad\.(\S+) as (\S+)$", r"import torch.\1 as \2"),
    (r"^from minigrad\.(\S+) import (.+)$", r"from torch.\1 import \2"),
    (r"^from minigrad import (.+)$", r"from torch import \1"),
]


def torch_source(source: str) -> str:
    """The program with its minigrad imports written as torch's."""
    for pattern, replacement in IMPORTS:
        source = re.sub(pattern, replacement, source, flags=re.MULTILINE)
    if "minigrad" in source:
        raise ValueError("a program may name minigrad only in its imports")
    return source


def share_random_numbers(torch, minigrad):
    """torch's random draws taken from minigrad's generator (same values, same order)."""
    def dtype_of(dtype):
        return None if dtype is None else getattr(minigrad, str(dtype).split(".")[-1])

    def convert(tensor, requires_grad=False, **ignored):
        out = torch.from_numpy(tensor.numpy().copy())
        return out.requires_grad_(True) if requires_grad else out

    def drawing(draw):
        def wrapper(*size, dtype=None, generator=None, requires_grad=False, **kwargs):
            size = tuple(tuple(s) if isinstance(s, torch.Size) else s for s in size)
            kwargs.pop("device", None)
            return convert(draw(*size, dtype=dtype_of(dtype), **kwargs), requires_grad)
        return wrapper

    def randperm(n, generator=None, dtype=None, requires_grad=False, **ignored):
        return convert(minigrad.randperm(n, dtype=dtype_of(dtype)), requires_grad)

    def fill(method):
        def wrapper(self, *args, generator=None):
            with torch.no_grad():
                values = method(minigrad.zeros(tuple(self.shape), dtype=dtype_of(self.dtype)),
                                *args)
                return self.copy_(torch.from_numpy(values.numpy()))
        return wrapper

    seed = torch.manual_seed

    def manual_seed(value):
        minigrad.manual_seed(value)
        return seed(value)

    torch.manual_seed = manual_seed
    torch.randn = drawing(minigrad.randn)
    torch.rand = drawing(minigrad.rand)
    torch.randint = drawing(minigrad.randint)
    torch.randperm = randperm
    torch.Tensor.uniform_ = fill(minigrad.Tensor.uniform_)
    torch.Tensor.normal_ = fill(minigrad.Tensor.normal_)

    def shuffled(self):  # torch draws two permutations an epoch, minigrad one: same order
        sampler = minigrad.utils.data.RandomSampler(range(len(self.data_source)),
                                                    self.replacement, self._num_samples)
        return iter(sampler)

    torch.utils.data.RandomSampler.__iter__ = shuffled
    iterator = torch.utils.data.dataloader._BaseDataLoaderIter
    start = iterator.__init__

    def started(self, loader):  # both draw a base seed per iterator: from the same stream
        start(self, loader)
        minigrad.utils.data.worker.draw_base_seed(None)

    iterator.__init__ = started


def main(framework: str, path: str) -> None:
    with open(path, encoding="utf-8") as f:
        source = f.read()
    random.seed(0)
    np.random.seed(0)
    import minigrad
    minigrad.manual_seed(0)
    if framework == "torch":
        import torch
        import torch.utils.data  # noqa: F401  (the sampler is patched)
        torch.manual_seed(0)
        share_random_numbers(torch, minigrad)
        source = torch_source(source)
    elif framework != "minigrad":
        raise SystemExit(f"unknown framework {framework!r}")
    exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
