"""Attention: torch.nn.functional.scaled_dot_product_attention on the GEMM, and
multi_head_attention_forward (nn.MultiheadAttention's math).

Scaled dot-product attention, query Q (..., L, E), key K (..., S, E), value V (..., S, Ev),
batch dimensions broadcast, scale s (1/√E unless given), an additive bias B (..., L, S) made
of the mask (-inf where a boolean mask is False, the values of a float mask) and the causal
mask (-inf above the diagonal):

    A = s Q Kᵀ + B,  P = softmax(A) along S (a row with every entry -inf gives P = 0, as
    torch's safe softmax),  Pd = P ⊙ D (D the dropout mask: 0 or 1/(1-p)),  O = Pd V
    dV = Pdᵀ dO,  dPd = dO Vᵀ,  dA = P ⊙ (D ⊙ dPd - Σ_S P ⊙ D ⊙ dPd),  dB = dA,
    dQ = s dA K,  dK = s dAᵀ Q

One fused op: the products run on the GEMM (batched), P is kept for backward; the double
backward differentiates the same computation written in recorded ops (``decomposition``).
The node is named as torch's last node of its (math) attention, UnsafeViewBackward0.
"""
import math
import numbers
import warnings

import numpy as np

from minigrad.autograd.function import ArrayFunction
from minigrad.ops import grad_math as G
from minigrad.ops import shape as _shape
from minigrad.ops.arguments import check_tensor, scalar_type_name
from minigrad.ops.linalg import matrix_product
from minigrad.ops.nn import dropout, dropout_mask, linear
from minigrad.ops.padding import pad
from minigrad.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _safe_softmax(scores):
    """softmax along the last axis of a fresh array, computed in place; rows of only -inf
    give zeros (torch's safe softmax)."""
    top = scores.max(axis=-1, keepdims=True)
    dead = np.isneginf(top)
    if dead.any():
        top[dead] = 0
    scores -= top
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    if dead.any():
        total[dead] = np.inf      # exp(-inf) = 0 everywhere in those rows: 0 / inf = 0
    scores /= total
    return scores


