"""Losses: the fused cross-entropy kernels against their NumPy twins, and every functional loss
(cross_entropy, nll_loss, mse_loss, l1_loss, binary_cross_entropy_with_logits) against torch:
forward values and input gradients over random shapes, weights, ignore_index, reductions and
label smoothing; float64 tightly, float32 within float32 tolerance; bad input.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import minigrad
from minigrad._kernels import loss as kernel
from minigrad.autograd import gradcheck
from minigrad.ops import loss
from minigrad.reference import loss as twin
from minigrad.testing import assert_close_to_torch

DTYPES = [np.float32, np.float64]
CLOSE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
REDUCTIONS = ["mean", "sum", "none"]


def tensor(x, requires_grad=False):
    return minigrad.Tensor(np.array(x, copy=True), requires_grad=requires_grad)


def random_case(rng, dtype, kdim=None):
    """Logits (N, C, S), class targets (N, S) with some ignored, positive class weights."""
    N, C = int(rng.integers(1, 9)), int(rng.integers(1, 12))
    S = int(rng.integers(1, 7))
    if kdim is not None:  # a large case: enough work for the kernels to use the threads
        N, C, S = 4, 10, kdim
    x = (3 * rng.standard_normal((N, C, S))).astype(dtype)
    target = rng.integers(0, C, (N, S))
    target[rng.random((N, S)) < 0.2] = -100
    weight = rng.uniform(0.1, 2.0, C).astype(dtype)
    return x, target, weight


# ----------------------------------------------------------------------------- kernels vs twins

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_cross_entropy_kernel_matches_twin(dtype, threads):
    rng = np.random.default_rng(1)
    for trial in range(30):
        # the large case crosses the kernels' threshold for using threads
        x, target, weight = random_case(rng, dtype, kdim=4000 if trial == 0 else None)
        eps = [0.0, 0.1, 1.0][trial % 3]
        N, C, S = x.shape
        grad_item = rng.standard_normal((N, S)).astype(dtype)
        results = []
        for impl, extra in ((kernel, (threads,)), (twin, ())):
            maxima, log_sums, item = np.empty((3, N, S), dtype)
            totals = impl.cross_entropy_forward(x, target, weight, -100, eps, maxima, log_sums,
                                                item, *extra)
            grad_x = np.empty_like(x)
            impl.cross_entropy_backward(x, target, weight, -100, eps, maxima, log_sums,
                                        grad_item, grad_x, *extra)
            results.append((totals, maxima, log_sums, item, grad_x))
        (k_totals, *k_arrays), (t_totals, *t_arrays) = results
        np.testing.assert_allclose(k_totals, t_totals, rtol=1e-5 if dtype == np.float32 else 1e-12)
        for mine, ref in zip(k_arrays, t_arrays):
            np.testing.assert_allclose(mine, ref, **CLOSE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_cross_entropy_prob_kernel_matches_twin(dtype, threads):
    rng = np.random.default_rng(2)
    for trial in range(30):
        x, _, weight = random_case(rng, dtype, kdim=4000 if trial == 0 else None)
        N, C, S = x.shape
        q = rng.random(x.shape).astype(dtype)
        q /= q.sum(axis=1, keepdims=True)
        eps = [0.0, 0.25][trial % 2]
        grad_item = np.broadcast_to(np.asarray(0.5, dtype), (N, S))  # stride 0: mean/sum
        results = []
        for impl, extra in ((kernel, (threads,)), (twin, ())):
            maxima, log_sums, item = np.empty((3, N, S), dtype)
            grad_x = np.empty_like(x)
            total = impl.cross_entropy_prob_forward(x, q, weight, eps, maxima, log_sums, item,
                                                    *extra)
            impl.cross_entropy_prob_backward(x, q, weight, eps, maxima, log_sums, grad_item,
                                             grad_x, *extra)
            results.append((total, maxima, log_sums, item, grad_x))
        for mine, ref in zip(*results):
            np.testing.assert_allclose(mine, ref, **CLOSE[dtype])


def test_first_bad_target_matches_twin():
    rng = np.random.default_rng(3)
    for _ in range(50):
        target = rng.integers(-3, 8, int(rng.integers(0, 20)))
        ignore = int(rng.choice([-100, -1, 7]))
        assert (kernel.first_bad_target(target, 6, ignore)
                == twin.first_bad_target(target, 6, ignore))


def test_cross_entropy_kernel_is_stable_for_huge_logits():
    x = np.array([[[1e4], [-1e4], [0.0]]])
    maxima, log_sums, item = np.empty((3, 1, 1))
    grad_x = np.empty_like(x)
    kernel.cross_entropy_forward(x, np.array([[1]]), np.ones(3), -100, 0.0, maxima, log_sums,
                                 item, 1)
    kernel.cross_entropy_backward(x, np.array([[1]]), np.ones(3), -100, 0.0, maxima, log_sums,
                                  np.ones((1, 1)), grad_x, 1)
    assert maxima[0, 0] == 1e4 and log_sums[0, 0] == 0 and item[0, 0] == 2e4
    np.testing.assert_allclose(grad_x[:, :, 0], [[1, -1, 0]], atol=1e-300)


# ----------------------------------------------------------------------------- ops vs torch

@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_class_targets_match_torch(dtype):
    rng = np.random.default_rng(10)
    for trial in range(60):
        x, target, weight = random_case(rng, dtype)
        N, C, S = x.shape
        layout = trial % 3  # (N, C), (N, C, d1, d2), unbatched (C,)
        if layout == 0:
            x, target = x[:, :, 0], target[:, 0]
        elif layout == 1:
            x = np.repeat(x, 2, axis=2).reshape(N, C, S, 2)
            target = np.repeat(target, 2, axis=1).reshape(N, S, 2)
        else:
            x, target = x[0, :, 0], np.array(max(int(target[0, 0]), 0))
        reduction = REDUCTIONS[trial % 3 if trial % 7 else 0]
        eps = [0.0, 0.0, 0.3, 1.0][trial % 4]
        ignore = [-100, 0][trial % 5 == 4]
        target = np.where(target == -100, ignore, target)
        if reduction == "mean" and (target == ignore).all():
            reduction = "sum"  # mean over nothing is NaN: test_cross_entropy_edge_cases
        w = weight if trial % 2 else None
        kw = dict(ignore_index=ignore, reduction=reduction, label_smoothing=eps)
        assert_close_to_torch(
            lambda a, t, *w: loss.cross_entropy(a, t, *w, **kw),
            lambda a, t, *w: F.cross_entropy(a, t, *w, **kw),
            [x, target] + ([w] if w is not None else []),
            requires_grad=[True, False, False])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_probability_targets_match_torch(dtype):
    rng = np.random.default_rng(11)
    for trial in range(30):
        x, _, weight = random_case(rng, dtype)
        if trial % 5 == 0:
            x = x[0, :, 0]  # unbatched (C,)
        elif trial % 3 == 0:
            x = x[:, :, 0]
        q = rng.random(x.shape).astype(dtype)
        kw = dict(reduction=REDUCTIONS[trial % 3], label_smoothing=[0.0, 0.2][trial % 2])
        w = [weight] if trial % 4 < 2 else []
        assert_close_to_torch(
            lambda a, t, *w: loss.cross_entropy(a, t, *w, **kw),
            lambda a, t, *w: F.cross_entropy(a, t, *w, **kw),
            [x, q] + w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss_matches_torch(dtype):
    rng = np.random.default_rng(12)
    for trial in range(30):
        x, target, weight = random_case(rng, dtype)
        if trial % 2:
            x, target = x[:, :, 0], target[:, 0]
        kw = dict(reduction=REDUCTIONS[trial % 3], ignore_index=[-100, 1][trial % 4 == 3])
        target = np.where(target == -100, kw["ignore_index"], target)
        if (target == kw["ignore_index"]).all():
            kw["reduction"] = "sum"
        w = [weight] if trial % 3 else []
        assert_close_to_torch(lambda a, t, *w: loss.nll_loss(a, t, *w, **kw),
                              lambda a, t, *w: F.nll_loss(a, t, *w, **kw),
                              [x, target] + w, requires_grad=[True, False, False])


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_losses_match_torch(dtype):
    rng = np.random.default_rng(13)
    for trial in range(24):
        shape = tuple(int(n) for n in rng.integers(1, 6, int(rng.integers(1, 4))))
        x = rng.standard_normal(shape).astype(dtype)
        y = rng.standard_normal(shape).astype(dtype)
        reduction = REDUCTIONS[trial % 3]
        full_weight = rng.random(shape).astype(dtype)
        for mg, th in ((loss.mse_loss, F.mse_loss), (loss.l1_loss, F.l1_loss)):
            assert_close_to_torch(lambda a, b: mg(a, b, reduction=reduction),
                                  lambda a, b: th(a, b, reduction=reduction), [x, y])
            assert_close_to_torch(lambda a, b, w: mg(a, b, reduction=reduction, weight=w),
                                  lambda a, b, w: th(a, b, reduction=reduction, weight=w),
                                  [x, y, full_weight])
        w = rng.random(shape[-1:]).astype(dtype)
        pos = rng.uniform(0.5, 3, shape[-1:]).astype(dtype)
        probs = rng.random(shape).astype(dtype)
        extra = [dict(), dict(weight=w), dict(pos_weight=pos), dict(weight=w, pos_weight=pos)]
        kw = dict(extra[trial % 4], reduction=reduction)
        names = sorted(kw.keys() - {"reduction"})
        arrays = [kw.pop(name) for name in names]

        def call(fn, a, b, *extra_arrays):
            return fn(a, b, **dict(zip(names, extra_arrays)), **kw)

        assert_close_to_torch(
            lambda *args: call(loss.binary_cross_entropy_with_logits, *args),
            lambda *args: call(F.binary_cross_entropy_with_logits, *args),
            [4 * x, probs] + arrays, requires_grad=[True, True] + [False] * len(arrays))
        if arrays:  # torch has no gradient for weight or pos_weight here, nor has minigrad
            raises_like_torch(
                lambda: call(loss.binary_cross_entropy_with_logits, tensor(x), tensor(probs),
                             *(tensor(a, True) for a in arrays)),
                lambda: call(F.binary_cross_entropy_with_logits, torch.tensor(x),
                             torch.tensor(probs),
                             *(torch.tensor(a, requires_grad=True) for a in arrays)),
                RuntimeError, "not differentiable")


def test_mse_loss_broadcasts_target_as_torch():
    x = np.random.default_rng(3).standard_normal((4, 3))
    y = np.random.default_rng(4).standard_normal((4, 1))
    with pytest.warns(UserWarning):
        assert_close_to_torch(loss.mse_loss, F.mse_loss, [x, y])


def test_cross_entropy_edge_cases():
    x = np.random.default_rng(5).standard_normal((4, 5))
    for target in (np.full(4, -100), np.zeros(0, np.int64)):
        logits = x[: len(target)]
        mine = loss.cross_entropy(tensor(logits), tensor(target))
        theirs = F.cross_entropy(torch.tensor(logits), torch.tensor(target))
        assert np.isnan(mine.item()) and torch.isnan(theirs)
    big = np.array([[1e4, -1e4, 0.0]])
    assert_close_to_torch(loss.cross_entropy, F.cross_entropy, [big, np.array([1])],
                          requires_grad=[True, False])
    uint8 = np.array([0, 2, 1, 4], np.uint8)
    assert_close_to_torch(loss.cross_entropy, F.cross_entropy, [x, uint8],
                          requires_grad=[True, False])


def test_cross_entropy_grad_fn_and_gradcheck():
    rng = np.random.default_rng(6)
    x = tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    t, w = tensor(np.array([[0, 3], [-100, 1], [2, 2]])), tensor(rng.uniform(0.5, 2, 4))
    out = loss.cross_entropy(x, t, w, label_smoothing=0.2)
    assert type(out.grad_fn).__name__ == "NllLossBackward0"
    assert gradcheck(lambda a: loss.cross_entropy(a, t, w, label_smoothing=0.2), [x])
    q = tensor(rng.random((3, 4, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: loss.cross_entropy(a, b, w, label_smoothing=0.1), [x, q])
    assert gradcheck(lambda a: loss.nll_loss(a, t, w, reduction="sum"), [x])
    y = tensor(rng.random((3, 4, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: loss.binary_cross_entropy_with_logits(a, b), [x, y])


def test_cross_entropy_detects_in_place_change_of_its_input():
    x = tensor(np.random.default_rng(9).standard_normal((3, 4)), requires_grad=True)
    logits = x * 1
    out = loss.cross_entropy(logits, tensor(np.array([0, 1, 2])))
    with minigrad.no_grad():
        logits.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_class_weight_requiring_grad_is_refused_as_torch():
    for mg, th in ((loss.cross_entropy, F.cross_entropy), (loss.nll_loss, F.nll_loss)):
        raises_like_torch(
            lambda: mg(tensor(X, True), tensor(Y), tensor(np.ones(5, np.float32), True)),
            lambda: th(torch.tensor(X), torch.tensor(Y), torch.ones(5, requires_grad=True)),
            RuntimeError, "not differentiable with respect to argument 'weight'")


def test_cross_entropy_thread_counts_agree():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 600)).astype(np.float32)
    target = tensor(rng.integers(0, 600, 64))
    previous = minigrad.get_num_threads()
    try:
        values = []
        for n in (1, 2):
            minigrad.set_num_threads(n)
            a = tensor(x, requires_grad=True)
            out = loss.cross_entropy(a, target, label_smoothing=0.1)
            out.backward()
            values.append((out.array, a.grad.array))
        np.testing.assert_array_equal(values[0][0], values[1][0])
        np.testing.assert_array_equal(values[0][1], values[1][1])
    finally:
        minigrad.set_num_threads(previous)


# ----------------------------------------------------------------------------- bad input

X = np.random.default_rng(8).standard_normal((4, 5)).astype(np.float32)
Y = np.array([0, 1, 2, 3])


def raises_like_torch(mg_call, torch_call, error, match=None):
    with pytest.raises(error, match=match):
        torch_call()
    with pytest.raises(error, match=match):
        mg_call()


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("x, target, kwargs, error, match", [
    (X, np.array([0, 1, 2, 5]), {}, IndexError, "Target 5 is out of bounds"),
    (X, np.array([0, -1, 2, 3]), {}, IndexError, "Target -1 is out of bounds"),
    (X, np.array([0, 1, 2, 5]), dict(ignore_index=5), None, None),
    (X.reshape(2, 5, 2), np.array([[0, 1], [2, 7]]), {}, IndexError, "Target 7"),
    (X, Y.astype(np.float32), {}, RuntimeError, "Long or Byte, but got Float"),
    (X, Y.astype(np.int32), {}, RuntimeError, "Long or Byte, but got Int"),
    (X, Y[:3], {}, ValueError, r"batch_size \(4\) to match target batch_size \(3\)"),
    (X.reshape(2, 5, 2), np.zeros((2, 3), np.int64), {}, RuntimeError, "Expected target size"),
    (X, np.zeros((4, 2), np.int64), {}, RuntimeError, "multi-target not supported"),
    (X, np.zeros((1, 2), np.int64), {}, ValueError, r"batch_size \(4\) to match"),
    (X, np.array([1.0, 2.0, 3.0]), {}, ValueError, r"batch_size \(4\) to match"),
    (X, np.array(1), {}, ValueError, r"target batch_size \(0\)"),
    (X.reshape(2, 5, 2), np.zeros(2, np.int64), {}, RuntimeError, "Expected target size"),
    (X, Y, dict(weight=np.ones(3, np.float32)), RuntimeError, "weight tensor should be"),
    (X, Y, dict(weight=np.ones(5)), RuntimeError, "expected scalar type Float"),
    (X, Y, dict(reduction="avg"), ValueError, "avg is not a valid value for reduction"),
])
def test_class_target_bad_input(fn, x, target, kwargs, error, match):
    def mg():
        extra = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return getattr(loss, fn)(tensor(x), tensor(target), **extra)

    def th():
        extra = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                 for k, v in kwargs.items()}
        return getattr(F, fn)(torch.tensor(x), torch.tensor(target), **extra)

    if error is None:  # an ignored out-of-range target is fine
        np.testing.assert_allclose(mg().array, th().numpy(), rtol=1e-6)
    else:
        raises_like_torch(mg, th, error, match)


def test_other_bad_input():
    cases = [
        (lambda m: m.cross_entropy, (X, np.random.rand(4, 5).astype(np.float32)),
         dict(weight=np.ones(3, np.float32)), RuntimeError),
        (lambda m: m.cross_entropy, (X, Y), dict(label_smoothing=1.5), RuntimeError),
        (lambda m: m.cross_entropy, (X, np.ones((4, 5), np.int64)), {}, RuntimeError),
        (lambda m: m.binary_cross_entropy_with_logits, (X, np.random.rand(4, 1)), {}, ValueError),
        (lambda m: m.binary_cross_entropy_with_logits, (X, np.ones((4, 5), np.int64)), {},
         RuntimeError),
        (lambda m: m.binary_cross_entropy_with_logits, (X, X), dict(pos_weight=np.ones(3)),
         RuntimeError),
        (lambda m: m.mse_loss, (X, X[:3]), {}, RuntimeError),
        (lambda m: m.l1_loss, (X, X), dict(reduction="bogus"), ValueError),
        (lambda m: m.mse_loss, (X, X), dict(weight=np.ones(5, np.float32)), ValueError),
    ]
    for pick, arrays, kwargs, error in cases:
        raises_like_torch(
            lambda: pick(loss)(*map(tensor, arrays), **{k: tensor(v) if isinstance(v, np.ndarray)
                                                        else v for k, v in kwargs.items()}),
            lambda: pick(F)(*map(torch.tensor, arrays),
                            **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                               for k, v in kwargs.items()}),
            error)


# ----------------------------------------------------------------------------- edge inputs
# What a fuzzer found (issue 12): reads past an empty class axis, NaN where torch gives a
# number, lost precision, arguments torch refuses or accepts.

@pytest.mark.parametrize("impl", [kernel, twin], ids=["kernel", "twin"])
def test_zero_classes_read_no_logit(impl):
    extra = (1,) if impl is kernel else ()
    x = np.empty((3, 0, 2))
    maxima, log_sums, item = np.full((3, 3, 2), 7.0)
    totals = impl.cross_entropy_forward(x, np.full((3, 2), -100), np.empty(0), -100, 0.1,
                                        maxima, log_sums, item, *extra)
    assert totals == (0.0, 0.0)
    assert (maxima == -np.inf).all() and (log_sums == -np.inf).all() and (item == 0).all()
    total = impl.cross_entropy_prob_forward(x, x, np.empty(0), 0.1, maxima, log_sums, item,
                                            *extra)
    assert total == 0.0 and (maxima == -np.inf).all() and (item == 0).all()
    grad_x = np.empty_like(x)
    impl.cross_entropy_backward(x, np.full((3, 2), -100), np.empty(0), -100, 0.0, maxima,
                                log_sums, np.ones((3, 2)), grad_x, *extra)
    impl.cross_entropy_prob_backward(x, x, np.empty(0), 0.0, maxima, log_sums, np.ones((3, 2)),
                                     grad_x, *extra)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_classes_match_torch(dtype):
    x = np.zeros((3, 0), dtype)
    for target in (np.full(3, -100), np.zeros((3, 0), dtype)):
        for reduction in REDUCTIONS:
            for fn in ("cross_entropy", "nll_loss")[: 1 + (target.dtype == np.int64)]:
                assert_close_to_torch(
                    lambda a, t: getattr(loss, fn)(a, t, reduction=reduction),
                    lambda a, t: getattr(F, fn)(a, t, reduction=reduction), [x, target],
                    requires_grad=[True, False])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e30, -1e30, 1e38])
def test_huge_logits_keep_their_precision(dtype, scale):
    """At |x| ~ 1e30 the log-sum-exp m + log(sum exp(x - m)) rounds its second term away:
    equal logits must still give log(C) and the softmax 1/C."""
    x = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, -1.0], [1.0, 0.999, 0.5]]) * scale
    x = x.astype(dtype)
    target = np.array([0, 2, 1])
    for kw in (dict(), dict(label_smoothing=0.2), dict(reduction="none")):
        assert_close_to_torch(lambda a, t: loss.cross_entropy(a, t, **kw),
                              lambda a, t: F.cross_entropy(a, t, **kw), [x, target],
                              requires_grad=[True, False])
        probs = np.full(x.shape, 1 / 3, dtype)
        assert_close_to_torch(lambda a, t: loss.cross_entropy(a, t, **kw),
                              lambda a, t: F.cross_entropy(a, t, **kw), [x, probs],
                              requires_grad=[True, False])
    equal = loss.cross_entropy(tensor(x[:1]), tensor(target[:1]))
    np.testing.assert_allclose(equal.item(), np.log(3), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ignored_items_give_zero_whatever_their_logits(dtype):
    """An ignored item whose class-0 log-probability is -inf adds nothing: torch's loss is
    finite, and so is every gradient, with and without create_graph. (An ignored item's NaN
    logit: tests/fuzz/differences.py.)"""
    x = np.array([[-np.inf, 0.0, 1.0], [0.5, -1.0, 2.0], [-np.inf, 1.0, -np.inf]], dtype)
    target = np.array([-100, 2, -100])
    for reduction in REDUCTIONS:
        kw = dict(reduction=reduction)
        assert_close_to_torch(lambda a, t: loss.nll_loss(a, t, **kw),
                              lambda a, t: F.nll_loss(a, t, **kw), [x, target],
                              requires_grad=[True, False])
        for eps in (0.0, 0.3):
            assert_close_to_torch(
                lambda a, t: loss.cross_entropy(a, t, label_smoothing=eps, **kw),
                lambda a, t: F.cross_entropy(a, t, label_smoothing=eps, **kw), [x, target],
                requires_grad=[True, False])
            if dtype == np.float64:
                assert_close_to_torch(
                    lambda a, t: loss.cross_entropy(a, t, label_smoothing=eps, **kw),
                    lambda a, t: F.cross_entropy(a, t, label_smoothing=eps, **kw),
                    [x, target], requires_grad=[True, False], second_order=True)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_batch_with_every_item_ignored_gives_zero_gradients(fn, weighted):
    """The mean over no item is NaN (torch's too), but its gradient is zeros: one all-padding
    batch must not poison the weights."""
    x = np.random.default_rng(14).standard_normal((2, 3))
    target = np.array([-100, -100])
    extra = [np.array([0.5, 1.0, 2.0])] if weighted else []
    report = assert_close_to_torch(lambda a, t, *w: getattr(loss, fn)(a, t, *w),
                                   lambda a, t, *w: getattr(F, fn)(a, t, *w),
                                   [x, target] + extra, requires_grad=[True, False, False])
    assert report.errors["grad[0]"][0] == 0
    a = tensor(x, requires_grad=True)
    getattr(loss, fn)(a, tensor(target), *map(tensor, extra)).backward()
    assert np.array_equal(a.grad.array, np.zeros((2, 3)))


def test_nan_label_smoothing_is_no_smoothing_as_in_torch():
    for eps in (float("nan"), -0.5, 0.0):
        assert_close_to_torch(lambda a, t: loss.cross_entropy(a, t, label_smoothing=eps),
                              lambda a, t: F.cross_entropy(a, t, label_smoothing=eps),
                              [X.astype(np.float64), Y], requires_grad=[True, False])


def test_ignore_index_is_an_int64_named_when_not():
    x, t = tensor(X), tensor(Y)
    for fn in (loss.cross_entropy, loss.nll_loss):
        for value in (2 ** 63, -2 ** 63 - 1):
            with pytest.raises(ValueError, match="ignore_index"):
                fn(x, t, ignore_index=value)
            with pytest.raises(ValueError):
                getattr(F, fn.__name__)(torch.tensor(X), torch.tensor(Y), ignore_index=value)
        with pytest.raises(TypeError, match="ignore_index"):
            fn(x, t, ignore_index=1.5)
        with pytest.raises(TypeError):
            getattr(F, fn.__name__)(torch.tensor(X), torch.tensor(Y), ignore_index=1.5)
        for value in (2 ** 40, 2 ** 63 - 1, -2 ** 63, 3):
            assert_close_to_torch(lambda a, b: fn(a, b, ignore_index=value),
                                  lambda a, b: getattr(F, fn.__name__)(a, b, ignore_index=value),
                                  [X, Y], requires_grad=[True, False])


def test_ignore_index_with_probability_targets_as_torch():
    q = np.full((4, 5), 0.2, np.float32)
    raises_like_torch(lambda: loss.cross_entropy(tensor(X), tensor(q), ignore_index=1),
                      lambda: F.cross_entropy(torch.tensor(X), torch.tensor(q), ignore_index=1),
                      RuntimeError, "ignore_index is not supported for floating point target")
    assert_close_to_torch(lambda a, b: loss.cross_entropy(a, b, ignore_index=-7),
                          lambda a, b: F.cross_entropy(a, b, ignore_index=-7), [X, q])


def test_uint8_targets_only_without_spatial_dimensions_as_torch():
    x = X.reshape(2, 5, 2)
    target = np.zeros((2, 2), np.uint8)
    for fn in ("cross_entropy", "nll_loss"):
        raises_like_torch(lambda: getattr(loss, fn)(tensor(x), tensor(target)),
                          lambda: getattr(F, fn)(torch.tensor(x), torch.tensor(target)),
                          RuntimeError, "expected scalar type Long but found Byte")
        assert_close_to_torch(getattr(loss, fn), getattr(F, fn), [X, Y.astype(np.uint8)],
                              requires_grad=[True, False])


@pytest.mark.parametrize("target_dtype, weight_dtype", [
    (np.float64, None), (np.float64, np.float32), (np.float32, np.float64),
    (np.float64, np.float64)])
def test_probability_targets_promote_as_torch(target_dtype, weight_dtype):
    """float32 logits with a float64 target (or weight) give a float64 loss, as torch; the
    logits' gradient stays float32."""
    rng = np.random.default_rng(15)
    q = rng.random((4, 5)).astype(target_dtype)
    extra = [] if weight_dtype is None else [rng.random(5).astype(weight_dtype)]
    for kw in (dict(), dict(label_smoothing=0.1, reduction="none")):
        report = assert_close_to_torch(lambda a, b, *w: loss.cross_entropy(a, b, *w, **kw),
                                       lambda a, b, *w: F.cross_entropy(a, b, *w, **kw),
                                       [X, q] + extra, rtol=1e-5, atol=1e-6)
        assert "grad[0]" in report.errors


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss", "mse_loss", "l1_loss",
                                "binary_cross_entropy_with_logits"])
