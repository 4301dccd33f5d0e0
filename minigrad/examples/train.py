"""Train the tutorial's CNN on scikit-learn's digits (default) or CIFAR-10.

    python -m minigrad.examples.train                       # digits: ~98% in a few seconds
    python -m minigrad.examples.train --optimizer sgd       # each optimizer: >= 95% on digits
    python -m minigrad.examples.train --data cifar10 --root data --download --epochs 10

The model is the seed's: three 5x5 convolutions (padding 2), each followed by a 2x2 max-pool,
then Flatten, Linear(64 * (size / 8)^2, 64) and Linear(64, classes); the input channels and the
first Linear's size follow the data (1 x 8 x 8 digits, 3 x 32 x 32 CIFAR).

The recipe, the same for every optimizer but its learning rate: the learning rate is
multiplied by ``--lr-decay`` after each epoch (ExponentialLR) and the gradients are clipped to
a total norm of ``--clip-grad-norm``. The model has no nonlinearity between its layers, so
plain SGD crawls at a small learning rate and blows up at a large one; clipping and the decay
let each optimizer take a large one. Measured on digits over seeds 0-9 with the defaults:
sgd 96.3-98.6%, momentum 98.0-98.9%, rmsprop 97.7-98.9%, adam 97.2-98.6%.

Each epoch shows a progress bar (tqdm, when installed) with the running loss and images per
second, prints the train loss and the test accuracy, and writes a checkpoint (model,
optimizer, schedule, random state, history, settings: ``minigrad.save``, atomic). Its default
name says the run's settings (``checkpoints/digits-adam-lr0.003-b32-seed0.safetensors``), so
runs with other settings never share a file; an existing checkpoint of other settings is
never overwritten (``--overwrite`` says to). ``--resume`` continues from it: a run stopped
after epoch k and resumed ends with the same weights as one that never stopped. At the end
the loss and accuracy curves are drawn to a PNG named and titled after the run (matplotlib,
when installed).

Under an MPI launcher (``mpirun -n 2 minigrad-train``) the run is data-parallel: each rank
trains a DistributedDataParallel replica on its DistributedSampler share of every shuffled
batch (``--batch-size`` stays the global batch, divided among the ranks, so the recipe and
its accuracy do not change), and evaluates its share of the test set. Only rank 0 shows the
progress bar, prints, writes the checkpoint (its name ends in ``-ranks2``) and draws the
plot; ``--resume`` makes every rank read the checkpoint, so it must be at a path every rank
sees (on one machine, always). A rank that fails ends the whole job with a message.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import minigrad
import minigrad.distributed as dist
from minigrad import nn, optim
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.random import get_rng_state, set_rng_state
from minigrad.serialization import SerializationError, load, save
from minigrad.utils.data import DataLoader, DistributedSampler, Subset
from minigrad.vision import transforms
from minigrad.vision.datasets import CIFAR10, Digits

__all__ = ["SeedModel", "main", "command", "parse_args", "build_parser", "run_name"]

DEFAULT_LR = {"sgd": 0.5, "momentum": 0.1, "rmsprop": 0.002, "adam": 0.003}
DEFAULT_LR_DECAY = 0.7
DEFAULT_CLIP = 2.0
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


def _number(kind, low, low_inclusive=True, high=None, what=None):
    """An argparse type: a ``kind`` number in the given range, else a usage error that
    argparse prefixes with the flag's name."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        too_low = value < low if low_inclusive else value <= low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return convert


_POSITIVE_INT = _number(int, 1, what="a positive integer")
_SEED = _number(int, 0, high=2**64 - 1, what="an integer from 0 to 2**64 - 1")
_POSITIVE = _number(float, 0.0, low_inclusive=False, what="a positive number")
_DECAY = _number(float, 0.0, low_inclusive=False, high=1.0, what="a number in (0, 1]")
_NON_NEGATIVE = _number(float, 0.0, what="a number >= 0")


def launcher_world_size() -> int:
    """How many ranks the MPI launcher started (Open MPI's, MPICH's and Intel MPI's
    variables), or 1 when not launched by one."""
    for variable in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return 1