class ScaledDotProductAttention(ArrayFunction):
    """O = dropout(softmax(s Q Kᵀ + B)) V (see the module docstring); bias and keep (the
    dropout mask) may be None."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, query, key, value, bias, scale, keep):
        scores = matrix_product(query, np.swapaxes(key, -1, -2))
        scores *= query.dtype.type(scale)
        if bias is not None:
            scores = scores + bias
        probs = _safe_softmax(scores)
        dropped = probs if keep is None else probs * keep
        ctx.save_for_backward(query, key, value, bias, probs)
        ctx.scale, ctx.keep = scale, keep
        return matrix_product(dropped, value)

    @staticmethod
    def decomposition(ctx, query, key, value, bias, probs):
        scores = G.matmul(query, G.swap_last_axes(key)) * ctx.scale
        dead = probs.sum(axis=-1, keepdims=True) == 0      # rows of only -inf: P = 0
        if bias is not None:
            if dead.any():   # their bias made finite (and their weights zeroed below)
                bias = G.where(dead, Tensor(np.zeros((), probs.dtype)), bias)
            scores = scores + bias
        weights = G.softmax(scores, -1)
        if dead.any():
            weights = weights * (~dead).astype(probs.dtype)
        if ctx.keep is not None:
            weights = weights * ctx.keep
        return G.matmul(weights, value)

    @staticmethod
    def backward(ctx, grad):
        query, key, value, bias, probs = ctx.saved_tensors
        needs = ctx.needs_input_grad
        keep = ctx.keep
        dropped = probs if keep is None else probs * keep
        grad_q = grad_k = grad_v = grad_bias = None
        if needs[2]:
            grad_v = matrix_product(np.swapaxes(dropped, -1, -2), grad)
        if needs[0] or needs[1] or needs[3]:
            grad_probs = matrix_product(grad, np.swapaxes(value, -1, -2))
            if keep is not None:
                grad_probs = grad_probs * keep
            if math.prod(grad.shape) == 0:  # an empty output depends on no score: zeros, as
                # torch (not 0 times a NaN probability or an infinite query)
                return (G.zeros_like(query) if needs[0] else None,
                        G.zeros_like(key) if needs[1] else None, grad_v,
                        G.zeros_like(probs) if needs[3] else None, None, None)
            grad_scores = probs * (grad_probs - (grad_probs * probs).sum(axis=-1, keepdims=True))
            if needs[3]:
                grad_bias = grad_scores
            scaled = grad_scores * grad_scores.dtype.type(ctx.scale)
            if needs[0]:
                grad_q = matrix_product(scaled, key)
            if needs[1]:
                grad_k = matrix_product(np.swapaxes(scaled, -1, -2), query)
        return grad_q, grad_k, grad_v, grad_bias, None, None


# ----------------------------------------------------------------------------- front door

def _attention_bias(attn_mask, is_causal, length, source, dtype):
    """The additive bias (-inf where masked) of a boolean or float mask and/or the causal
    mask, or None."""
    bias = None
    if is_causal:
        bias = np.where(np.tril(np.ones((length, source), dtype=bool)), 0, -np.inf).astype(dtype)
    if attn_mask is None:
        return None if bias is None else Tensor(bias)
    if attn_mask.array.dtype == np.bool_:
        return Tensor(np.where(attn_mask.array, 0, -np.inf).astype(dtype))
    return attn_mask if attn_mask.array.dtype == dtype else attn_mask.type(dtype)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """torch.nn.functional.scaled_dot_product_attention: softmax(Q Kᵀ scale + mask) V with
    dropout on the weights, on the GEMM; attn_mask boolean (True takes part) or float
    (added), broadcast to (..., L, S); is_causal masks the upper triangle; enable_gqa lets
    key and value have fewer heads (dimension -3) than query, each shared by a group."""
    for position, (name, value_) in enumerate((("query", query), ("key", key),
                                                ("value", value)), 1):
        check_tensor(value_, name, "scaled_dot_product_attention", position)
    q, k, v = query.array, key.array, value.array
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {scalar_type_name(q.dtype)} key.dtype: "
                           f"{scalar_type_name(k.dtype)} and value.dtype: "
                           f"{scalar_type_name(v.dtype)} instead.")
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: "
                           f"{v.ndim} instead.")
    if q.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"expected scalar type Float but found {q.dtype}")
    if k.shape[-1] != q.shape[-1] or v.shape[-2] != k.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {list(q.shape)}, key "
                           f"{list(k.shape)} and value {list(v.shape)} do not fit: query and "
                           f"key need the same last dimension, key and value the same length")
    if attn_mask is not None:
        check_tensor(attn_mask, "attn_mask", "scaled_dot_product_attention")
        if attn_mask.array.dtype not in (np.bool_, np.float32, q.dtype):  # float: float32
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: "
                               f"{_long_name(attn_mask.array.dtype)} and  query.dtype: "
                               f"{scalar_type_name(q.dtype)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
    if not isinstance(dropout_p, numbers.Real) or not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        query_heads, kv_heads = q.shape[-3], k.shape[-3]
        if query_heads % kv_heads or v.shape[-3] != kv_heads:
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in query")
        key, value = _repeat_heads(key, query_heads // kv_heads), \
            _repeat_heads(value, query_heads // kv_heads)
    length, source = q.shape[-2], k.shape[-2]
    bias = _attention_bias(attn_mask, is_causal, length, source, q.dtype)
    if bias is not None:
        scores = q.shape[:-2] + (length, source)
        try:
            shape = np.broadcast_shapes(bias.array.shape, scores)
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                               f"{list(bias.array.shape)} does not broadcast to the attention "
                               f"weights' shape {list(q.shape[:-2]) + [length, source]}") \
                from None
        if math.prod(shape) == 0 and math.prod(scores) != 0:  # torch adds the mask in place
            raise RuntimeError(f"output with shape {list(scores)} doesn't match the broadcast "
                               f"shape {list(shape)}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (length, source)
        keep = dropout_mask(shape, dropout_p, q.dtype)
    return ScaledDotProductAttention.apply(query, key, value, bias, scale, keep)


def _repeat_heads(tensor, groups):
    """(..., H, S, E) -> (..., H·groups, S, E), each head repeated groups times in place
    (torch's repeat_interleave along dimension -3), in recorded ops."""
    shape = tuple(tensor.array.shape)
    expanded = _shape.expand(_shape.unsqueeze(tensor, -3),
                             shape[:-2] + (groups,) + shape[-2:])
    return _shape.reshape(expanded, shape[:-3] + (shape[-3] * groups,) + shape[-2:])


def _long_name(dtype) -> str:
    return {"int64": "long int", "int32": "int"}.get(str(dtype), scalar_type_name(dtype))


# ----------------------------------------------------------------------------- multi-head

def canonical_mask(mask, name, other_type, other_name, target_type, check_other=True):
    """torch's _canonical_mask: a boolean mask (True = not allowed) becomes a float mask of
    -inf and 0 in target_type; a float mask stays as it is."""
    if mask is None:
        return None
    dtype = mask.array.dtype
    if dtype != np.bool_ and dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and other_type != dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      f"same type for both instead.", stacklevel=3)
    if dtype == np.bool_:
        return Tensor(np.where(mask.array, -np.inf, 0).astype(target_type))
    return mask


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's _mha_shape_check: whether the inputs are batched (3-D) or not (2-D)."""
    q, k, v = query.array, key.array, value.array
    if q.ndim == 3:
        assert k.ndim == 3 and v.ndim == 3, (
            f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
            f"{k.ndim}-D and {v.ndim}-D tensors respectively")
        if key_padding_mask is not None:
            assert key_padding_mask.array.ndim == 2, (
                f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.array.ndim}-D tensor instead")
        if attn_mask is not None:
            assert attn_mask.array.ndim in (2, 3), (
                f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.array.ndim}-D tensor instead")
        return True
    if q.ndim == 2:
        assert k.ndim == 2 and v.ndim == 2, (
            f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
            f"{k.ndim}-D and {v.ndim}-D tensors respectively")
        if key_padding_mask is not None:
            assert key_padding_mask.array.ndim == 1, (
                f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.array.ndim}-D tensor instead")
        if attn_mask is not None:
            assert attn_mask.array.ndim in (2, 3), (
                f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                f"but found {attn_mask.array.ndim}-D tensor instead")
            if attn_mask.array.ndim == 3:
                expected = (num_heads, q.shape[0], k.shape[0])
                assert attn_mask.array.shape == expected, (
                    f"Expected `attn_mask` shape to be {expected} but got "
                    f"{attn_mask.array.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{q.ndim}-D query tensor")


