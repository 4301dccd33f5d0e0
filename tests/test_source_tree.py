"""`python -m minigrad...` from the root of a checkout whose kernels are not compiled.

The current folder comes first on sys.path, so the uncompiled source tree is what `import
minigrad` finds: it must hand over to the installed package, or say what to run.
"""
import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad

BUILT = Path(minigrad.__file__).resolve().parent  # this test's minigrad, kernels compiled
SOURCE = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path):
    """A copy of the checkout's Python sources, setup.py and kernel names: nothing compiled."""
    root = tmp_path / "clone"
    shutil.copytree(BUILT, root / "minigrad",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    (root / "kernels").mkdir()
    for pyx in (SOURCE / "kernels").glob("*.pyx"):
        (root / "kernels" / pyx.name).write_text("")
    if not any((root / "kernels").iterdir()):  # an installed minigrad: name them from the .so
        for name in _compiled(BUILT):
            (root / "kernels" / f"{name}.pyx").write_text("")
    (root / "setup.py").write_text("")
    return root


def _compiled(package: Path) -> set:
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    return {f.name[:-len(s)] for f in (package / "_kernels").iterdir() for s in suffixes
            if f.name.endswith(s)}


def run(args, cwd, pythonpath=None, site=True):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    flags = [] if site else ["-S"]  # -S: no site-packages, so no installed minigrad
    return subprocess.run([sys.executable, *flags, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_unbuilt_checkout_hands_over_to_the_installed_package(checkout):
    result = run(["-c", "import minigrad, minigrad.nn, minigrad._kernels.gemm as g; "
                        "print(minigrad.__file__, minigrad.nn.__file__, g.__file__)"],
                 cwd=checkout, pythonpath=BUILT.parent)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.split():
        assert Path(line).resolve().is_relative_to(BUILT), line
    assert str(checkout) not in result.stdout


def test_a_venv_inside_the_checkout_counts_as_installed(checkout):
    """The README's `python3 -m venv .venv` puts site-packages inside the clone."""
    site = checkout / ".venv" / "lib" / "site-packages"
    shutil.copytree(BUILT, site / "minigrad", ignore=shutil.ignore_patterns("__pycache__"))
    result = run(["-m", "minigrad.examples.train", "--help"], cwd=checkout, pythonpath=site)
    assert result.returncode == 0, result.stderr
    result = run(["-c", "import minigrad; print(minigrad.__file__)"], cwd=checkout,
                 pythonpath=site)
    assert Path(result.stdout.strip()).resolve() == (site / "minigrad" / "__init__.py").resolve()


def test_python_dash_m_runs_the_installed_modules(checkout):
    result = run(["-m", "minigrad.examples.train", "--help"], cwd=checkout,
                 pythonpath=BUILT.parent)
    assert result.returncode == 0, result.stderr
    assert "--optimizer" in result.stdout


def test_nothing_compiled_nor_installed_says_what_to_run(checkout):
    result = run(["-m", "minigrad.check"], cwd=checkout, site=False)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError:")
    assert "pip install ." in message and "build_ext --inplace" in message


def test_half_built_checkout_names_the_missing_kernels(checkout):
    kernels = sorted(p.stem for p in (checkout / "kernels").glob("*.pyx"))
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (checkout / "minigrad" / "_kernels" / f"{kernels[0]}{suffix}").write_bytes(b"")
    result = run(["-c", "import minigrad"], cwd=checkout, pythonpath=BUILT.parent)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert kernels[1] in message and kernels[0] not in message.split("but not")[1]
    assert "build_ext --inplace" in message


def test_a_built_checkout_is_used_as_it_is():
    """This test's own minigrad: its kernels are compiled, so it was not replaced."""
    assert _compiled(BUILT)
    assert Path(minigrad.__file__).resolve().parent == BUILT
