"""F.scaled_dot_product_attention and nn.MultiheadAttention against torch: values and every
gradient (float32 and float64) with boolean, float and causal masks, fully masked rows,
broadcast batches, grouped-query heads, key padding masks, kdim/vdim, bias_k/bias_v,
add_zero_attn, batch_first, unbatched inputs; dropout's mask; torch's exception types."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from helpers import DTYPES, check
from minigrad import nn
from test_nn_layers import assert_same_error

TF = torch.nn.functional


def _qkv(rng, dtype, batch=(2, 3), length=4, source=5, e=8, ev=6):
    return [rng.standard_normal(batch + shape).astype(dtype)
            for shape in ((length, e), (source, e), (source, ev))]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_matches_torch(dtype):
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng, dtype)
    bool_mask = rng.random((4, 5)) > 0.3
    bool_mask[1] = False                                   # a fully masked row: zeros
    float_mask = rng.standard_normal((3, 4, 5)).astype(dtype)
    float_mask[0, 2] = -np.inf
    cases = [
        ({}, [q, k, v]),
        (dict(is_causal=True, scale=0.3), [q, k, v]),
        (dict(attn_mask="bool"), [q, k, v]),
        (dict(attn_mask="float"), [q, k, v, float_mask]),
        (dict(enable_gqa=True), [q, k[:, :1], v[:, :1]]),
        ({}, [q, k[:1], v[:1]]),                           # batch dimensions broadcast
        (dict(is_causal=True), [q[0, 0], k[0, 0], v[0, 0]]),
    ]
    for options, inputs in cases:
        def call(functional, module, *tensors, options=options):
            options = dict(options)
            if options.get("attn_mask") == "bool":
                options["attn_mask"] = module.tensor(bool_mask)
            elif options.get("attn_mask") == "float":
                options["attn_mask"] = tensors[3]
            return functional.scaled_dot_product_attention(*tensors[:3], **options)
        check(lambda *t: call(F, mg, *t), lambda *t: call(TF, torch, *t), *inputs)


def test_sdpa_dropout_uses_its_mask_in_forward_and_backward():
    rng = np.random.default_rng(1)
    q, k, v = (mg.tensor(a, requires_grad=True) for a in _qkv(rng, np.float64))
    mg.manual_seed(7)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    mg.manual_seed(7)
    keep = (mg.random.numpy_generator().random((2, 3, 4, 5)) >= 0.4) / 0.6
    weights = ((q @ k.transpose(-2, -1)) / np.sqrt(8)).softmax(-1) * mg.tensor(keep)
    expected = weights @ v
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    grads = mg.autograd.grad(out.sum(), [q, k, v])
    expected_grads = mg.autograd.grad(expected.sum(), [q, k, v])
    for a, b in zip(grads, expected_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).detach().numpy() == 0)
    assert type(out.grad_fn).__name__ == "UnsafeViewBackward0"


BAD_SDPA = [
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 8,
                                                                          dtype=m.float64),
                                                m.zeros(2, 5, 6)),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(8), m.zeros(8), m.zeros(8)),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 7),
                                                m.zeros(2, 5, 6)),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 8),
                                                m.zeros(2, 5, 6),
                                                attn_mask=m.zeros(4, 5, dtype=m.int64)),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 8),
                                                m.zeros(2, 5, 6), attn_mask=m.zeros(4, 6)),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 8),
                                                m.zeros(2, 5, 6),
                                                attn_mask=m.ones(4, 5, dtype=m.bool),
                                                is_causal=True),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(2, 4, 8), m.zeros(2, 5, 8),
                                                m.zeros(2, 5, 6), dropout_p=1.5),
    lambda m, f: f.scaled_dot_product_attention(m.zeros(1, 3, 4, 8), m.zeros(1, 2, 5, 8),
                                                m.zeros(1, 2, 5, 6), enable_gqa=True),
]


@pytest.mark.parametrize("case", range(len(BAD_SDPA)))
def test_sdpa_bad_arguments_raise_torch_exception_types(case):
    assert_same_error(lambda: BAD_SDPA[case](mg, F), lambda: BAD_SDPA[case](torch, TF))


# ----------------------------------------------------------------------------- MultiheadAttention

def _pair(rng, dtype, *args, **kwargs):
    """The same MultiheadAttention in both frameworks (torch's random weights copied)."""
    theirs = torch.nn.MultiheadAttention(*args, **kwargs).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
    mine = nn.MultiheadAttention(*args, **kwargs, dtype=dtype)
    mine.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return mine, theirs


def _compare(mine, theirs, inputs, dtype, call_kwargs=None, same=()):
    """Outputs, weights and every input and parameter gradient. ``same`` lists the input
    positions that are the query itself (self-attention passes one tensor three times)."""
    call_kwargs = call_kwargs or {}
    rtol, atol = (1e-4, 2e-5) if dtype == np.float32 else (1e-9, 1e-11)
    results = []
    for module, framework, make in ((mine, mg, mg.tensor),
                                    (theirs, torch, lambda a: torch.tensor(a))):
        tensors = []
        for i, a in enumerate(inputs):
            if i in same:
                tensors.append(tensors[0])
                continue
            t = make(a)
            if a.dtype.kind == "f":
                t.requires_grad_(True)
            tensors.append(t)
        kwargs = {name: (make(value) if isinstance(value, np.ndarray) else value)
                  for name, value in call_kwargs.items()}
        out, weights = module(*tensors[:3], **kwargs)
        upstream = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(dtype)
        loss = (out * make(upstream)).sum()
        if weights is not None:
            loss = loss + (weights * make(upstream.reshape(-1)[:1])).sum()
        loss.backward()
        grads = [t.grad for i, t in enumerate(tensors[:3]) if i not in same]
        results.append((out, weights, grads,
                        {n: p.grad for n, p in module.named_parameters()}))
    (out, weights, grads, params), (t_out, t_weights, t_grads, t_params) = results
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol, atol)
    assert (weights is None) == (t_weights is None)
    if weights is not None:
        np.testing.assert_allclose(weights.detach().numpy(), t_weights.detach().numpy(), rtol,
                                   atol)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol, atol)
    assert params.keys() == t_params.keys()
    for name, grad in t_params.items():
        np.testing.assert_allclose(params[name].numpy(), grad.numpy(), rtol, atol, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_self_attention(dtype, batch_first):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8)).astype(dtype)
    for need_weights, average in [(True, True), (True, False), (False, True)]:
        mine, theirs = _pair(rng, dtype, 8, 2, batch_first=batch_first)
        _compare(mine, theirs, [x, x, x], dtype, dict(need_weights=need_weights,
                                                     average_attn_weights=average), same=(1, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_multihead_attention_options(dtype):
    rng = np.random.default_rng(3)
    q = rng.standard_normal((4, 2, 8)).astype(dtype)
    kv = rng.standard_normal((6, 2, 8)).astype(dtype)
    k3, v5 = rng.standard_normal((6, 2, 3)).astype(dtype), rng.standard_normal((6, 2, 5)).astype(
        dtype)
    padding = np.zeros((2, 6), dtype=bool)
    padding[1, 4:] = True
    mask = rng.random((4, 6)) > 0.8
    float_mask = rng.standard_normal((2 * 4, 4, 6)).astype(dtype)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    x4 = rng.standard_normal((4, 2, 8)).astype(dtype)
    for args, kwargs, inputs, call in [
        ((8, 4), {}, [q, kv, kv], dict(key_padding_mask=padding)),
        ((8, 4), {}, [q, kv, kv], dict(attn_mask=mask, need_weights=False)),
        ((8, 4), {}, [q, kv, kv], dict(attn_mask=float_mask)),
        ((8, 2), dict(kdim=3, vdim=5), [q, k3, v5], dict(key_padding_mask=padding)),
        ((8, 2), dict(add_bias_kv=True), [q, kv, kv], dict(key_padding_mask=padding,
                                                          attn_mask=mask)),
        ((8, 2), dict(add_zero_attn=True, bias=False), [q, kv, kv],
         dict(key_padding_mask=padding, need_weights=False)),
        ((8, 2), {}, [x4, x4, x4], dict(attn_mask=causal, is_causal=True, need_weights=False)),
        ((8, 2), {}, [q[:, 0], kv[:, 0], kv[:, 0]], dict(key_padding_mask=padding[1])),
    ]:
        mine, theirs = _pair(rng, dtype, *args, **kwargs)
        try:
            _compare(mine, theirs, inputs, dtype, call)
        except AssertionError as error:
            raise AssertionError(f"{args} {kwargs} {sorted(call)}: {error}") from None


def test_multihead_attention_initialisation_and_repr():
    mg.manual_seed(0)
    layer = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(layer) == repr(torch.nn.MultiheadAttention(16, 4, add_bias_kv=True))
    bound = np.sqrt(6 / (16 + 48))                       # xavier_uniform of (3E, E)
    weight = layer.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert np.all(layer.in_proj_bias.detach().numpy() == 0)
    assert np.all(layer.out_proj.bias.detach().numpy() == 0)
    assert layer.bias_k.shape == (1, 1, 16)
    assert type(layer.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


def test_multihead_attention_dropout_only_in_training():
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.standard_normal((5, 2, 8)).astype(np.float32))
    layer = nn.MultiheadAttention(8, 2, dropout=0.5)
    train_a, _ = layer(x, x, x)
    train_b, _ = layer(x, x, x)
    assert not np.allclose(train_a.detach().numpy(), train_b.detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x, x, x)[0].detach().numpy(),
                                  layer(x, x, x)[0].detach().numpy())


BAD_MHA = [
    lambda m: m.nn.MultiheadAttention(0, 2),
    lambda m: m.nn.MultiheadAttention(7, 2),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 8), m.zeros(5, 8), m.zeros(5, 8)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 6), m.zeros(5, 2, 6),
                                            m.zeros(5, 2, 6)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 8), m.zeros(5, 2, 8),
                                            m.zeros(5, 2, 8), attn_mask=m.zeros(4, 4)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 8), m.zeros(5, 2, 8),
                                            m.zeros(5, 2, 8), is_causal=True),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 8), m.zeros(5, 2, 8),
                                            m.zeros(5, 2, 8),
                                            key_padding_mask=m.zeros(2, 4, dtype=m.bool)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(4, 2, 8), m.zeros(5, 2, 8),
                                            m.zeros(5, 2, 8),
                                            attn_mask=m.zeros(4, 5, dtype=m.int64)),
]


@pytest.mark.parametrize("case", range(len(BAD_MHA)))
def test_multihead_attention_bad_arguments(case):
    assert_same_error(lambda: BAD_MHA[case](mg), lambda: BAD_MHA[case](torch))
