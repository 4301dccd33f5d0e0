"""Train the tutorial's CNN on scikit-learn's digits (default) or CIFAR-10.

    python -m minigrad.examples.train                       # digits, about 95%+ in under a minute
    python -m minigrad.examples.train --data cifar10 --root data --download --epochs 10

The model is the seed's: three 5x5 convolutions (padding 2), each followed by a 2x2 max-pool,
then Flatten, Linear(64 * (size / 8)^2, 64) and Linear(64, classes); the input channels and the
first Linear's size follow the data (1 x 8 x 8 digits, 3 x 32 x 32 CIFAR).

Each epoch shows a progress bar (tqdm, when installed) with the running loss and images per
second, prints the train loss and the test accuracy, and writes a checkpoint (model, optimizer,
random state, history: ``minigrad.save``, atomic). ``--resume`` continues from it: a run
stopped after epoch k and resumed ends with the same weights as one that never stopped. At
the end the loss and accuracy curves are drawn to a PNG (matplotlib, when installed).
"""
import argparse
import os
import sys
import time

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.random import get_rng_state, set_rng_state
from minigrad.serialization import load, save
from minigrad.utils.data import DataLoader, Subset
from minigrad.vision import transforms
from minigrad.vision.datasets import CIFAR10, Digits

__all__ = ["SeedModel", "main", "parse_args"]

_DEFAULT_LR = {"sgd": 0.05, "momentum": 0.01, "adam": 0.002, "rmsprop": 0.001}
_CIFAR_MEAN, _CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class SeedModel(nn.Module):
    """The seed's CNN for images of ``in_channels`` x ``size`` x ``size`` (size divisible by 8)."""

    def __init__(self, in_channels: int = 3, size: int = 32, num_classes: int = 10):
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, stride=1, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (size // 8) ** 2, 64),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        return self.model1(x)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m minigrad.examples.train",
                                     description="Train the tutorial's CNN with minigrad.")
    parser.add_argument("--data", choices=["digits", "cifar10"], default="digits")
    parser.add_argument("--root", default="data", help="where CIFAR-10 lives (or goes)")
    parser.add_argument("--download", action="store_true", help="fetch CIFAR-10 if missing")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", choices=sorted(_DEFAULT_LR), default="adam")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: " + ", ".join(
                            f"{k} {v}" for k, v in _DEFAULT_LR.items()) + ")")
    parser.add_argument("--threads", type=int, default=None,
                        help="kernel threads (default: minigrad's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint path (default: checkpoints/<data>.safetensors)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint if it exists")
    parser.add_argument("--plot", default=None,
                        help="PNG of the curves (default: checkpoints/<data>.png; '' for none)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images only (quick runs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.lr is None:
        args.lr = _DEFAULT_LR[args.optimizer]
    if args.checkpoint is None:
        args.checkpoint = os.path.join("checkpoints", f"{args.data}.safetensors")
    if args.plot is None:
        args.plot = os.path.join("checkpoints", f"{args.data}.png")
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def make_datasets(args):
    """(train set, test set, in_channels, image size)."""
    if args.data == "digits":
        train, test, channels, size = Digits(train=True), Digits(train=False), 1, 8
    else:
        pipeline = transforms.Compose([transforms.ToTensor(),
                                       transforms.Normalize(_CIFAR_MEAN, _CIFAR_STD)])
        train = CIFAR10(args.root, train=True, transform=pipeline, download=args.download)
        test = CIFAR10(args.root, train=False, transform=pipeline, download=args.download)
        channels, size = 3, 32
    if args.limit is not None:
        train = Subset(train, list(range(min(args.limit, len(train)))))
    return train, test, channels, size


def make_optimizer(name: str, parameters, lr: float):
    if name == "sgd":
        return optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    return optim.RMSprop(parameters, lr=lr)


def _progress(loader, description, quiet):
    if quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=len(loader), desc=description, unit="batch", leave=False,
                dynamic_ncols=True)


def train_one_epoch(model, loader, loss_fn, optimizer, description, quiet):
    """Mean training loss over the epoch, and images per second."""
    model.train()
    bar = _progress(loader, description, quiet)
    total_loss, seen = 0.0, 0
    start = time.perf_counter()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        seen += len(labels)
        if bar is not None:
            rate = seen / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", img_s=f"{rate:.0f}", refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    return total_loss / max(seen, 1), seen / max(time.perf_counter() - start, 1e-9)


