"""minigrad.backends: what runs on this CPU, and forcing it."""
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import backends


@pytest.fixture(autouse=True)
def restore():
    yield
    backends.set_isa(None)
    backends.set_conv_algorithm("auto")
    backends.set_conv_tile(None)
    backends.set_verbose(False)


def test_cpu_info_names_the_cpu_and_each_family():
    info = backends.cpu_info()
    assert info["model"] and info["cores"] >= 1 and info["threads"] >= 1
    assert info["isas"][-1] == "base" and set(info["isas"]) <= {"base", "avx2", "avx512"}
    assert set(info["kernels"]) == {"gemm", "conv", "pool", "optim", "norm"}
    for isa in info["kernels"].values():
        assert isa == info["isas"][0]        # the widest, by default


def test_names_the_isas_each_kernel_family_cannot_test_here():
    """The kernel tests run each ISA the CPU has; one it lacks is named (a warning here, and a
    line at the end of every pytest run), never dropped without a word."""
    for family, module in backends.FAMILIES.items():
        supported = module.supported_isas()
        assert "base" in supported and set(supported) <= {"base", "avx2", "avx512"}
        missing = [isa for isa in ("avx512", "avx2") if isa not in supported]
        if missing:
            warnings.warn(f"this CPU lacks {', '.join(missing)}: the {family} kernels' "
                          f"variants for it are untested here")


def test_set_isa_forces_every_family_and_validates_first():
    backends.set_isa("base")
    assert set(backends.cpu_info()["kernels"].values()) == {"base"}
    backends.set_isa(None)
    best = backends.supported_isas()[0]
    with pytest.raises(ValueError, match="sse9"):
        backends.set_isa("sse9")
    assert backends.get_isa("gemm") == best          # nothing changed
    backends.set_isa("base", family="pool")
    assert backends.get_isa("pool") == "base" and backends.get_isa("gemm") == best
    with pytest.raises(ValueError, match="family"):
        backends.get_isa("fft")


def test_conv_plans_say_what_ran(capsys):
    backends.set_verbose(True)
    x = minigrad.randn(2, 3, 9, 9)
    F.conv2d(x, minigrad.randn(5, 3, 3, 3), padding=1)
    F.conv2d(x, minigrad.randn(3, 1, 3, 3), padding=1, groups=3)
    kinds = {(p["algorithm"], p["layout"]) for p in backends.conv_plans()
             if p["shape"][0] == (2, 3, 9, 9) and p["pass"] == "forward"}
    assert kinds == {("direct", "channels-last"), ("depthwise loops", "NCHW")}
    assert "minigrad conv2d: forward" in capsys.readouterr().err


def test_forced_settings_give_the_same_values():
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((2, 4, 8, 8)).astype(np.float32))
    w = minigrad.tensor(rng.standard_normal((6, 4, 3, 3)).astype(np.float32))
    default = F.conv2d(x, w, padding=1).numpy()
    backends.set_conv_algorithm("gemm")
    np.testing.assert_allclose(F.conv2d(x, w, padding=1).numpy(), default, rtol=1e-5,
                               atol=1e-5)
    backends.set_conv_algorithm("auto")
    backends.set_conv_tile((1, 4))
    np.testing.assert_array_equal(F.conv2d(x, w, padding=1).numpy(), default)
