"""The seed's model and training loop (../shared/seeds/000_*.txt) on minigrad versus torch.

MyModule, the loop (batch_size=1, CrossEntropyLoss, SGD lr=0.001 and
``running_loss = result_loss + running_loss``) run on a small synthetic CIFAR-shaped set,
from the same weights (torch's state_dict loaded into minigrad): per-epoch running losses agree
within float32 tolerance. Memory stays flat over a long loop although running_loss chains
every step's loss.
"""
import gc
import resource

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn
from minigrad.optim import SGD


@pytest.fixture(autouse=True)
def one_thread():
    """One kernel thread in both frameworks: the machine's cores are shared with other jobs,
    and oversubscribed OpenMP teams slow every step down many times over."""
    threads, torch_threads = minigrad.get_num_threads(), torch.get_num_threads()
    minigrad.set_num_threads(1)
    torch.set_num_threads(1)
    yield
    minigrad.set_num_threads(threads)
    torch.set_num_threads(torch_threads)


class MyModule(nn.Module):
    """The seed's model, written as the seed writes it."""

    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(3, 32, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1024, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.model1(x)
        return x


class TorchModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        tnn = torch.nn
        self.model1 = tnn.Sequential(
            tnn.Conv2d(3, 32, 5, stride=1, padding=2), tnn.MaxPool2d(2),
            tnn.Conv2d(32, 32, 5, stride=1, padding=2), tnn.MaxPool2d(2),
            tnn.Conv2d(32, 64, 5, stride=1, padding=2), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(1024, 64), tnn.Linear(64, 10))

    def forward(self, x):
        return self.model1(x)


def synthetic_cifar(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    return images, labels


def torch_weights_as_numpy(model):
    return {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}


def train_torch(model, images, labels, epochs):
    loss = torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=0.001)
    losses = []
    for _ in range(epochs):
        running_loss = 0
        for img, target in zip(images, labels):
            optim.zero_grad()
            output = model(torch.from_numpy(img[None]))
            result_loss = loss(output, torch.tensor([target]))
            result_loss.backward()
            optim.step()
            running_loss = result_loss + running_loss
        losses.append(running_loss.item())
    return losses


def train_minigrad(model, images, labels, epochs):
    loss = nn.CrossEntropyLoss()
    optim = SGD(model.parameters(), lr=0.001)
    losses = []
    for _ in range(epochs):
        running_loss = 0
        for img, target in zip(images, labels):
            optim.zero_grad()
            output = model(minigrad.from_numpy(img[None]))
            result_loss = loss(output, minigrad.tensor([int(target)]))
            result_loss.backward()
            optim.step()
            running_loss = result_loss + running_loss
        losses.append(running_loss.item())
    return losses


def test_repr_matches_torch():
    torch.manual_seed(0)
    assert repr(MyModule()) == repr(TorchModule()).replace("TorchModule", "MyModule")


def test_state_dict_keys_and_shapes_match_torch():
    mine, theirs = MyModule().state_dict(), TorchModule().state_dict()
    assert list(mine.keys()) == list(theirs.keys())
    for key in mine:
        assert mine[key].shape == tuple(theirs[key].shape), key


def test_loaded_torch_weights_give_identical_outputs():
    torch.manual_seed(1)
    reference = TorchModule()
    model = MyModule()
    result = model.load_state_dict(torch_weights_as_numpy(reference))
    assert result.missing_keys == [] and result.unexpected_keys == []
    images, _ = synthetic_cifar(4, seed=3)
    mine = model(minigrad.from_numpy(images)).array
    with torch.no_grad():
        theirs = reference(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
    # Minigrad Tensors load too, and the loaded model's state equals torch's.
    copy = MyModule()
    copy.load_state_dict(model.state_dict())
    for key, value in copy.state_dict().items():
        np.testing.assert_array_equal(value.array, reference.state_dict()[key].numpy())


def test_seed_loop_running_losses_match_torch():
    images, labels = synthetic_cifar(20)
    torch.manual_seed(2)
    reference = TorchModule()
    model = MyModule()
    model.load_state_dict(torch_weights_as_numpy(reference))
    theirs = train_torch(reference, images, labels, epochs=3)
    mine = train_minigrad(model, images, labels, epochs=3)
    assert theirs[2] < theirs[0]  # the set is learnable: the test compares real training
    np.testing.assert_allclose(mine, theirs, rtol=2e-4)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value.array, reference.state_dict()[key].numpy(),
                                   rtol=1e-3, atol=2e-5, err_msg=key)


# ----------------------------------------------------------------------------- memory

def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def run_seed_loop(model, images, labels, steps):
    """The seed's inner loop for ``steps`` steps, cycling over the images; returns the
    running loss (a graph chaining every step's loss)."""
    loss = nn.CrossEntropyLoss()
    optim = SGD(model.parameters(), lr=0.001)
    targets = [minigrad.tensor([int(t)]) for t in labels]
    inputs = [minigrad.from_numpy(img[None]) for img in images]
    running_loss = 0
    for step in range(steps):
        i = step % len(inputs)
        optim.zero_grad()
        result_loss = loss(model(inputs[i]), targets[i])
        result_loss.backward()
        optim.step()
        running_loss = result_loss + running_loss
    return running_loss


class SmallModule(nn.Module):
    """The seed's architecture scaled down, for a 10,000-step loop within the time budget."""

    def __init__(self):
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 10))

    def forward(self, x):
        return self.model1(x)


# Bytes kept per step by the running_loss chain (one Add node, the freed loss node and their
# small Python objects): torch keeps such a chain too. The bound is far below one step's
# activations, so a leak of activations or of saved arrays would fail it.
CHAIN_BYTES_PER_STEP = 2048


def test_memory_flat_over_10000_steps_small_model():
    minigrad.manual_seed(0)
    images, labels = synthetic_cifar(10)
    images = np.ascontiguousarray(images[:, :, :16, :16])
    model = SmallModule()
    run_seed_loop(model, images, labels, 200)  # warm up allocator and caches
    gc.collect()
    before = rss_bytes()
    running_loss = run_seed_loop(model, images, labels, 10_000)
    gc.collect()
    growth = rss_bytes() - before
    assert np.isfinite(running_loss.item())
    bound = 10_000 * CHAIN_BYTES_PER_STEP
    assert growth < bound, f"RSS grew by {growth / 1e6:.1f} MB over 10,000 steps"


def test_memory_flat_seed_model():
    minigrad.manual_seed(0)
    images, labels = synthetic_cifar(10)
    model = MyModule()
    run_seed_loop(model, images, labels, 50)
    gc.collect()
    before = rss_bytes()
    run_seed_loop(model, images, labels, 300)
    gc.collect()
    growth = rss_bytes() - before
    # One step's activations and gradients are about 1 MB: keeping them would cost 300 MB.
    assert growth < 8 * 2**20, f"RSS grew by {growth / 1e6:.1f} MB over 300 steps"
