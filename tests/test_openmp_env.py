"""The OpenMP wait-policy default of minigrad._kernels: GOMP_SPINCOUNT=10000 unless the user
chose a policy, set before libgomp is loaded (see minigrad/_kernels/__init__.py)."""
import os
import subprocess
import sys
from pathlib import Path

import minigrad

MINIGRAD_PATH = str(Path(minigrad.__file__).resolve().parent.parent)

CODE = ("import os, minigrad, minigrad._kernels.gemm; "
        "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))")


def policy_after_import(**env_changes) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env["PYTHONPATH"] = MINIGRAD_PATH
    env.update(env_changes)
    result = subprocess.run([sys.executable, "-c", CODE], env=env, cwd=MINIGRAD_PATH,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_short_spin_is_the_default():
    assert policy_after_import() == "10000 None"


def test_user_choices_are_kept():
    assert policy_after_import(GOMP_SPINCOUNT="5") == "5 None"
    assert policy_after_import(OMP_WAIT_POLICY="passive") == "None passive"
    assert policy_after_import(OMP_WAIT_POLICY="active") == "None active"
