"""The device line of a torch script runs on minigrad's CPU: torch.device, cuda and
accelerator queries, device= on factories, .to(device), set_default_device, inference_mode,
Size and the torch.Tensor(...) constructor forms. Asking for an accelerator fails with torch's
exception type and a message naming minigrad as CPU-only."""
import numpy as np
import pytest
import torch

import minigrad as mg


def test_device_objects_behave_as_torch():
    for spec in (("cpu",), ("cuda",), ("cuda:1",), ("cuda", 2), ("cpu", 0), ("mps",)):
        mine, theirs = mg.device(*spec), torch.device(*spec)
        assert (str(mine), repr(mine), mine.type, mine.index) == (
            str(theirs), repr(theirs), theirs.type, theirs.index)
    assert mg.device("cpu") == mg.device("cpu") and mg.device("cpu") != mg.device("cuda")
    assert mg.device(mg.device("cuda:1")) == mg.device("cuda", 1)
    assert len({mg.device("cpu"), mg.device("cpu")}) == 1
    for module in (mg, torch):
        with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
            module.device("foo")


def test_queries_answer_no_accelerator():
    assert mg.cuda.is_available() is torch.cuda.is_available() is False
    assert mg.cuda.device_count() == torch.cuda.device_count() == 0
    assert mg.accelerator.is_available() is torch.accelerator.is_available() is False
    assert mg.accelerator.current_accelerator() is torch.accelerator.current_accelerator()
    assert mg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    mg.backends.cudnn.benchmark = True  # scripts set it; it changes nothing on the CPU
    mg.cuda.manual_seed(0)
    mg.cuda.manual_seed_all(0)
    with pytest.raises(AssertionError, match="CPU-only"):
        mg.cuda.current_device()
    with pytest.raises(AssertionError):
        torch.cuda.current_device()


def _script_device(module):
    """The tutorials' first lines."""
    accelerator = module.accelerator
    kind = accelerator.current_accelerator().type if accelerator.is_available() else "cpu"
    device = module.device(kind)
    cuda = module.device("cuda" if module.cuda.is_available() else "cpu")
    return device, cuda


def test_the_tutorials_device_lines_pick_the_cpu_and_run():
    results = []
    for module in (mg, torch):
        device, cuda = _script_device(module)
        layer = module.nn.Linear(3, 2).to(device)
        x = module.ones(4, 3, device=device).to(cuda)
        results.append((str(device), str(x.device), tuple(layer(x).shape), x.is_cuda))
    assert results[0] == results[1]
    assert mg.ones(2).device == mg.device("cpu") and mg.ones(2).get_device() == -1


@pytest.mark.parametrize("name, call", [
    ("tensor.cuda()", lambda m: m.ones(2).cuda()),
    ("tensor.to('cuda')", lambda m: m.ones(2).to("cuda")),
    ("tensor.to(device('cuda:0'))", lambda m: m.ones(2).to(m.device("cuda:0"))),
    ("factory device='cuda'", lambda m: m.zeros(2, device="cuda")),
    ("tensor(..., device='cuda')", lambda m: m.tensor([1.0], device="cuda")),
    ("module.cuda()", lambda m: m.nn.Linear(2, 2).cuda()),
    ("module.to('cuda')", lambda m: m.nn.Linear(2, 2).to("cuda")),
    ("tensor.to('xpu')", lambda m: m.ones(2).to("xpu")),
])
def test_accelerators_fail_with_torchs_assertion_naming_minigrad(name, call):
    with pytest.raises(AssertionError):
        call(torch)
    with pytest.raises(AssertionError, match="minigrad is CPU-only"):
        call(mg)


@pytest.mark.parametrize("call", [lambda m: m.ones(2).to("mps"), lambda m: m.ones(2).to(0)])
def test_other_accelerators_fail_with_a_runtime_error_as_torch(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="minigrad is CPU-only"):
        call(mg)


