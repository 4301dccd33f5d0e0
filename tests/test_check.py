"""`python -m minigrad.check`: every op, layer, loss and optimizer against torch, in quick mode."""
import sys

import pytest

from minigrad import check


@pytest.fixture(scope="module")
def quick_run():
    """The quick check, run once in this process: (exit code, printed table)."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = check.main(["--quick", "--seed", "1"])
    return code, out.getvalue()


def test_quick_check_passes(quick_run):
    code, table = quick_run
    assert code == 0, table
    assert "FAIL" not in table
    assert " 0 failed" in table


@pytest.mark.parametrize("family", ["op", "layer", "loss", "optimizer"])
def test_table_covers_every_family(quick_run, family):
    _, table = quick_run
    rows = [line for line in table.splitlines() if line.startswith(f"{family} ")]
    assert len(rows) >= 8, f"too few {family} rows"


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "linear", "matmul", "Conv2d",
                                  "BatchNorm2d", "Sequential (seed model, small)",
                                  "cross_entropy (mean)", "CrossEntropyLoss", "SGD", "Adam"])
def test_table_names_the_seed_model_pieces(quick_run, name):
    _, table = quick_run
    for dtype in ("float32", "float64"):
        assert any(f" {name} " in line and f" {dtype} " in line and " pass " in line
                   for line in table.splitlines()), f"{name} {dtype} missing or failing"


def test_a_wrong_op_fails_and_exits_nonzero(monkeypatch, capsys):
    """A case whose minigrad side is off by 0.1% shows FAIL and makes the exit code 1."""
    def run(rng, dtype, torch):
        from minigrad.testing import compare_to_torch
        x = rng.uniform(-1, 1, (3, 4)).astype(dtype)
        report = compare_to_torch(lambda t: t.exp() * 1.001, lambda t: t.exp(), [x])
        return report.errors, report.messages

    monkeypatch.setattr(check, "CASES", [check.CheckCase("exp (off by 0.1%)", "op", run)])
    assert check.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "2 failed" in out


def test_missing_torch_exits_2_with_a_message(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert check.main(["--quick"]) == 2
    err = capsys.readouterr().err
    assert "not installed" in err
    # the CPU build, pinned: plain `pip install torch` is a multi-GB CUDA download
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in err
