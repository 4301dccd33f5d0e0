"""Running a program under mpirun from a test: ``mpirun(ranks, [args...])``.

The programs import the minigrad these tests import (its folder goes first on PYTHONPATH).
Without mpirun or mpi4py the tests that need them are skipped, except in CI (CI=true), where
they fail: CI installs Open MPI and mpi4py, so a missing one is an error there."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import minigrad

HERE = pathlib.Path(__file__).resolve().parent
PROGRAMS = HERE / "distributed"
MINIGRAD_ROOT = pathlib.Path(minigrad.__file__).resolve().parent.parent


def require_mpi() -> None:
    missing = [what for what, found in (
        ("mpirun (Debian: apt-get install openmpi-bin libopenmpi-dev)", shutil.which("mpirun")),
        ("mpi4py (pip install 'minigrad[distributed]')", importlib.util.find_spec("mpi4py")),
    ) if not found]
    if missing:
        message = "needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run the distributed tests")
        pytest.skip(message)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def mpirun(ranks: int, args, timeout: float = 120, env=None, mpirun_options=(), cwd=None):
    """The CompletedProcess of ``mpirun -n ranks python args...`` (text output)."""
    require_mpi()
    command = ["mpirun", "-n", str(ranks)]
    if ranks > cores():
        command.append("--oversubscribe")
    command += list(mpirun_options) + [sys.executable] + [str(a) for a in args]
    environment = dict(os.environ)
    environment.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                        "PYTHONPATH": os.pathsep.join(
                            [str(MINIGRAD_ROOT), str(PROGRAMS),
                             environment.get("PYTHONPATH", "")])})
    environment.pop("OMP_NUM_THREADS", None)
    environment.update(env or {})
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=environment, cwd=cwd)


def check_passed(result, ranks: int) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for rank in range(ranks):
        assert f"rank {rank} of {ranks}: " in result.stdout and "cases passed" in output, output
