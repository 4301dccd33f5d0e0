"""minigrad.nn.functional: the functional forms of the layers, as torch.nn.functional.

Every function here is the op's one front door, defined (with its validation) in
minigrad.ops: convolutions in ops/conv.py, pooling in ops/pool.py, the losses in ops/loss.py,
linear, dropout and batch_norm in ops/nn.py, the activations in ops/activation.py (relu,
sigmoid, tanh and softmax in ops/elementwise.py), layer_norm and group_norm in
ops/normalization.py, pad in ops/padding.py, interpolate in ops/interpolate.py, embedding and
one_hot in ops/embedding.py, the attention in ops/attention.py.
"""
from minigrad.ops.activation import (  # noqa: F401
    elu, gelu, hardtanh, leaky_relu, mish, prelu, relu6, silu, softplus,
)
from minigrad.ops.attention import (  # noqa: F401
    multi_head_attention_forward, scaled_dot_product_attention,
)
from minigrad.ops.conv import (  # noqa: F401
    conv1d, conv2d, conv_transpose1d, conv_transpose2d,
)
from minigrad.ops.elementwise import (  # noqa: F401
    log_softmax, relu, sigmoid, softmax, tanh,
)
from minigrad.ops.embedding import embedding, one_hot  # noqa: F401
from minigrad.ops.interpolate import (  # noqa: F401
    interpolate, upsample, upsample_bilinear, upsample_nearest,
)
from minigrad.ops.loss import (  # noqa: F401
    binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, nll_loss,
)
from minigrad.ops.loss import (  # noqa: F401
    binary_cross_entropy, cosine_embedding_loss, huber_loss, kl_div, margin_ranking_loss,
    smooth_l1_loss,
)
from minigrad.ops.nn import (  # noqa: F401
    batch_norm, dropout, dropout1d, dropout2d, dropout3d, feature_dropout, linear,
)
from minigrad.ops.normalization import group_norm, layer_norm  # noqa: F401
from minigrad.ops.padding import pad  # noqa: F401
from minigrad.ops.pool import (  # noqa: F401
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
)
from minigrad.ops.shape import flatten, unflatten  # noqa: F401

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "cross_entropy",
           "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits", "linear",
           "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax",
           "dropout", "batch_norm", "flatten", "unflatten",
           "conv1d", "conv_transpose1d", "conv_transpose2d", "pad", "interpolate", "upsample",
           "upsample_nearest", "upsample_bilinear", "one_hot", "embedding", "layer_norm",
           "group_norm", "silu", "mish", "elu", "softplus", "hardtanh", "relu6", "prelu",
           "dropout1d", "dropout2d", "dropout3d", "feature_dropout", "max_pool1d",
           "avg_pool1d", "adaptive_max_pool2d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "scaled_dot_product_attention", "multi_head_attention_forward",
           "binary_cross_entropy", "smooth_l1_loss", "huber_loss", "kl_div",
           "cosine_embedding_loss", "margin_ranking_loss"]
