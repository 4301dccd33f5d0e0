"""minigrad.nn: modules, layers, losses, initialisations and the functional forms, shaped as
torch.nn."""
from minigrad.nn import functional, hooks, init, parallel  # noqa: F401
from minigrad.nn.activation import (  # noqa: F401
    ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from minigrad.nn.attention import MultiheadAttention  # noqa: F401
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d  # noqa: F401
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from minigrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from minigrad.nn.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from minigrad.nn.flatten import Flatten, Unflatten  # noqa: F401
from minigrad.nn.linear import Identity, Linear, NonDynamicallyQuantizableLinear  # noqa: F401
from minigrad.nn.loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, HuberLoss, KLDivLoss,
    L1Loss, MarginRankingLoss, MSELoss, NLLLoss, SmoothL1Loss,
)
from minigrad.nn.module import Module  # noqa: F401
from minigrad.nn.normalization import GroupNorm, LayerNorm  # noqa: F401
from minigrad.nn.padding import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)
from minigrad.nn.parameter import Parameter  # noqa: F401
from minigrad.nn.pooling import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
    AvgPool2d, MaxPool1d, MaxPool2d,
)
from minigrad.nn.sparse import Embedding  # noqa: F401
from minigrad.nn.upsampling import (  # noqa: F401
    Upsample, UpsamplingBilinear2d, UpsamplingNearest2d,
)

try:  # nn.utils (clip_grad_norm_, ...) is its own subpackage
    import minigrad.nn.utils as utils  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != "minigrad.nn.utils":
        raise
