"""vision.models: resnet18 (both stems) and lenet5 against the same networks written in torch
with torchvision's module names (torchvision is not installable here; the ResNet-18 is
benchmarks/torch_resnet.py, also the benchmark's torch side): the same state-dict
keys and shapes, a torch state dict saved as safetensors loads, the same outputs in eval and
train mode, and a few SGD steps with the same losses, float32 and float64."""
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
import torch.nn as tnn

import minigrad
from minigrad import nn
from minigrad._kernels import conv as conv_kernels
from minigrad.vision.models import lenet5, resnet18

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the benchmarks package
from benchmarks.torch_resnet import ResNet18  # noqa: E402  (torchvision's tree, in torch)


@pytest.fixture(autouse=True)
def _untuned_convolutions():
    """The first tile candidate, unmeasured: a ResNet has many shapes, each measured at its
    first call otherwise; every tile gives the same bits."""
    conv_kernels.set_tuning(False)
    yield
    conv_kernels.set_tuning(True)


# ---------------------------------------------------------------------------- torch references

class TorchLeNet5(tnn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(400, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, num_classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def _torch_model(kind, dtype, num_classes=10, stem="cifar", seed=0):
    torch.manual_seed(seed)
    model = TorchLeNet5(num_classes) if kind == "lenet5" else ResNet18(num_classes, stem)
    with torch.no_grad():  # BatchNorm with non-trivial affine parameters and statistics
        for module in model.modules():
            if isinstance(module, tnn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.to(torch.float64 if dtype == np.float64 else torch.float32)


def _loaded_copy(torch_model, kind, tmp_path, dtype, **kwargs):
    """The minigrad model, loaded from the torch model's state dict saved as safetensors."""
    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file({k: v.contiguous() for k, v in torch_model.state_dict().items()},
                                str(path))
    model = lenet5(**kwargs) if kind == "lenet5" else resnet18(**kwargs)
    if dtype == np.float64:
        model = model.double()
    result = model.load_state_dict(minigrad.load(str(path)))
    assert result.missing_keys == [] and result.unexpected_keys == []
    return model


def _images(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------- names and loading

@pytest.mark.parametrize("stem", ["imagenet", "cifar"])
def test_resnet18_state_dict_is_torchvisions(stem):
    mine = resnet18(num_classes=7, stem=stem).state_dict()
    theirs = ResNet18(7, stem).state_dict()
    assert list(mine) == list(theirs) and len(mine) == 122
    for key in theirs:
        assert tuple(mine[key].shape) == tuple(theirs[key].shape), key
        assert mine[key].dtype == theirs[key].numpy().dtype, key
    names = [name for name, _ in resnet18().named_modules()]
    assert "layer2.0.downsample.0" in names and "layer1.0.downsample" not in names


def test_resnet18_initialisation_is_torchvisions():
    minigrad.manual_seed(0)
    model = resnet18(zero_init_residual=True)
    weight = model.layer3[0].conv2.weight
    fan_out = 256 * 3 * 3
    assert abs(weight.array.std() / np.sqrt(2.0 / fan_out) - 1) < 0.02
    assert abs(weight.array.mean()) < 0.002
    assert (model.bn1.weight.array == 1).all() and (model.bn1.bias.array == 0).all()
    assert (model.layer1[0].bn2.weight.array == 0).all()  # zero_init_residual
    assert (model.layer1[0].bn1.weight.array == 1).all()
    bound = 1 / np.sqrt(512)  # Linear: torch's default
    assert np.abs(model.fc.weight.array).max() <= bound and model.fc.weight.shape == (1000, 512)
    assert (resnet18().layer1[0].bn2.weight.array == 1).all()


@pytest.mark.parametrize("stem, size", [("imagenet", 64), ("cifar", 32)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resnet18_from_a_torch_state_dict_gives_torchs_outputs(tmp_path, stem, size, dtype):
    theirs = _torch_model("resnet18", dtype, num_classes=10, stem=stem)
    mine = _loaded_copy(theirs, "resnet18", tmp_path, dtype, num_classes=10, stem=stem)
    x = _images((2, 3, size, size), dtype)
    tolerance = 2e-4 if dtype == np.float32 else 1e-10
    theirs.eval(), mine.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mine(minigrad.tensor(x)).array, expected, rtol=tolerance,
                               atol=tolerance)
    theirs.train(), mine.train()  # batch statistics, and the running ones updated
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mine(minigrad.tensor(x)).array, expected, rtol=tolerance,
                               atol=tolerance)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine.state_dict()[key].array, value.numpy(),
                                   rtol=tolerance, atol=tolerance, err_msg=key)


def test_loading_checks_names_and_shapes(tmp_path):
    model = resnet18(num_classes=10, stem="cifar")
    state = dict(ResNet18(10, "imagenet").state_dict())
    with pytest.raises(RuntimeError, match=r"size mismatch for conv1.weight"):
        model.load_state_dict({k: v.numpy() for k, v in state.items()})
    del state["fc.bias"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc.bias"'):
        resnet18(num_classes=10).load_state_dict({k: v.numpy() for k, v in state.items()})
    with pytest.raises(ValueError, match="no pretrained weights"):
        resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="stem should be one of"):
        resnet18(stem="tiny")


# ---------------------------------------------------------------------------- training

def _train(model, framework, images, labels, steps, lr=0.01):
    optim = framework.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    losses = []
    for _ in range(steps):
        optim.zero_grad()
        loss = framework.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optim.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("dtype, batch, steps, tolerance", [(np.float32, 4, 3, 1e-3),
                                                            (np.float64, 2, 2, 1e-9)])
def test_resnet18_cifar_trains_with_torchs_losses(tmp_path, dtype, batch, steps, tolerance):
    theirs = _torch_model("resnet18", dtype, num_classes=10, stem="cifar")
    mine = _loaded_copy(theirs, "resnet18", tmp_path, dtype, num_classes=10, stem="cifar")
    images = _images((batch, 3, 32, 32), dtype)
    labels = np.random.default_rng(2).integers(0, 10, batch)
    expected = _train(theirs, torch, torch.from_numpy(images), torch.from_numpy(labels), steps)
    losses = _train(mine, minigrad, minigrad.tensor(images), minigrad.tensor(labels), steps)
    np.testing.assert_allclose(losses, expected, rtol=tolerance)
    assert losses[-1] < losses[0]  # it learns
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mine.state_dict()[key].array, value.numpy(),
                                   rtol=10 * tolerance, atol=10 * tolerance, err_msg=key)


def test_lenet5_matches_torch_and_trains(tmp_path):
    theirs = _torch_model("lenet5", np.float32)
    assert list(lenet5().state_dict()) == list(theirs.state_dict())
    mine = _loaded_copy(theirs, "lenet5", tmp_path, np.float32)
    images = _images((16, 1, 28, 28), np.float32)
    labels = np.random.default_rng(3).integers(0, 10, 16)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(mine(minigrad.tensor(images)).array, expected, rtol=1e-5,
                               atol=1e-6)
    expected = _train(theirs, torch, torch.from_numpy(images), torch.from_numpy(labels), 5)
    losses = _train(mine, minigrad, minigrad.tensor(images), minigrad.tensor(labels), 5)
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    assert lenet5(num_classes=3, in_channels=3)(minigrad.randn(2, 3, 28, 28)).shape == (2, 3)
    assert isinstance(lenet5().conv1, nn.Conv2d)
