"""binary_cross_entropy, smooth_l1_loss, huber_loss, kl_div, cosine_embedding_loss and
margin_ranking_loss, functional and modules, against torch: forward values and the gradient of
every differentiable input over reductions, weights, options, broadcasting and dtype
promotion, float32 and float64; torch's grad_fn names; float64 gradcheck and gradgradcheck
(the second derivatives against torch are in test_double_backward.py); torch's exception
types and messages for bad input."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
from minigrad import nn
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.testing import assert_close_to_torch

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


def tensor(x, requires_grad=False):
    return minigrad.Tensor(np.array(x, copy=True), requires_grad=requires_grad)


def random_shape(rng, max_ndim=3):
    return tuple(int(n) for n in rng.integers(1, 6, int(rng.integers(1, max_ndim + 1))))


def both(name):
    """The functional form ``name`` in minigrad and in torch."""
    return getattr(F, name), getattr(TF, name)


def check(name, arrays, requires_grad=None, **kwargs):
    mine, theirs = both(name)
    assert_close_to_torch(lambda *ts: mine(*ts, **kwargs), lambda *ts: theirs(*ts, **kwargs),
                          arrays, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- against torch

@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_matches_torch(dtype):
    rng = np.random.default_rng(0)
    for trial in range(18):
        shape = random_shape(rng)
        x = rng.uniform(0.02, 0.98, shape).astype(dtype)
        y = rng.random(shape).astype(dtype)
        weights = [None, rng.uniform(0.1, 2, shape), rng.uniform(0.1, 2, shape[-1:]),
                   rng.uniform(0.1, 2, shape[:1] + (1,) * (len(shape) - 1))]
        weight = weights[trial % 4]
        arrays = [x, y] + ([] if weight is None else [weight.astype(dtype)])
        check("binary_cross_entropy", arrays, [True, True, False],
              reduction=REDUCTIONS[trial % 3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_zero_and_one_matches_torch(dtype):
    """log 0 floored at -100 in the loss, x (1 - x) floored at 1e-12 in the input's gradient;
    the target's gradient -logit(x) is infinite there, in torch too."""
    x = np.array([0.0, 1.0, 0.5, 1e-30, 1 - 1e-7, 0.0], dtype)
    y = np.array([0.3, 0.7, 1.0, 0.0, 1.0, 0.0], dtype)
    for reduction in REDUCTIONS:
        check("binary_cross_entropy", [x, y], reduction=reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, option, values", [
    ("smooth_l1_loss", "beta", [1.0, 0.5, 2.5, 0.0]),
    ("huber_loss", "delta", [1.0, 0.3, 2.5]),
])
def test_smooth_l1_and_huber_match_torch(dtype, name, option, values):
    """Both branches of the piecewise loss, broadcast targets (torch warns), every
    reduction; beta = 0 is torch's l1_loss."""
    rng = np.random.default_rng(1)
    for trial in range(12):
        shape = random_shape(rng)
        x = (2 * rng.standard_normal(shape)).astype(dtype)
        y = (2 * rng.standard_normal(shape)).astype(dtype)
        if trial % 4 == 3:
            y = y[..., :1]  # broadcast along the last dimension
        kwargs = {option: values[trial % len(values)], "reduction": REDUCTIONS[trial % 3]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check(name, [x, y], **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_huber_matches_torch(dtype):
    """huber_loss(weight=): the unweighted loss times the weight, then reduced (the mean over
    the elements): the weight gets a gradient too."""
    rng = np.random.default_rng(2)
    for trial in range(9):
        shape = random_shape(rng)
        arrays = [(2 * rng.standard_normal(shape)).astype(dtype) for _ in range(2)]
        arrays.append(rng.uniform(0.1, 2, shape).astype(dtype))
        mine, theirs = both("huber_loss")
        kwargs = dict(reduction=REDUCTIONS[trial % 3], delta=[1.0, 0.4, 3.0][trial % 3])
        assert_close_to_torch(lambda a, b, w: mine(a, b, weight=w, **kwargs),
                              lambda a, b, w: theirs(a, b, weight=w, **kwargs), arrays)


def _log_probabilities(rng, shape, dtype):
    logits = rng.standard_normal(shape)
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(dtype, log_target):
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch's and minigrad's 'mean' warning
        for trial in range(16):
            shape = random_shape(rng)
            x = _log_probabilities(rng, shape, dtype)
            t = _log_probabilities(rng, shape, dtype)
            if not log_target:
                t = np.exp(t).astype(dtype)
            if trial % 5 == 4:
                t = t[:1]   # broadcast over the batch
            reduction = ["mean", "sum", "none", "batchmean"][trial % 4]
            check("kl_div", [x, t], reduction=reduction, log_target=log_target)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_zero_target_matches_torch(dtype):
    """t = 0 contributes 0 to the loss; its gradient is NaN in torch (t / t), and here."""
    x = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], dtype))
    t = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], dtype)
    check("kl_div", [x, t], reduction="sum")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_embedding_loss_matches_torch(dtype):
    rng = np.random.default_rng(4)
    for trial in range(16):
        n, d = int(rng.integers(1, 6)), int(rng.integers(1, 7))
        a, b = (rng.standard_normal((n, d)).astype(dtype) for _ in range(2))
        target = rng.choice([1.0, -1.0, 1.0, -1.0, 0.0], n)
        target = target.astype(np.int64) if trial % 3 == 2 else target.astype(dtype)
        kwargs = dict(margin=[0.0, 0.3, -0.5][trial % 3], reduction=REDUCTIONS[trial % 3])
        if trial % 4 == 3:   # one pair: 1-D inputs, 0-d target
            a, b, target = a[0], b[0], np.asarray(target[0])
        check("cosine_embedding_loss", [a, b, target], [True, True, False], **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_ranking_loss_matches_torch(dtype):
    """The target is differentiable too (a float target gets its gradient, as in torch)."""
    rng = np.random.default_rng(5)
    for trial in range(16):
        shape = random_shape(rng, 2)
        a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
        target = rng.choice([1.0, -1.0], shape)
        float_target = trial % 3 != 2
        target = target.astype(dtype) if float_target else target.astype(np.int64)
        kwargs = dict(margin=[0.0, 0.5, 1.5][trial % 3], reduction=REDUCTIONS[trial % 3])
        check("margin_ranking_loss", [a, b, target], [True, True, float_target], **kwargs)


def test_mixed_dtypes_promote_as_torch():
    """float32 with float64 (or an integer target) computes in torch's result type; the
    gradients come back in each input's own dtype."""
    rng = np.random.default_rng(6)
    x32 = rng.standard_normal((3, 4)).astype(np.float32)
    y64 = rng.standard_normal((3, 4))
    check("smooth_l1_loss", [y64, np.arange(12).reshape(3, 4)])
    check("smooth_l1_loss", [x32, y64])
    check("smooth_l1_loss", [np.arange(12).reshape(3, 4), x32], [False, True])
    with pytest.warns(UserWarning, match="Using a target size"):
        check("smooth_l1_loss", [x32, np.array(0.5)])   # torch broadcasts first: float64
    # huber_loss keeps the input's dtype (torch's backward then fails: compare the values)
    mine, theirs = both("huber_loss")
    assert_close_to_torch(mine, theirs, [x32, y64], grad=False)
    assert_close_to_torch(mine, theirs, [y64, np.arange(12).reshape(3, 4)], grad=False)
    assert mine(tensor(x32, True), tensor(y64, True)).dtype == minigrad.float32
    check("kl_div", [x32, np.abs(y64)], reduction="sum")
    check("margin_ranking_loss", [x32[0], x32[1], np.sign(y64[0])])
    check("cosine_embedding_loss", [x32, y64, np.array([1, -1, 1])], [True, True, False])


# ----------------------------------------------------------------------------- modules

MODULES = [
    ("BCELoss", dict(), 2), ("BCELoss", dict(reduction="sum"), 2),
    ("SmoothL1Loss", dict(beta=0.5), 2), ("SmoothL1Loss", dict(reduction="none"), 2),
    ("HuberLoss", dict(delta=0.7), 2), ("HuberLoss", dict(reduction="sum"), 2),
    ("KLDivLoss", dict(reduction="batchmean"), 2),
    ("KLDivLoss", dict(reduction="sum", log_target=True), 2),
    ("CosineEmbeddingLoss", dict(margin=0.2), 3), ("CosineEmbeddingLoss", dict(), 3),
    ("MarginRankingLoss", dict(margin=0.1, reduction="sum"), 3), ("MarginRankingLoss", {}, 3),
]


@pytest.mark.parametrize("name, kwargs, arity", MODULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MODULES)])
def test_modules_match_torch(name, kwargs, arity):
    rng = np.random.default_rng(7)
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    for attribute in ("reduction", "beta", "delta", "log_target", "margin"):
        assert getattr(ours, attribute, None) == getattr(theirs, attribute, None), attribute
    if arity == 2:
        arrays = [rng.uniform(0.05, 0.95, (4, 3)) for _ in range(2)]
        if name == "KLDivLoss":
            arrays[0] = np.log(arrays[0])
    else:
        arrays = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)),
                  np.array([1.0, -1.0, -1.0, 1.0])]
        if name == "MarginRankingLoss":
            arrays = [a[:, 0] for a in arrays[:2]] + [arrays[2]]
    assert_close_to_torch(ours, theirs, arrays, requires_grad=[True, True, False])
    assert repr(ours) == repr(theirs)


