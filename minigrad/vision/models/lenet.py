"""LeNet-5 (LeCun et al., 1998), as the PyTorch tutorials write it: two 5x5 convolutions with
ReLU and 2x2 max pooling, then three linear layers. For 28x28 images (MNIST) the first
convolution pads by 2, which gives LeCun's 32x32 input size::

    conv1 Conv2d(in, 6, 5, padding=2)  (N, in, 28, 28) -> (N, 6, 28, 28), pool -> 14x14
    conv2 Conv2d(6, 16, 5)             -> (N, 16, 10, 10), pool -> 5x5
    fc1 Linear(400, 120), fc2 Linear(120, 84), fc3 Linear(84, num_classes)
"""
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.ops.shape import flatten

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 for (N, ``in_channels``, 28, 28) images; parameters conv1, conv2, fc1, fc2,
    fc3 (weight and bias each), with torch's default initialisation."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet5(*, num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """A LeNet-5 (see the module docstring)."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels)
