"""The fuzzer's memory (tests/fuzz): every call it once failed on is replayed and must now give
torch's result or torch's exception type, and every intended difference from torch listed in
tests/fuzz/differences.py is replayed from its example and must still be that difference.

The calls run in the fuzzer's worker process (tests/fuzz/worker.py), as in a fuzz run: a
regression to a crash fails one test instead of killing the suite.
"""
import math
import os
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
sys.path.insert(0, str(FUZZ))

from cases import CASES, Unbuilt  # noqa: E402
from differences import DIFFERENCES  # noqa: E402
from run import Worker, classify  # noqa: E402
from specs import T  # noqa: E402


def _findings():
    """(case, what it did before, args) of tests/fuzz/findings.txt: one call per line, tab
    separated, the arguments as the fuzzer printed them."""
    names = dict(T=T, nan=math.nan, inf=math.inf)
    rows = []
    for line in (FUZZ / "findings.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, before, text = line.split("\t")
        args = eval(text, names)  # noqa: S307 - our own file of reprs
        if name.startswith("optim."):  # the optimizer cases build their own tensors
            args = (Unbuilt(args[0]), Unbuilt(args[1]), args[2])
        rows.append(pytest.param(name, before, args, id=f"{name}-{len(rows)}"))
    return rows


@pytest.fixture(scope="module")
def worker():
    import minigrad
    env_path = os.environ.get("PYTHONPATH", "")
    # the worker imports the minigrad this test imports (an in-place build or an install)
    where = str(Path(minigrad.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (where, env_path) if p)
    process = Worker(timeout=120.0, threads=2)
    yield process
    process.stop()
    os.environ["PYTHONPATH"] = env_path


@pytest.mark.parametrize("name, before, args", _findings())
def test_a_call_the_fuzzer_once_failed_on_now_agrees_with_torch(worker, name, before, args):
    outcome = worker.call(name, args)
    assert outcome["outcome"] in ("same", "raised"), (before, outcome)


@pytest.mark.parametrize("difference", DIFFERENCES, ids=[d.name for d in DIFFERENCES])
def test_an_intended_difference_still_holds_and_is_explained(worker, difference):
    name, args = difference.example
    assert name in CASES
    outcome = worker.call(name, args)
    klass, _ = classify(name, args, outcome)
    assert klass == "differs", outcome
    assert difference.applies(args, outcome), outcome  # (an earlier entry may match first)


def test_the_worker_survives_a_crash_and_reports_it(worker):
    """A call that kills the worker is reported as a crash (here: torch's own SIGFPE, which
    the classifier names as torch's), and the next call runs in a new worker."""
    name, args = ("div_rounding", (T((), "int64", "extreme", seed=200), -1,
                                   {"rounding_mode": "trunc"}))
    restarts = worker.restarts
    outcome = worker.call(name, args)
    assert outcome["kind"] == "torch crashed", outcome
    assert worker.restarts == restarts + 1
    assert worker.call("abs", (T((3,), "float32", "normal", seed=0),))["outcome"] == "same"
