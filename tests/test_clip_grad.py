"""minigrad.nn.utils.clip_grad against torch.nn.utils."""
import math

import numpy as np
import pytest
import torch

from minigrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from minigrad.tensor import Tensor

SHAPES = [(3, 4), (7,), (2, 3, 5)]


def make(dtypes, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    grads = [(rng.standard_normal(s) * scale).astype(d) for s, d in zip(SHAPES, dtypes)]
    mg = []
    for g in grads:
        p = Tensor(np.zeros(g.shape, g.dtype), requires_grad=True)
        p.grad = Tensor(g.copy())
        mg.append(p)
    th = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        th.append(p)
    return mg, th


DTYPES = [(np.float64,) * 3, (np.float32,) * 3, (np.float32, np.float64, np.float32)]


@pytest.mark.parametrize("dtypes", DTYPES, ids=["f64", "f32", "mixed"])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.5, "inf", 0, -math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtypes, norm_type, max_norm):
    mg, th = make(dtypes)
    ours = clip_grad_norm_(mg, max_norm, norm_type=norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(th, max_norm, norm_type=norm_type)
    rtol = 1e-12 if all(d == np.float64 for d in dtypes) else 1e-5
    assert isinstance(ours, Tensor) and ours.array.shape == ()
    assert ours.array.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=rtol)
    for p, t in zip(mg, th):
        assert p.grad.array.dtype == t.grad.numpy().dtype
        np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=rtol, atol=1e-7)


def test_clip_grad_norm_single_tensor_missing_grads_and_generator():
    mg, th = make(DTYPES[0])
    mg[1].grad = None
    th[1].grad = None
    ours = clip_grad_norm_((p for p in mg), 0.1)
    theirs = torch.nn.utils.clip_grad_norm_((p for p in th), 0.1)
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12)
    assert mg[1].grad is None
    ours = clip_grad_norm_(mg[0], 0.01)
    theirs = torch.nn.utils.clip_grad_norm_(th[0], 0.01)
    np.testing.assert_allclose(mg[0].grad.array, th[0].grad.numpy(), rtol=1e-12)
    empty = clip_grad_norm_([Tensor(np.zeros(2), requires_grad=True)], 1.0)
    assert float(empty.array) == 0.0


def test_clip_grad_norm_nonfinite():
    mg, th = make(DTYPES[0])
    mg[0].grad.array[0, 0] = np.inf
    th[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError) as ours:
        clip_grad_norm_(mg, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(th, 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    assert math.isinf(float(clip_grad_norm_(mg, 1.0).array))


def test_clip_grad_norm_bumps_version():
    mg, _ = make(DTYPES[0])
    before = mg[0].grad._version.value
    clip_grad_norm_(mg, 0.1)
    assert mg[0].grad._version.value == before + 1


def test_get_total_norm_matches_torch():
    mg, th = make(DTYPES[1])
    ours = get_total_norm([p.grad for p in mg], 2.0)
    theirs = torch.nn.utils.get_total_norm([p.grad for p in th], 2.0)
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtypes", DTYPES, ids=["f64", "f32", "mixed"])
@pytest.mark.parametrize("clip_value", [0.3, 2, 100.0])
def test_clip_grad_value_matches_torch(dtypes, clip_value):
    mg, th = make(dtypes, scale=2.0)
    mg[2].grad.array[0, 0, 0] = np.nan
    th[2].grad[0, 0, 0] = math.nan
    assert clip_grad_value_(mg, clip_value) is None
    torch.nn.utils.clip_grad_value_(th, clip_value)
    for p, t in zip(mg, th):
        np.testing.assert_array_equal(p.grad.array, t.grad.numpy())
    single = make(dtypes, scale=2.0)[0][0]
    clip_grad_value_(single, 0.1)
    assert np.abs(single.grad.array).max() <= 0.1