def test_bce_loss_weight_is_a_buffer_as_torch():
    weight = np.array([0.5, 2.0, 1.0])
    ours, theirs = nn.BCELoss(weight=tensor(weight)), torch.nn.BCELoss(torch.tensor(weight))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.BCELoss().state_dict()) == list(torch.nn.BCELoss().state_dict()) == []
    x, y = np.full((2, 3), 0.25), np.array([[0, 1, 1], [1, 0, 0.5]])
    assert_close_to_torch(ours, theirs, [x, y], requires_grad=[True, False])


def test_legacy_size_average_and_reduce_as_torch():
    x, y = np.random.default_rng(8).uniform(0.1, 0.9, (2, 2, 3))
    for module in ("BCELoss", "SmoothL1Loss", "KLDivLoss"):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            ours = getattr(nn, module)(size_average=False)
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn, module)(size_average=False)
        assert ours.reduction == theirs.reduction == "sum"
        assert_close_to_torch(ours, theirs, [x, y])
    for name in ("smooth_l1_loss", "binary_cross_entropy", "kl_div"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check(name, [x, y], reduce=False)
            check(name, [x, y], size_average=False)


def test_kl_div_warns_about_mean_as_torch():
    x, t = tensor(np.log(np.full((2, 2), 0.5))), tensor(np.full((2, 2), 0.5))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        F.kl_div(x, t, reduction="sum")
    with pytest.warns(UserWarning, match="'batchmean' divides only"):
        nn.KLDivLoss()(x, t)


def test_batchmean_of_a_zero_dim_input_is_the_sum_as_torch():
    check("kl_div", [np.array(-0.7), np.array(0.4)], reduction="batchmean")


# ----------------------------------------------------------------------------- graph

GRAD_FN_CASES = [
    ("binary_cross_entropy", lambda m, a, b, c: m.binary_cross_entropy(a.sigmoid(), b.sigmoid())),
    ("smooth_l1_loss", lambda m, a, b, c: m.smooth_l1_loss(a, b)),
    ("huber_loss", lambda m, a, b, c: m.huber_loss(a, b, reduction="none")),
    ("huber_loss weighted", lambda m, a, b, c: m.huber_loss(a, b, weight=c)),
    ("huber_loss weighted none", lambda m, a, b, c: m.huber_loss(a, b, weight=c,
                                                                 reduction="none")),
    ("kl_div none", lambda m, a, b, c: m.kl_div(a, b.abs(), reduction="none")),
    ("kl_div log_target none", lambda m, a, b, c: m.kl_div(a, b, reduction="none",
                                                           log_target=True)),
    ("kl_div sum", lambda m, a, b, c: m.kl_div(a, b.abs(), reduction="sum")),
    ("kl_div batchmean", lambda m, a, b, c: m.kl_div(a, b.abs(), reduction="batchmean")),
    ("cosine_embedding_loss", lambda m, a, b, c: m.cosine_embedding_loss(a, b, c[:, 0].sign())),
    ("cosine_embedding_loss none", lambda m, a, b, c: m.cosine_embedding_loss(
        a, b, c[:, 0].sign(), reduction="none")),
    ("margin_ranking_loss", lambda m, a, b, c: m.margin_ranking_loss(a, b, c.sign())),
    ("margin_ranking_loss none", lambda m, a, b, c: m.margin_ranking_loss(a, b, c.sign(),
                                                                          reduction="none")),
]


@pytest.mark.parametrize("name, build", GRAD_FN_CASES, ids=[n for n, _ in GRAD_FN_CASES])
def test_grad_fn_names_match_torch(name, build):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal((3, 4)) for _ in range(3)]
    mine = build(F, *(tensor(a, True) for a in arrays))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = build(TF, *(torch.tensor(a, requires_grad=True) for a in arrays))
    assert type(mine.grad_fn).__name__ == type(theirs.grad_fn).__name__