def evaluate(model, loader) -> float:
    """Accuracy on ``loader``."""
    model.eval()
    correct = total = 0
    with minigrad.no_grad():
        for images, labels in loader:
            predictions = model(images).data.argmax(axis=1)
            correct += int((predictions == labels.data).sum())
            total += len(labels)
    return correct / max(total, 1)


def _config(args) -> dict:
    return {"data": args.data, "optimizer": args.optimizer, "lr": args.lr,
            "batch_size": args.batch_size, "seed": args.seed, "limit": args.limit}


def save_checkpoint(path, model, optimizer, epoch, history, args):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
          "history": history, "rng": get_rng_state(), "config": _config(args)}, path)


def load_checkpoint(path, model, optimizer, args):
    """(epochs done, history) restored from ``path``: weights, optimizer and random state."""
    checkpoint = load(path)
    saved = checkpoint["config"]
    different = {k: (saved.get(k), v) for k, v in _config(args).items() if saved.get(k) != v}
    if different:
        raise SystemExit(f"{path} was written with other settings: "
                         + ", ".join(f"{k} {a!r} there, {b!r} here"
                                     for k, (a, b) in different.items())
                         + ". Use the same settings, or another --checkpoint.")
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    set_rng_state(checkpoint["rng"])
    return checkpoint["epoch"], checkpoint["history"]


def plot_curves(history, path) -> bool:
    """Draw the train loss and test accuracy per epoch to ``path``; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history["train_loss"], marker="o")
    left.set(xlabel="epoch", ylabel="train loss", title="Training loss")
    right.plot(epochs, [100 * a for a in history["test_accuracy"]], marker="o", color="C1")
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def main(argv=None) -> dict:
    """Run the command; returns the history (train_loss, test_accuracy per epoch)."""
    args = parse_args(argv)
    if args.threads is not None:
        minigrad.set_num_threads(args.threads)
    minigrad.manual_seed(args.seed)
    train_set, test_set, channels, size = make_datasets(args)
    model = SeedModel(channels, size, num_classes=10)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    loss_fn = nn.CrossEntropyLoss()

    history = {"train_loss": [], "test_accuracy": [], "images_per_second": []}
    start_epoch = 0
    if args.resume and os.path.exists(args.checkpoint):
        start_epoch, history = load_checkpoint(args.checkpoint, model, optimizer, args)
        print(f"resumed from {args.checkpoint} after epoch {start_epoch}")
    elif args.resume:
        print(f"no checkpoint at {args.checkpoint}: starting from scratch")

    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)
    print(f"{args.data}: {len(train_set)} train / {len(test_set)} test images, "
          f"{args.optimizer} lr={args.lr}, batch {args.batch_size}, "
          f"{minigrad.get_num_threads()} thread(s)")
    started = time.perf_counter()
    for epoch in range(start_epoch, args.epochs):
        description = f"epoch {epoch + 1}/{args.epochs}"
        loss, rate = train_one_epoch(model, train_loader, loss_fn, optimizer, description,
                                     args.quiet)
        accuracy = evaluate(model, test_loader)
        history["train_loss"].append(loss)
        history["test_accuracy"].append(accuracy)
        history["images_per_second"].append(rate)
        save_checkpoint(args.checkpoint, model, optimizer, epoch + 1, history, args)
        print(f"{description}: train loss {loss:.4f}, test accuracy {100 * accuracy:.2f}%, "
              f"{rate:.0f} images/s", flush=True)
    if args.epochs > start_epoch:
        print(f"trained {args.epochs - start_epoch} epoch(s) in "
              f"{time.perf_counter() - started:.1f} s; checkpoint: {args.checkpoint}")
    if args.plot and history["train_loss"]:
        if plot_curves(history, args.plot):
            print(f"curves: {args.plot}")
        else:
            print("matplotlib is not installed (pip install 'minigrad[examples]'): no plot",
                  file=sys.stderr)
    return history


if __name__ == "__main__":
    main()
