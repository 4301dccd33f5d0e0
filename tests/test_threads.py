"""Thread control: minigrad.set_num_threads / get_num_threads, OMP_NUM_THREADS, results that
do not depend on the thread count, and no work for numpy's own BLAS threads."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

# The directory minigrad was imported from, first on the path of every subprocess, so that
# they test this same minigrad (an in-place build or an installed one).
MINIGRAD_PATH = str(Path(minigrad.__file__).resolve().parent.parent)
ON_LINUX = sys.platform.startswith("linux")


def run_python(code: str, **env_changes) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([MINIGRAD_PATH] + [p for p in [env.get("PYTHONPATH")] if p])
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # Run from that directory too: `python -c` puts the working directory first on sys.path,
    # and a source checkout's minigrad/ (without compiled kernels) must not shadow it.
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            cwd=MINIGRAD_PATH, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def restore_threads():
    before = minigrad.get_num_threads()
    yield
    minigrad.set_num_threads(before)


# ----------------------------------------------------------------------------- the setting

@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3), ("2,1", 2)])
def test_omp_num_threads_sets_the_default(value, expected):
    code = "import minigrad; print(minigrad.get_num_threads())"
    assert run_python(code, OMP_NUM_THREADS=value) == str(expected)


def test_default_is_the_cores_this_process_may_use():
    code = "import minigrad; print(minigrad.get_num_threads())"
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert run_python(code, OMP_NUM_THREADS=None) == str(expected)


@pytest.mark.parametrize("value", ["0", "-2", "two", ""])
def test_unusable_omp_num_threads_falls_back_to_the_cores(value):
    code = "import minigrad; print(minigrad.get_num_threads())"
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert run_python(code, OMP_NUM_THREADS=value) == str(expected)


def test_set_and_get(restore_threads):
    minigrad.set_num_threads(1)
    assert minigrad.get_num_threads() == 1
    minigrad.set_num_threads(3)
    assert minigrad.get_num_threads() == 3


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                          ("2", TypeError), (True, TypeError), (None, TypeError)])
def test_set_num_threads_rejects_bad_values(restore_threads, value, error):
    minigrad.set_num_threads(2)
    with pytest.raises(error):
        minigrad.set_num_threads(value)
    assert minigrad.get_num_threads() == 2


# ----------------------------------------------------------------------------- same results
#
# Every kernel shares out independent outputs between its threads and sums in an order set by
# the shapes alone (the GEMM never cuts K by thread; the convolutions' weight gradient sums
# groups of pixels fixed by the shapes apart and adds them in group order, whether its threads
# share the tiles of dw or the groups): training gives bit-identical results at any thread
# count.


def _seed_like_model():
    return nn.Sequential(
        nn.Conv2d(3, 8, 5, padding=2), nn.MaxPool2d(2),
        nn.Conv2d(8, 6, 3, padding=1, stride=2), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 7), nn.Linear(7, 5))


def _training_run(threads: int, optimizer: str, dtype) -> list:
    """Every loss, gradient and parameter of three training steps at ``threads`` threads."""
    minigrad.set_num_threads(threads)
    minigrad.manual_seed(0)
    model = _seed_like_model()
    if dtype == np.float64:
        model = model.double()
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else optim.Adam(model.parameters(), lr=0.01))
    rng = np.random.default_rng(0)
    images = minigrad.tensor(rng.standard_normal((5, 3, 17, 15)).astype(dtype))
    targets = minigrad.tensor(rng.integers(0, 5, 5))
    arrays = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(images), targets)
        loss.backward()
        arrays += [loss.array.copy()] + [p.grad.array.copy() for p in model.parameters()]
        opt.step()
    return arrays + [p.array.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_is_bit_identical_at_one_two_and_three_threads(restore_threads, optimizer,
                                                                dtype):
    one = _training_run(1, optimizer, dtype)
    for threads in (2, 3):
        for a, b in zip(one, _training_run(threads, optimizer, dtype)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_seed_model_training_is_bit_identical_at_one_two_and_three_threads(restore_threads,
                                                                           optimizer):
    """The tutorial's CNN (benchmarks.cases.seed_model), batch 16, 5 steps of SGD with momentum
    or Adam: the same weights, bit for bit, at 1, 2 and 3 threads."""
    sys.path.append(str(Path(__file__).resolve().parent.parent))    # the benchmarks package
    from benchmarks.cases import framework, make_optimizer, seed_batch, seed_model
    runs = []
    for threads in (1, 2, 3):
        minigrad.set_num_threads(threads)
        fw = framework("minigrad")
        model = seed_model(fw)
        images, targets = seed_batch(fw, 16)
        opt = make_optimizer(fw, optimizer, model.parameters())
        for _ in range(5):
            opt.zero_grad()
            F.cross_entropy(model(images), targets).backward()
            opt.step()
        runs.append([p.array.copy() for p in model.parameters()])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def _independent_kernels(threads: int, dtype) -> list:
    """Pooling, cross-entropy and optimizer updates, forward and backward, at odd shapes."""
    minigrad.set_num_threads(threads)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 13, 11)).astype(dtype)
    logits = rng.standard_normal((37, 11)).astype(dtype)
    targets = minigrad.tensor(rng.integers(0, 11, 37))
    results = []
    for op in (lambda t: F.max_pool2d(t, 3, stride=2, padding=1),
               lambda t: F.avg_pool2d(t, 2),
               lambda t: F.adaptive_avg_pool2d(t, (4, 3)),
               lambda t: F.relu(t) * 2.0):
        t = minigrad.tensor(x, requires_grad=True)
        out = op(t)
        out.backward(minigrad.tensor(np.ones(out.shape, dtype)))
        results += [out.array, t.grad.array]
    t = minigrad.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(t, targets, label_smoothing=0.1)
    loss.backward()
    results += [loss.array, t.grad.array]
    for make in (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                 lambda p: optim.Adam(p, lr=0.01, amsgrad=True)):
        params = [minigrad.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
                  for s in [(1001,), (7, 13)]]
        opt = make(params)
        for _ in range(2):
            for p in params:
                p.grad = minigrad.tensor(np.full(p.shape, 0.5, dtype))
            opt.step()
        results += [p.array.copy() for p in params]
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_independent_kernels_are_identical_at_one_and_two_threads(restore_threads, dtype):
    for a, b in zip(_independent_kernels(1, dtype), _independent_kernels(2, dtype)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [((37, 129), (129, 53)), ((3, 37, 129), (129, 53)),
                                   ((8, 75), (75, 1275)), ((32, 4096), (4096, 75))])
def test_matmul_agrees_at_one_and_two_threads(restore_threads, dtype, shape):
    rng = np.random.default_rng(1)
    a = minigrad.tensor(rng.standard_normal(shape[0]).astype(dtype))
    b = minigrad.tensor(rng.standard_normal(shape[1]).astype(dtype))
    results = []
    for threads in (1, 2):
        minigrad.set_num_threads(threads)
        results.append((a @ b).array)
    # the classic bound on a K-term dot product's rounding: K eps (|A| @ |B|)
    k = a.shape[-1]
    bound = k * np.finfo(dtype).eps * (np.abs(a.array).astype(np.float64) @ np.abs(b.array))
    assert np.all(np.abs(results[0].astype(np.float64) - results[1]) <= bound)


# ----------------------------------------------------------------------------- threads at work

# Runs in a fresh interpreter: the threads alive right after `import numpy` are the main one
# and OpenBLAS's workers; then minigrad trains, and each thread's CPU ticks are read back.
_THREAD_PROBE = """
    import os, sys, time
    import numpy as np

    def ticks():
        out = {}
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = int(fields[11]) + int(fields[12])  # utime + stime
        return out

    def settled(threads):
        # OpenBLAS's workers spin for ~0.1 s after they start (and after each BLAS call) before
        # they sleep; wait until they stop accruing CPU so that spin is not charged to training.
        last = None
        for _ in range(100):
            now = [ticks().get(t, 0) for t in threads]
            if now == last:
                return
            last = now
            time.sleep(0.05)

    blas_workers = set(ticks()) - {os.getpid()}
    import minigrad
    import minigrad.nn.functional as F
    from minigrad import nn, optim
    minigrad.set_num_threads(int(sys.argv[1]))
    settled(blas_workers)
    before = ticks()
    model = nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2),
                          nn.Conv2d(32, 32, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32 * 8 * 8, 64), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters())
    x = minigrad.randn(32, 3, 32, 32)
    y = minigrad.randint(0, 10, (32,))
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    after = ticks()
    blas = sum(after.get(t, 0) - before.get(t, 0) for t in blas_workers)
    new_threads = len(set(after) - set(before) - blas_workers)
    print(len(blas_workers), blas, new_threads)
"""


@pytest.mark.skipif(not ON_LINUX, reason="reads per-thread CPU time from /proc")
def test_numpy_blas_threads_stay_idle_during_training():
    """minigrad's heavy math runs on its own kernels, so numpy's BLAS thread pool (OpenBLAS
    here) does no work beside minigrad's OpenMP threads: no oversubscription."""
    output = run_python(_THREAD_PROBE.replace("sys.argv[1]", "'2'"), OPENBLAS_NUM_THREADS="2",
                        OMP_NUM_THREADS=None)
    workers, blas_ticks, _ = map(int, output.split())
    if workers == 0:
        pytest.skip("numpy's BLAS started no worker threads here")
    assert blas_ticks <= 1, f"numpy's BLAS threads used {blas_ticks} ticks of CPU"


@pytest.mark.skipif(not ON_LINUX, reason="counts threads in /proc")
def test_one_thread_means_no_worker_threads():
    """With set_num_threads(1) no kernel of a training step starts an OpenMP team."""
    output = run_python(_THREAD_PROBE.replace("sys.argv[1]", "'1'"), OMP_NUM_THREADS=None)
    assert int(output.split()[2]) == 0