def launcher_rank() -> int:
    for variable in ("OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return 0


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" where there is a value to show; the help of options without
    one says what happens instead."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.train",
        description="Train the tutorial's CNN with minigrad, on the digits scikit-learn "
                    "ships (no network) or on CIFAR-10.",
        formatter_class=_DefaultsFormatter)
    parser.add_argument("--data", choices=["digits", "cifar10"], default="digits",
                        help="the dataset")
    parser.add_argument("--root", default="data", help="where CIFAR-10 lives (or goes)")
    parser.add_argument("--download", action="store_true",
                        help="fetch CIFAR-10 (170 MB) into --root if it is not there")
    parser.add_argument("--epochs", type=_POSITIVE_INT, default=6, help="epochs to train")
    parser.add_argument("--batch-size", type=_POSITIVE_INT, default=32,
                        help="images per training step")
    parser.add_argument("--optimizer", choices=list(DEFAULT_LR), default="adam",
                        help="sgd is plain SGD; momentum is SGD with momentum 0.9")
    parser.add_argument("--lr", type=_POSITIVE, default=None,
                        help="learning rate; the default depends on --optimizer: "
                             + ", ".join(f"{k} {v}" for k, v in DEFAULT_LR.items()))
    parser.add_argument("--lr-decay", type=_DECAY, default=DEFAULT_LR_DECAY,
                        help="multiply the learning rate by this after each epoch (1: keep it)")
    parser.add_argument("--clip-grad-norm", type=_NON_NEGATIVE, default=DEFAULT_CLIP,
                        help="clip the gradients to this total norm (0: no clipping)")
    parser.add_argument("--threads", type=_POSITIVE_INT, default=None,
                        help="kernel threads (default: OMP_NUM_THREADS, or every core "
                             "available)")
    parser.add_argument("--seed", type=_SEED, default=0,
                        help="seed of the initial weights and the shuffling")
    parser.add_argument("--limit", type=_POSITIVE_INT, default=None,
                        help="train on the first N images only (quick runs; default: all)")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint path (default: checkpoints/<run name>.safetensors, "
                             "the name listing the settings)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint if it exists")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh even if the checkpoint holds a run with other "
                             "settings (or is not a checkpoint of this script)")
    parser.add_argument("--plot", default=None,
                        help="PNG of the curves (default: the checkpoint's path with .png; "
                             "'' for none)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def parse_args(argv=None, parser=None) -> argparse.Namespace:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    args.world_size = launcher_world_size()
    if args.batch_size % args.world_size:
        parser.error(f"--batch-size {args.batch_size} is the global batch: it must be "
                     f"divisible by the {args.world_size} ranks")
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    if args.data == "cifar10" and not args.download and not _cifar_present(args.root):
        parser.error(f"CIFAR-10 is not in --root {args.root!r}: add --download to fetch it "
                     f"(170 MB), or point --root at the folder that holds "
                     f"{CIFAR10.base_folder}/")
    if args.checkpoint is None:
        args.checkpoint = os.path.join("checkpoints", run_name(args) + ".safetensors")
    if args.plot is None:
        args.plot = os.path.splitext(args.checkpoint)[0] + ".png"
    return args


def _cifar_present(root: str) -> bool:
    return any(os.path.isdir(os.path.join(root, folder))
               for folder in (CIFAR10.base_folder, CIFAR10.binary_folder))


def run_name(args) -> str:
    """The settings that shape the run, as a file name: digits-adam-lr0.003-b32-seed0."""
    name = f"{args.data}-{args.optimizer}-lr{args.lr:g}-b{args.batch_size}-seed{args.seed}"
    if args.lr_decay != DEFAULT_LR_DECAY:
        name += f"-decay{args.lr_decay:g}"
    if args.clip_grad_norm != DEFAULT_CLIP:
        name += f"-clip{args.clip_grad_norm:g}"
    if args.limit is not None:
        name += f"-limit{args.limit}"
    if getattr(args, "world_size", 1) > 1:
        name += f"-ranks{args.world_size}"
    return name


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


def train_one_epoch(model, loader, loss_fn, optimizer, clip_grad_norm, description, quiet):
    """Mean training loss over the epoch, and images per second."""
    model.train()
    bar = _progress(loader, description, quiet)
    total_loss, seen = 0.0, 0
    start = time.perf_counter()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        if clip_grad_norm:
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
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
    correct, total = count_correct(model, loader)
    return correct / max(total, 1)


def count_correct(model, loader):
    """(correct predictions, images) over ``loader``."""
    model.eval()
    correct = total = 0
    with minigrad.no_grad():
        for images, labels in loader:
            predictions = model(images).data.argmax(axis=1)
            correct += int((predictions == labels.data).sum())
            total += len(labels)
    return correct, total


def _config(args) -> dict:
    """The settings a checkpoint must share with a run that continues or replaces it."""
    config = {"data": args.data, "optimizer": args.optimizer, "lr": args.lr,
              "lr_decay": args.lr_decay, "clip_grad_norm": args.clip_grad_norm,
              "batch_size": args.batch_size, "seed": args.seed, "limit": args.limit}
    if getattr(args, "world_size", 1) > 1:
        config["world_size"] = args.world_size
    return config


def _saved_config(path):
    """The settings recorded in the checkpoint at ``path``; None if it is not a checkpoint
    of this script."""
    try:
        checkpoint = load(path)
    except (SerializationError, OSError):
        return None
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("config"), dict)):
        return None
    return checkpoint["config"]


