"""minigrad.distributed, DistributedDataParallel and fail-fast, under mpirun: the programs in
tests/distributed/ run with 2 ranks and with 3 ranks of 1 thread each (oversubscribed on a
2-core machine), and each of their cases asserts on every rank."""
import re
import time

import pytest

from mpi import PROGRAMS, check_passed, mpirun

RANKS = [2, 3]


@pytest.mark.parametrize("ranks", RANKS)
def test_collectives_match_numpy(ranks):
    result = mpirun(ranks, [PROGRAMS / "collectives.py"], env={"EXPECT_THREADS": "1"})
    check_passed(result, ranks)


def test_collectives_give_the_same_bits_every_run():
    digests = set()
    for _ in range(2):
        result = mpirun(2, [PROGRAMS / "collectives.py",
                            "case_results_are_the_same_bits_on_every_rank_and_every_run"])
        check_passed(result, 2)
        digests.add(re.search(r"digest (\w+)", result.stdout).group(1))
    assert len(digests) == 1


def test_chosen_threads_are_kept():
    result = mpirun(2, [PROGRAMS / "collectives.py", "case_threads_share_the_cores"],
                    env={"OMP_NUM_THREADS": "2", "EXPECT_THREADS": "2"},
                    mpirun_options=["-x", "OMP_NUM_THREADS"])
    check_passed(result, 2)


@pytest.mark.parametrize("ranks", RANKS)
def test_distributed_data_parallel(ranks):
    first = mpirun(ranks, [PROGRAMS / "ddp.py"])
    check_passed(first, ranks)
    again = mpirun(ranks, [PROGRAMS / "ddp.py", "case_gathered_checksum"])
    check_passed(again, ranks)
    params = [re.search(r"params (\w+)", r.stdout).group(1) for r in (first, again)]
    assert params[0] == params[1]   # a training run is bit-identical to itself


@pytest.mark.parametrize("mode, message", [
    ("raise", r"rank 1 of 2: uncaught ValueError. Aborting all ranks"),
    ("exit", r"rank 0 of 2: all_reduce \(collective #2\) cannot finish: rank 1 left the "
             r"process group after 1 collective"),
    ("hang", r"rank 0 of 2: all_reduce \(collective #2\) timed out after 2 s"),
    ("kill", r"process rank 1 .* exited on signal 9"),
])
def test_a_failing_rank_ends_the_job_quickly_with_a_message(mode, message):
    started = time.monotonic()
    result = mpirun(2, [PROGRAMS / "failures.py", mode, "2"], timeout=60)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(message, output), output
    assert "rank 0 finished" not in output
    assert elapsed < 20, elapsed
    if mode == "raise":
        assert "this rank's data loader failed" in output   # the traceback is shown


def test_the_example_on_two_ranks_reaches_the_accuracy_and_resumes_bit_for_bit(tmp_path):
    from minigrad import load
    train = ["-m", "minigrad.examples.train", "--quiet", "--plot", ""]
    whole = mpirun(2, train + ["--checkpoint", tmp_path / "whole.safetensors"], cwd=tmp_path)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    epochs = re.findall(r"epoch (\d)/6: train loss [\d.]+, test accuracy ([\d.]+)%",
                        whole.stdout)
    assert [int(e) for e, _ in epochs] == [1, 2, 3, 4, 5, 6]   # printed once: by rank 0
    assert "2 ranks x 1 thread(s)" in whole.stdout
    assert float(epochs[-1][1]) >= 96.0       # one process: 97.2% (seed 0), 97.2-98.6% (0-9)

    part = tmp_path / "part.safetensors"
    first = mpirun(2, train + ["--epochs", "4", "--checkpoint", part], cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    resumed = mpirun(2, train + ["--resume", "--checkpoint", part], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.count("resumed from") == 1
    assert re.findall(r"epoch (\d)/6:", resumed.stdout) == ["5", "6"]
    ends = [load(tmp_path / name) for name in ("whole.safetensors", "part.safetensors")]
    assert ends[0]["config"] == ends[1]["config"] and ends[0]["config"]["world_size"] == 2
    for key, value in ends[0]["model"].items():
        assert value.numpy().tobytes() == ends[1]["model"][key].numpy().tobytes(), key
    assert ends[0]["history"]["test_accuracy"] == ends[1]["history"]["test_accuracy"]


def test_the_example_refuses_a_batch_the_ranks_cannot_share(tmp_path):
    result = mpirun(3, ["-m", "minigrad.examples.train", "--batch-size", "32"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("must be divisible by the 3 ranks") == 1, result.stderr
