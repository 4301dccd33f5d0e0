"""Models with torchvision's architectures and parameter names: ``resnet18`` (ImageNet or
CIFAR stem) and ``lenet5``."""
from minigrad.vision.models.lenet import LeNet5, lenet5
from minigrad.vision.models.resnet import BasicBlock, ResNet, resnet18

__all__ = ["BasicBlock", "LeNet5", "ResNet", "lenet5", "resnet18"]
