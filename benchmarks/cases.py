"""The benchmark cases shared by `python -m benchmarks.compare` and test_bench_model.py.

A case is one thing to time at one shape, built twice, once per framework: ``case.build(
"minigrad")`` and ``case.build("torch")`` set up identical float32 inputs (same values, same
weights) and return a callable with no arguments that does the timed work once.

The seed model (MyModule of /work/shared/seeds/000, CIFAR-10 3x32x32 inputs)::

    conv1  Conv2d(3, 32, 5, padding=2)   (N, 3, 32, 32) -> (N, 32, 32, 32)
    pool1  MaxPool2d(2)                  -> (N, 32, 16, 16)
    conv2  Conv2d(32, 32, 5, padding=2)  -> (N, 32, 16, 16)
    pool2  MaxPool2d(2)                  -> (N, 32, 8, 8)
    conv3  Conv2d(32, 64, 5, padding=2)  -> (N, 64, 8, 8)
    pool3  MaxPool2d(2)                  -> (N, 64, 4, 4)
    Flatten, linear1 Linear(1024, 64), linear2 Linear(64, 10), cross-entropy over 10 classes

Work counts, per call:
  flops  multiply and add count one each: a convolution forward is 2 N Cout Hout Wout Cin k k,
         its backward twice that (input and weight gradients; once for conv1, whose input,
         the image, needs no gradient, as in training); a linear layer 2 N in out forward,
         twice that backward; a training step is the sum over the layers of forward and
         backward; GEMM n x n x n is 2 n^3.
  bytes  for the memory-bound cases (pooling, cross-entropy, optimizer steps): each input
         array read once and each output written once, 4 bytes an element (the pooling
         argmax indices are int64, 8 bytes). A lower bound on the real traffic.

Beyond the seed model (issue 13): layer_norm, group_norm, conv_transpose (2-D, stride 2),
upsample (bilinear x2) and attention (scaled dot-product), forward and backward each, at one
shape each (MORE_LAYERS).

Backward cases time the backward pass alone: the forward graph is built once and
``autograd.grad(out, inputs, upstream, retain_graph=True)`` runs per call, in both frameworks.
"""
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

__all__ = ["Case", "SEED_LAYERS", "MORE_LAYERS", "KERNEL_BATCHES", "TRAIN_BATCHES",
           "INFER_BATCHES", "GEMM_SIZES", "OPTIMIZERS", "STEP_OPTIMIZERS", "RESNET_BATCHES",
           "all_cases", "select", "seed_model", "seed_batch", "seed_parameter_count",
           "make_optimizer", "framework", "resnet18_model", "resnet18_flops"]

KERNEL_BATCHES = (1, 64)
TRAIN_BATCHES = (1, 8, 32, 64, 256)
INFER_BATCHES = (1, 64)
GEMM_SIZES = (64, 128, 256, 512, 1024, 2048)
RESNET_BATCHES = (8,)
# name -> (optimizer class name, keyword arguments), the same in both frameworks
OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.01}),
    "momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "adam": ("Adam", {"lr": 1e-3}),
}
# Optimizers timed by their step alone (optim-<name>), not in the training cases: torch has
# no fused CPU update for them, and runs its multi-tensor one (foreach=True).
STEP_OPTIMIZERS = {
    "adadelta": ("Adadelta", {"lr": 1.0}),
    "adamax": ("Adamax", {"lr": 2e-3}),
    "nadam": ("NAdam", {"lr": 2e-3}),
    "radam": ("RAdam", {"lr": 1e-3}),
}
# torch's fastest CPU update (its default is a Python loop over the parameters); minigrad's
# optimizers are always fused
TORCH_OPTIMIZER_OPTIONS = {"fused": True}
TORCH_STEP_OPTIMIZER_OPTIONS = {"foreach": True}

FLOAT = np.float32
ELEMENT = 4  # bytes of a float32
INDEX = 8    # bytes of an int64 pooling index