def _differences(saved: dict, args) -> str:
    return ", ".join(f"{key} {saved.get(key)!r} there, {value!r} here"
                     for key, value in _config(args).items() if saved.get(key) != value)


def check_checkpoint(args, parser) -> bool:
    """Whether to resume from ``args.checkpoint``; a usage error rather than overwriting a
    checkpoint of other settings, or a file that is not one of this script's."""
    if not os.path.exists(args.checkpoint):
        if args.resume:
            print(f"no checkpoint at {args.checkpoint}: starting from scratch")
        return False
    saved = _saved_config(args.checkpoint)
    if saved is None:
        if args.overwrite and not args.resume:
            return False
        parser.error(f"--checkpoint {args.checkpoint} exists and is not a checkpoint of this "
                     f"script: choose another path" + ("" if args.resume else
                                                        ", or pass --overwrite to replace it"))
    different = _differences(saved, args)
    if different and (args.resume or not args.overwrite):
        parser.error(f"--checkpoint {args.checkpoint} holds a run with other settings "
                     f"({different}): use the same settings, another --checkpoint"
                     + ("" if args.resume else ", or --overwrite to replace it"))
    if not args.resume:
        print(f"overwriting {args.checkpoint} (--resume would continue it)")
    return args.resume


def save_checkpoint(path, model, optimizer, scheduler, epoch, history, args):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "scheduler": scheduler.state_dict(), "epoch": epoch, "history": history,
          "rng": get_rng_state(), "config": _config(args)}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    """(epochs done, history) restored from ``path``: weights, optimizer, schedule and random
    state (its settings were checked by check_checkpoint)."""
    checkpoint = load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    set_rng_state(checkpoint["rng"])
    return checkpoint["epoch"], checkpoint["history"]


def describe_run(args) -> str:
    """The run's settings in words, for the console and the plot's title."""
    text = (f"{args.data}, {args.optimizer} lr {args.lr:g}")
    if args.lr_decay != 1:
        text += f" (x{args.lr_decay:g} per epoch)"
    text += ", " + (f"clip {args.clip_grad_norm:g}, " if args.clip_grad_norm else "")
    text += f"batch {args.batch_size}, seed {args.seed}"
    if args.limit is not None:
        text += f", first {args.limit} images"
    if getattr(args, "world_size", 1) > 1:
        text += f", {args.world_size} ranks"
    return text


