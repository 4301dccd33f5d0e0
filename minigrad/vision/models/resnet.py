"""ResNet-18 (He et al., "Deep Residual Learning for Image Recognition", 2015) with
torchvision's module tree, parameter names and initialisation, so that a state dict saved
from ``torchvision.models.resnet18`` (as safetensors) loads into it::

    conv1, bn1, relu, maxpool      the stem
    layer1 .. layer4               2 BasicBlocks each, 64, 128, 256, 512 channels; the first
                                   block of layer2-4 halves the size (stride 2) and its
                                   shortcut is downsample = (1x1 conv stride 2, BatchNorm)
    avgpool, fc                    global average, Linear(512, num_classes)

    BasicBlock: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convolutions

Two stems: "imagenet" (torchvision's: a 7x7 convolution with stride 2 and a 3x3 max pool
with stride 2, for 224x224 images) and "cifar" (a 3x3 convolution with stride 1 and no
pooling, for 32x32 images; ``maxpool`` is an Identity, so the names stay torchvision's).

Initialisation as torchvision: convolutions kaiming-normal (fan_out, ReLU gain), BatchNorm
weights 1 and biases 0, the Linear layer torch's default; ``zero_init_residual`` sets each
block's last BatchNorm weight to 0.

The ReLUs are not in-place (torchvision's are, to save memory): minigrad records an in-place
op on a graph as the out-of-place op plus a copy back, slower for the same values.
"""
from minigrad import nn
from minigrad.nn import init
from minigrad.ops.shape import flatten

__all__ = ["BasicBlock", "ResNet", "resnet18"]

STEMS = ("imagenet", "cifar")


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                     bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and ReLU, plus the shortcut (``downsample`` when
    the shape changes, the input itself otherwise)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(nn.Module):
    """A ResNet of BasicBlocks, ``layers`` blocks per stage (resnet18: [2, 2, 2, 2])."""

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 stem: str = "imagenet"):
        super().__init__()
        if stem not in STEMS:
            raise ValueError(f"stem should be one of {STEMS}, got {stem!r}")
        if len(layers) != 4:
            raise ValueError(f"layers should give the number of blocks of 4 stages, got "
                             f"{layers!r}")
        self.inplanes = 64
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = (nn.MaxPool2d(kernel_size=3, stride=2, padding=1) if stem == "imagenet"
                        else nn.Identity())
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                init.constant_(module.weight, 1)
                init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    init.constant_(module.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


def resnet18(*, weights=None, progress: bool = True, num_classes: int = 1000,
             zero_init_residual: bool = False, stem: str = "imagenet") -> ResNet:
    """ResNet-18 (see the module docstring). minigrad downloads no weights: ``weights``
    must be None; load trained ones with ``model.load_state_dict(minigrad.load(path))``
    from a safetensors file of torchvision's state dict."""
    if weights is not None:
        raise ValueError(f"minigrad ships no pretrained weights (weights={weights!r}): build "
                         f"resnet18(weights=None) and load a state dict saved as safetensors, "
                         f"model.load_state_dict(minigrad.load('resnet18.safetensors'))")
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes,
                  zero_init_residual=zero_init_residual, stem=stem)