def test_smooth_l1_with_beta_zero_is_l1_loss():
    """torch calls l1_loss; so does minigrad (whose l1_loss is one node where torch's is
    composed: its name is l1_loss's)."""
    a, b = tensor(X, True), tensor(Y)
    loss, l1 = F.smooth_l1_loss(a, b, beta=0.0), F.l1_loss(a, b)
    assert type(loss.grad_fn) is type(l1.grad_fn) and loss.item() == l1.item()


def _gradcheck_cases():
    rng = np.random.default_rng(10)
    probs = lambda *s: tensor(rng.uniform(0.1, 0.9, s), True)  # noqa: E731
    normal = lambda *s: tensor(rng.standard_normal(s), True)  # noqa: E731
    sign = tensor(np.array([1.0, -1.0, 1.0, -1.0]))
    w = tensor(rng.uniform(0.5, 2, (4, 3)))
    return [
        ("bce", lambda a, b: F.binary_cross_entropy(a, b, weight=w), [probs(4, 3), probs(4, 3)]),
        ("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.7, reduction="sum"),
         [normal(4, 3), normal(4, 3)]),
        ("huber", lambda a, b: F.huber_loss(a, b, delta=0.6), [normal(4, 3), normal(4, 3)]),
        ("huber weighted", lambda a, b, c: F.huber_loss(a, b, weight=c),
         [normal(4, 3), normal(4, 3), probs(4, 3)]),
        ("kl_div", lambda a, b: F.kl_div(a, b, reduction="batchmean"),
         [normal(4, 3), probs(4, 3)]),
        ("kl_div log_target", lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
         [normal(4, 3), normal(4, 3)]),
        ("cosine_embedding", lambda a, b: F.cosine_embedding_loss(a, b, sign, margin=-0.9),
         [normal(4, 3), normal(4, 3)]),
        ("margin_ranking", lambda a, b, t: F.margin_ranking_loss(a, b, t, margin=0.05),
         [normal(4), normal(4), normal(4)]),
    ]