def test_to_keeps_or_casts_as_torch():
    for module in (mg, torch):
        x = module.ones(2)
        assert x.to("cpu") is x and x.to(module.device("cpu")) is x and x.cpu() is x
        assert x.to("cpu", module.float64).dtype == module.float64
        assert x.to(device="cpu", dtype=module.float64).dtype == module.float64
        assert x.to(module.zeros(1, dtype=module.int64)).dtype == module.int64
        assert x.to(x, copy=True) is not x


@pytest.mark.parametrize("factory", [
    lambda m, d: m.zeros(2, 3, device=d), lambda m, d: m.ones((2, 3), device=d),
    lambda m, d: m.full((2,), 1.5, device=d), lambda m, d: m.empty(2, device=d).zero_(),
    lambda m, d: m.arange(5, device=d), lambda m, d: m.linspace(0, 1, 5, device=d),
    lambda m, d: m.eye(3, device=d), lambda m, d: m.tensor([1, 2], device=d),
    lambda m, d: m.zeros_like(m.ones(2), device=d), lambda m, d: m.rand(2, device=d) * 0,
    lambda m, d: m.randn(2, device=d) * 0, lambda m, d: m.randint(0, 1, (2,), device=d),
])
def test_factories_take_a_cpu_device(factory):
    mine = factory(mg, mg.device("cpu"))
    theirs = factory(torch, torch.device("cpu"))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert mine.dtype == theirs.numpy().dtype and factory(mg, "cpu").device.type == "cpu"


def test_set_default_device():
    try:
        mg.set_default_device("cpu")
        assert mg.get_default_device() == mg.device("cpu") and mg.zeros(1).device.type == "cpu"
        mg.set_default_device("cuda")  # allowed, as torch; creating a tensor is not
        with pytest.raises(AssertionError, match="CPU-only"):
            mg.zeros(2)
    finally:
        mg.set_default_device(None)
    assert mg.zeros(2).device.type == "cpu"


def test_inference_mode_records_no_graph():
    for module in (mg, torch):
        x = module.ones(2, requires_grad=True)
        with module.inference_mode():
            assert module.is_inference_mode_enabled() and not module.is_grad_enabled()
            y = x * 2
        assert not y.requires_grad and module.is_grad_enabled()
        assert not module.is_inference_mode_enabled()
        with module.inference_mode(False):
            assert (x * 2).requires_grad

        @module.inference_mode()
        def called(t):
            return t * 2

        @module.inference_mode
        def bare(t):
            return t * 2

        assert not called(x).requires_grad and not bare(x).requires_grad


def test_size_behaves_as_torch_size():
    mine, theirs = mg.ones(2, 3, 4).shape, torch.ones(2, 3, 4).shape
    assert isinstance(mine, mg.Size) and isinstance(mine, tuple)
    assert mine == theirs == (2, 3, 4) and mine.numel() == theirs.numel() == 24
    assert repr(mine) == repr(theirs).replace("torch", "minigrad")
    assert isinstance(mine[1:], mg.Size) and mine[1:] == theirs[1:] and mine[0] == 2
    assert mg.ones(2, 3).size() == mg.Size([2, 3]) and mg.ones(2, 3).size(-1) == 3
    assert mg.zeros(mg.Size([2, 1])).shape == (2, 1)
    with pytest.raises(TypeError):
        mg.Size([2.5])
    with pytest.raises(TypeError):
        torch.Size([2.5])


@pytest.mark.parametrize("args", [
    ([1.0, 2.0],), ([[1, 2], [3, 4]],), ((1.5, 2.5),), (2, 3), (4,), (),
    (torch.Size([2, 1]),),
])
def test_legacy_tensor_constructor_forms(args):
    mg_args = tuple(mg.Size(a) if isinstance(a, torch.Size) else a for a in args)
    mine, theirs = mg.Tensor(*mg_args), torch.Tensor(*args)
    assert mine.shape == theirs.shape and mine.dtype == theirs.numpy().dtype == np.float32
    if args and isinstance(args[0], (list, tuple)) and not isinstance(args[0], torch.Size):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert not mine.requires_grad and mine.is_leaf
