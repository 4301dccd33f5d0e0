"""Embedding and F.embedding (padding_idx, max_norm, scale_grad_by_freq) against torch: values,
weight gradients (float32 and float64), the in-place renormalisation, initialisation,
from_pretrained, torch's exception types; F.one_hot is in test_interpolate.py."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from test_nn_layers import assert_same_error

TF = torch.nn.functional


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_matches_torch(dtype):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((7, 4)).astype(dtype)
    for indices, options in [(rng.integers(0, 7, (3, 5)), {}),
                             (np.array([1, 1, 2, 6, 1]), dict(padding_idx=1)),
                             (np.array([[0, 3], [3, 3]]), dict(padding_idx=-4)),
                             (rng.integers(0, 7, 20), dict(scale_grad_by_freq=True)),
                             (rng.integers(0, 7, (2, 6)), dict(padding_idx=2,
                                                               scale_grad_by_freq=True)),
                             (np.array(5), {}), (np.zeros((0, 3), np.int64), {}),
                             (np.array([0, 6], np.int32), {})]:
        indices = np.asarray(indices)
        check(lambda w, i: F.embedding(i, w, **options), lambda w, i: TF.embedding(i, w,
                                                                                   **options),
              weight, indices)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
def test_max_norm_renormalises_the_rows_read_in_place(norm_type):
    rng = np.random.default_rng(1)
    values = rng.standard_normal((6, 3)) * 2
    indices = np.array([[0, 2], [2, 5]])
    results = []
    for module, functional in ((mg, F), (torch, TF)):
        weight = module.tensor(values.copy(), requires_grad=True)
        out = functional.embedding(module.tensor(indices), weight, max_norm=1.5,
                                   norm_type=norm_type)
        (out * out).sum().backward()
        results.append((out.detach().numpy(), weight.detach().numpy(), weight.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-9)
    assert not np.allclose(results[0][1], values)          # rows 0, 2, 5 were scaled


def test_gradient_accumulates_repeated_indices_deterministically():
    weight = mg.zeros(4, 2, requires_grad=True)
    indices = mg.tensor([3, 1, 3, 3, 0])
    grad = mg.tensor(np.arange(10.0, dtype=np.float32).reshape(5, 2))
    F.embedding(indices, weight).backward(grad)
    np.testing.assert_array_equal(weight.grad.numpy(), [[8, 9], [2, 3], [0, 0], [10, 13]])
    assert type(F.embedding(indices, weight).grad_fn).__name__ == "EmbeddingBackward0"


def test_layer_initialisation_repr_and_from_pretrained():
    mg.manual_seed(0)
    layer = nn.Embedding(1000, 8, padding_idx=3)
    values = layer.weight.detach().numpy()
    assert np.all(values[3] == 0) and abs(values.std() - 1) < 0.05 and abs(values.mean()) < 0.05
    for args, kwargs in [((5, 3), {}), ((5, 3), dict(padding_idx=-2, max_norm=1.0,
                                                     norm_type=1.0, scale_grad_by_freq=True))]:
        mine, theirs = nn.Embedding(*args, **kwargs), torch.nn.Embedding(*args, **kwargs)
        assert repr(mine) == repr(theirs) and mine.padding_idx == theirs.padding_idx
    table = mg.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(mg.tensor([2, 0])).numpy(), [[4, 5], [0, 1]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_layer_matches_torch_with_copied_weights():
    rng = np.random.default_rng(2)
    for kwargs in ({}, dict(padding_idx=0), dict(max_norm=0.8), dict(scale_grad_by_freq=True)):
        mine, theirs = nn.Embedding(9, 4, **kwargs), torch.nn.Embedding(9, 4, **kwargs)
        values = rng.standard_normal((9, 4)).astype(np.float32)
        mine.weight.data = mg.tensor(values.copy())
        theirs.weight.data = torch.tensor(values.copy())
        indices = rng.integers(0, 9, (3, 4))
        out, expected = mine(mg.tensor(indices)), theirs(torch.tensor(indices))
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-6)


BAD_CALLS = [
    lambda m, f: f.embedding(m.tensor([0.0, 1.0]), m.zeros(5, 3)),
    lambda m, f: f.embedding(m.tensor([0, 5]), m.zeros(5, 3)),
    lambda m, f: f.embedding(m.tensor([0, -1]), m.zeros(5, 3)),
    lambda m, f: f.embedding(m.tensor([0, 1]), m.zeros(5)),
    lambda m, f: f.embedding(m.tensor([0, 1]), m.zeros(5, 3), padding_idx=5),
    lambda m, f: f.embedding(m.tensor([0, 1]), m.zeros(5, 3), padding_idx=-6),
    lambda m, f: m.nn.Embedding(5, 3, padding_idx=5),
]


@pytest.mark.parametrize("case", range(len(BAD_CALLS)))
def test_bad_arguments_raise_torch_exception_types(case):
    assert_same_error(lambda: BAD_CALLS[case](mg, F), lambda: BAD_CALLS[case](torch, TF))