@dataclass(frozen=True)
class Case:
    """One timed case: ``build(framework)`` returns the callable that does the work once."""

    name: str
    group: str
    shape: str
    build: Callable = field(repr=False)
    flops: float = 0.0
    bytes: float = 0.0


def framework(name: str) -> SimpleNamespace:
    """The same handful of names in minigrad and in torch, imported on first use."""
    if name == "minigrad":
        import minigrad
        import minigrad.nn.functional as F
        from minigrad import autograd, nn, optim
        return SimpleNamespace(
            name=name, lib=minigrad, F=F, nn=nn, optim=optim, grad=autograd.grad,
            no_grad=minigrad.no_grad,
            array=lambda a, requires_grad=False: minigrad.tensor(a, requires_grad=requires_grad),
            activation=_activation_minigrad, conv_weight=_conv_weight_minigrad,
            assign=_assign_minigrad)
    if name == "torch":
        import torch
        array = lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad)
        return SimpleNamespace(
            name=name, lib=torch, F=torch.nn.functional, nn=torch.nn, optim=torch.optim,
            grad=torch.autograd.grad, no_grad=torch.no_grad, array=array, activation=array,
            conv_weight=array, assign=_assign_torch)
    raise ValueError(f"unknown framework {name!r}: 'minigrad' or 'torch'")


def _activation_minigrad(a: np.ndarray, requires_grad=False):
    """An (N, C, H, W) array as minigrad's layers hand activations on: channels-last."""
    import minigrad
    from minigrad._kernels.buffers import channels_last_empty
    if a.ndim != 4:
        return minigrad.tensor(a, requires_grad=requires_grad)
    stored = channels_last_empty(*a.shape, a.dtype)
    stored[...] = a
    return minigrad.Tensor(stored, requires_grad=requires_grad)


def _conv_weight_minigrad(w: np.ndarray, requires_grad=False):
    """A conv weight as minigrad's Conv2d stores it: (KH, KW, C, F) in memory."""
    import minigrad
    from minigrad.nn.conv import _empty_hwio
    stored = _empty_hwio(w.shape[0], w.shape[1], w.shape[2:], w.dtype)
    stored[...] = w
    return minigrad.Tensor(stored, requires_grad=requires_grad)


def _assign_minigrad(param, values: np.ndarray) -> None:
    param.data[...] = values


def _assign_torch(param, values: np.ndarray) -> None:
    import torch
    with torch.no_grad():
        param.copy_(torch.from_numpy(values))


def _random(rng, shape, scale=1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(FLOAT)


# ----------------------------------------------------------------------------- the seed model

# name -> (kind, per-item input shape, layer arguments)
SEED_LAYERS = {
    "conv1": ("conv", (3, 32, 32), (3, 32)),
    "pool1": ("pool", (32, 32, 32), ()),
    "conv2": ("conv", (32, 16, 16), (32, 32)),
    "pool2": ("pool", (32, 16, 16), ()),
    "conv3": ("conv", (32, 8, 8), (32, 64)),
    "pool3": ("pool", (64, 8, 8), ()),
    "linear1": ("linear", (1024,), (1024, 64)),
    "linear2": ("linear", (64,), (64, 10)),
    "cross_entropy": ("loss", (10,), ()),
}
KERNEL = 5
PADDING = 2
CLASSES = 10


def seed_model(fw):
    """MyModule's Sequential, with weights drawn from one numpy seed (same in both frameworks)."""
    nn = fw.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, KERNEL, stride=1, padding=PADDING), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, KERNEL, stride=1, padding=PADDING), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, KERNEL, stride=1, padding=PADDING), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, CLASSES),
    )
    rng = np.random.default_rng(0)
    for param in model.parameters():
        fan_in = int(np.prod(param.shape[1:])) if len(param.shape) > 1 else 64
        fw.assign(param, _random(rng, tuple(param.shape), 1.0 / np.sqrt(fan_in)))
    return model


def seed_batch(fw, batch: int):
    rng = np.random.default_rng(1)
    images = fw.array(_random(rng, (batch, 3, 32, 32)))
    targets = fw.array(rng.integers(0, CLASSES, batch).astype(np.int64))
    return images, targets


