"""The Module API of minigrad.nn against torch.nn: registration, traversal, modes, dtype casts,
state_dict / load_state_dict (keys, errors, results), repr, containers, Parameter and
nn.init."""
import copy as copy_module
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn
from minigrad.nn import init


def build(lib):
    """The same small model in minigrad (lib=nn) or torch (lib=torch.nn)."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.Conv2d(3, 4, 3, padding=1, bias=False)
            self.bn = lib.BatchNorm2d(4)
            self.act = lib.ReLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.Sequential(Block(), lib.MaxPool2d(2))
            self.head = lib.ModuleDict({"flat": lib.Flatten(), "fc": lib.Linear(4 * 3 * 3, 5)})
            self.extra = lib.ModuleList([lib.Linear(5, 5), lib.Dropout(0.2)])
            self.register_buffer("scale", (minigrad if lib is nn else torch).ones(5))
            self.register_buffer("cache", (minigrad if lib is nn else torch).zeros(2),
                                 persistent=False)

        def forward(self, x):
            x = self.head["fc"](self.head["flat"](self.features(x)))
            return self.extra[0](x) * self.scale

    return Net()


def torch_state_as_numpy(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------- traversal

def test_names_of_parameters_buffers_modules_match_torch():
    mine, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in mine.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(mine.state_dict().keys()) == list(theirs.state_dict().keys())
    assert "cache" not in mine.state_dict()
    assert len(list(mine.parameters())) == len(list(theirs.parameters()))
    assert len(list(mine.modules())) == len(list(theirs.modules()))
    assert len(list(mine.children())) == 3
    assert [n for n, _ in mine.named_parameters(recurse=False)] == []
    assert [n for n, _ in mine.features.named_parameters(prefix="f")][:1] == ["f.0.conv.weight"]


def test_shared_parameters_and_modules_appear_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3
    assert list(model.state_dict().keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4


def test_attribute_registration_and_deletion():
    m = nn.Module()
    m.w = nn.Parameter(minigrad.zeros(2))
    m.child = nn.Linear(2, 2)
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"]
    assert m.w is m._parameters["w"] and m.child is m._modules["child"]
    m.register_buffer("buf", minigrad.ones(1))
    assert "buf" in dict(m.named_buffers())
    m.buf = minigrad.zeros(1)  # reassigning a buffer keeps it registered
    assert dict(m.named_buffers())["buf"] is m.buf
    m.w = None  # parameters may be set to None
    assert m.w is None and list(m.parameters()) == list(m.child.parameters())
    with pytest.raises(TypeError):
        m.child = 5  # a module slot takes a Module or None
    m.w = nn.Parameter(minigrad.zeros(3))
    del m.w
    assert "w" not in m._parameters
    with pytest.raises(AttributeError):
        m.w
    del m.child
    assert "child" not in m._modules
    m.child = nn.Parameter(minigrad.ones(1))  # a name can change kind
    assert "child" in m._parameters
    with pytest.raises(KeyError):
        m.register_buffer("plain", minigrad.ones(1))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError):
        m.register_buffer("x", np.ones(1))
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        m.missing


def test_assignment_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minigrad.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ----------------------------------------------------------------------------- modes, grads

def test_train_eval_zero_grad_apply_requires_grad():
    model = build(nn)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError):
        model.train("yes")
    out = model(minigrad.randn(2, 3, 6, 6))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.array == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen[-1] == "Net" and seen.count("Linear") == 2
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_float_double_to_cast_floating_state_only():
    model = build(nn)
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.features[0].bn.running_mean.dtype == np.float64
    assert model.features[0].bn.num_batches_tracked.dtype == np.int64
    out = model(minigrad.randn(1, 3, 6, 6, dtype=minigrad.float64))
    assert out.dtype == np.float64
    params_before = list(model.parameters())
    assert model.to(minigrad.float32) is model
    assert list(model.parameters()) == params_before  # same objects, cast in place
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to("cpu")
    model.to(minigrad.zeros(1, dtype=minigrad.float64))
    assert all(p.dtype == np.float64 for p in model.parameters())
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(AssertionError, match="CPU-only"):  # torch's CPU build: AssertionError
        model.to("cuda")


# ----------------------------------------------------------------------------- state dict

def test_state_dict_from_torch_loads_and_outputs_agree():
    torch.manual_seed(0)
    theirs, mine = build(torch.nn), build(nn)
    with torch.no_grad():  # make the batch-norm state non-trivial
        theirs.features[0].bn.running_mean.uniform_(-1, 1)
        theirs.features[0].bn.running_var.uniform_(0.5, 2)
        theirs.features[0].bn.num_batches_tracked.fill_(7)
    result = mine.load_state_dict(torch_state_as_numpy(theirs))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert int(mine.features[0].bn.num_batches_tracked.item()) == 7
    theirs.eval()
    mine.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(mine(minigrad.tensor(x)).array,
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_shares_memory_and_load_copies_in_place():
    model = nn.Linear(3, 2)
    weight = model.weight
    state = model.state_dict()
    assert np.shares_memory(state["weight"].array, weight.array)
    assert not state["weight"].requires_grad
    assert model.state_dict(keep_vars=True)["weight"] is weight
    other = nn.Linear(3, 2)
    other.load_state_dict(state)  # minigrad Tensors load too
    assert other.weight is not weight and np.array_equal(other.weight.array, weight.array)
    version = other.weight._version.value
    other.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.ones(2)})
    assert other.weight.dtype == np.float32 and np.all(other.weight.array == 0)
    assert other.weight._version.value > version


def test_load_state_dict_errors_match_torch_messages():
    mine, theirs = build(nn), build(torch.nn)
    good = torch_state_as_numpy(theirs)
    missing = {k: v for k, v in good.items() if k != "head.fc.bias"}
    extra = dict(good, **{"head.fc.other": np.zeros(1), "zzz": np.zeros(2)})
    both_bad = dict(missing, zzz=np.zeros(2))
    wrong_shape = dict(good, **{"head.fc.weight": np.zeros((5, 7), np.float32)})
    for state in (missing, extra, both_bad, wrong_shape):
        with pytest.raises(RuntimeError) as torch_error:
            theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        with pytest.raises(RuntimeError) as my_error:
            mine.load_state_dict(state)
        assert str(my_error.value) == str(torch_error.value).replace("Net", "Net")
    result = mine.load_state_dict(both_bad, strict=False)
    expected = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in both_bad.items()},
                                      strict=False)
    assert result.missing_keys == expected.missing_keys
    assert result.unexpected_keys == expected.unexpected_keys
    assert result._fields == ("missing_keys", "unexpected_keys")
    with pytest.raises(RuntimeError, match="size mismatch"):
        mine.load_state_dict(wrong_shape, strict=False)  # shapes are checked even then


def test_pickle_round_trip():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    copy = pickle.loads(pickle.dumps(model))
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)
    assert isinstance(copy[0].weight, nn.Parameter) and copy[0].weight is copy[0]._parameters[
        "weight"]
    assert repr(copy) == repr(model)
    clone = copy_module.deepcopy(model)
    assert clone[0].weight is clone[0]._parameters["weight"]
    assert clone[0].weight is not model[0].weight
    assert list(clone.parameters())[0] is clone[0].weight


def test_load_state_dict_accepts_torch_tensors():
    theirs, mine = torch.nn.Linear(4, 3), nn.Linear(4, 3)
    mine.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(mine.weight.array, theirs.weight.detach().numpy())


def test_shared_module_state_loads_under_every_name():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    t_shared = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(t_shared, torch.nn.ReLU(), t_shared)
    state = torch_state_as_numpy(theirs)
    assert list(state) == list(model.state_dict())
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(shared.weight.array, state["2.weight"])


# ----------------------------------------------------------------------------- repr

REPR_CASES = [
    lambda lib: lib.Conv2d(3, 32, 5, padding=2),
    lambda lib: lib.Conv2d(4, 8, (3, 2), stride=(2, 1), padding=(1, 0), dilation=2, groups=2,
                           bias=False),
    lambda lib: lib.Conv2d(3, 3, 3, padding="same"),
    lambda lib: lib.MaxPool2d(2),
    lambda lib: lib.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda lib: lib.AvgPool2d(3, 2, 1),
    lambda lib: lib.AdaptiveAvgPool2d((1, 1)),
    lambda lib: lib.Flatten(),
    lambda lib: lib.Unflatten(1, (2, 5)),
    lambda lib: lib.Linear(1024, 64),
    lambda lib: lib.Linear(3, 4, bias=False),
    lambda lib: lib.Identity(),
    lambda lib: lib.ReLU(),
    lambda lib: lib.ReLU(inplace=True),
    lambda lib: lib.LeakyReLU(0.2),
    lambda lib: lib.Sigmoid(),
    lambda lib: lib.Tanh(),
    lambda lib: lib.GELU(approximate="tanh"),
    lambda lib: lib.Softmax(dim=1),
    lambda lib: lib.LogSoftmax(dim=-1),
    lambda lib: lib.Dropout(0.25),
    lambda lib: lib.BatchNorm1d(8),
    lambda lib: lib.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False,
                                track_running_stats=False),
    lambda lib: lib.CrossEntropyLoss(),
    lambda lib: lib.NLLLoss(),
    lambda lib: lib.MSELoss(),
    lambda lib: lib.L1Loss(),
    lambda lib: lib.BCEWithLogitsLoss(),
    lambda lib: lib.Sequential(lib.Linear(2, 3), lib.Sequential(lib.ReLU(), lib.Tanh())),
    lambda lib: lib.ModuleList([lib.Linear(2, 3), lib.ReLU()]),
    lambda lib: lib.ModuleDict({"a": lib.ReLU(), "b": lib.Linear(1, 1)}),
    lambda lib: lib.Sequential(),
]


@pytest.mark.parametrize("index", range(len(REPR_CASES)))
def test_repr_matches_torch(index):
    assert repr(REPR_CASES[index](nn)) == repr(REPR_CASES[index](torch.nn))


def test_model_repr_matches_torch():
    assert repr(build(nn)) == repr(build(torch.nn))


def test_parameter():
    p = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, minigrad.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    frozen = nn.Parameter(np.zeros(3, np.float32), requires_grad=False)
    assert not frozen.requires_grad
    assert repr(frozen) == repr(torch.nn.Parameter(torch.zeros(3), requires_grad=False))
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.array, [2.0, 2.0])
    with pytest.raises(TypeError):
        nn.Parameter([1.0])


# ----------------------------------------------------------------------------- containers

def test_sequential():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert list(seq[::-1]) == layers[::-1]
    with pytest.raises(IndexError):
        seq[3]
    x = minigrad.randn(4, 2)
    np.testing.assert_array_equal(seq(x).array, layers[2](layers[1](layers[0](x))).array)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is layers[2]
    seq[0] = nn.Tanh()
    assert isinstance(seq[0], nn.Tanh)
    named = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(named._modules) == ["conv", "act"] and named.conv is named[0]
    assert list(named.state_dict()) == ["conv.weight", "conv.bias"]
    assert repr(named) == repr(torch.nn.Sequential(OrderedDict(
        [("conv", torch.nn.Conv2d(1, 2, 3)), ("act", torch.nn.ReLU())])))


def test_module_list_and_dict():
    items = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(items) == 3 and isinstance(items[-1], nn.Linear)
    items.append(nn.ReLU())
    items.extend([nn.Tanh()])
    items.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in items] == ["Sigmoid", "Linear", "Linear", "Linear",
                                                 "ReLU", "Tanh"]
    assert isinstance(items[1:3], nn.ModuleList) and len(items[1:3]) == 2
    del items[0]
    assert list(items._modules) == [str(i) for i in range(5)]
    assert len(list(items.parameters())) == 6
    table = nn.ModuleDict({"a": nn.Linear(1, 2)})
    table["b"] = nn.ReLU()
    table.update([("c", nn.Tanh())])
    assert list(table) == ["a", "b", "c"] and "b" in table and len(table) == 3
    assert list(table.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(table.pop("b"), nn.ReLU) and list(table.keys()) == ["a", "c"]
    table.clear()
    assert len(table) == 0


# ----------------------------------------------------------------------------- init

def test_default_initialisations_follow_torch_bounds():
    minigrad.manual_seed(0)
    conv = nn.Conv2d(32, 64, 5)
    bound = 1 / math.sqrt(32 * 25)  # kaiming_uniform(a=√5) = U(-1/√fan_in, 1/√fan_in)
    assert np.abs(conv.weight.array).max() <= bound
    assert np.abs(conv.weight.array).max() > 0.95 * bound
    assert np.abs(conv.bias.array).max() <= bound
    assert abs(conv.weight.array.std() - bound / math.sqrt(3)) < 0.02 * bound
    linear = nn.Linear(100, 30)
    assert np.abs(linear.weight.array).max() <= 0.1 and np.abs(linear.bias.array).max() <= 0.1
    bn = nn.BatchNorm2d(3)
    assert np.all(bn.weight.array == 1) and np.all(bn.bias.array == 0)
    minigrad.manual_seed(0)
    again = nn.Conv2d(32, 64, 5)
    np.testing.assert_array_equal(again.weight.array, conv.weight.array)  # minigrad's generator


def test_init_functions():
    t = minigrad.empty(200, 300)
    assert init.uniform_(t, -2, 3) is t and t.array.min() >= -2 and t.array.max() < 3
    init.normal_(t, 1.0, 2.0)
    assert abs(t.array.mean() - 1) < 0.05 and abs(t.array.std() - 2) < 0.05
    init.trunc_normal_(t, 0.0, 1.0, -1.0, 0.5)
    assert t.array.min() >= -1 and t.array.max() <= 0.5
    init.constant_(t, 0.5)
    assert np.all(t.array == 0.5)
    init.ones_(t), init.zeros_(t)
    assert np.all(t.array == 0)
    init.eye_(t)
    np.testing.assert_array_equal(t.array, np.eye(200, 300))
    fan_in, fan_out = 300, 200
    init.xavier_uniform_(t, gain=2.0)
    assert np.abs(t.array).max() <= 2.0 * math.sqrt(6 / (fan_in + fan_out))
    init.xavier_normal_(t)
    assert abs(t.array.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.002
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.array.std() - math.sqrt(2 / fan_out)) < 0.003
    init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.array).max() <= math.sqrt(6 / fan_in)
    p = nn.Parameter(minigrad.zeros(3, 4))
    init.kaiming_uniform_(p)  # a leaf that requires grad: written under no_grad
    assert p.requires_grad and p.grad_fn is None and np.any(p.array != 0)


def test_init_helpers_match_torch():
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 3)]:
        assert init._calculate_fan_in_and_fan_out(minigrad.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(minigrad.empty(3))
    with pytest.raises(ValueError):
        init.kaiming_uniform_(minigrad.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError):
        init.eye_(minigrad.empty(3))


def test_functional_namespace():
    F = nn.functional
    x = minigrad.randn(2, 3, 8, 8)
    for name in ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "cross_entropy",
                 "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
                 "linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax",
                 "log_softmax", "dropout", "batch_norm"]:
        assert callable(getattr(F, name)), name
    assert F.dropout(x, 0.5, training=False) is x
    w = minigrad.randn(5, 3)
    out = F.linear(minigrad.randn(2, 4, 3), w)
    assert out.shape == (2, 4, 5)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(minigrad.randn(2, 4), w)
    with pytest.raises(RuntimeError):
        F.gelu(x, approximate="erf")
