"""What `import minigrad` changes in the whole process, and its off switch.

By default: glibc's malloc thresholds (minigrad/_memory.py) and GOMP_SPINCOUNT=10000 in
os.environ (minigrad/_kernels/__init__.py). MINIGRAD_PROCESS_SETTINGS=0 turns both off.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad import _memory

PACKAGE_PARENT = str(Path(minigrad.__file__).resolve().parent.parent)

# Records the process's mallopt calls, then imports minigrad.
CODE = """
import ctypes, json, os
calls = []
RealCDLL = ctypes.CDLL

class Spy:
    def __init__(self, function):
        self.function = function
    def __call__(self, option, value):
        calls.append([option, value])
        return self.function(option, value)

class Library:
    def __init__(self, *args, **kwargs):
        self.mallopt = Spy(RealCDLL(*args, **kwargs).mallopt)

ctypes.CDLL = Library
import minigrad
print(json.dumps({"mallopt": calls, "GOMP_SPINCOUNT": os.environ.get("GOMP_SPINCOUNT")}))
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc's allocator settings exist on Linux only")


def settings_after_import(**env_changes) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "MINIGRAD_PROCESS_SETTINGS")
           and k not in _memory._USER_SETTINGS}
    env["PYTHONPATH"] = PACKAGE_PARENT
    env.update(env_changes)
    result = subprocess.run([sys.executable, "-c", CODE], env=env, cwd=PACKAGE_PARENT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


DEFAULT = {"mallopt": [[-3, _memory.MMAP_THRESHOLD], [-1, _memory.TRIM_THRESHOLD]],
           "GOMP_SPINCOUNT": "10000"}


def test_import_changes_the_documented_settings_by_default():
    assert settings_after_import() == DEFAULT
    assert settings_after_import(MINIGRAD_PROCESS_SETTINGS="1") == DEFAULT


def test_the_switch_turns_every_process_wide_setting_off():
    assert settings_after_import(MINIGRAD_PROCESS_SETTINGS="0") == {
        "mallopt": [], "GOMP_SPINCOUNT": None}


def test_the_readme_documents_the_switch_and_each_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for text in ("MINIGRAD_PROCESS_SETTINGS=0", "mallopt", "GOMP_SPINCOUNT",
                 "MINIGRAD_NO_MALLOPT"):
        assert text in readme, text