def make_optimizer(fw, kind: str, params):
    if kind in OPTIMIZERS:
        (class_name, options), torch_options = OPTIMIZERS[kind], TORCH_OPTIMIZER_OPTIONS
    else:
        (class_name, options), torch_options = STEP_OPTIMIZERS[kind], TORCH_STEP_OPTIMIZER_OPTIONS
    if fw.name == "torch":
        options = {**options, **torch_options}
    return getattr(fw.optim, class_name)(params, **options)


def _conv_flops(batch, c_in, c_out, size):
    return 2.0 * batch * c_out * size * size * c_in * KERNEL * KERNEL


def _model_flops(batch: int, training: bool) -> float:
    """Forward (and backward) FLOPs of the convolutions and linear layers of one step."""
    total = 0.0
    for name, (kind, shape, args) in SEED_LAYERS.items():
        if kind == "conv":
            forward = _conv_flops(batch, args[0], args[1], shape[-1])
            backward = forward * (1 if name == "conv1" else 2)
        elif kind == "linear":
            forward = 2.0 * batch * args[0] * args[1]
            backward = 2 * forward
        else:
            continue
        total += forward + (backward if training else 0.0)
    return total


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


# ----------------------------------------------------------------------------- layer kernels

def _layer_setup(name: str, batch: int, rng):
    """(arrays, requires_grad flags, kinds, op(fw, *tensors), output shape, text, flops,
    bytes). A kind says how each framework holds the array in the seed model: "activation"
    (minigrad: channels-last, the layout its convolutions and pools hand on), "image" and
    "array" (as given), "conv_weight" (minigrad: Conv2d's (KH, KW, C, F) storage)."""
    kind, item_shape, args = SEED_LAYERS[name]
    x_shape = (batch,) + item_shape
    if kind == "conv":
        c_in, c_out = args
        size = item_shape[-1]
        arrays = [_random(rng, x_shape), _random(rng, (c_out, c_in, KERNEL, KERNEL), 0.1),
                  _random(rng, (c_out,))]
        needs = [name != "conv1", True, True]
        kinds = ["image" if name == "conv1" else "activation", "conv_weight", "array"]

        def op(fw, x, w, b):
            return fw.F.conv2d(x, w, b, stride=1, padding=PADDING)
        out_shape = (batch, c_out, size, size)
        text = f"{_shape_text(x_shape)} * {c_out}x{c_in}x{KERNEL}x{KERNEL}"
        flops = _conv_flops(batch, c_in, c_out, size)
        return arrays, needs, kinds, op, out_shape, text, \
            (flops, flops * (2 if needs[0] else 1)), None
    if kind == "pool":
        c, h, w = item_shape
        arrays, needs = [_random(rng, x_shape)], [True]

        def op(fw, x):
            return fw.F.max_pool2d(x, 2)
        out_shape = (batch, c, h // 2, w // 2)
        n_in, n_out = batch * c * h * w, batch * c * h * w // 4
        forward = (n_in + n_out) * ELEMENT + n_out * INDEX
        backward = 2 * n_out * ELEMENT + n_out * INDEX + n_in * ELEMENT
        return arrays, needs, ["activation"], op, out_shape, f"{_shape_text(x_shape)} k2", \
            None, (forward, backward)
    if kind == "linear":
        n_in, n_out = args
        arrays = [_random(rng, x_shape), _random(rng, (n_out, n_in), 1 / np.sqrt(n_in)),
                  _random(rng, (n_out,))]

        def op(fw, x, w, b):
            return fw.F.linear(x, w, b)
        flops = 2.0 * batch * n_in * n_out
        return arrays, [True, True, True], ["array"] * 3, op, (batch, n_out), \
            f"{batch}x{n_in} * {n_out}x{n_in}", (flops, 2 * flops), None
    # cross-entropy: logits (N, 10) and class targets, mean reduction
    arrays = [_random(rng, x_shape), rng.integers(0, CLASSES, batch).astype(np.int64)]

    def op(fw, logits, targets):
        return fw.F.cross_entropy(logits, targets)
    n = batch * CLASSES
    forward = n * ELEMENT + batch * INDEX + ELEMENT
    backward = 2 * n * ELEMENT + batch * INDEX
    return arrays, [True, False], ["array"] * 2, op, (), f"{batch}x{CLASSES}", None, \
        (forward, backward)


def _layer_case(name: str, batch: int, direction: str) -> Case:
    rng = np.random.default_rng(2)
    arrays, needs, kinds, op, out_shape, text, flops, traffic = _layer_setup(name, batch, rng)
    upstream = _random(rng, out_shape)
    index = 0 if direction == "fwd" else 1

    def build(framework_name):
        fw = framework(framework_name)
        makers = {"activation": fw.activation, "conv_weight": fw.conv_weight,
                  "image": fw.array, "array": fw.array}
        tensors = [makers[k](a, requires_grad=r) for a, r, k in zip(arrays, needs, kinds)]
        if direction == "fwd":
            return lambda: op(fw, *tensors)
        out = op(fw, *tensors)
        inputs = [t for t, r in zip(tensors, needs) if r]
        grad_out = fw.activation(upstream) if len(out_shape) == 4 else fw.array(upstream)
        return lambda: fw.grad(out, inputs, grad_out, retain_graph=True)

    return Case(name=f"{name}-{direction}-b{batch}", group=name.rstrip("0123456789"),
                shape=text, build=build, flops=flops[index] if flops else 0.0,
                bytes=traffic[index] if traffic else 0.0)


# ----------------------------------------------------------------------------- more layers

def _more_layer_setup(name: str, rng):
    """The layers beyond the seed model (issue 13): (arrays, op(fw, *tensors), output shape,
    text, (flops fwd, bwd) or None, (bytes fwd, bwd) or None). Every float input needs a
    gradient."""
    if name == "layer_norm":
        shape = (32, 128, 256)
        arrays = [_random(rng, shape), _random(rng, shape[-1:]), _random(rng, shape[-1:])]
        n = np.prod(shape) * ELEMENT
        return arrays, lambda fw, x, w, b: fw.F.layer_norm(x, [256], w, b), shape, \
            _shape_text(shape), None, (2 * n, 3 * n)
    if name == "group_norm":
        shape = (16, 64, 32, 32)
        arrays = [_random(rng, shape), _random(rng, (64,)), _random(rng, (64,))]
        n = np.prod(shape) * ELEMENT
        return arrays, lambda fw, x, w, b: fw.F.group_norm(x, 8, w, b), shape, \
            f"{_shape_text(shape)} g8", None, (2 * n, 3 * n)
    if name == "conv_transpose":
        arrays = [_random(rng, (16, 64, 16, 16)), _random(rng, (64, 32, 4, 4), 0.1)]
        flops = 2.0 * 16 * 64 * 32 * 16 * 16 * 16
        return arrays, lambda fw, x, w: fw.F.conv_transpose2d(x, w, stride=2, padding=1), \
            (16, 32, 32, 32), "16x64x16x16 * 64x32x4x4 s2", (flops, 2 * flops), None
    if name == "upsample":
        shape = (16, 32, 32, 32)
        n = np.prod(shape) * ELEMENT
        return [_random(rng, shape)], \
            lambda fw, x: fw.F.interpolate(x, scale_factor=2, mode="bilinear"), \
            (16, 32, 64, 64), f"{_shape_text(shape)} bilinear x2", None, (5 * n, 5 * n)
    # scaled dot-product attention: batch 8, 4 heads, 128 positions, 64 features
    shape = (8, 4, 128, 64)
    flops = 4.0 * 8 * 4 * 128 * 128 * 64
    return [_random(rng, shape) for _ in range(3)], \
        lambda fw, q, k, v: fw.F.scaled_dot_product_attention(q, k, v), shape, \
        f"{_shape_text(shape)} x3", (flops, 2 * flops), None


MORE_LAYERS = ("layer_norm", "group_norm", "conv_transpose", "upsample", "attention")


def _more_layer_case(name: str, direction: str) -> Case:
    rng = np.random.default_rng(4)
    arrays, op, out_shape, text, flops, traffic = _more_layer_setup(name, rng)
    upstream = _random(rng, out_shape)
    index = 0 if direction == "fwd" else 1

    def build(framework_name):
        fw = framework(framework_name)
        tensors = [fw.array(a, requires_grad=True) for a in arrays]
        if direction == "fwd":
            return lambda: op(fw, *tensors)
        out = op(fw, *tensors)
        return lambda: fw.grad(out, tensors, fw.array(upstream), retain_graph=True)

    return Case(name=f"{name}-{direction}", group=name, shape=text, build=build,
                flops=flops[index] if flops else 0.0,
                bytes=float(traffic[index]) if traffic else 0.0)


# ----------------------------------------------------------------------------- GEMM

def _gemm_case(n: int) -> Case:
    rng = np.random.default_rng(3)
    a, b = _random(rng, (n, n)), _random(rng, (n, n))

    def build(framework_name):
        fw = framework(framework_name)
        ta, tb = fw.array(a), fw.array(b)
        return lambda: fw.lib.matmul(ta, tb)

    return Case(name=f"gemm-{n}", group="gemm", shape=f"{n}x{n}x{n}", build=build,
                flops=2.0 * n ** 3)


# ----------------------------------------------------------------------------- optimizers

def seed_parameter_count() -> int:
    """Weights and biases of the seed model's convolutions and linear layers."""
    total = 0
    for kind, _, args in SEED_LAYERS.values():
        if kind == "conv":
            total += args[1] * args[0] * KERNEL * KERNEL + args[1]
        elif kind == "linear":
            total += args[1] * args[0] + args[1]
    return total


def _optimizer_case(kind: str) -> Case:
    # arrays read + written: p, g (+ b, or + two moments) in; p (+ b, or + two moments) out
    per_element = {"sgd": 3, "momentum": 5}.get(kind, 7)

    def build(framework_name):
        fw = framework(framework_name)
        params = list(seed_model(fw).parameters())
        rng = np.random.default_rng(4)
        for param in params:
            # in the parameter's memory layout, as backward hands it over in training
            # (minigrad's conv weights and their gradients are HWIO in memory)
            layout = fw.conv_weight if len(param.shape) == 4 else fw.array
            param.grad = layout(_random(rng, tuple(param.shape)))
        optimizer = make_optimizer(fw, kind, params)
        optimizer.step()  # the state (momentum, moments) exists before timing
        return optimizer.step

    n_params = seed_parameter_count()
    return Case(name=f"optim-{kind}", group="optim", shape=f"{n_params} params",
                build=build, bytes=float(per_element * n_params * ELEMENT))


# ----------------------------------------------------------------------------- the whole model

def _training_step(make_model, batch: int, kind: str):
    """``build`` of a training case: zero_grad, forward, cross-entropy, backward, step."""
    def build(framework_name):
        fw = framework(framework_name)
        model = make_model(fw)
        optimizer = make_optimizer(fw, kind, model.parameters())
        images, targets = seed_batch(fw, batch)

        def step():
            optimizer.zero_grad()
            loss = fw.F.cross_entropy(model(images), targets)
            loss.backward()
            optimizer.step()
            return loss
        return step
    return build


def _train_case(batch: int, kind: str) -> Case:
    return Case(name=f"train-b{batch}-{kind}", group="train", shape=f"{batch}x3x32x32",
                build=_training_step(seed_model, batch, kind),
                flops=_model_flops(batch, training=True))


def _infer_case(batch: int) -> Case:
    def build(framework_name):
        fw = framework(framework_name)
        model = seed_model(fw).eval()
        images, _ = seed_batch(fw, batch)

        def forward():
            with fw.no_grad():
                return model(images)
        return forward

    return Case(name=f"infer-b{batch}", group="infer", shape=f"{batch}x3x32x32", build=build,
                flops=_model_flops(batch, training=False))


# ----------------------------------------------------------------------------- ResNet-18

def resnet18_model(fw):
    """ResNet-18 with the CIFAR stem (torchvision's names), 10 classes, the same weights in
    both frameworks: each parameter drawn, in state-dict order, from one numpy seed
    (convolutions N(0, 2 / fan_out) as torchvision's init; BatchNorm weights 1, biases 0)."""
    if fw.name == "torch":
        from benchmarks.torch_resnet import ResNet18
        model = ResNet18(num_classes=CLASSES, stem="cifar")
    else:
        from minigrad.vision.models import resnet18
        model = resnet18(num_classes=CLASSES, stem="cifar")
    rng = np.random.default_rng(5)
    for name, param in model.named_parameters():
        shape = tuple(param.shape)
        if len(shape) == 4:
            values = _random(rng, shape, np.sqrt(2.0 / (shape[0] * shape[2] * shape[3])))
        elif name.startswith("fc."):
            values = _random(rng, shape, 1.0 / np.sqrt(512))
        else:
            values = np.full(shape, 1.0 if name.endswith("weight") else 0.0, dtype=FLOAT)
        fw.assign(param, values)
    return model


def resnet18_flops(batch: int) -> float:
    """Multiply-adds x 2 of the convolutions and the linear layer, forward and backward
    (the first convolution's input, the image, needs no gradient) on 32x32 images."""
    convs = [(3, 64, 3, 32)]  # (in, out, kernel, output size)
    inplanes, size = 64, 32
    for stage, planes in enumerate((64, 128, 256, 512)):
        if stage:
            size //= 2
            convs.append((inplanes, planes, 1, size))  # the shortcut's 1x1 convolution
        convs += [(inplanes, planes, 3, size), (planes, planes, 3, size),
                  (planes, planes, 3, size), (planes, planes, 3, size)]
        inplanes = planes
    total = 0.0
    for i, (c_in, c_out, kernel, out) in enumerate(convs):
        forward = 2.0 * batch * c_out * out * out * c_in * kernel * kernel
        total += forward * (2 if i == 0 else 3)
    return total + 3 * 2.0 * batch * 512 * CLASSES


def _resnet_train_case(batch: int) -> Case:
    return Case(name=f"train-resnet18-b{batch}", group="train", shape=f"{batch}x3x32x32",
                build=_training_step(resnet18_model, batch, "momentum"),
                flops=resnet18_flops(batch))


def all_cases() -> list:
    """Every case, in table order: layer kernels (the seed model's, then the other layers'),
    GEMM, optimizers, training (the seed model, then ResNet-18), inference."""
    cases = []
    for name in SEED_LAYERS:
        for batch in KERNEL_BATCHES:
            for direction in ("fwd", "bwd"):
                cases.append(_layer_case(name, batch, direction))
    cases += [_more_layer_case(name, direction) for name in MORE_LAYERS
              for direction in ("fwd", "bwd")]
    cases += [_gemm_case(n) for n in GEMM_SIZES]
    cases += [_optimizer_case(kind) for kind in (*OPTIMIZERS, *STEP_OPTIMIZERS)]
    cases += [_train_case(batch, kind) for batch in TRAIN_BATCHES for kind in OPTIMIZERS]
    cases += [_resnet_train_case(batch) for batch in RESNET_BATCHES]
    cases += [_infer_case(batch) for batch in INFER_BATCHES]
    return cases


def select(cases, patterns) -> list:
    """The cases named by ``patterns``: a pattern matches a name equal to it or starting
    with it and a dash ("train-b1" picks the three optimizers at batch 1, "conv1" every conv1
    case); shell wildcards work too ("*-b64"). Unknown patterns raise ValueError."""
    from fnmatch import fnmatchcase
    chosen = []
    for pattern in patterns:
        hits = [case for case in cases if case.name == pattern
                or case.name.startswith(pattern + "-") or fnmatchcase(case.name, pattern)]
        if not hits:
            raise ValueError(f"no benchmark case matches {pattern!r}")
        chosen += [case for case in hits if case not in chosen]
    return [case for case in cases if case in chosen]
