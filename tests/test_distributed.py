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
