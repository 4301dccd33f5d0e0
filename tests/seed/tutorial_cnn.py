# The user's example (shared/seeds: "反向传播及优化器", backpropagation and optimizers), with only
# its imports changed from torch/torchvision to minigrad. tests/test_seed_script.py runs it.
import minigrad as torch
import minigrad.vision as torchvision
from minigrad import nn
from minigrad.nn import Conv2d, MaxPool2d, Flatten, Linear, Sequential
from minigrad.utils.data import DataLoader

dataset = torchvision.datasets.CIFAR10("../torchvision_dataset", train=False,
                                       transform=torchvision.transforms.ToTensor(),
                                       download=True)
dataloader = DataLoader(dataset, batch_size=1)


class MyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.model1 = Sequential(
            Conv2d(3, 32, 5, stride=1, padding=2),
            MaxPool2d(2),
            Conv2d(32, 32, 5, stride=1, padding=2),
            MaxPool2d(2),
            Conv2d(32, 64, 5, stride=1, padding=2),
            MaxPool2d(2),
            Flatten(),
            Linear(1024, 64),
            Linear(64, 10),
        )

    def forward(self, x):
        x = self.model1(x)
        return x


module = MyModule()
loss = nn.CrossEntropyLoss()
# 随机梯度下降(SGD)优化器
optim = torch.optim.SGD(module.parameters(), lr=0.001)
for epo in range(20):
    running_loss = 0
    for data in dataloader:
        # 每次训练前,先把各个梯度设为0
        optim.zero_grad()
        imgs, targets = data
        output = module(imgs)
        result_loss = loss(output, targets)
        # 反向传播,依据链式法则计算各个梯度
        result_loss.backward()
        optim.step()
        running_loss = result_loss + running_loss
    print(running_loss)