def plot_curves(history, path, title) -> bool:
    """Draw the train loss and test accuracy per epoch to ``path``; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    left.plot(epochs, history["train_loss"], marker="o")
    left.set(xlabel="epoch", ylabel="train loss", title="Training loss")
    right.plot(epochs, [100 * a for a in history["test_accuracy"]], marker="o", color="C1")
    right.set(xlabel="epoch", ylabel="test accuracy (%)",
              title=f"Test accuracy (last: {100 * history['test_accuracy'][-1]:.1f}%)")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def main(argv=None) -> dict:
    """Run the command; returns the history (train_loss, test_accuracy per epoch)."""
    parser = build_parser()
    if launcher_rank() != 0:
        # A usage error is the same on every rank: rank 0 says it and exits with 2, which
        # mpirun returns; the others leave quietly, with 0, so that mpirun does not end the
        # job (and rank 0) before rank 0 has printed it.
        parser.error = lambda message: parser.exit(0)
    args = parse_args(argv, parser)
    if args.world_size == 1:
        return _train(args, parser, check_checkpoint(args, parser), rank=0)
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    decision = minigrad.zeros(2, dtype=minigrad.int64)   # (exit status, resume)
    if rank == 0:
        try:
            decision[1] = check_checkpoint(args, parser)
        except SystemExit as exit_:
            decision[0] = exit_.code or 0
    dist.broadcast(decision, src=0)
    if decision[0]:
        dist.destroy_process_group()
        sys.exit(int(decision[0]))
    history = _train(args, parser, bool(decision[1]), rank)
    dist.barrier()
    dist.destroy_process_group()
    return history


def _train(args, parser, resume: bool, rank: int) -> dict:
    """The run (one rank's part of it when args.world_size > 1)."""
    say = print if rank == 0 else (lambda *_, **__: None)
    if args.threads is not None:
        minigrad.set_num_threads(args.threads)
    minigrad.manual_seed(args.seed)
    train_set, test_set, channels, size = make_datasets(args)
    net = SeedModel(channels, size, num_classes=10)
    optimizer = make_optimizer(args.optimizer, net.parameters(), args.lr)
    scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=args.lr_decay)
    loss_fn = nn.CrossEntropyLoss()

    history = {"train_loss": [], "test_accuracy": [], "images_per_second": []}
    start_epoch = 0
    if resume:
        start_epoch, history = load_checkpoint(args.checkpoint, net, optimizer, scheduler)
        say(f"resumed from {args.checkpoint} after epoch {start_epoch}")

    world, test_images = args.world_size, len(test_set)
    if world == 1:
        model, sampler = net, None
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    else:
        model = DistributedDataParallel(net)
        sampler = DistributedSampler(train_set, seed=args.seed)
        train_loader = DataLoader(train_set, batch_size=args.batch_size // world,
                                  sampler=sampler)
        test_set = Subset(test_set, list(range(rank, len(test_set), world)))
    test_loader = DataLoader(test_set, batch_size=256)
    threads = f"{minigrad.get_num_threads()} thread(s)"
    say(f"{describe_run(args)}: {len(train_set)} train / {test_images} test images, "
        + (threads if world == 1 else f"{world} ranks x {threads}"))
    started = time.perf_counter()
    for epoch in range(start_epoch, args.epochs):
        description = f"epoch {epoch + 1}/{args.epochs}"
        if sampler is not None:
            sampler.set_epoch(epoch)
        loss, rate = train_one_epoch(model, train_loader, loss_fn, optimizer,
                                     args.clip_grad_norm, description, args.quiet or rank != 0)
        scheduler.step()
        correct, total = count_correct(net, test_loader)
        if world > 1:
            loss, rate, correct, total = _summed([loss / world, rate, correct, total])
        accuracy = correct / max(total, 1)
        history["train_loss"].append(loss)
        history["test_accuracy"].append(accuracy)
        history["images_per_second"].append(rate)
        if rank == 0:
            save_checkpoint(args.checkpoint, net, optimizer, scheduler, epoch + 1, history,
                            args)
        say(f"{description}: train loss {loss:.4f}, test accuracy {100 * accuracy:.2f}%, "
            f"{rate:.0f} images/s", flush=True)
    if args.epochs > start_epoch:
        say(f"trained {args.epochs - start_epoch} epoch(s) in "
            f"{time.perf_counter() - started:.1f} s; checkpoint: {args.checkpoint}")
    if rank == 0 and args.plot and history["train_loss"]:
        title = f"{describe_run(args)}, {len(history['train_loss'])} epochs"
        if plot_curves(history, args.plot, title):
            print(f"curves: {args.plot}")
        else:
            print("matplotlib is not installed (pip install 'minigrad[examples]'): no plot",
                  file=sys.stderr)
    return history


def command() -> None:
    """The ``minigrad-train`` console script: ``main`` without its return value (a console
    script exits with what its function returns, and a dict would be an error)."""
    main()


def _summed(values) -> list:
    """Each value summed over the ranks (float64)."""
    total = minigrad.tensor(np.array(values, dtype=np.float64))
    dist.all_reduce(total)
    return total.numpy().tolist()


if __name__ == "__main__":
    main()