def _in_projection(query, key, value, weights, biases):
    """q, k, v: each input times its projection (one GEMM of the packed weight for
    self-attention, whose three thirds are then views)."""
    if query is key and key is value and len(weights) == 1:
        packed = linear(query, weights[0], biases[0])
        return _shape.chunk(packed, 3, -1)
    if len(weights) == 1:
        weights = _shape.chunk(weights[0], 3, 0)
        biases = (None,) * 3 if biases[0] is None else _shape.chunk(biases[0], 3, 0)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: sequence-first inputs (L, N, E) or
    unbatched (L, E). q, k, v are projected, split into heads, attended (the weights
    softmax(q kᵀ/√d + masks), dropped out in training) and the heads' outputs projected
    again. Returns (output, the weights averaged over heads or per head when need_weights,
    else None); with need_weights=False the attention is scaled_dot_product_attention's."""
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = (_shape.unsqueeze(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = _shape.unsqueeze(key_padding_mask, 0)
    target, batch, embed_dim = query.array.shape
    dtype = query.array.dtype
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask",
                                      None if attn_mask is None else attn_mask.array.dtype,
                                      "attn_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None   # the hint alone: scaled_dot_product_attention masks causally
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    assert embed_dim == embed_dim_to_check, (
        f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    assert head_dim * num_heads == embed_dim, (
        f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        assert key.array.shape[:2] == value.array.shape[:2], (
            f"key's sequence and batch dims {key.array.shape[:2]} do not match value's "
            f"{value.array.shape[:2]}")
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            assert weight is not None, \
                f"use_separate_proj_weight is True but {name}_proj_weight is None"
        biases = (None,) * 3 if in_proj_bias is None else _shape.chunk(in_proj_bias, 3, 0)
        q, k, v = _in_projection(query, key, value, (q_proj_weight, k_proj_weight,
                                                      v_proj_weight), biases)
    else:
        assert key.array.shape == value.array.shape, (
            f"key shape {key.array.shape} does not match value shape {value.array.shape}")
        assert in_proj_weight is not None, \
            "use_separate_proj_weight is False but in_proj_weight is None"
        q, k, v = _in_projection(query, key, value, (in_proj_weight,), (in_proj_bias,))
    source = key.array.shape[0]
    if attn_mask is not None:
        if attn_mask.array.ndim == 2:
            if attn_mask.array.shape != (target, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is "
                                   f"torch.Size({list(attn_mask.array.shape)}), but should be "
                                   f"{(target, source)}.")
            attn_mask = _shape.unsqueeze(attn_mask, 0)
        elif attn_mask.array.ndim == 3:
            if attn_mask.array.shape != (batch * num_heads, target, source):
                raise RuntimeError(f"The shape of the 3D attn_mask is "
                                   f"torch.Size({list(attn_mask.array.shape)}), but should be "
                                   f"{(batch * num_heads, target, source)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.array.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        assert static_k is None, "bias cannot be added to static key."
        assert static_v is None, "bias cannot be added to static value."
        k = _shape.cat([k, bias_k.repeat(1, batch, 1)])
        v = _shape.cat([v, bias_v.repeat(1, batch, 1)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    else:
        assert bias_k is None
        assert bias_v is None
    heads = batch * num_heads
    q = _shape.transpose(_shape.reshape(q, (target, heads, head_dim)), 0, 1)
    k = _heads(k, static_k, heads, head_dim, "k")
    v = _heads(v, static_v, heads, head_dim, "v")
    if add_zero_attn:
        zeros = Tensor(np.zeros((heads, 1, head_dim), dtype=dtype))
        k = _shape.cat([k, zeros], 1)
        v = _shape.cat([v, zeros], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    source = k.array.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.array.shape != (batch, source):
            raise AssertionError(f"expecting key_padding_mask shape of {(batch, source)}, but "
                                 f"got {key_padding_mask.array.shape}")
        padding = _shape.reshape(_shape.expand(_shape.reshape(key_padding_mask,
                                                              (batch, 1, 1, source)),
                                               (batch, num_heads, 1, source)),
                                 (heads, 1, source))
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    if need_weights:
        scaled = q * math.sqrt(1.0 / float(head_dim))
        weights = scaled @ _shape.transpose(k, -2, -1)
        if attn_mask is not None:
            weights = attn_mask + weights
        weights = weights.softmax(-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _shape.reshape(_shape.transpose(weights @ v, 0, 1), (target * batch, embed_dim))
        out = _shape.reshape(linear(out, out_proj_weight, out_proj_bias), (target, batch, -1))
        weights = _shape.reshape(weights, (batch, num_heads, target, source))
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = _shape.squeeze(out, 1), _shape.squeeze(weights, 0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.array.shape[0] == 1 and attn_mask.array.ndim == 3:
            attn_mask = _shape.unsqueeze(attn_mask, 0)
        else:
            attn_mask = _shape.reshape(attn_mask, (batch, num_heads, -1, source))
    q = _shape.reshape(q, (batch, num_heads, target, head_dim))
    k = _shape.reshape(k, (batch, num_heads, source, head_dim))
    v = _shape.reshape(v, (batch, num_heads, source, head_dim))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = _shape.reshape(_shape.permute(out, (2, 0, 1, 3)), (batch * target, embed_dim))
    out = _shape.reshape(linear(out, out_proj_weight, out_proj_bias), (target, batch, -1))
    return (out if batched else _shape.squeeze(out, 1)), None


def _pad_last(mask):
    """A mask with one more (zero) column: the position a bias_k or zero attention adds."""
    return None if mask is None else pad(mask, (0, 1))


def _heads(projected, static, heads, head_dim, name):
    """(S, N, E) -> (N·H, S, E/H), or the static (N·H, S, E/H) tensor given instead."""
    if static is None:
        length = projected.array.shape[0]
        return _shape.transpose(_shape.reshape(projected, (length, heads, head_dim)), 0, 1)
    assert static.array.shape[0] == heads, (
        f"expecting static_{name}.size(0) of {heads}, but got {static.array.shape[0]}")
    assert static.array.shape[2] == head_dim, (
        f"expecting static_{name}.size(2) of {head_dim}, but got {static.array.shape[2]}")
    return static