def test_elementwise_mean_is_the_deprecated_mean_as_in_torch(fn):
    target = Y if fn in ("cross_entropy", "nll_loss") else np.random.default_rng(0).random(
        X.shape).astype(np.float32)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        mine = getattr(loss, fn)(tensor(X), tensor(target), reduction="elementwise_mean")
    with pytest.warns(UserWarning, match="elementwise_mean"):
        theirs = getattr(F, fn)(torch.tensor(X), torch.tensor(target),
                                reduction="elementwise_mean")
    np.testing.assert_allclose(mine.array, theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_losses_gradcheck_float64(reduction):
    """Every input of mse_loss and l1_loss with a weight, and the input and target of
    binary_cross_entropy_with_logits with weight and pos_weight (torch gives those two no
    gradient): float64 central differences."""
    rng = np.random.default_rng(16)
    x, w = tensor(rng.standard_normal((3, 4)), True), tensor(rng.random((3, 4)) + 0.5, True)
    y = tensor(x.array + rng.choice([-1, 1], (3, 4)) * rng.uniform(0.2, 1, (3, 4)), True)
    for fn in (loss.mse_loss, loss.l1_loss):  # (y kept away from x: |.| has a kink at 0)
        assert gradcheck(lambda a, b, c: fn(a, b, reduction=reduction, weight=c), [x, y, w])
    q = tensor(rng.random((3, 4)), True)
    weight, pos_weight = tensor(rng.random(4) + 0.5), tensor(rng.random(4) + 0.5)
    for extra in (dict(weight=weight), dict(pos_weight=pos_weight),
                  dict(weight=weight, pos_weight=pos_weight)):
        assert gradcheck(lambda a, b: loss.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, **extra), [x, q])
