"""nn.utils.parameters_to_vector / vector_to_parameters and Module.register_buffer(persistent=)
against torch: the vector's values and gradient, parameters written back as views of the
vector, non-persistent buffers kept out of state_dict and loading but moved and cast with the
module."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import parameters_to_vector, vector_to_parameters


def _models():
    mg.manual_seed(0)
    mine = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(27, 4),
                         nn.LayerNorm(4))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(27, 4),
                                 torch.nn.LayerNorm(4))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in mine.state_dict().items()})
    return mine, theirs


def test_parameters_to_vector_matches_torch_with_its_gradient():
    mine, theirs = _models()
    vector, expected = parameters_to_vector(mine.parameters()), \
        torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vector.detach().numpy(), expected.detach().numpy())
    weights = np.arange(vector.shape[0], dtype=np.float32)
    (vector * mg.tensor(weights)).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)
    assert type(vector.grad_fn).__name__ == type(expected.grad_fn).__name__


def test_vector_to_parameters_writes_views_of_the_vector():
    mine, theirs = _models()
    values = np.random.default_rng(0).standard_normal(
        sum(p.numel() for p in mine.parameters())).astype(np.float32)
    vector = mg.tensor(values.copy())
    vector_to_parameters(vector, mine.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(values.copy()), theirs.parameters())
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)
        assert p.requires_grad
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(mine(mg.tensor(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    with mg.no_grad():
        vector[0] = 100.0                       # the parameters are views of the vector
    assert mine[0].weight.detach().numpy()[0, 0, 0, 0] == 100.0


def test_vector_to_parameters_errors():
    mine, _ = _models()
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: numpy.ndarray"):
        vector_to_parameters(np.zeros(10), mine.parameters())
    with pytest.raises(RuntimeError):
        vector_to_parameters(mg.zeros(10), mine.parameters())


class _WithBuffers:
    """The same module in both frameworks: a parameter, a persistent and a non-persistent
    buffer."""

    @staticmethod
    def make(module):
        class Model(module.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = module.nn.Parameter(module.ones(2))
                self.register_buffer("kept", module.zeros(2))
                self.register_buffer("scratch", module.ones(3), persistent=False)
                self.register_buffer("absent", None, persistent=False)

            def forward(self, x):
                return x * self.weight + self.kept + self.scratch[:2]
        return Model()


def test_non_persistent_buffers_stay_out_of_state_dict_and_loading():
    mine, theirs = _WithBuffers.make(mg), _WithBuffers.make(torch)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["weight", "kept"]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for module in (mine, theirs):
        state = {"weight": np.full(2, 3.0, np.float32), "kept": np.full(2, 4.0, np.float32)}
        if module is theirs:
            state = {k: torch.from_numpy(v) for k, v in state.items()}
        module.load_state_dict(state)
        extra = dict(state, scratch=state["kept"][:1])
        with pytest.raises(RuntimeError, match="Unexpected key"):
            module.load_state_dict(extra)
        result = module.load_state_dict(extra, strict=False)
        assert list(result.unexpected_keys) == ["scratch"]
    np.testing.assert_array_equal(mine.scratch.numpy(), theirs.scratch.numpy())
    np.testing.assert_array_equal(mine(mg.ones(2)).detach().numpy(),
                                  theirs(torch.ones(2)).detach().numpy())


def test_persistence_follows_the_last_registration_and_casts():
    for module in (mg, torch):
        model = _WithBuffers.make(module)
        model.register_buffer("scratch", module.ones(3))           # now persistent
        model.register_buffer("kept", module.zeros(2), persistent=False)
        assert list(model.state_dict()) == ["weight", "scratch"]
        model.scratch = module.full((3,), 2.0)                     # assignment keeps it
        assert list(model.state_dict()) == ["weight", "scratch"]
        model.double()
        assert model.kept.dtype == module.float64 and model.scratch.dtype == module.float64
    with pytest.raises(KeyError):
        _WithBuffers.make(mg).register_buffer("weight", mg.zeros(1), persistent=False)
    with pytest.raises(TypeError):
        _WithBuffers.make(mg).register_buffer("other", [1.0], persistent=False)


def test_saved_state_dict_has_no_non_persistent_buffer(tmp_path):
    model = _WithBuffers.make(mg)
    mg.save(model.state_dict(), tmp_path / "model.safetensors")
    assert sorted(mg.load(tmp_path / "model.safetensors")) == ["kept", "weight"]