@pytest.mark.parametrize("case", _gradcheck_cases(), ids=lambda c: c[0])
def test_gradcheck_and_gradgradcheck(case):
    _, fn, inputs = case
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs, atol=1e-5, rtol=1e-4)


def test_losses_detect_in_place_changes_of_their_inputs():
    x = tensor(np.full(3, 0.3), True)
    probabilities = x * 1
    loss = F.binary_cross_entropy(probabilities, tensor(np.full(3, 0.5)))
    with minigrad.no_grad():
        probabilities.add_(0.1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


# ----------------------------------------------------------------------------- bad input

X = np.random.default_rng(11).uniform(0.1, 0.9, (3, 4))
Y = np.random.default_rng(12).uniform(0.1, 0.9, (3, 4))
T = np.array([1.0, -1.0, 1.0])

BAD_INPUT = [
    ("binary_cross_entropy", (X + 1, Y), {}, RuntimeError, "input should be between 0 and 1"),
    ("binary_cross_entropy", (X * np.nan, Y), {}, RuntimeError, "input should be between 0"),
    ("binary_cross_entropy", (X, Y - 1), {}, RuntimeError, "target should be between 0 and 1"),
    ("binary_cross_entropy", (X, Y[:2]), {}, ValueError, "Using a target size"),
    ("binary_cross_entropy", (X, Y[:1]), {}, ValueError, "is deprecated"),
    ("binary_cross_entropy", (X, Y.astype(np.float32)), {}, RuntimeError,
     "Found dtype Float but expected Double"),
    ("binary_cross_entropy", (X, (Y > 0.5).astype(np.int64)), {}, RuntimeError,
     "Found dtype Long but expected Double"),
    ("binary_cross_entropy", (np.ones(3, np.int64), np.ones(3, np.int64)), {},
     NotImplementedError, "\"binary_cross_entropy\" not implemented for 'Long'"),
    ("binary_cross_entropy", (X, Y), dict(weight=np.ones((2, 3, 4))), RuntimeError,
     r"output with shape \[3, 4\] doesn't match the broadcast shape \[2, 3, 4\]"),
    ("binary_cross_entropy", (X, Y), dict(weight=np.ones(3)), RuntimeError, None),
    ("binary_cross_entropy", (X, Y), dict(reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    ("smooth_l1_loss", (X, Y), dict(beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    ("smooth_l1_loss", (X, Y[:2]), {}, RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton "
     "dimension 0"),
    ("smooth_l1_loss", (np.ones(3, np.int64), np.ones(3, np.int64)), {}, NotImplementedError,
     "\"smooth_l1_cpu\" not implemented for 'Long'"),
    ("smooth_l1_loss", (X, Y), dict(reduction="x"), ValueError, "x is not a valid value"),
    ("huber_loss", (X, Y), dict(delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    ("huber_loss", (X, Y), dict(delta=-2.0), RuntimeError, "non-positive values for delta"),
    ("huber_loss", (X, Y), dict(weight=np.ones(4)), ValueError,
     "Weights and input must have the same size."),
    ("huber_loss", (X, Y), dict(weight=np.ones((3, 4)), reduction="x"), ValueError,
     "Invalid reduction mode: x. Expected one of 'none', 'mean', 'sum'."),
    ("huber_loss", (X, Y), dict(reduction="x"), ValueError, "x is not a valid value"),
    ("huber_loss", (np.ones(3, np.int64), np.ones(3, np.int64)), {}, NotImplementedError,
     "\"huber_cpu\" not implemented for 'Long'"),
    ("kl_div", (X, Y), dict(reduction="avg"), ValueError, "avg is not a valid value"),
    ("kl_div", (X, Y.astype(np.int64)), dict(reduction="sum"), RuntimeError,
     "kl_div: Integral inputs not supported."),
    ("kl_div", (X.astype(np.int64), Y), dict(reduction="sum"), RuntimeError,
     "Integral inputs not supported"),
    ("kl_div", (X, Y[:2]), dict(reduction="sum"), RuntimeError,
     r"The size of tensor a \([23]\) must match the size of tensor b \([23]\)"),
    ("cosine_embedding_loss", (X, Y, T[None]), {}, RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("cosine_embedding_loss", (X[0], Y[0], T), {}, RuntimeError,
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[4\] and \[4\]."),
    ("cosine_embedding_loss", (X, Y, T[0]), {}, RuntimeError,
     r"0D target tensor expects 1D input tensors, but found inputs with sizes \[3, 4\] and "
     r"\[3, 4\]."),
    ("cosine_embedding_loss", (X, Y[:2], T), {}, RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(2\)"),
    ("cosine_embedding_loss", (X, Y, T), dict(reduction="x"), ValueError, "x is not a valid"),
    ("margin_ranking_loss", (X, Y, T), {}, RuntimeError,
     "margin_ranking_loss : All input tensors should have same dimension but got sizes"),
    ("margin_ranking_loss", (X, Y[:2], np.ones((3, 4))), {}, RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(2\)"),
    ("margin_ranking_loss", (X[0], Y[0], T[:1]), dict(reduction="x"), ValueError,
     "x is not a valid value"),
]


@pytest.mark.parametrize("name, arrays, kwargs, error, match", BAD_INPUT,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_INPUT)])
def test_bad_input_raises_like_torch(name, arrays, kwargs, error, match):
    mine, theirs = both(name)

    def call(fn, make):
        extra = {k: make(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*map(make, arrays), **extra)

    with pytest.raises(error, match=match):
        call(theirs, torch.tensor)
    with pytest.raises(error, match=match):
        call(mine, tensor)


def test_bce_weight_requiring_grad_is_refused_as_torch():
    for fn, make in ((F.binary_cross_entropy, tensor), (TF.binary_cross_entropy, torch.tensor)):
        w = make(np.ones(4))
        w.requires_grad_()
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                               "'weight'"):
            fn(make(X), make(Y), weight=w)


def test_non_tensor_arguments_raise_type_error():
    for name, args in (("binary_cross_entropy", (X, tensor(Y))),
                       ("smooth_l1_loss", (tensor(X), Y)), ("kl_div", (X, tensor(Y))),
                       ("cosine_embedding_loss", (tensor(X), tensor(Y), [1, -1, 1])),
                       ("margin_ranking_loss", (tensor(X[0]), 1.0, tensor(T)))):
        with pytest.raises(TypeError, match="must be Tensor"):
            getattr(F, name)(*args)
