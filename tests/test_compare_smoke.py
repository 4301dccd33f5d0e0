"""`python -m benchmarks.compare --quick` on a few cases: it runs, prints the table and writes
the JSON and the chart. The case definitions themselves are checked against the seed model."""
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parent.parent
# This test's minigrad first (an in-place build or an installed one), then the repository for
# the benchmarks package, which is not installed.
_BOOT = ("import sys; sys.path[:0] = [{minigrad!r}]; sys.path.append({root!r}); import runpy; "
         "sys.argv[0] = 'benchmarks.compare'; "
         "runpy.run_module('benchmarks.compare', run_name='__main__', alter_sys=True)")


def run_compare(*args, cwd):
    boot = _BOOT.format(minigrad=str(Path(minigrad.__file__).resolve().parent.parent),
                        root=str(ROOT))
    return subprocess.run([sys.executable, "-c", boot, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": ""})


def test_quick_compare_runs_and_writes_its_files(tmp_path):
    result = run_compare("--quick", "--threads", "1",
                         "--cases", "gemm-64,train-b1-sgd,pool1-fwd-b1",
                         "--json", str(tmp_path / "out.json"), "--png", str(tmp_path / "out.png"),
                         cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("gemm-64", "train-b1-sgd", "pool1-fwd-b1", "torch/mg", "%peak", "GB/s"):
        assert name in result.stdout
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["threads"] == 1 and report["failures"] == []
    rows = {row["name"]: row for row in report["cases"]}
    assert set(rows) == {"gemm-64", "train-b1-sgd", "pool1-fwd-b1"}
    for row in rows.values():
        assert row["minigrad_s"] > 0 and row["torch_s"] > 0
        assert row["ratio"] == pytest.approx(row["torch_s"] / row["minigrad_s"])
    assert rows["gemm-64"]["minigrad_gflops"] > 0 and rows["pool1-fwd-b1"]["minigrad_gbps"] > 0
    try:
        import matplotlib  # noqa: F401  (only: is it installed?)
    except ImportError:
        assert "matplotlib is not installed" in result.stderr
    else:
        assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


def test_results_go_to_an_untracked_folder_by_default(tmp_path):
    """Never a file of the current folder itself (a clone's root had stray tracked ones)."""
    result = run_compare("--quick", "--threads", "1", "--cases", "gemm-64", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["benchmark_results"]
    assert (tmp_path / "benchmark_results" / "compare.json").is_file()
    assert "benchmark_results/" in (ROOT / ".gitignore").read_text().split()  # git ignores it


def test_unknown_case_is_an_error(tmp_path):
    result = run_compare("--cases", "no-such-case", cwd=tmp_path)
    assert result.returncode == 2 and "no-such-case" in result.stderr


# ----------------------------------------------------------------------------- the cases

@pytest.fixture(scope="module")
def cases():
    sys.path.append(str(ROOT))
    from benchmarks import cases
    return cases


def test_every_required_case_exists(cases):
    names = {case.name for case in cases.all_cases()}
    for layer in ("conv1", "conv2", "conv3", "pool1", "pool2", "pool3", "linear1", "linear2",
                  "cross_entropy"):
        for batch in (1, 64):
            assert {f"{layer}-fwd-b{batch}", f"{layer}-bwd-b{batch}"} <= names
    assert {f"gemm-{n}" for n in (64, 128, 256, 512, 1024, 2048)} <= names
    assert {"optim-sgd", "optim-momentum", "optim-adam", "infer-b1", "infer-b64"} <= names
    assert {"optim-adadelta", "optim-adamax", "optim-nadam", "optim-radam"} <= names
    step_only = ("adadelta", "adamax", "nadam", "radam")   # timed by their step alone
    assert not [n for n in names if n.startswith("train-") and n.endswith(step_only)]
    for batch in (1, 8, 32, 64, 256):
        assert {f"train-b{batch}-{kind}" for kind in ("sgd", "momentum", "adam")} <= names


def test_more_layer_cases_compute_the_same_in_both_frameworks(cases):
    """The layers beyond the seed model (issue 13): same outputs and gradients."""
    import numpy as np
    for name in cases.MORE_LAYERS:
        for direction in ("fwd", "bwd"):
            case = cases.select(cases.all_cases(), [f"{name}-{direction}"])[0]
            mine, theirs = case.build("minigrad")(), case.build("torch")()
            mine, theirs = (mine if isinstance(mine, tuple) else (mine,),
                            theirs if isinstance(theirs, tuple) else (theirs,))
            for a, b in zip(mine, theirs):
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-3,
                                           atol=2e-4, err_msg=case.name)


def test_seed_model_matches_torch_and_counts(cases):
    """Both frameworks build the same network with the same weights: same logits."""
    import numpy as np
    mine, theirs = cases.framework("minigrad"), cases.framework("torch")
    mg_model, torch_model = cases.seed_model(mine), cases.seed_model(theirs)
    assert sum(p.array.size for p in mg_model.parameters()) == cases.seed_parameter_count()
    mg_images, _ = cases.seed_batch(mine, 2)
    torch_images, _ = cases.seed_batch(theirs, 2)
    np.testing.assert_allclose(mg_model(mg_images).array,
                               torch_model(torch_images).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_select(cases):
    chosen = [c.name for c in cases.select(cases.all_cases(), ["train-b1", "gemm-64"])]
    assert chosen == ["gemm-64", "train-b1-sgd", "train-b1-momentum", "train-b1-adam"]
    with pytest.raises(ValueError):
        cases.select(cases.all_cases(), ["gemm-65"])


def test_peak_probe_is_plausible():
    sys.path.append(str(ROOT))
    from benchmarks.peak import measure_core_peak_gflops
    peak = measure_core_peak_gflops(seconds=0.002, repeats=5)
    assert peak is None or 1.0 < peak < 2000.0


def test_peak_probe_measures_each_vector_width():
    """Both widths measured where the CPU has them, neither absurd (the 512-bit rate is about
    the 256-bit one's on Zen 4 and one-unit Xeons, up to twice it on two-unit Xeons)."""
    sys.path.append(str(ROOT))
    from benchmarks.peak import measure_core_peaks
    rates = measure_core_peaks(seconds=0.002, repeats=5)
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert "avx2" in rates and rates["avx2"] > 1
        if "avx512" in rates:
            assert 0.5 * rates["avx2"] < rates["avx512"] < 4 * rates["avx2"]
